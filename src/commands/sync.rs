//! `openphone-sync sync`: loads the config, runs the engine once ([`crate::engine::sync`]),
//! prints the report and returns its exit code. SIGTERM/SIGINT stop an apply run the way
//! they stop the daemon: what is in flight finishes and is committed (exit 4).

use std::path::{Path, PathBuf};

use crate::engine::saved_plan::PlanFile;
use crate::engine::{self, Run, Stop, SyncArgs, record, setup};
use crate::exit::Exit;
use crate::outcome::Mode;
use crate::report::WarningView;

use super::Output;

/// `sync`'s command line.
#[derive(Debug, Clone, Default)]
pub struct SyncCommand {
    pub dry_run: bool,
    pub save_plan: Option<PathBuf>,
    pub plan: Option<PathBuf>,
    pub output: Output,
    pub allow_mass_delete: bool,
    pub verify: bool,
    pub limit: Option<usize>,
    pub record: Option<String>,
    /// How the text report shows warnings (`--all-warnings`).
    pub warnings: WarningView,
}

impl SyncCommand {
    fn args(&self) -> SyncArgs {
        SyncArgs {
            mode: if self.dry_run { Mode::DryRun } else { Mode::Apply },
            allow_mass_delete: self.allow_mass_delete,
            verify: self.verify,
            limit: self.limit,
            record: self.record.clone(),
            progress: self.output == Output::Text,
        }
    }

    fn plan_file(&self) -> Option<PlanFile> {
        match (&self.save_plan, &self.plan) {
            (Some(path), _) => Some(PlanFile::Save(path.clone())),
            (None, Some(path)) => Some(PlanFile::Apply(path.clone())),
            (None, None) => None,
        }
    }
}

/// Runs one sync and prints its report. Returns the exit code.
pub async fn run(config_path: &Path, cmd: &SyncCommand) -> Result<Exit, Stop> {
    let (config, mapping) = setup::load(config_path).map_err(Stop::nothing_written)?;
    let args = cmd.args();
    let plan_file = cmd.plan_file();
    let run = Run { plan_file: plan_file.as_ref(), ..Run::new(&config, &mapping, &args) };
    if !run.dry() {
        crate::signals::stop_on_signal(run.stop.clone());
    }
    let report = engine::sync(&run).await.map_err(Stop::nothing_written)?;
    record::log_summary(&report);
    super::print_report(&report, cmd.output, cmd.warnings)?;
    Ok(report.exit())
}
