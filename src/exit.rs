//! The process exit codes promised by `docs/cli.md`, as a closed set.

/// How a command ended, as the exit code scripts branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every record is in sync (or, with `--dry-run`, the plan was computed).
    Ok = 0,
    /// The run finished, but some records were invalid or failed; the rest were applied.
    Partial = 1,
    /// Configuration, mapping or command-line error; nothing was written.
    Config = 2,
    /// Refused by a safety guard (mass delete, another run); nothing was written.
    Refused = 3,
    /// The source or OpenPhone could not be read or authenticated; the run stopped safely.
    Unavailable = 4,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}
