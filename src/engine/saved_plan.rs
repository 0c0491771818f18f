//! `sync --dry-run --save-plan FILE` and `sync --plan FILE`: reading and writing the plan
//! file ([`crate::plan::saved`] owns its shape and the checks), and the identity of this
//! config and workspace that a plan must match.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::plan::saved::{Identity, SavedPlan};
use crate::secret::ApiKey;

use super::stop::Stop;

/// What `sync` does with a plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanFile {
    /// A dry run writes its plan here.
    Save(PathBuf),
    /// Apply exactly the plan in this file, if it is still current.
    Apply(PathBuf),
}

/// This config and workspace, as a plan records them.
pub fn identity(config: &Config, key: &ApiKey) -> Identity {
    let config_path = std::path::absolute(&config.path).unwrap_or_else(|_| config.path.clone());
    Identity {
        config: config_path.display().to_string(),
        source: config.source.describe(),
        base_url: config.openphone.base_url.to_string(),
        api_key_sha256: Identity::api_key_fingerprint(key.expose()),
    }
}

/// Reads a plan file (exit 2 when it cannot be read or is not a plan).
pub fn load(path: &Path) -> Result<SavedPlan, Stop> {
    let text =
        std::fs::read_to_string(path).map_err(|error| Stop::PlanUnreadable { path: path.to_path_buf(), error })?;
    serde_json::from_str(&text).map_err(|error| Stop::NotAPlan { path: path.to_path_buf(), error })
}

/// The files a plan may never be written over, whatever they hold: the config, the mapping,
/// the source, the key files, and the mirror with its companions.
fn protected(config: &Config) -> Vec<PathBuf> {
    let mut out = vec![config.path.clone(), config.sync.mapping.clone()];
    out.extend(config.source.files().into_iter().map(Path::to_path_buf));
    out.extend(config.openphone.api_key_file.clone());
    let db = config.database.as_os_str();
    out.push(config.database.clone());
    for tail in ["-wal", "-shm", "-journal", ".lock"] {
        let mut p = db.to_os_string();
        p.push(tail);
        out.push(PathBuf::from(p));
    }
    out
}

/// `path` with its folder resolved (links and `..` followed), so two spellings of one
/// file compare equal; the path as given when its folder cannot be resolved.
fn resolved(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => dir.canonicalize().map(|d| d.join(name)).unwrap_or(abs),
        _ => abs,
    }
}

/// Whether `a` and `b` name the same file: the same resolved path, or (both existing) the
/// same inode, so a hard link is caught too.
fn same_file(a: &Path, b: &Path) -> bool {
    if resolved(a) == resolved(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// Refuses (exit 2, the file untouched) a plan path that is one of this config's own files,
/// or an existing file that is not a plan saved by openphone-sync (a link, a folder, a
/// device, a FIFO, any other file). Checked before the run and again just before writing.
pub fn check_target(path: &Path, config: &Config) -> Result<(), Stop> {
    let refuse = |why: String| {
        Stop::config(format!(
            "{}: {why}; the plan was not written and the file is left as it is: choose another file for --save-plan",
            path.display()
        ))
    };
    if let Some(own) = protected(config).into_iter().find(|p| same_file(path, p)) {
        return Err(refuse(format!("this is {} of this config, not a plan file", own.display())));
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(refuse(format!("cannot look at it: {e}"))),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link, and a plan is never written through one".into()));
    }
    if !meta.is_file() {
        return Err(refuse("it exists and is not a regular file".into()));
    }
    let saved_by_us = std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|v| {
            v["version"].is_u64() && v["made_by"].as_str().is_some_and(|m| m.starts_with("openphone-sync "))
        });
    if saved_by_us { Ok(()) } else { Err(refuse("it exists and is not a plan saved by openphone-sync".into())) }
}

/// Creates a new, private file beside `path` under a name nobody else chose: created new
/// (`O_CREAT|O_EXCL`, which never follows a link and never opens a planted file), with
/// `O_NOFOLLOW`, mode 0600. A name already taken is avoided, never reused.
fn create_temp(path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map_or_else(|| "plan".into(), |n| n.to_string_lossy().into_owned());
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(".{name}.{:016x}.tmp-plan", rand::random::<u64>()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match opts.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// Writes a plan file, readable by its owner only (it holds contact data), replacing it
/// whole: written to a new temporary file beside it, synced, then renamed into place, so a
/// reader never sees half a plan. `path` is checked again first ([`check_target`]).
pub fn save(path: &Path, plan: &SavedPlan, config: &Config) -> Result<(), Stop> {
    check_target(path, config)?;
    let fail = |error: std::io::Error| Stop::PlanUnwritable { path: path.to_path_buf(), error };
    let (tmp, mut file) = create_temp(path).map_err(fail)?;
    let written = serde_json::to_writer_pretty(&mut file, plan)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(file))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}
