//! [`RunLock`]: one run at a time per mirror, across processes, through an advisory lock
//! on `<mirror>.lock` that the OS releases when the process dies. The holder writes who it
//! is (daemon or sync, pid, since when) into the file, so a refused run can name it and
//! `status` can tell whether the daemon is running.

use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use super::error::MirrorError;
use super::holder::{Holder, Role};

/// Held for the length of a run (or of the daemon); dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    pub path: PathBuf,
}

/// `<database>.lock`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl RunLock {
    /// Takes the lock for `database` as `role`, or says who holds it.
    pub fn acquire(database: &Path, role: Role) -> Result<RunLock, MirrorError> {
        super::mark::check_file(database)?;
        let path = lock_path(database);
        let io_err = |what: String, e: std::io::Error| super::error::classify_io(database, what, &e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
        }
        let mut options = File::options();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            // Never through a link: a link planted there would have the file it points to
            // truncated and written. (Its mode is the umask's: it holds no personal data, and
            // `status` run by another user reads it.)
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let mut file = options.open(&path).map_err(|e| {
            let what = if e.raw_os_error() == Some(libc_eloop()) {
                format!("its lock file {} is a symbolic link: remove it if you did not make it", path.display())
            } else {
                format!("cannot open its lock file {}", path.display())
            };
            io_err(what, e)
        })?;
        if !file.metadata().map_err(|e| io_err(format!("cannot examine {}", path.display()), e))?.is_file() {
            return Err(MirrorError::Open {
                path: database.to_path_buf(),
                message: format!(
                    "its lock file {} is not a regular file: remove it if you did not make it",
                    path.display()
                ),
            });
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(MirrorError::Busy {
                    path: database.to_path_buf(),
                    lock: path.clone(),
                    holder: holder(&path),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io_err(format!("cannot lock {}", path.display()), e));
            }
        }
        let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let me = format!("{} {} {since}\n", role.as_str(), std::process::id());
        // Who holds the lock is only informative: a failure to write it is not an error.
        let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(me.as_bytes()));
        Ok(RunLock { file, path })
    }
}

/// The error number of opening a link with `O_NOFOLLOW`.
fn libc_eloop() -> i32 {
    #[cfg(unix)]
    {
        libc::ELOOP
    }
    #[cfg(not(unix))]
    {
        -1
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Clear the holder before the lock goes (closing the file releases it).
        let _ = self.file.set_len(0);
    }
}

/// Who the lock file of a mirror names as its holder, if anyone. Only meaningful while the
/// lock is held: see [`Holder::alive`].
pub fn holder(lock: &Path) -> Option<Holder> {
    std::fs::read_to_string(lock).ok().as_deref().and_then(Holder::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.sqlite3");
        let first = RunLock::acquire(&db, Role::Daemon).unwrap();
        let h = holder(&first.path).unwrap();
        assert_eq!((h.role, h.pid), (Role::Daemon, std::process::id()));
        assert!(h.alive());
        match RunLock::acquire(&db, Role::Sync) {
            Err(e @ MirrorError::Busy { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("the openphone-sync daemon (pid"), "{msg}");
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        assert_eq!(holder(&lock_path(&db)), None, "the holder is cleared on release");
        RunLock::acquire(&db, Role::Sync).unwrap();
    }
}
