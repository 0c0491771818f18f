//! Who holds the mirror's run lock ([`Holder`]: daemon or sync, pid, since when), as its
//! lock file says: what a refused run names, and how `status` tells the daemon runs.

use std::path::Path;

/// Who holds a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A one-off `sync`: holds the lock for one run.
    Sync,
    /// The daemon: holds the lock for its whole life.
    Daemon,
}

impl Role {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Role::Sync => "sync",
            Role::Daemon => "daemon",
        }
    }
}

/// What a lock file says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub role: Role,
    pub pid: u32,
    /// RFC 3339, when the lock was taken.
    pub since: String,
}

impl Holder {
    pub(super) fn parse(text: &str) -> Option<Holder> {
        let mut parts = text.split_whitespace();
        let role = match parts.next()? {
            "sync" => Role::Sync,
            "daemon" => Role::Daemon,
            _ => return None,
        };
        let pid = parts.next()?.parse().ok()?;
        let since = parts.next()?.to_owned();
        Some(Holder { role, pid, since })
    }

    /// Whether the process still exists (always `true` where that cannot be checked).
    pub fn alive(&self) -> bool {
        let proc = Path::new("/proc");
        !proc.join("self").exists() || proc.join(self.pid.to_string()).exists()
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.role {
            Role::Daemon => write!(f, "the openphone-sync daemon (pid {}, running since {})", self.pid, self.since),
            Role::Sync => write!(f, "a sync (pid {}, started {})", self.pid, self.since),
        }
    }
}
