//! Which config file to read: `--config`, else `$OPENPHONE_SYNC_CONFIG`, else the default path.

use std::path::{Path, PathBuf};

/// Where the config is looked for when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/openphone-sync/config.toml";
/// The environment variable that names the config file.
pub const CONFIG_ENV: &str = "OPENPHONE_SYNC_CONFIG";

/// Resolves which config file to read: `--config`, else `$OPENPHONE_SYNC_CONFIG`, else the default.
pub fn resolve_path(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    match std::env::var_os(CONFIG_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_CONFIG_PATH),
    }
}
