//! The config file: strict TOML (see `docs/configuration.md`), loaded into [`Config`] with every
//! problem located by file, line and key. Relative paths resolve against the file's folder.

pub mod sheets;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::toml_strict::{self, KeyLines, Kind};
pub use crate::toml_strict::{Problem, Problems};
pub use sheets::{LinkMode, SheetsConfig};

use crate::schedule::{Schedule, ScheduleError};
use crate::secret::ApiKey;

/// Where the config is looked for when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/openphone-sync/config.toml";
/// The environment variable that names the config file.
pub const CONFIG_ENV: &str = "OPENPHONE_SYNC_CONFIG";
/// The environment variable holding the API key.
pub const API_KEY_ENV: &str = "OPENPHONE_API_KEY";
/// Where systemd puts the credentials of `LoadCredential=` (`$CREDENTIALS_DIRECTORY`).
pub const CREDENTIALS_DIRECTORY_ENV: &str = "CREDENTIALS_DIRECTORY";
/// The credential name the API key is read from there: `LoadCredential=api-key:/path`.
pub const API_KEY_CREDENTIAL: &str = "api-key";

const OPENPHONE_KEYS: &[(&str, Kind)] = &[
    ("api_key_file", Kind::Str),
    ("base_url", Kind::Str),
    ("requests_per_second", Kind::Int),
    ("source_label", Kind::Str),
    ("timeout_seconds", Kind::Number),
    ("max_retries", Kind::Int),
    ("concurrency", Kind::Int),
];
const STATE_KEYS: &[(&str, Kind)] = &[
    ("database", Kind::Str),
    ("lock_timeout_seconds", Kind::Number),
    ("keep_deleted_days", Kind::Number),
    ("history_days", Kind::Number),
];
const SCHEDULE_KEYS: &[(&str, Kind)] = &[("cron", Kind::Str), ("timezone", Kind::Str)];
const METRICS_KEYS: &[(&str, Kind)] = &[("listen", Kind::Str)];
const SOURCE_KEYS: &[(&str, Kind)] = &[
    ("type", Kind::Str),
    ("path", Kind::Str),
    ("delimiter", Kind::Str),
    ("spreadsheet_id", Kind::Str),
    ("range", Kind::Str),
    ("service_account_key", Kind::Str),
    ("api_base_url", Kind::Str),
    ("link", Kind::Str),
    ("encoding", Kind::Str),
    ("header_row", Kind::Int),
    ("null_values", Kind::Strs),
];
const SYNC_KEYS: &[(&str, Kind)] = &[
    ("mapping", Kind::Str),
    ("delete_missing", Kind::Bool),
    ("max_delete_fraction", Kind::Number),
    ("verify_every_hours", Kind::Number),
    ("delete_after", Kind::Str),
];
const CONFIG_SCHEMA: &[(&str, Kind)] = &[
    ("openphone", Kind::Table(OPENPHONE_KEYS)),
    ("state", Kind::Table(STATE_KEYS)),
    ("schedule", Kind::Table(SCHEDULE_KEYS)),
    ("source", Kind::Table(SOURCE_KEYS)),
    ("sync", Kind::Table(SYNC_KEYS)),
    ("metrics", Kind::Table(METRICS_KEYS)),
];

/// How long a row must be missing before its contact is deleted, by default.
pub const DEFAULT_DELETE_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long the state of a deleted contact is kept for `restore`, by default.
pub const DEFAULT_KEEP_DELETED_DAYS: f64 = 30.0;

/// How often the daemon verifies by default: once a day costs one request per 50 contacts.
pub const DEFAULT_VERIFY_EVERY_HOURS: f64 = 24.0;
/// How long the mirror keeps each applied change by default (`[state].history_days`).
pub const DEFAULT_HISTORY_DAYS: u32 = 90;

/// The contact `source` written when `[openphone].source_label` is not set. Not the
/// "openphone-sync" the original interface showed: the API reserves the prefix
/// "openphone" for `source`, so that value would be refused on every create.
pub const DEFAULT_SOURCE_LABEL: &str = "contact-sync";

/// The contact `source` values the API refuses, and the prefixes it refuses.
const RESERVED_SOURCES: &[&str] = &["openphone", "device", "csv", "zapier", "google-people", "other"];
const RESERVED_SOURCE_PREFIXES: &[&str] = &["openphone", "csv"];

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

/// What `[source].null_values` is when unset: what exports write in an empty cell.
pub const DEFAULT_NULL_VALUES: &[&str] = &["null", "NULL", "N/A", "n/a", "-"];

#[derive(Debug, Clone)]
pub struct OpenPhoneConfig {
    pub api_key_file: Option<PathBuf>,
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

#[derive(Debug, Clone, PartialEq)]
pub enum SourceConfig {
    Csv {
        path: PathBuf,
        delimiter: u8,
        encoding: crate::source::csv::TextEncoding,
        /// The header's line (`header_row`); `None` finds it.
        header_row: Option<u64>,
    },
    GoogleSheets(SheetsConfig),
}

impl SourceConfig {
    /// A short description for messages: the file name, or the spreadsheet and range.
    pub fn describe(&self) -> String {
        match self {
            SourceConfig::Csv { path, .. } => path.display().to_string(),
            SourceConfig::GoogleSheets(s) => s.describe(),
        }
    }
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

#[derive(Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    openphone: RawOpenPhone,
    #[serde(default)]
    state: RawState,
    schedule: Option<RawSchedule>,
    source: Option<RawSource>,
    #[serde(default)]
    sync: RawSync,
    #[serde(default)]
    metrics: RawMetrics,
}

#[derive(Deserialize, Default)]
struct RawMetrics {
    listen: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawOpenPhone {
    api_key_file: Option<String>,
    base_url: Option<String>,
    requests_per_second: Option<i64>,
    source_label: Option<String>,
    timeout_seconds: Option<f64>,
    max_retries: Option<i64>,
    concurrency: Option<i64>,
}

#[derive(Deserialize, Default)]
struct RawState {
    database: Option<String>,
    lock_timeout_seconds: Option<f64>,
    keep_deleted_days: Option<f64>,
    history_days: Option<f64>,
}

#[derive(Deserialize)]
struct RawSchedule {
    cron: Option<String>,
    timezone: Option<String>,
}

#[derive(Deserialize)]
struct RawSource {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<String>,
    delimiter: Option<String>,
    spreadsheet_id: Option<String>,
    range: Option<String>,
    service_account_key: Option<String>,
    api_base_url: Option<String>,
    link: Option<String>,
    encoding: Option<String>,
    header_row: Option<i64>,
    null_values: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct RawSync {
    mapping: Option<String>,
    delete_missing: Option<bool>,
    max_delete_fraction: Option<f64>,
    verify_every_hours: Option<f64>,
    delete_after: Option<String>,
}

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

impl Config {
    /// Reads and validates the config file, collecting every problem.
    pub fn load(path: &Path) -> Result<Config, Problems> {
        let (raw, lines, mut problems) = toml_strict::load::<RawConfig>(path, "config", CONFIG_SCHEMA)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let ctx = Ctx { file: path, dir: &dir, lines: &lines };
        let config = build(&ctx, raw, &mut problems);
        problems.into_result(config)
    }

    /// The folder relative paths resolve against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// The API key: `$OPENPHONE_API_KEY`, else `[openphone].api_key_file`, else the systemd
    /// credential `$CREDENTIALS_DIRECTORY/api-key` (`LoadCredential=api-key:...`). `Ok(None)`
    /// when none is set; an unreadable key file is an error naming it.
    pub fn api_key(&self) -> Result<Option<ApiKey>, Problems> {
        if let Some(key) = std::env::var(API_KEY_ENV).ok().as_deref().and_then(ApiKey::new) {
            return Ok(Some(key));
        }
        let credential = std::env::var_os(CREDENTIALS_DIRECTORY_ENV)
            .filter(|d| !d.is_empty())
            .map(|d| PathBuf::from(d).join(API_KEY_CREDENTIAL))
            .filter(|p| p.exists());
        let Some(file) = self.openphone.api_key_file.as_ref().or(credential.as_ref()) else { return Ok(None) };
        let mut problems = Problems::default();
        match std::fs::read_to_string(file) {
            Ok(text) => match ApiKey::new(&text).inspect(|_| crate::secret::warn_if_shared(file)) {
                Some(key) => return Ok(Some(key)),
                None => problems.push(
                    &self.path,
                    None,
                    Some("openphone.api_key_file"),
                    format!("{} is empty", file.display()),
                ),
            },
            Err(e) => problems.push(
                &self.path,
                None,
                Some("openphone.api_key_file"),
                format!("cannot read the API key from {}: {e}", file.display()),
            ),
        }
        Err(problems)
    }
}

/// Whether a value given as a key *file* is more likely the key itself: one long token
/// with no path separator and no extension.
fn looks_like_a_key(value: &str) -> bool {
    value.len() >= 20
        && !value.contains(['/', '\\', '.'])
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

struct Ctx<'a> {
    file: &'a Path,
    dir: &'a Path,
    lines: &'a KeyLines,
}

impl Ctx<'_> {
    fn problem(&self, problems: &mut Problems, key: &str, message: impl Into<String>) {
        problems.push(self.file, self.lines.line(key), Some(key), message);
    }

    fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() { p.to_path_buf() } else { self.dir.join(p) }
    }

    /// A path that must name an existing file.
    fn existing_file(&self, problems: &mut Problems, key: &str, value: &str) -> PathBuf {
        let path = self.resolve(value);
        if !path.is_file() {
            self.problem(problems, key, format!("file not found: {}", path.display()));
        }
        path
    }
}

fn build(ctx: &Ctx<'_>, raw: RawConfig, problems: &mut Problems) -> Config {
    let op = raw.openphone;
    let base_url = op.base_url.as_deref().unwrap_or("https://api.quo.com");
    let base_url = match url::Url::parse(base_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(_) => {
            ctx.problem(problems, "openphone.base_url", "must be an http:// or https:// URL");
            url::Url::parse("https://api.quo.com").expect("valid default")
        }
        Err(e) => {
            ctx.problem(problems, "openphone.base_url", format!("not a URL: {e}"));
            url::Url::parse("https://api.quo.com").expect("valid default")
        }
    };
    let rps = op.requests_per_second.unwrap_or(10);
    if !(1..=1000).contains(&rps) {
        ctx.problem(problems, "openphone.requests_per_second", "must be between 1 and 1000");
    }
    let source_label = op.source_label.unwrap_or_else(|| DEFAULT_SOURCE_LABEL.to_owned());
    if let Some(why) = source_label_problem(&source_label) {
        ctx.problem(problems, "openphone.source_label", why);
    }
    let timeout = op.timeout_seconds.unwrap_or(30.0);
    if !(0.1..=600.0).contains(&timeout) {
        ctx.problem(problems, "openphone.timeout_seconds", "must be between 0.1 and 600");
    }
    let max_retries = op.max_retries.unwrap_or(6);
    if !(0..=50).contains(&max_retries) {
        ctx.problem(problems, "openphone.max_retries", "must be between 0 and 50");
    }
    let concurrency = match op.concurrency {
        None => None,
        Some(n) if (1..=256).contains(&n) => Some(n as usize),
        Some(_) => {
            ctx.problem(problems, "openphone.concurrency", "must be between 1 and 256");
            None
        }
    };
    let openphone = OpenPhoneConfig {
        api_key_file: match op.api_key_file.as_deref() {
            // Never kept (it would show in errors and `Debug`), never printed.
            Some(v) if looks_like_a_key(v) => {
                ctx.problem(
                    problems,
                    "openphone.api_key_file",
                    "this looks like the API key itself, not the path of a file holding it (the value is not \
                     shown): put the key in a file readable only by this user and name that file here, or set \
                     $OPENPHONE_API_KEY",
                );
                None
            }
            v => v.map(|p| ctx.resolve(p)),
        },
        base_url,
        requests_per_second: rps.clamp(1, 1000) as u32,
        source_label,
        timeout: seconds(timeout, 0.1, 600.0),
        max_retries: max_retries.clamp(0, 50) as u32,
        concurrency,
    };

    let database = ctx.resolve(raw.state.database.as_deref().unwrap_or("mirror.sqlite3"));
    let lock_timeout = raw.state.lock_timeout_seconds.unwrap_or(crate::mirror::DEFAULT_LOCK_TIMEOUT.as_secs_f64());
    if !(0.0..=3600.0).contains(&lock_timeout) {
        ctx.problem(problems, "state.lock_timeout_seconds", "must be between 0 and 3600");
    }

    let keep_days = raw.state.keep_deleted_days.unwrap_or(DEFAULT_KEEP_DELETED_DAYS);
    if !(0.0..=3660.0).contains(&keep_days) {
        ctx.problem(problems, "state.keep_deleted_days", "must be between 0 (keep none) and 3660 (ten years)");
    }
    let history_days = raw.state.history_days.unwrap_or(f64::from(DEFAULT_HISTORY_DAYS));
    if !(1.0..=36500.0).contains(&history_days) || history_days.fract() != 0.0 {
        ctx.problem(problems, "state.history_days", "must be a whole number of days between 1 and 36500");
    }

    let schedule = build_schedule(ctx, raw.schedule, problems);
    let metrics_listen = match raw.metrics.listen.as_deref() {
        None => None,
        Some(addr) => match addr.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                ctx.problem(
                    problems,
                    "metrics.listen",
                    format!("{addr:?} is not an address and port, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\""),
                );
                None
            }
        },
    };

    let null_values = match raw.source.as_ref().and_then(|s| s.null_values.clone()) {
        Some(v) => v.into_iter().map(|s| s.trim().to_owned()).collect(),
        None => DEFAULT_NULL_VALUES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let source = build_source(ctx, raw.source, problems);

    let sync = raw.sync;
    let mapping = match sync.mapping.as_deref() {
        Some(m) => ctx.existing_file(problems, "sync.mapping", m),
        None => {
            problems.push(ctx.file, ctx.lines.line("sync"), Some("sync.mapping"), "missing: the mapping file to use");
            PathBuf::new()
        }
    };
    let max_delete_fraction = sync.max_delete_fraction.unwrap_or(0.25);
    if !(0.0..=1.0).contains(&max_delete_fraction) {
        ctx.problem(problems, "sync.max_delete_fraction", "must be between 0 and 1");
    }
    let verify_hours = sync.verify_every_hours.unwrap_or(DEFAULT_VERIFY_EVERY_HOURS);
    if !(0.0..=24.0 * 366.0).contains(&verify_hours) {
        ctx.problem(problems, "sync.verify_every_hours", "must be between 0 (never) and 8784 (a year)");
    }
    let verify_every =
        (verify_hours > 0.0).then(|| std::time::Duration::from_secs_f64(verify_hours.clamp(0.0, 8784.0) * 3600.0));
    let delete_after = match sync.delete_after.as_deref() {
        None => DEFAULT_DELETE_AFTER,
        Some(text) => match humantime::parse_duration(text.trim()) {
            Ok(d) if d <= Duration::from_secs(366 * 24 * 3600) => d,
            Ok(_) => {
                ctx.problem(problems, "sync.delete_after", "must be at most a year (\"366d\")");
                DEFAULT_DELETE_AFTER
            }
            Err(e) => {
                ctx.problem(
                    problems,
                    "sync.delete_after",
                    format!("{text:?} is not a duration ({e}): write e.g. \"0s\" (at once), \"6h\" or \"3d\""),
                );
                DEFAULT_DELETE_AFTER
            }
        },
    };
    Config {
        path: ctx.file.to_path_buf(),
        openphone,
        database,
        lock_timeout: seconds(lock_timeout, 0.0, 3600.0),
        keep_deleted: seconds(keep_days * 86_400.0, 0.0, 3660.0 * 86_400.0),
        history_days: history_days.clamp(1.0, 36500.0) as u32,
        schedule,
        source,
        sync: SyncConfig {
            mapping,
            delete_missing: sync.delete_missing.unwrap_or(true),
            max_delete_fraction,
            verify_every,
            delete_after,
        },
        metrics_listen,
        null_values,
    }
}

/// A duration from a number of seconds already checked to be in `lo..=hi` (a problem was
/// reported otherwise; NaN is taken as `lo` so that building the rest cannot panic).
fn seconds(value: f64, lo: f64, hi: f64) -> Duration {
    Duration::from_secs_f64(if value.is_nan() { lo } else { value.clamp(lo, hi) })
}

fn build_schedule(ctx: &Ctx<'_>, raw: Option<RawSchedule>, problems: &mut Problems) -> Option<Schedule> {
    let raw = raw?;
    let Some(expr) = raw.cron else {
        if raw.timezone.is_some() {
            ctx.problem(problems, "schedule.timezone", "only used with `cron`: add `cron = \"0 */15 * * * *\"`");
        }
        return None;
    };
    match Schedule::parse(&expr, raw.timezone.as_deref()) {
        Ok(s) => Some(s),
        Err(ScheduleError::Cron(why)) => {
            ctx.problem(problems, "schedule.cron", why);
            if let Some(tz) = raw.timezone.as_deref()
                && let Err(ScheduleError::TimeZone(why)) = Schedule::parse("* * * * * *", Some(tz))
            {
                ctx.problem(problems, "schedule.timezone", why);
            }
            None
        }
        Err(ScheduleError::TimeZone(why)) => {
            ctx.problem(problems, "schedule.timezone", why);
            None
        }
    }
}

fn build_source(ctx: &Ctx<'_>, raw: Option<RawSource>, problems: &mut Problems) -> SourceConfig {
    let placeholder =
        SourceConfig::Csv { path: PathBuf::new(), delimiter: b',', encoding: Default::default(), header_row: None };
    let Some(raw) = raw else {
        problems.push(ctx.file, None, Some("source"), "missing: a [source] table (type = \"csv\", path = ...)");
        return placeholder;
    };
    match raw.kind.as_deref() {
        Some("csv") => {
            for (key, set) in [
                ("source.spreadsheet_id", raw.spreadsheet_id.is_some()),
                ("source.range", raw.range.is_some()),
                ("source.service_account_key", raw.service_account_key.is_some()),
                ("source.api_base_url", raw.api_base_url.is_some()),
                ("source.link", raw.link.is_some()),
            ] {
                if set {
                    ctx.problem(problems, key, "only for type = \"google_sheets\"");
                }
            }
            let delimiter = match raw.delimiter.as_deref() {
                None => b',',
                Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
                Some("\\t" | "tab") => b'\t',
                Some(_) => {
                    ctx.problem(problems, "source.delimiter", "must be one ASCII character, e.g. \",\" or \";\"");
                    b','
                }
            };
            let path = match raw.path.as_deref() {
                Some(p) => ctx.existing_file(problems, "source.path", p),
                None => {
                    ctx.problem(problems, "source", "missing `path`: the CSV file to read");
                    PathBuf::new()
                }
            };
            let encoding = match raw.encoding.as_deref().map(crate::source::csv::TextEncoding::parse) {
                None => Default::default(),
                Some(Ok(e)) => e,
                Some(Err(why)) => {
                    ctx.problem(problems, "source.encoding", why);
                    Default::default()
                }
            };
            let header_row = match raw.header_row {
                None => None,
                Some(n) if n >= 1 => Some(n as u64),
                Some(_) => {
                    ctx.problem(problems, "source.header_row", "must be a line number, 1 or more");
                    None
                }
            };
            SourceConfig::Csv { path, delimiter, encoding, header_row }
        }
        Some("google_sheets") => {
            for (key, set) in
                [("source.encoding", raw.encoding.is_some()), ("source.header_row", raw.header_row.is_some())]
            {
                if set {
                    ctx.problem(problems, key, "only for type = \"csv\" (a sheet's range says where its header is)");
                }
            }
            sheets::build(ctx, &raw, problems).map(SourceConfig::GoogleSheets).unwrap_or(placeholder)
        }
        Some(other) => {
            ctx.problem(
                problems,
                "source.type",
                format!("unknown source type {other:?} (expected \"csv\" or \"google_sheets\")"),
            );
            placeholder
        }
        None => {
            ctx.problem(problems, "source", "missing `type` (\"csv\" or \"google_sheets\")");
            placeholder
        }
    }
}

/// Why the API would refuse `label` as a contact `source`, if it would.
pub fn source_label_problem(label: &str) -> Option<String> {
    let len = label.chars().count();
    let max = crate::mapping::limits::SOURCE_MAX;
    if !(1..=max).contains(&len) {
        return Some(format!("must be 1 to {max} characters (OpenPhone's limit for a contact's source)"));
    }
    let lower = label.to_ascii_lowercase();
    if RESERVED_SOURCES.contains(&lower.as_str()) {
        return Some(format!("{label:?} is reserved by OpenPhone"));
    }
    if let Some(p) = RESERVED_SOURCE_PREFIXES.iter().find(|p| lower.starts_with(**p)) {
        return Some(format!("must not start with {p:?} (reserved by OpenPhone)"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn loads_a_minimal_config_with_defaults_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "m.toml", "external_id = \"ID\"\n");
        write(dir.path(), "c.csv", "ID\n");
        let cfg = write(
            dir.path(),
            "config.toml",
            "[source]\ntype = \"csv\"\npath = \"c.csv\"\n[sync]\nmapping = \"m.toml\"\n",
        );
        let c = Config::load(&cfg).unwrap();
        assert_eq!(c.openphone.requests_per_second, 10);
        assert_eq!(c.openphone.base_url.as_str(), "https://api.quo.com/");
        assert_eq!(c.database, dir.path().join("mirror.sqlite3"));
        assert_eq!(c.lock_timeout, crate::mirror::DEFAULT_LOCK_TIMEOUT);
        assert_eq!(c.sync.mapping, dir.path().join("m.toml"));
        assert!(c.sync.delete_missing);
        assert_eq!(c.sync.max_delete_fraction, 0.25);
        assert_eq!(c.openphone.source_label, DEFAULT_SOURCE_LABEL);
        assert_eq!(source_label_problem(DEFAULT_SOURCE_LABEL), None);
        assert!(source_label_problem("openphone-sync").is_some());
    }

    #[test]
    fn a_key_pasted_as_the_key_file_is_refused_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "m.toml", "external_id = \"ID\"\n");
        write(dir.path(), "c.csv", "ID\n");
        let key = "sk_live_0123456789abcdefSECRET";
        let cfg = write(
            dir.path(),
            "config.toml",
            &format!(
                "[openphone]\napi_key_file = \"{key}\"\n[source]\ntype = \"csv\"\npath = \"c.csv\"\n[sync]\nmapping = \"m.toml\"\n"
            ),
        );
        let problems = Config::load(&cfg).unwrap_err().to_string();
        assert!(
            problems.contains("config.toml:2: `openphone.api_key_file`: this looks like the API key itself"),
            "{problems}"
        );
        assert!(!problems.contains("SECRET"), "{problems}");
        assert!(
            !looks_like_a_key("/etc/openphone-sync/api-key")
                && !looks_like_a_key("api-key")
                && !looks_like_a_key("key.txt")
        );
    }

    #[test]
    fn reports_all_problems_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "config.toml",
            "[openphone]\nrequests_per_secnd = 5\nsource_label = \"csv-import\"\n[schedule]\ncron = \"*/5 * * * *\"\n[source]\ntype = \"csv\"\npath = \"nope.csv\"\n[sync]\nmapping = \"m.toml\"\nmax_delete_fraction = 2\n",
        );
        let err = Config::load(&cfg).unwrap_err().to_string();
        for want in [
            "config.toml:2: `openphone.requests_per_secnd`: unknown key",
            "config.toml:3: `openphone.source_label`: must not start with \"csv\"",
            "config.toml:5: `schedule.cron`: not a valid schedule",
            "config.toml:8: `source.path`: file not found",
            "config.toml:10: `sync.mapping`: file not found",
            "config.toml:11: `sync.max_delete_fraction`: must be between 0 and 1",
        ] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
    }
}
