//! [`Metrics`]: what the daemon counts, rendered in the Prometheus text format by
//! [`Metrics::render`] and served by [`server`] on `[metrics].listen`. The daemon feeds it
//! from each run's report; nothing else writes it.

pub mod server;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::report::{Action, Outcome, Report};

/// Every run outcome a counter is kept for, so that each series exists from the start.
const RUN_OUTCOMES: &[&str] = &["ok", "partial", "refused", "unavailable", "stopped", "config_error"];
const ACTIONS: &[Action] = &[Action::Create, Action::Update, Action::Delete];

/// The counters and gauges, shared by the daemon and the metrics server.
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    runs: BTreeMap<&'static str, u64>,
    skipped_runs: u64,
    /// (action, "applied" | "failed") → records.
    records: BTreeMap<(&'static str, &'static str), u64>,
    /// HTTP status (or "no_reply") → requests.
    api_requests: BTreeMap<String, u64>,
    rate_limited: u64,
    rate_limit_wait_seconds: f64,
    /// "edited" | "deleted" → contacts a verify found changed in the app.
    drift: BTreeMap<&'static str, u64>,
    last_verify: Option<f64>,
    reloads: BTreeMap<&'static str, u64>,
    last_run: Option<f64>,
    last_success: Option<f64>,
    last_duration: Option<f64>,
    last_source_rows: Option<u64>,
    last_invalid_rows: Option<u64>,
    next_run: Option<f64>,
    running: bool,
    mirror: Option<(u64, u64)>,
    /// Records that keep failing, and when the oldest first failed (Unix seconds).
    failing: Option<(u64, Option<f64>)>,
    started: f64,
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
    }
}

/// One sample per key of a counter map, labelled `{label="key"}`.
fn by<K: std::fmt::Display>(label: &str, counts: &BTreeMap<K, u64>) -> Vec<(String, f64)> {
    counts.iter().map(|(k, n)| (format!("{{{label}=\"{k}\"}}"), *n as f64)).collect()
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut s = State { started: seconds(Utc::now()), ..State::default() };
        for o in RUN_OUTCOMES {
            s.runs.insert(o, 0);
        }
        for a in ACTIONS {
            s.records.insert((action_name(*a), "applied"), 0);
            s.records.insert((action_name(*a), "failed"), 0);
        }
        s.drift.insert("edited", 0);
        s.drift.insert("deleted", 0);
        s.reloads.insert("ok", 0);
        s.reloads.insert("failed", 0);
        Metrics { state: Mutex::new(s) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("metrics lock"))
    }

    pub fn run_started(&self) {
        self.with(|s| s.running = true);
    }

    /// A run that produced a report.
    pub fn run_finished(&self, report: &Report, finished: DateTime<Utc>) {
        self.with(|s| {
            s.running = false;
            *s.runs.entry(report.outcome.as_str()).or_default() += 1;
            s.last_run = Some(seconds(finished));
            s.last_duration = Some(report.duration_ms as f64 / 1000.0);
            if matches!(report.outcome, Outcome::Ok | Outcome::Partial) {
                s.last_success = Some(seconds(finished));
            }
            s.last_source_rows = Some(report.source_rows);
            s.last_invalid_rows = Some(report.invalid_rows);
            let a = &report.applied;
            for (action, n) in [(Action::Create, a.create), (Action::Update, a.update), (Action::Delete, a.delete)] {
                *s.records.entry((action_name(action), "applied")).or_default() += n;
            }
            for action in report.errors.iter().filter_map(|e| e.action) {
                *s.records.entry((action_name(action), "failed")).or_default() += 1;
            }
            for (status, n) in &report.api.by_status {
                *s.api_requests.entry(status.to_string()).or_default() += n;
            }
            if report.api.no_reply > 0 {
                *s.api_requests.entry("no_reply".to_owned()).or_default() += report.api.no_reply;
            }
            if let Some(v) = &report.verify {
                *s.drift.entry("edited").or_default() += v.drifted.len() as u64;
                *s.drift.entry("deleted").or_default() += v.missing.len() as u64;
                if report.verified() {
                    s.last_verify = Some(seconds(finished));
                }
            }
            s.rate_limited += report.api.throttled;
            s.rate_limit_wait_seconds += report.api.waited.as_secs_f64();
        });
    }

    /// A run that stopped before it had a report (source unreadable, OpenPhone down...).
    pub fn run_failed(&self, outcome: &'static str, duration_ms: u64, finished: DateTime<Utc>) {
        self.with(|s| {
            s.running = false;
            *s.runs.entry(outcome).or_default() += 1;
            s.last_run = Some(seconds(finished));
            s.last_duration = Some(duration_ms as f64 / 1000.0);
        });
    }

    /// A tick skipped because the previous run was still going.
    pub fn run_skipped(&self) {
        self.with(|s| s.skipped_runs += 1);
    }

    pub fn reloaded(&self, ok: bool) {
        self.with(|s| *s.reloads.entry(if ok { "ok" } else { "failed" }).or_default() += 1);
    }

    /// The last successful run recorded in the mirror, so a restart does not reset it.
    /// The last verify as recorded in the mirror (at start).
    pub fn set_last_verify(&self, t: DateTime<Utc>) {
        self.with(|s| s.last_verify = Some(s.last_verify.unwrap_or(0.0).max(seconds(t))));
    }

    pub fn set_last_success(&self, t: DateTime<Utc>) {
        self.with(|s| s.last_success = Some(s.last_success.unwrap_or(0.0).max(seconds(t))));
    }

    pub fn set_next_run(&self, t: Option<DateTime<Utc>>) {
        self.with(|s| s.next_run = t.map(seconds));
    }

    /// The mirror's size: (contacts, with a write not yet confirmed).
    pub fn set_mirror(&self, contacts: u64, pending: u64) {
        self.with(|s| s.mirror = Some((contacts, pending)));
    }

    /// The failing records in the mirror: how many, and when the oldest first failed.
    pub fn set_failing(&self, count: u64, oldest: Option<DateTime<Utc>>) {
        self.with(|s| s.failing = Some((count, oldest.map(seconds))));
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let s = self.state.lock().expect("metrics lock");
        let mut out = String::with_capacity(4096);
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
            let _ = writeln!(out, "# HELP openphone_sync_{name} {help}");
            let _ = writeln!(out, "# TYPE openphone_sync_{name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(out, "openphone_sync_{name}{labels} {v}");
            }
        };
        let one = |v: f64| vec![(String::new(), v)];
        let opt = |v: Option<f64>| v.map(one).unwrap_or_default();
        family(
            "build_info",
            "gauge",
            "The running version.",
            vec![(format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION")), 1.0)],
        );
        family("start_time_seconds", "gauge", "When the daemon started, in Unix seconds.", one(s.started));
        family(
            "runs_total",
            "counter",
            "Sync runs by outcome (ok, partial, refused, unavailable, stopped, config_error).",
            by("outcome", &s.runs),
        );
        family(
            "skipped_runs_total",
            "counter",
            "Scheduled runs skipped because the previous run was still going.",
            one(s.skipped_runs as f64),
        );
        family("run_in_progress", "gauge", "1 while a sync run is going.", one(if s.running { 1.0 } else { 0.0 }));
        family("last_run_timestamp_seconds", "gauge", "When the last run ended, in Unix seconds.", opt(s.last_run));
        family(
            "last_success_timestamp_seconds",
            "gauge",
            "When the last run that finished (outcome ok or partial) ended, in Unix seconds; 0 before the first.",
            one(s.last_success.unwrap_or(0.0)),
        );
        family("last_run_duration_seconds", "gauge", "How long the last run took.", opt(s.last_duration));
        family(
            "last_run_source_rows",
            "gauge",
            "Rows the last run read from the source.",
            opt(s.last_source_rows.map(|n| n as f64)),
        );
        family(
            "last_run_invalid_rows",
            "gauge",
            "Rows of the last run that could not be mapped.",
            opt(s.last_invalid_rows.map(|n| n as f64)),
        );
        family(
            "next_run_timestamp_seconds",
            "gauge",
            "When the next run is scheduled, in Unix seconds.",
            opt(s.next_run),
        );
        family(
            "records_total",
            "counter",
            "Records written to OpenPhone by action (create, update, delete) and outcome (applied, failed).",
            s.records.iter().map(|((a, o), n)| (format!("{{action=\"{a}\",outcome=\"{o}\"}}"), *n as f64)).collect(),
        );
        family(
            "api_requests_total",
            "counter",
            "HTTP requests sent to OpenPhone (retries included) by reply status, or no_reply.",
            by("status", &s.api_requests),
        );
        family(
            "rate_limited_total",
            "counter",
            "Replies of OpenPhone with status 429 (each makes every request slow down).",
            one(s.rate_limited as f64),
        );
        family(
            "rate_limit_wait_seconds_total",
            "counter",
            "Time requests spent waiting for the rate limiter and the 429 throttle.",
            one(s.rate_limit_wait_seconds),
        );
        family(
            "drift_total",
            "counter",
            "Contacts a verify found changed in the app since the last sync (edited, deleted); each was restored.",
            by("kind", &s.drift),
        );
        family(
            "last_verify_timestamp_seconds",
            "gauge",
            "When the last run that read the mirrored contacts back (verify) ended, in Unix seconds.",
            opt(s.last_verify),
        );
        family(
            "config_reloads_total",
            "counter",
            "SIGHUP reloads by outcome (ok; failed: the previous config was kept).",
            by("outcome", &s.reloads),
        );
        family("mirror_contacts", "gauge", "Contacts recorded in the mirror.", opt(s.mirror.map(|(c, _)| c as f64)));
        family(
            "mirror_pending",
            "gauge",
            "Contacts in the mirror with a write not yet confirmed.",
            opt(s.mirror.map(|(_, p)| p as f64)),
        );
        family(
            "failing_records",
            "gauge",
            "Records that failed in their last run and have not synced since (`openphone-sync failures`).",
            opt(s.failing.map(|(n, _)| n as f64)),
        );
        let now = seconds(Utc::now());
        family(
            "oldest_failing_record_age_seconds",
            "gauge",
            "How long the record failing longest has been failing; 0 when none fails.",
            opt(s.failing.map(|(_, t)| t.map_or(0.0, |t| (now - t).max(0.0).round()))),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Mode, RecordError};

    #[test]
    fn renders_every_series_from_the_start_and_counts_runs() {
        let m = Metrics::new();
        let text = m.render();
        assert!(text.contains("openphone_sync_runs_total{outcome=\"ok\"} 0\n"), "{text}");
        assert!(text.contains("openphone_sync_records_total{action=\"create\",outcome=\"applied\"} 0\n"));
        assert!(text.contains("\nopenphone_sync_last_success_timestamp_seconds 0\n"), "0 before a success");

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
        m.set_failing(2, Some(Utc::now() - chrono::Duration::hours(25)));
        let text = m.render();
        let age = text.lines().find_map(|l| l.strip_prefix("openphone_sync_oldest_failing_record_age_seconds "));
        assert!(age.and_then(|a| a.parse::<f64>().ok()).is_some_and(|a| a >= 90000.0), "{text}");
        for want in [
            "openphone_sync_runs_total{outcome=\"partial\"} 1\n",
            "openphone_sync_records_total{action=\"create\",outcome=\"applied\"} 3\n",
            "openphone_sync_records_total{action=\"update\",outcome=\"failed\"} 1\n",
            "openphone_sync_api_requests_total{status=\"429\"} 2\n",
            "openphone_sync_rate_limited_total 2\n",
            "openphone_sync_skipped_runs_total 1\n",
            "openphone_sync_last_success_timestamp_seconds 1735689600\n",
            "openphone_sync_mirror_contacts 3\n",
            "openphone_sync_failing_records 2\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
    }
}
