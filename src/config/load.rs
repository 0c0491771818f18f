//! [`Config::load`]: reads the file strictly and checks every value, collecting every problem
//! with its line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::api_key::looks_like_a_key;
use super::ctx::Ctx;
use super::defaults::{
    DEFAULT_DELETE_AFTER, DEFAULT_HISTORY_DAYS, DEFAULT_KEEP_DELETED_DAYS, DEFAULT_LOCK_TIMEOUT, DEFAULT_NULL_VALUES,
    DEFAULT_VERIFY_EVERY_HOURS,
};
use super::plain_http;
use super::raw::{CONFIG_SCHEMA, RawConfig, RawSchedule};
use super::settings::{Config, OpenPhoneConfig, SyncConfig};
use super::source::build_source;
use super::source_label::{DEFAULT_SOURCE_LABEL, source_label_problem};
use crate::schedule::{Schedule, ScheduleError};
use crate::toml_strict::{self, Problems};

impl Config {
    /// Reads and validates the config file, collecting every problem.
    pub fn load(path: &Path) -> Result<Config, Problems> {
        let (raw, lines, mut problems) = toml_strict::load::<RawConfig>(path, "config", CONFIG_SCHEMA)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let ctx = Ctx { file: path, dir: &dir, lines: &lines };
        let config = build(&ctx, raw, &mut problems);
        problems.into_result(config)
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
    if let Some(why) = plain_http::refusal(&base_url, op.allow_plain_http_to_remote_host.unwrap_or(false), "openphone")
    {
        ctx.problem(problems, "openphone.base_url", why);
    }
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
        api_key_file_line: ctx.lines.line("openphone.api_key_file"),
        base_url,
        requests_per_second: rps.clamp(1, 1000) as u32,
        source_label,
        timeout: seconds(timeout, 0.1, 600.0),
        max_retries: max_retries.clamp(0, 50) as u32,
        concurrency,
    };

    let database = ctx.resolve(raw.state.database.as_deref().unwrap_or("mirror.sqlite3"));
    let lock_timeout = raw.state.lock_timeout_seconds.unwrap_or(DEFAULT_LOCK_TIMEOUT.as_secs_f64());
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
        Some(addr) => {
            if let Ok(a) = addr.parse::<SocketAddr>() {
                Some(a)
            } else {
                ctx.problem(
                    problems,
                    "metrics.listen",
                    format!("{addr:?} is not an address and port, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\""),
                );
                None
            }
        }
    };

    let null_values = match raw.source.as_ref().and_then(|s| s.null_values.clone()) {
        Some(v) => v.into_iter().map(|s| s.trim().to_owned()).collect(),
        None => DEFAULT_NULL_VALUES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let source = build_source(ctx, raw.source, problems);

    let sync = raw.sync;
    let mapping = if let Some(m) = sync.mapping.as_deref() {
        ctx.existing_file(problems, "sync.mapping", m)
    } else {
        problems.push(ctx.file, ctx.lines.line("sync"), Some("sync.mapping"), "missing: the mapping file to use");
        PathBuf::new()
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
            Ok(d) if d <= Duration::from_hours(8784) => d,
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
        assert_eq!(c.lock_timeout, DEFAULT_LOCK_TIMEOUT);
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
