//! How a run was run ([`Mode`]) and how it ended ([`Outcome`]): the one spelling of each
//! word (`as_str`, which serialisation, the metrics' labels, the mirror's `runs` table and
//! the log all use) and the one way back from it (`parse`).

use serde::{Serialize, Serializer};

use crate::exit::Exit;

/// Whether a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Apply,
    DryRun,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Apply, Mode::DryRun];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Apply => "apply",
            Mode::DryRun => "dry_run",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything planned was applied (or, in a dry run, planned) and every row was valid.
    Ok,
    /// Some rows were invalid or some writes failed; the rest was applied.
    Partial,
    /// A safety guard refused the run; nothing was written.
    Refused,
    /// OpenPhone or the source failed; the run stopped.
    Unavailable,
    /// Told to stop (SIGTERM/SIGINT): what was in flight was committed, the rest is left
    /// for the next run.
    Stopped,
    /// The config or mapping was wrong (a reload, or a key file gone); nothing was written.
    ConfigError,
}

impl Outcome {
    pub const ALL: [Outcome; 6] =
        [Outcome::Ok, Outcome::Partial, Outcome::Refused, Outcome::Unavailable, Outcome::Stopped, Outcome::ConfigError];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Refused => "refused",
            Outcome::Unavailable => "unavailable",
            Outcome::Stopped => "stopped",
            Outcome::ConfigError => "config_error",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The exit code a run that ended so returns.
    pub fn exit(self) -> Exit {
        match self {
            Outcome::Ok => Exit::Ok,
            Outcome::Partial => Exit::Partial,
            Outcome::Refused => Exit::Refused,
            Outcome::Unavailable | Outcome::Stopped => Exit::Unavailable,
            Outcome::ConfigError => Exit::Config,
        }
    }

    /// The outcome of a run that stopped before it had a report, from its exit code.
    pub fn of_stop(exit: Exit) -> Outcome {
        match exit {
            Exit::Config => Outcome::ConfigError,
            Exit::Refused => Outcome::Refused,
            Exit::Ok | Exit::Partial | Exit::Unavailable => Outcome::Unavailable,
        }
    }

    /// A run that finished its work (possibly with failed records): `ok` or `partial`.
    pub fn finished(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Partial)
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), serde_json::json!(o.as_str()));
        }
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Outcome::parse("nonsense"), None);
    }
}
