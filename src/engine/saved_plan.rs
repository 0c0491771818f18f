//! `sync --dry-run --save-plan FILE` and `sync --plan FILE`: reading and writing the plan
//! file ([`crate::plan::saved`] owns its shape and the checks), and the identity of this
//! config and workspace that a plan must match.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::exit::Exit;
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
    let text = std::fs::read_to_string(path)
        .map_err(|e| Stop::new(Exit::Config, format!("{}: cannot read the plan file: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Stop::new(
            Exit::Config,
            format!(
                "{}:{}:{}: not an openphone-sync plan file: {e}; make one with `sync --dry-run --save-plan FILE`",
                path.display(),
                e.line(),
                e.column()
            ),
        )
    })
}

/// Writes a plan file, readable by its owner only (it holds contact data), replacing it
/// whole: a reader never sees half a plan.
pub fn save(path: &Path, plan: &SavedPlan) -> Result<(), Stop> {
    let fail =
        |e: std::io::Error| Stop::new(Exit::Unavailable, format!("{}: cannot write the plan: {e}", path.display()));
    let tmp = path.with_extension("tmp-plan");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(&tmp).map_err(fail)?;
    serde_json::to_writer_pretty(&mut file, plan).map_err(std::io::Error::from).map_err(fail)?;
    writeln!(file).and_then(|()| file.sync_all()).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}
