//! [`RunLock`]: one run at a time per mirror, across processes, through an advisory lock
//! on `<mirror>.lock` that the OS releases when the process dies.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::MirrorError;

/// Held for the length of a run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    pub path: PathBuf,
}

impl RunLock {
    /// Takes the lock for `database`, or says another run holds it.
    pub fn acquire(database: &Path) -> Result<RunLock, MirrorError> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| MirrorError::Open {
                path: database.to_path_buf(),
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let file = File::options().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| {
            MirrorError::Open {
                path: database.to_path_buf(),
                message: format!("cannot open the lock {}: {e}", path.display()),
            }
        })?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file, path }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(MirrorError::Busy { path: database.to_path_buf(), lock: path })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(MirrorError::Open {
                path: database.to_path_buf(),
                message: format!("cannot lock {}: {e}", path.display()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.sqlite3");
        let first = RunLock::acquire(&db).unwrap();
        assert!(matches!(RunLock::acquire(&db), Err(MirrorError::Busy { .. })));
        drop(first);
        RunLock::acquire(&db).unwrap();
    }
}
