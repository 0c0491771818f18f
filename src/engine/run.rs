//! [`Run`]: what the steps of one sync share: the loaded config and mapping, how it was
//! asked to run ([`SyncArgs`]), a plan file to save or apply, the stop signal, and when it
//! started.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Config;
use crate::mapping::Mapping;
use crate::outcome::Mode;

use super::saved_plan::PlanFile;

/// How `sync` was asked to run.
#[derive(Debug, Clone)]
pub struct SyncArgs {
    pub mode: Mode,
    pub allow_mass_delete: bool,
    /// Read the mirrored contacts back first and restore those edited or deleted in the app.
    pub verify: bool,
    /// Dry run: list at most this many planned changes (`--limit`).
    pub limit: Option<usize>,
    /// Dry run: list only this external id's change (`--record`).
    pub record: Option<String>,
    /// Show a progress bar on stderr while applying (a person at a terminal is watching).
    pub progress: bool,
}

/// One sync of a loaded config.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub config: &'a Config,
    pub mapping: &'a Mapping,
    pub args: &'a SyncArgs,
    /// Save the dry run's plan to a file, or apply the plan saved in one.
    pub plan_file: Option<&'a PlanFile>,
    /// The caller already holds the mirror's run lock (the daemon holds it for its life).
    pub lock_held: bool,
    /// Cancelled to stop: no request or record is started any more; those in flight
    /// finish and are committed.
    pub stop: CancellationToken,
    pub started: Instant,
    /// Where "now" comes from: when a missing row's delete is due, the times the mirror
    /// records. The system's clock unless a test sets another.
    pub clock: Clock,
}

impl<'a> Run<'a> {
    pub fn new(config: &'a Config, mapping: &'a Mapping, args: &'a SyncArgs) -> Run<'a> {
        Run {
            config,
            mapping,
            args,
            plan_file: None,
            lock_held: false,
            stop: CancellationToken::new(),
            started: Instant::now(),
            clock: Clock::system(),
        }
    }

    pub fn dry(&self) -> bool {
        self.args.mode == Mode::DryRun
    }
}
