//! [`Metrics`]: what the daemon counts, kept in a `prometheus-client` registry and
//! encoded by that crate in the Prometheus text format or OpenMetrics ([`Metrics::render`]);
//! [`http`] serves it on `[metrics].listen`. The daemon feeds it from each run's report;
//! nothing else writes it.

pub mod http;

use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::clock::Clock;
use crate::outcome::Outcome;
use crate::plan::Action;
use crate::report::Report;

/// Every metric's name starts with this (and `_`).
const PREFIX: &str = "openphone_sync";

/// The exposition formats [`Metrics::render`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format, version 0.0.4 (what a scraper gets by default).
    Prometheus,
    /// OpenMetrics 1.0 text (for a scraper that asks for it in `Accept`).
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

type Labels1 = [(&'static str, &'static str); 1];
type Labels2 = [(&'static str, &'static str); 2];
type Seconds = Gauge<f64, AtomicU64>;

/// The counters and gauges, shared by the daemon and the metrics endpoint. Counters are
/// registered without their `_total` suffix: the encoder adds it.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    runs: Family<Labels1, Counter>,
    skipped_runs: Counter,
    /// (action, "applied" | "failed") → records.
    records: Family<Labels2, Counter>,
    /// HTTP status (or "no_reply") → requests.
    api_requests: Family<[(&'static str, String); 1], Counter>,
    rate_limited: Counter,
    rate_limit_wait: Counter<f64, AtomicU64>,
    /// "edited" | "deleted" → contacts a verify found changed in the app.
    drift: Family<Labels1, Counter>,
    reloads: Family<Labels1, Counter>,
    last_verify: Seconds,
    last_run: Seconds,
    last_success: Seconds,
    last_duration: Seconds,
    last_source_rows: Gauge,
    last_invalid_rows: Gauge,
    last_known_invalid_rows: Gauge,
    next_run: Seconds,
    running: Gauge,
    mirror_contacts: Gauge,
    mirror_pending: Gauge,
    pending_deletions: Gauge,
    next_deletion_due: Seconds,
    failing_records: Gauge,
    oldest_failing_age: Seconds,
    /// When the record failing longest first failed (Unix milliseconds; 0: none): its age
    /// is computed when the metrics are rendered.
    oldest_failing_since: std::sync::atomic::AtomicI64,
    /// The daemon's clock: the start time, and "now" for the oldest failure's age.
    clock: Clock,
}

/// A reload's outcome label: `ok` (the run outcome's word), or `failed` (the old config kept).
fn reload_outcome(ok: bool) -> &'static str {
    if ok { Outcome::Ok.as_str() } else { "failed" }
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Metrics on the system's clock.
    pub fn new() -> Metrics {
        Metrics::with_clock(Clock::system())
    }

    /// Metrics whose times (the start, the oldest failure's age) come from `clock`.
    pub fn with_clock(clock: Clock) -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let build_info = Family::<Labels1, Gauge>::default();
        build_info.get_or_create(&[("version", env!("CARGO_PKG_VERSION"))]).set(1);
        registry.register("build_info", "The running version.", build_info);
        let started = Seconds::default();
        started.set(seconds(clock.now()));
        registry.register("start_time_seconds", "When the daemon started, in Unix seconds.", started);
        let m = Metrics {
            runs: Family::default(),
            skipped_runs: Counter::default(),
            records: Family::default(),
            api_requests: Family::default(),
            rate_limited: Counter::default(),
            rate_limit_wait: Counter::default(),
            drift: Family::default(),
            reloads: Family::default(),
            last_verify: Seconds::default(),
            last_run: Seconds::default(),
            last_success: Seconds::default(),
            last_duration: Seconds::default(),
            last_source_rows: Gauge::default(),
            last_invalid_rows: Gauge::default(),
            last_known_invalid_rows: Gauge::default(),
            next_run: Seconds::default(),
            running: Gauge::default(),
            mirror_contacts: Gauge::default(),
            mirror_pending: Gauge::default(),
            pending_deletions: Gauge::default(),
            next_deletion_due: Seconds::default(),
            failing_records: Gauge::default(),
            oldest_failing_age: Seconds::default(),
            oldest_failing_since: std::sync::atomic::AtomicI64::new(0),
            clock,
            registry,
        };
        m.register()
    }

    /// Registers every metric, and creates each labelled series that must exist from the start.
    fn register(mut self) -> Metrics {
        for o in Outcome::ALL {
            let _ = self.runs.get_or_create(&[("outcome", o.as_str())]);
        }
        for a in Action::ALL {
            for outcome in ["applied", "failed"] {
                let _ = self.records.get_or_create(&[("action", a.as_str()), ("outcome", outcome)]);
            }
        }
        for kind in ["edited", "deleted"] {
            let _ = self.drift.get_or_create(&[("kind", kind)]);
        }
        for ok in [true, false] {
            let _ = self.reloads.get_or_create(&[("outcome", reload_outcome(ok))]);
        }
        let r = &mut self.registry;
        r.register(
            "runs",
            "Sync runs by outcome (ok, partial, refused, unavailable, stopped, config_error).",
            self.runs.clone(),
        );
        r.register(
            "skipped_runs",
            "Scheduled runs skipped because the previous run was still going.",
            self.skipped_runs.clone(),
        );
        r.register("run_in_progress", "1 while a sync run is going.", self.running.clone());
        r.register(
            "last_run_timestamp_seconds",
            "When the last run ended, in Unix seconds; 0 before the first.",
            self.last_run.clone(),
        );
        r.register(
            "last_success_timestamp_seconds",
            "When the last run that finished (outcome ok or partial) ended, in Unix seconds; 0 before the first.",
            self.last_success.clone(),
        );
        r.register("last_run_duration_seconds", "How long the last run took.", self.last_duration.clone());
        r.register("last_run_source_rows", "Rows the last run read from the source.", self.last_source_rows.clone());
        r.register(
            "last_run_invalid_rows",
            "Rows of the last run that could not be mapped.",
            self.last_invalid_rows.clone(),
        );
        r.register(
            "last_run_known_invalid_rows",
            "Invalid rows of the last run that the run before found invalid the same way (they do not fail the run).",
            self.last_known_invalid_rows.clone(),
        );
        r.register(
            "next_run_timestamp_seconds",
            "When the next run is scheduled, in Unix seconds; 0 when none is.",
            self.next_run.clone(),
        );
        r.register(
            "records",
            "Records written to OpenPhone by action (create, update, delete) and outcome (applied, failed).",
            self.records.clone(),
        );
        r.register(
            "api_requests",
            "HTTP requests sent to OpenPhone (retries included) by reply status, or no_reply.",
            self.api_requests.clone(),
        );
        r.register(
            "rate_limited",
            "Replies of OpenPhone with status 429 (each makes every request slow down).",
            self.rate_limited.clone(),
        );
        r.register(
            "rate_limit_wait_seconds",
            "Time requests spent waiting for the rate limiter and the 429 throttle.",
            self.rate_limit_wait.clone(),
        );
        r.register(
            "drift",
            "Contacts a verify found changed in the app since the last sync (edited, deleted); each was restored.",
            self.drift.clone(),
        );
        r.register(
            "last_verify_timestamp_seconds",
            "When the last run that read the mirrored contacts back (verify) ended, in Unix seconds; 0 before the first.",
            self.last_verify.clone(),
        );
        r.register(
            "config_reloads",
            "SIGHUP reloads by outcome (ok; failed: the previous config was kept).",
            self.reloads.clone(),
        );
        r.register("mirror_contacts", "Contacts recorded in the mirror.", self.mirror_contacts.clone());
        r.register(
            "mirror_pending",
            "Contacts in the mirror with a write not yet confirmed.",
            self.mirror_pending.clone(),
        );
        r.register(
            "pending_deletions",
            "Records whose source row is missing, deleted after [sync].delete_after unless the row comes back.",
            self.pending_deletions.clone(),
        );
        r.register(
            "next_deletion_due_timestamp_seconds",
            "When the first pending deletion is due, in Unix seconds; 0 when none is pending.",
            self.next_deletion_due.clone(),
        );
        r.register(
            "failing_records",
            "Records that failed in their last run and have not synced since (`openphone-sync failures`).",
            self.failing_records.clone(),
        );
        r.register(
            "oldest_failing_record_age_seconds",
            "How long the record failing longest has been failing; 0 when none fails.",
            self.oldest_failing_age.clone(),
        );
        self
    }

    pub fn run_started(&self) {
        self.running.set(1);
    }

    /// A run that produced a report.
    pub fn run_finished(&self, report: &Report, finished: DateTime<Utc>) {
        self.ended(report.outcome, report.duration_ms, finished);
        if report.outcome.finished() {
            self.last_success.set(seconds(finished));
        }
        self.last_source_rows.set(count(report.source_rows));
        self.last_invalid_rows.set(count(report.invalid_rows));
        self.last_known_invalid_rows.set(count(report.known_invalid_rows));
        for action in Action::ALL {
            let n = report.applied.get(action);
            let _ = self.records.get_or_create(&[("action", action.as_str()), ("outcome", "applied")]).inc_by(n);
        }
        for action in report.errors.iter().filter_map(|e| e.action) {
            let _ = self.records.get_or_create(&[("action", action.as_str()), ("outcome", "failed")]).inc();
        }
        for (status, n) in &report.api.by_status {
            self.api_requests.get_or_create(&[("status", status.to_string())]).inc_by(*n);
        }
        if report.api.no_reply > 0 {
            self.api_requests.get_or_create(&[("status", "no_reply".to_owned())]).inc_by(report.api.no_reply);
        }
        if let Some(v) = &report.verify {
            let _ = self.drift.get_or_create(&[("kind", "edited")]).inc_by(v.drifted.len() as u64);
            let _ = self.drift.get_or_create(&[("kind", "deleted")]).inc_by(v.missing.len() as u64);
            if report.verified() {
                self.last_verify.set(seconds(finished));
            }
        }
        self.rate_limited.inc_by(report.api.throttled);
        self.rate_limit_wait.inc_by(report.api.waited.as_secs_f64());
    }

    /// A run that stopped before it had a report (source unreadable, OpenPhone down...).
    pub fn run_failed(&self, outcome: Outcome, duration_ms: u64, finished: DateTime<Utc>) {
        self.ended(outcome, duration_ms, finished);
    }

    /// What every run that ended counts, with or without a report.
    fn ended(&self, outcome: Outcome, duration_ms: u64, finished: DateTime<Utc>) {
        self.running.set(0);
        let _ = self.runs.get_or_create(&[("outcome", outcome.as_str())]).inc();
        self.last_run.set(seconds(finished));
        self.last_duration.set(duration_ms as f64 / 1000.0);
    }

    /// A tick skipped because the previous run was still going.
    pub fn run_skipped(&self) {
        self.skipped_runs.inc();
    }

    pub fn reloaded(&self, ok: bool) {
        let _ = self.reloads.get_or_create(&[("outcome", reload_outcome(ok))]).inc();
    }

    /// The last verify as recorded in the mirror (at start).
    pub fn set_last_verify(&self, t: DateTime<Utc>) {
        self.last_verify.set(self.last_verify.get().max(seconds(t)));
    }

    /// The last successful run recorded in the mirror, so a restart does not reset it.
    pub fn set_last_success(&self, t: DateTime<Utc>) {
        self.last_success.set(self.last_success.get().max(seconds(t)));
    }

    pub fn set_next_run(&self, t: Option<DateTime<Utc>>) {
        self.next_run.set(t.map_or(0.0, seconds));
    }

    /// The mirror's size: (contacts, with a write not yet confirmed).
    pub fn set_mirror(&self, contacts: u64, pending: u64) {
        self.mirror_contacts.set(count(contacts));
        self.mirror_pending.set(count(pending));
    }

    /// The deletes to come: how many, and when the first is due (Unix milliseconds).
    pub fn set_pending_deletions(&self, pending: u64, next_due_ms: Option<i64>) {
        self.pending_deletions.set(count(pending));
        self.next_deletion_due.set(next_due_ms.map_or(0.0, |ms| ms as f64 / 1000.0));
    }

    /// The failing records in the mirror: how many, and when the oldest first failed.
    pub fn set_failing(&self, count: u64, oldest: Option<DateTime<Utc>>) {
        self.failing_records.set(self::count(count));
        let ms = oldest.map_or(0, |t| t.timestamp_millis());
        self.oldest_failing_since.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every metric, encoded by `prometheus-client` in `format`.
    pub fn render(&self, format: Format) -> String {
        let since = self.oldest_failing_since.load(std::sync::atomic::Ordering::Relaxed);
        let age = if since == 0 { 0.0 } else { ((self.clock.now_millis() - since).max(0) / 1000) as f64 };
        self.oldest_failing_age.set(age);
        let mut out = String::with_capacity(8192);
        let encoded = match format {
            Format::Prometheus => prometheus_text::encode(&mut out, &self.registry),
            Format::OpenMetrics => text::encode(&mut out, &self.registry),
        };
        // Writing to a String cannot fail, and every metric here encodes.
        encoded.expect("metrics encode into a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Mode;
    use crate::plan::RecordError;

    /// The value of the sample `series` (name and labels, as written) in a Prometheus text scrape.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn renders_every_series_from_the_start_and_counts_runs() {
        let m = Metrics::new();
        let before = m.render(Format::Prometheus);
        assert_eq!(sample(&before, "openphone_sync_runs_total{outcome=\"ok\"}"), Some(0.0), "{before}");
        assert_eq!(sample(&before, "openphone_sync_records_total{action=\"create\",outcome=\"applied\"}"), Some(0.0));
        assert_eq!(sample(&before, "openphone_sync_last_success_timestamp_seconds"), Some(0.0), "0 before a success");
        assert_eq!(sample(&before, "openphone_sync_build_info{version=\"0.1.0\"}"), Some(1.0), "{before}");

        let mut r = Report::new(Mode::Apply);
        r.applied.create = 3;
        r.failed = 1;
        r.errors.push(RecordError {
            row: Some(2),
            external_id: Some("C-1".into()),
            action: Some(Action::Update),
            message: "x".into(),
            status: Some(400),
            code: None,
        });
        r.api.by_status.insert(200, 5);
        r.api.by_status.insert(429, 2);
        r.api.throttled = 2;
        r.settle();
        let t = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        m.run_finished(&r, t);
        m.run_skipped();
        m.set_mirror(3, 0);
        m.set_pending_deletions(2, Some(1_735_693_200_000));
        m.set_failing(2, Some(Utc::now() - chrono::Duration::hours(25)));
        let after = m.render(Format::Prometheus);
        for (series, want) in [
            ("openphone_sync_runs_total{outcome=\"partial\"}", 1.0),
            ("openphone_sync_records_total{action=\"create\",outcome=\"applied\"}", 3.0),
            ("openphone_sync_records_total{action=\"update\",outcome=\"failed\"}", 1.0),
            ("openphone_sync_api_requests_total{status=\"429\"}", 2.0),
            ("openphone_sync_rate_limited_total", 2.0),
            ("openphone_sync_skipped_runs_total", 1.0),
            ("openphone_sync_last_success_timestamp_seconds", 1735689600.0),
            ("openphone_sync_mirror_contacts", 3.0),
            ("openphone_sync_pending_deletions", 2.0),
            ("openphone_sync_failing_records", 2.0),
            ("openphone_sync_next_deletion_due_timestamp_seconds", 1735693200.0),
        ] {
            assert_eq!(sample(&after, series), Some(want), "{series} in:\n{after}");
        }
        // Both formats carry the same series; OpenMetrics ends with its EOF marker.
        let open = m.render(Format::OpenMetrics);
        assert!(open.ends_with("# EOF\n"), "{open}");
        assert!(open.contains("openphone_sync_runs_total{outcome=\"partial\"} 1\n"), "{open}");
        assert!(open.contains("# TYPE openphone_sync_runs counter\n"), "{open}");
    }
}
