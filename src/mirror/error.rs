//! [`MirrorError`]: why the mirror cannot be used, each case with the file and what to do,
//! and [`classify`], which turns an SQLite failure into the case a user can act on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::ErrorCode;
use thiserror::Error;

use super::holder::{self as lock};

/// What the user can do about a mirror that cannot be trusted: it is left as it is.
const REBUILD: &str = "it was left as it is: move it aside (or restore a backup) and run again; the next run \
     builds a new mirror by looking each record up in OpenPhone, so nothing is created twice";

/// Why the mirror cannot be used. Every variant but [`MirrorError::Busy`] stops the run with
/// exit 4; every one names the file. None of them is repaired by overwriting the file.
#[derive(Debug, Error)]
pub enum MirrorError {
    #[error("cannot open the mirror {path}: {message}")]
    Open { path: PathBuf, message: String },
    /// Another process (an `sqlite3` shell, a backup) holds an SQLite lock on the file.
    #[error(
        "the mirror {path} is locked by another process (waited {}s): close what holds it open (an sqlite3 shell, a backup tool) and run again; to wait longer, raise [state].lock_timeout_seconds",
        waited.as_secs_f64()
    )]
    Locked { path: PathBuf, waited: Duration },
    /// The file or its folder cannot be written.
    #[error(
        "cannot write the mirror {path}: {detail}; make the file and its folder writable by the user openphone-sync runs as (the folder also holds its -wal, -shm and .lock files)"
    )]
    NotWritable { path: PathBuf, detail: String },
    /// The process (or the system) has no file handle left: the file is not the problem.
    #[error("cannot open the mirror {path} or the files beside it: {}", crate::fd_limit::advice())]
    NoFileHandles { path: PathBuf },
    /// Not an SQLite database, truncated, or damaged.
    #[error("the mirror {path} is damaged or not an openphone-sync mirror ({detail}); {REBUILD}")]
    Corrupt { path: PathBuf, detail: String },
    /// Another program's database, or not a regular file: never taken over.
    #[error(
        "the mirror {path} is not an openphone-sync mirror ({detail}); it was left as it is: point [state].database at a file of its own"
    )]
    Foreign { path: PathBuf, detail: String },
    /// Written by a newer build.
    #[error(
        "the mirror {path} was written by a newer openphone-sync (schema version {found}, this build knows up to {ours}); it was left as it is: upgrade openphone-sync"
    )]
    Newer { path: PathBuf, found: i64, ours: i64 },
    /// A write failed for lack of space (or a file size limit, or a failing device).
    #[error(
        "cannot write the mirror {path}: {detail} (is its disk full?); free some space and run again: a write OpenPhone confirmed but the mirror could not record is found by the next run, not sent twice"
    )]
    Disk { path: PathBuf, detail: String },
    #[error("the mirror {path} cannot be used: {message}")]
    Schema { path: PathBuf, message: String },
    #[error("the mirror {path} failed: {message}")]
    Sql { path: PathBuf, message: String },
    /// Another run holds the lock (exit 3).
    #[error("another openphone-sync run is using the mirror {path}: {}", busy_advice(lock, holder.as_ref()))]
    Busy { path: PathBuf, lock: PathBuf, holder: Option<lock::Holder> },
}

fn busy_advice(lock: &Path, holder: Option<&lock::Holder>) -> String {
    match holder {
        Some(h @ lock::Holder { role: lock::Role::Daemon, .. }) => format!(
            "{h} holds its lock {} and syncs on its schedule; leave the syncing to it, or stop it first \
             (e.g. `systemctl stop openphone-sync`) to run a sync by hand",
            lock.display()
        ),
        Some(h) => format!("{h} holds its lock {}; try again when it ends", lock.display()),
        None => format!("its lock {} is held; try again when that run ends", lock.display()),
    }
}

/// The case of an SQLite failure on the mirror at `path`; `waited` is the busy timeout.
pub fn classify(path: &Path, waited: Duration, e: rusqlite::Error) -> MirrorError {
    let path = path.to_path_buf();
    let detail = e.to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => MirrorError::Locked { path, waited },
        Some(ErrorCode::ReadOnly) if folder_read_only(&e) => MirrorError::NotWritable {
            path,
            detail: format!("{detail} (its folder cannot be written: SQLite keeps the -wal and -shm files there)"),
        },
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => MirrorError::NotWritable { path, detail },
        Some(ErrorCode::CannotOpen) if crate::fd_limit::exhausted_now().is_some() => {
            MirrorError::NoFileHandles { path }
        }
        Some(ErrorCode::CannotOpen) => MirrorError::NotWritable {
            path,
            detail: format!("{detail} (SQLite could not open it, or create its -wal or -shm file next to it)"),
        },
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => MirrorError::Corrupt { path, detail },
        Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure) => MirrorError::Disk { path, detail },
        _ => MirrorError::Sql { path, message: detail },
    }
}

/// Whether SQLite says the file is writable but the files beside it cannot be made.
fn folder_read_only(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi;
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if matches!(
            f.extended_code,
            ffi::SQLITE_READONLY_CANTINIT | ffi::SQLITE_READONLY_CANTLOCK | ffi::SQLITE_READONLY_DIRECTORY
        )
    )
}

/// The case of a file-system failure on `path` (creating the mirror or its lock).
pub fn classify_io(database: &Path, what: String, e: &std::io::Error) -> MirrorError {
    let path = database.to_path_buf();
    let detail = format!("{what}: {e}");
    if crate::fd_limit::is_exhaustion(e) {
        return MirrorError::NoFileHandles { path };
    }
    match e.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            MirrorError::NotWritable { path, detail }
        }
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge => MirrorError::Disk { path, detail },
        _ => MirrorError::Open { path, message: detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_failures_become_the_case_a_user_can_act_on() {
        let p = Path::new("/var/lib/x/mirror.sqlite3");
        let w = Duration::from_secs(5);
        let case = |code| classify(p, w, failure(code));
        assert!(matches!(case(rusqlite::ffi::SQLITE_BUSY), MirrorError::Locked { .. }));
        assert!(matches!(case(rusqlite::ffi::SQLITE_READONLY), MirrorError::NotWritable { .. }));
        let msg = case(rusqlite::ffi::SQLITE_READONLY_CANTINIT).to_string();
        assert!(msg.contains("its folder cannot be written"), "{msg}");
        assert!(matches!(case(rusqlite::ffi::SQLITE_CANTOPEN), MirrorError::NotWritable { .. }));
        assert!(matches!(case(rusqlite::ffi::SQLITE_NOTADB), MirrorError::Corrupt { .. }));
        assert!(matches!(case(rusqlite::ffi::SQLITE_CORRUPT), MirrorError::Corrupt { .. }));
        assert!(matches!(case(rusqlite::ffi::SQLITE_FULL), MirrorError::Disk { .. }));
        assert!(matches!(case(rusqlite::ffi::SQLITE_IOERR_WRITE), MirrorError::Disk { .. }));
        assert!(matches!(case(rusqlite::ffi::SQLITE_CONSTRAINT), MirrorError::Sql { .. }));
        for code in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_READONLY, rusqlite::ffi::SQLITE_NOTADB] {
            let msg = case(code).to_string();
            assert!(msg.contains("/var/lib/x/mirror.sqlite3"), "{msg}");
        }
        assert!(case(rusqlite::ffi::SQLITE_BUSY).to_string().contains("waited 5s"));
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(matches!(classify_io(p, "x".into(), &io), MirrorError::NotWritable { .. }));
        // Out of file handles: said so, not "make the file writable".
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let msg = classify_io(p, "cannot open its lock file".into(), &emfile).to_string();
        assert!(msg.contains("run out of file handles") && msg.contains("LimitNOFILE="), "{msg}");
        assert!(!msg.contains("writable"), "{msg}");
    }
}
