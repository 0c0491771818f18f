//! [`Stop`]: why a command or a run ended before it had a report, as the message to print
//! and the exit code; `From` each error a step can fail with, so the steps use `?`.

use crate::config::Problems;
use crate::exit::Exit;
use crate::mirror::MirrorError;
use crate::openphone::ApiError;
use crate::source::SourceError;

use super::verify::VerifyError;

/// A failure before any work, or one that ends it: what to tell the user, and the exit code.
#[derive(Debug)]
pub struct Stop {
    pub exit: Exit,
    pub message: String,
    /// A request was not sent because the run was told to stop (SIGTERM) before it had a
    /// report: the run ends as `stopped`, not as a failure.
    pub requested: bool,
}

impl Stop {
    pub fn new(exit: Exit, message: impl Into<String>) -> Stop {
        Stop { exit, message: message.into(), requested: false }
    }

    /// The config or the command line is wrong; nothing was written.
    pub fn config(message: impl Into<String>) -> Stop {
        Stop::new(Exit::Config, message)
    }

    /// For a command that writes: a config error stopped it before anything was written.
    pub fn nothing_written(mut self) -> Stop {
        if self.exit == Exit::Config {
            let sentence_ended = self.message.trim_end().ends_with('.');
            self.message.push_str(if sentence_ended { " Nothing was written." } else { "; nothing was written." });
        }
        self
    }

    /// The first line of the message (a log line's `error`).
    pub fn headline(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

/// Every problem of the config and mapping, together, and that nothing was written.
impl From<Problems> for Stop {
    fn from(problems: Problems) -> Stop {
        let n = problems.0.len();
        Stop::config(format!("{problems}\n{n} problem{} found.", if n == 1 { "" } else { "s" }))
    }
}

/// A mirror another run holds refuses the run (exit 3); any other mirror failure stops it (4).
impl From<MirrorError> for Stop {
    fn from(e: MirrorError) -> Stop {
        let exit = if matches!(e, MirrorError::Busy { .. }) { Exit::Refused } else { Exit::Unavailable };
        Stop::new(exit, e.to_string())
    }
}

/// A source the config points wrong is a config error (2); one that cannot be read now, 4.
impl From<SourceError> for Stop {
    fn from(e: SourceError) -> Stop {
        let exit = if e.is_config() { Exit::Config } else { Exit::Unavailable };
        Stop::new(exit, e.to_string())
    }
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Stop {
        Stop { requested: matches!(e, ApiError::Stopped), ..Stop::new(Exit::Unavailable, e.to_string()) }
    }
}

impl From<VerifyError> for Stop {
    fn from(e: VerifyError) -> Stop {
        match e {
            VerifyError::Mirror(m) => m.into(),
            e @ VerifyError::Api(_) => Stop {
                requested: matches!(e, VerifyError::Api(ApiError::Stopped)),
                ..Stop::new(Exit::Unavailable, e.to_string())
            },
        }
    }
}
