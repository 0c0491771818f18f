//! [`probe`]: whether the user running this process could write the mirror at a path, found
//! without writing anything: the file (when it exists), its run lock, and its folder (SQLite
//! keeps the -wal and -shm files there), or the nearest existing folder above it (a run
//! creates the missing ones). `check` and the daemon's start call it, so that a mirror put
//! where the service's user cannot write (under `/etc`, which systemd's
//! `ProtectSystem=strict` makes read-only) is a config error (exit 2) that names the path,
//! rather than a failure of every run.

use std::path::{Path, PathBuf};

use rustix::fs::{Access, access};

use super::error::MirrorError;
use super::lock::lock_path;

/// What a run would find at the mirror's path.
#[derive(Debug, PartialEq, Eq)]
pub enum Writable {
    /// The mirror exists, and it and its folder can be written.
    Existing,
    /// No mirror yet: the first run creates it; `folder` (the mirror's folder, or the
    /// nearest one above it that exists) can be written.
    ToCreate { folder: PathBuf },
}

/// Whether this process's user can write the mirror at `database`, or why not.
pub fn probe(database: &Path) -> Result<Writable, MirrorError> {
    let refuse =
        |detail: String| MirrorError::NotWritable { path: database.to_path_buf(), detail: with_hint(database, detail) };
    let existing = match std::fs::metadata(database) {
        Ok(m) if m.is_dir() => return Err(refuse("it is a folder, not a file".to_owned())),
        Ok(_) => {
            access(database, Access::READ_OK | Access::WRITE_OK)
                .map_err(|e| refuse(format!("the file cannot be written by {}: {e}", user())))?;
            true
        }
        // Not there yet (or a file where a folder should be: found below).
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => false,
        Err(e) => return Err(refuse(format!("cannot look at it: {e}"))),
    };
    let lock = lock_path(database);
    if lock.exists() {
        access(&lock, Access::READ_OK | Access::WRITE_OK)
            .map_err(|e| refuse(format!("its lock file {} cannot be written by {}: {e}", lock.display(), user())))?;
    }
    let parent = match database.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut folder = parent.clone();
    while !folder.exists() {
        match folder.parent() {
            Some(up) if !up.as_os_str().is_empty() => folder = up.to_path_buf(),
            _ => {
                folder = PathBuf::from(".");
                break;
            }
        }
    }
    let role =
        if folder == parent { "its folder".to_owned() } else { format!("{} does not exist and", parent.display()) };
    if !folder.is_dir() {
        return Err(refuse(format!("{role} {} is not a folder", folder.display())));
    }
    access(&folder, Access::WRITE_OK | Access::EXEC_OK).map_err(|e| {
        let what = if folder == parent { "" } else { ", where it would be created," };
        refuse(format!("{role} {}{what} cannot be written by {}: {e}", folder.display(), user()))
    })?;
    Ok(if existing { Writable::Existing } else { Writable::ToCreate { folder } })
}

/// This process's user, as a message names it.
fn user() -> String {
    format!("this user (uid {})", rustix::process::geteuid().as_raw())
}

/// Under a systemd unit with `StateDirectory=` (which sets `$STATE_DIRECTORY`), where the
/// mirror belongs when it is elsewhere.
fn with_hint(database: &Path, detail: String) -> String {
    let Some(dirs) = std::env::var_os("STATE_DIRECTORY") else { return detail };
    let dirs: Vec<PathBuf> = std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()).collect();
    if dirs.is_empty() || dirs.iter().any(|d| database.starts_with(d)) {
        return detail;
    }
    let list = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
    format!("{detail} (this service may write only its StateDirectory, {list}: set [state] database there)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_mirror_is_created_in_the_nearest_folder_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a/b/mirror.sqlite3");
        assert_eq!(probe(&db).unwrap(), Writable::ToCreate { folder: dir.path().to_path_buf() });
        std::fs::write(dir.path().join("m.sqlite3"), "").unwrap();
        assert_eq!(probe(&dir.path().join("m.sqlite3")).unwrap(), Writable::Existing);
        let msg = probe(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("it is a folder"), "{msg}");
        // A file where a folder should be.
        let msg = probe(&dir.path().join("m.sqlite3/x/mirror.sqlite3")).unwrap_err().to_string();
        assert!(msg.contains("is not a folder"), "{msg}");
    }
}
