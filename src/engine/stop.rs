//! [`Stop`]: why a command or a run ended before it had a report, as a closed set of causes.
//! Each cause says its exit code ([`Stop::exit`]) and prints itself (`Display`, the one
//! printer: `cli` writes it once, as `error: ...`); `From` each error a step can fail with,
//! so the steps use `?`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Problems;
use crate::exit::Exit;
use crate::mirror::MirrorError;
use crate::openphone::ApiError;
use crate::source::SourceError;

use super::verify::VerifyError;

/// A failure before any work, or one that ends it.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// Every problem of the config and mapping, together (exit 2).
    #[error("{0}\n{n} problem{s} found.", n = .0.0.len(), s = if .0.0.len() == 1 { "" } else { "s" })]
    Problems(Problems),
    /// The config, the command line or a plan file is wrong in one way (exit 2).
    #[error("{0}")]
    Config(String),
    /// No API key where one is needed (exit 2).
    #[error("{}: no API key: set ${} or [openphone].api_key_file", config.display(), crate::config::API_KEY_ENV)]
    NoApiKey { config: PathBuf },
    /// The mirror this user would write cannot be written (exit 2: a restart cannot fix it).
    #[error(transparent)]
    MirrorNotWritable(MirrorError),
    /// A plan file that cannot be read (exit 2).
    #[error("{}: cannot read the plan file: {error}", path.display())]
    PlanUnreadable { path: PathBuf, error: std::io::Error },
    /// A file that is not a plan saved by openphone-sync (exit 2).
    #[error(
        "{}:{}:{}: not an openphone-sync plan file: {error}; make one with `sync --dry-run --save-plan FILE`",
        path.display(),
        error.line(),
        error.column()
    )]
    NotAPlan { path: PathBuf, error: serde_json::Error },
    /// A plan made for another config or workspace (exit 2).
    #[error("{}: {refusal}", path.display())]
    PlanForElsewhere { path: PathBuf, refusal: crate::plan::saved::PlanRefusal },
    /// `history --run N` names no run of the mirror (exit 2).
    #[error("no run #{run} in the mirror {}: `status` lists the last runs", mirror.display())]
    NoSuchRun { run: i64, mirror: PathBuf },
    /// The mirror: held by another run (exit 3), or unusable (4).
    #[error(transparent)]
    Mirror(MirrorError),
    /// A read-only command's mirror cannot be read, whatever the case (exit 4).
    #[error(transparent)]
    MirrorUnreadable(MirrorError),
    /// The source: the config points wrong (exit 2), or it cannot be read now (4).
    #[error(transparent)]
    Source(SourceError),
    /// OpenPhone could not be read or written (exit 4), or a request was not sent because
    /// the run was told to stop.
    #[error(transparent)]
    Api(ApiError),
    /// `--verify`'s read-back of the mirrored contacts failed (exit 4).
    #[error("reading the mirrored contacts back from OpenPhone failed: {0}")]
    Verify(ApiError),
    /// A plan file could not be written (exit 4).
    #[error("{}: cannot write the plan: {error}", path.display())]
    PlanUnwritable { path: PathBuf, error: std::io::Error },
    /// The daemon cannot listen for signals (exit 4).
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
    /// The daemon cannot listen on `[metrics].listen` (exit 2).
    #[error("{}: `metrics.listen`: cannot listen on {addr}: {error}", config.display())]
    MetricsListen { config: PathBuf, addr: SocketAddr, error: std::io::Error },
    /// Stdout could not be written, other than closed by its reader (exit 4).
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    /// The man pages could not be written into a folder (exit 4).
    #[error("cannot write the man pages into {}: {error}", dir.display())]
    ManPages { dir: PathBuf, error: std::io::Error },
    /// The async runtime could not start (exit 4).
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// A command that writes stopped on a config error: the cause, and that nothing was
    /// written (other causes print as they are).
    #[error("{}", nothing_written(.0))]
    NothingWritten(Box<Stop>),
}

impl Stop {
    /// The config or the command line is wrong; nothing was written.
    pub fn config(message: impl Into<String>) -> Stop {
        Stop::Config(message.into())
    }

    /// The exit code this cause ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            Stop::Problems(_)
            | Stop::Config(_)
            | Stop::NoApiKey { .. }
            | Stop::MirrorNotWritable(_)
            | Stop::PlanUnreadable { .. }
            | Stop::NotAPlan { .. }
            | Stop::PlanForElsewhere { .. }
            | Stop::NoSuchRun { .. }
            | Stop::MetricsListen { .. } => Exit::Config,
            Stop::Mirror(MirrorError::Busy { .. }) => Exit::Refused,
            Stop::Source(e) if e.is_config() => Exit::Config,
            Stop::Mirror(_)
            | Stop::MirrorUnreadable(_)
            | Stop::Source(_)
            | Stop::Api(_)
            | Stop::Verify(_)
            | Stop::PlanUnwritable { .. }
            | Stop::Signals(_)
            | Stop::Stdout(_)
            | Stop::ManPages { .. }
            | Stop::Runtime(_) => Exit::Unavailable,
            Stop::NothingWritten(stop) => stop.exit(),
        }
    }

    /// A request was not sent because the run was told to stop (SIGTERM) before it had a
    /// report: the run ends as `stopped`, not as a failure.
    pub fn requested(&self) -> bool {
        match self {
            Stop::Api(e) | Stop::Verify(e) => matches!(e, ApiError::Stopped),
            Stop::NothingWritten(stop) => stop.requested(),
            _ => false,
        }
    }

    /// For a command that writes: a config error stopped it before anything was written.
    pub fn nothing_written(self) -> Stop {
        Stop::NothingWritten(Box::new(self))
    }

    /// The first line of the message (a log line's `error`).
    pub fn headline(&self) -> String {
        self.to_string().lines().next().unwrap_or("").to_owned()
    }
}

/// `stop`'s message, with "nothing was written" when it is a config error.
fn nothing_written(stop: &Stop) -> String {
    let mut message = stop.to_string();
    if stop.exit() == Exit::Config {
        let sentence_ended = message.trim_end().ends_with('.');
        message.push_str(if sentence_ended { " Nothing was written." } else { "; nothing was written." });
    }
    message
}

impl From<Problems> for Stop {
    fn from(problems: Problems) -> Stop {
        Stop::Problems(problems)
    }
}

impl From<MirrorError> for Stop {
    fn from(e: MirrorError) -> Stop {
        Stop::Mirror(e)
    }
}

impl From<SourceError> for Stop {
    fn from(e: SourceError) -> Stop {
        Stop::Source(e)
    }
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Stop {
        Stop::Api(e)
    }
}

impl From<VerifyError> for Stop {
    fn from(e: VerifyError) -> Stop {
        match e {
            VerifyError::Mirror(m) => Stop::Mirror(m),
            VerifyError::Api(e) => Stop::Verify(e),
        }
    }
}
