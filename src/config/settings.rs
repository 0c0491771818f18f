//! [`Config`]: the loaded, validated config, its tables' values parsed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::source::SourceConfig;
use crate::schedule::Schedule;

/// A loaded, validated config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file itself.
    pub path: PathBuf,
    pub openphone: OpenPhoneConfig,
    /// The SQLite mirror file.
    pub database: PathBuf,
    /// `[state].lock_timeout_seconds`: how long to wait for another process's lock on it.
    pub lock_timeout: Duration,
    /// `[state].keep_deleted_days`: how long a deleted contact's state is kept for `restore`.
    pub keep_deleted: Duration,
    /// `[state].history_days`: how long the mirror keeps each applied change (default 90).
    pub history_days: u32,
    /// `[schedule]`: when the daemon runs (`None` without `cron`).
    pub schedule: Option<Schedule>,
    pub source: SourceConfig,
    pub sync: SyncConfig,
    /// `[metrics].listen`: where the daemon serves Prometheus metrics, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// `[source].null_values`: cells read as empty.
    pub null_values: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct OpenPhoneConfig {
    pub api_key_file: Option<PathBuf>,
    /// The line of `api_key_file` in the config, for the errors of reading it.
    pub api_key_file_line: Option<usize>,
    pub base_url: url::Url,
    pub requests_per_second: u32,
    pub source_label: String,
    /// Per request: connect, send and read the reply.
    pub timeout: Duration,
    /// Attempts after the first one for a retryable failure.
    pub max_retries: u32,
    /// Requests in flight at once; `None` picks enough to use the rate limit fully.
    pub concurrency: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub mapping: PathBuf,
    pub delete_missing: bool,
    pub max_delete_fraction: f64,
    /// How often the daemon reads every mirrored contact back to repair edits made in the
    /// app (`sync --verify`); `None` never.
    pub verify_every: Option<std::time::Duration>,
    /// `delete_after`: how long a row must be missing before its contact is deleted.
    pub delete_after: Duration,
}

impl Config {
    /// The folder relative paths resolve against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}
