//! The values a config file may leave out.

use std::time::Duration;

/// How long a row must be missing before its contact is deleted, by default.
pub const DEFAULT_DELETE_AFTER: Duration = Duration::from_hours(24);
/// How long the state of a deleted contact is kept for `restore`, by default.
pub const DEFAULT_KEEP_DELETED_DAYS: f64 = 30.0;

/// How often the daemon verifies by default: once a day costs one request per 50 contacts.
pub const DEFAULT_VERIFY_EVERY_HOURS: f64 = 24.0;
/// How long the mirror keeps each applied change by default (`[state].history_days`).
pub const DEFAULT_HISTORY_DAYS: u32 = 90;

/// How long a run waits for another process's SQLite lock on the mirror by default
/// (`[state].lock_timeout_seconds`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// What `[source].null_values` is when unset: what exports write in an empty cell.
pub const DEFAULT_NULL_VALUES: &[&str] = &["null", "NULL", "N/A", "n/a", "-"];
