//! The files beside the mirror that SQLite writes its data into (`-wal`, `-shm`,
//! `-journal`): checked before the mirror is opened, so that a link or another user's file
//! planted there never receives the contacts. SQLite itself opens them without following a
//! link; this says so plainly instead of "unable to open database file", and makes a loose
//! mode private. Also warns, once, about a mirror others can read.

use std::path::{Path, PathBuf};

use super::error::MirrorError;

/// The suffixes of the files SQLite keeps beside a database.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// `<database><suffix>`.
fn companion(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Refuses a companion that is a link or not a regular file, or a regular one that belongs
/// to another user and others may read; makes one of ours private (0600). Nothing is deleted:
/// a `-wal` may hold committed changes.
pub(super) fn check_companions(database: &Path) -> Result<(), MirrorError> {
    for suffix in COMPANIONS {
        let path = companion(database, suffix);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(super::error::classify_io(database, format!("cannot examine {}", path.display()), &e));
            }
        };
        let refuse = |what: &str| MirrorError::Open {
            path: database.to_path_buf(),
            message: format!(
                "{} is {what}: SQLite would write the mirror's data into it; if you did not make it, remove it \
                 and run again",
                path.display()
            ),
        };
        if meta.file_type().is_symlink() {
            return Err(refuse("a symbolic link"));
        }
        if !meta.is_file() {
            return Err(refuse("not a regular file"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            if meta.mode() & 0o077 != 0 {
                // SAFETY: geteuid has no preconditions and cannot fail.
                if meta.uid() != unsafe { libc::geteuid() } {
                    return Err(refuse("another user's file that others can read"));
                }
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
                    super::error::classify_io(database, format!("cannot make {} private", path.display()), &e)
                })?;
            }
        }
    }
    Ok(())
}

/// Warns (once a process) when the mirror, which holds every contact's data, can be read by
/// its group or by others.
pub(super) fn warn_if_shared(database: &Path) {
    crate::secret::warn_if_readable_by_others(database, "Mirror");
}
