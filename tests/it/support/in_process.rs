//! The product run in-process, through the library, against the same fake: one sync
//! ([`Workspace::sync_in_process`]) or a daemon ([`InProcessDaemon`]), each with a
//! [`Clock`] the test sets, so "an hour later" needs no waiting and no process-wide setting.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use openphone_sync::clock::Clock;
use openphone_sync::daemon::{self, DaemonInputs};
use openphone_sync::engine::{self, Run, Stop, SyncArgs, setup};
use openphone_sync::exit::Exit;
use openphone_sync::metrics::Metrics;
use openphone_sync::outcome::Mode;
use openphone_sync::report::Report;
use openphone_sync::signals::Signal;

use super::Workspace;

/// An RFC 3339 time.
pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("an RFC 3339 time").with_timezone(&Utc)
}

/// A report as `sync --output json` prints it.
pub(crate) fn json(report: &Report) -> Value {
    let mut out = Vec::new();
    report.write_json(&mut out).expect("the report serialises");
    serde_json::from_slice(&out).expect("the report is JSON")
}

/// A report as `sync` prints it for a person.
pub(crate) fn text(report: &Report) -> String {
    let mut out = Vec::new();
    report.write_text(&mut out).expect("the report prints");
    String::from_utf8(out).expect("the report is UTF-8")
}

impl Workspace {
    /// Makes config.toml read the API key from the file `api-key` (mode 0600): a run
    /// in-process has no environment of its own to take `$OPENPHONE_API_KEY` from.
    pub(crate) fn use_key_file(&self) {
        use std::os::unix::fs::PermissionsExt;
        self.write("api-key", &self.api_key);
        std::fs::set_permissions(self.path("api-key"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let config = std::fs::read_to_string(self.path("config.toml")).expect("config.toml");
        assert!(config.contains("[openphone]\n"), "{config}");
        self.write("config.toml", &config.replacen("[openphone]\n", "[openphone]\napi_key_file = \"api-key\"\n", 1));
    }

    /// One sync of this workspace's config in-process, as `sync` runs it, with `clock`.
    pub(crate) async fn sync_in_process(&self, mode: Mode, clock: &Clock) -> Result<Report, Stop> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (config, mapping) = setup::load(&self.path("config.toml"))?;
        let args =
            SyncArgs { mode, allow_mass_delete: false, verify: false, limit: None, record: None, progress: false };
        let run = Run { clock: clock.clone(), ..Run::new(&config, &mapping, &args) };
        engine::sync(&run).await
    }
}

/// A daemon serving this workspace's config in a task of the test's runtime.
pub(crate) struct InProcessDaemon {
    pub signals: mpsc::Sender<Signal>,
    pub metrics: Arc<Metrics>,
    pub clock: Clock,
    task: JoinHandle<Result<Exit, Stop>>,
}

impl InProcessDaemon {
    /// Starts `daemon` on `config` with `clock`.
    pub(crate) fn start(config: PathBuf, clock: Clock) -> InProcessDaemon {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (signals, rx) = mpsc::channel(4);
        let metrics = Arc::new(Metrics::with_clock(clock.clone()));
        let inputs = DaemonInputs::in_process(config, clock.clone(), metrics.clone());
        let task = tokio::spawn(daemon::serve(inputs, rx));
        InProcessDaemon { signals, metrics, clock, task }
    }

    /// The metrics as `/metrics` serves them.
    pub(crate) fn metrics_text(&self) -> String {
        self.metrics.render(openphone_sync::metrics::Format::Prometheus)
    }

    /// One metric's value (its line without labels, or with exactly `labels`).
    pub(crate) fn metric(&self, name_and_labels: &str) -> f64 {
        let text = self.metrics_text();
        text.lines()
            .find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name_and_labels} in:\n{text}"))
    }

    /// Runs that ended with `outcome`, as the metrics count them.
    pub(crate) fn runs(&self, outcome: &str) -> f64 {
        self.metric(&format!("openphone_sync_runs_total{{outcome=\"{outcome}\"}}"))
    }

    /// Lets the daemon's time pass, 100 ms at a time, until `cond` holds; fails after
    /// `within` of the daemon's time (tokio's, paused or not), showing its metrics.
    pub(crate) async fn until(&self, what: &str, within: Duration, cond: impl Fn(&InProcessDaemon) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        while !cond(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {within:?} of the daemon's time; metrics:\n{}",
                self.metrics_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn reload(&self) {
        self.signals.send(Signal::Reload).await.expect("the daemon is running");
    }

    /// Asks it to stop (as SIGTERM does) and returns how it ended.
    pub(crate) async fn stop(self) -> Result<Exit, Stop> {
        let _ = self.signals.send(Signal::Stop("SIGTERM")).await;
        self.task.await.expect("the daemon did not panic")
    }

    /// How it ended on its own (a problem at start).
    pub(crate) async fn ended(self) -> Result<Exit, Stop> {
        self.task.await.expect("the daemon did not panic")
    }
}
