//! `openphone-sync daemon`: holds the mirror's run lock for its whole life, syncs at start
//! and then on `[schedule].cron`, never two runs at once (a tick that comes while a run is
//! going is skipped, and logged), reloads on SIGHUP (keeping the old config when the new
//! one has problems), stops on SIGTERM/SIGINT after the writes in flight are committed,
//! and keeps systemd ([`notify`]) and the metrics up to date.
//!
//! [`serve`] takes everything from outside as inputs (mini-redis's `server::run(listener,
//! shutdown)` shape): its signals on a channel, the [`Clock`] every time it reads comes from,
//! its metrics and its systemd notifier; its waits are tokio timers. [`run`] wires in the OS
//! signals and the system's clock; a test runs [`serve`] in-process on tokio's paused time.
//!
//! Invariant: only a config problem at start (exit 2, a mirror this user cannot write
//! included) or another process holding the mirror (exit 3) stops the daemon; a failed run is logged and the next tick tries again.

pub mod notify;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{Config, Problems};
use crate::engine::{self, Run, Stop, SyncArgs, record, setup};
use crate::exit::Exit;
use crate::mapping::Mapping;
use crate::metrics::{self, Metrics};
use crate::mirror::{Mirror, Role, RunLock, Timestamp, writable};
use crate::outcome::Mode;
use crate::outcome::Outcome;
use crate::report::Report;
use crate::schedule::Schedule;
use crate::signals::{Signal, Signals};
use notify::Notifier;

/// How long a stop waits for the writes in flight before abandoning them. Under systemd's
/// `TimeoutStopSec=15` and well within the 10 s the daemon promises.
const STOP_GRACE: Duration = Duration::from_secs(8);
/// The longest sleep between two looks at the wall clock, so a clock change or a suspend
/// does not push a run far from its scheduled time.
const MAX_SLEEP: Duration = Duration::from_mins(1);

/// A config, its mapping and its schedule, as loaded at start or by the last good reload.
struct Loaded {
    config: Arc<Config>,
    mapping: Arc<Mapping>,
    schedule: Schedule,
}

/// Loads and checks everything the daemon needs, collecting every problem.
fn load(config_path: &Path) -> Result<Loaded, Problems> {
    let (config, mapping) = setup::load_problems(config_path)?;
    let mut problems = Problems::default();
    if config.schedule.is_none() {
        problems.push(
            &config.path,
            None,
            Some("schedule.cron"),
            "missing: the daemon runs on [schedule].cron, e.g. cron = \"0 */15 * * * *\" (every 15 minutes)",
        );
    }
    match config.api_key() {
        Ok(Some(_)) => {}
        Ok(None) => problems.push(
            &config.path,
            None,
            Some("openphone.api_key_file"),
            format!(
                "no API key: set ${}, [openphone].api_key_file, or the systemd credential `{}` (LoadCredential=)",
                crate::config::API_KEY_ENV,
                crate::config::API_KEY_CREDENTIAL
            ),
        ),
        Err(p) => problems.extend(p),
    }
    let schedule = config.schedule.clone();
    problems.into_result(())?;
    Ok(Loaded { config: Arc::new(config), mapping: Arc::new(mapping), schedule: schedule.expect("checked") })
}

/// A run in progress.
struct Running {
    number: u64,
    started_at: DateTime<Utc>,
    stop: CancellationToken,
    handle: JoinHandle<Result<Report, Stop>>,
}

/// What woke the main loop.
enum Event {
    Signal(Signal),
    RunDone(Box<Result<Result<Report, Stop>, JoinError>>),
    Wake,
    Watchdog,
}

/// What the daemon runs on besides its config: where "now" comes from, the metrics it keeps
/// (and serves when `[metrics].listen` is set) and what it tells systemd. Its schedule is the
/// config's `[schedule]`, read against `clock`; its waits are tokio timers, so a runtime
/// started paused runs a day of schedule in milliseconds.
pub struct DaemonInputs {
    pub config_path: PathBuf,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub notifier: Notifier,
}

impl DaemonInputs {
    /// What `openphone-sync daemon` runs on: the system's clock, new metrics, and systemd
    /// as `$NOTIFY_SOCKET` / `$WATCHDOG_USEC` say.
    pub fn production(config_path: &Path) -> DaemonInputs {
        DaemonInputs {
            config_path: config_path.to_path_buf(),
            clock: Clock::system(),
            metrics: Arc::new(Metrics::new()),
            notifier: Notifier::from_env(),
        }
    }

    /// A daemon in a test's process: its clock and metrics, and no systemd.
    pub fn in_process(config_path: PathBuf, clock: Clock, metrics: Arc<Metrics>) -> DaemonInputs {
        DaemonInputs { config_path, clock, metrics, notifier: Notifier::disabled() }
    }
}

struct Daemon {
    config_path: PathBuf,
    clock: Clock,
    loaded: Loaded,
    metrics: Arc<Metrics>,
    notifier: Notifier,
    running: Option<Running>,
    runs: u64,
    /// The next scheduled run (`None`: the schedule has no future time).
    next_tick: Option<DateTime<Utc>>,
    /// What the last run did, for systemd's STATUS.
    last: Option<String>,
    /// When a run last verified the mirror against OpenPhone (`[sync].verify_every_hours`).
    last_verified: Option<DateTime<Utc>>,
}

/// `openphone-sync daemon`: [`serve`] on the system's clock, driven by SIGTERM/SIGINT
/// (stop) and SIGHUP (reload). Returns the exit code.
pub async fn run(config_path: &Path) -> Result<Exit, Stop> {
    let mut os = Signals::new(true).map_err(Stop::Signals)?;
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let signal = os.recv().await;
            if tx.send(signal).await.is_err() {
                return;
            }
        }
    });
    serve(DaemonInputs::production(config_path), rx).await
}

/// Runs the daemon until a [`Signal::Stop`] comes on `signals` (or every sender is gone);
/// a [`Signal::Reload`] reloads the config and mapping. A second stop during the stop's
/// grace abandons the writes in flight. Returns the exit code, or the problem that kept it
/// from starting (config, mirror not writable, another process holding the mirror).
pub async fn serve(inputs: DaemonInputs, mut signals: mpsc::Receiver<Signal>) -> Result<Exit, Stop> {
    let DaemonInputs { config_path, clock, metrics, notifier } = inputs;
    let config_path = config_path.as_path();
    let loaded = load(config_path).map_err(|problems| Stop::from(problems).nothing_written())?;
    // A mirror this user cannot write would fail every run, and a restart cannot fix it:
    // a config error (exit 2, which the units' RestartPreventExitStatus= does not restart).
    writable::probe(&loaded.config.database).map_err(Stop::MirrorNotWritable)?;
    let _lock = RunLock::acquire(&loaded.config.database, Role::Daemon)?;
    if let Some(addr) = loaded.config.metrics_listen {
        match metrics::http::start(addr, metrics.clone()).await {
            Ok(bound) => tracing::info!(address = %bound, path = "/metrics", "Serving Prometheus metrics"),
            Err(error) => return Err(Stop::MetricsListen { config: loaded.config.path.clone(), addr, error }),
        }
    }
    let mut daemon = Daemon {
        config_path: config_path.to_path_buf(),
        clock,
        loaded,
        metrics,
        notifier,
        running: None,
        runs: 0,
        next_tick: None,
        last: None,
        last_verified: None,
    };
    daemon.read_mirror(true).await;
    tracing::info!(
        config = %daemon.loaded.config.path.display(),
        mirror = %daemon.loaded.config.database.display(),
        schedule = daemon.loaded.schedule.expr(),
        timezone = daemon.loaded.schedule.timezone(),
        pid = std::process::id(),
        "Daemon started"
    );
    daemon.reschedule(daemon.clock.now());
    daemon.start_run("start");
    daemon.notifier.ready(&daemon.status_line());
    Ok(daemon.main_loop(&mut signals).await)
}

impl Daemon {
    async fn main_loop(&mut self, signals: &mut mpsc::Receiver<Signal>) -> Exit {
        let mut watchdog = self.notifier.watchdog_interval().map(|every| {
            tracing::info!(every_ms = every.as_millis() as u64, "Pinging the systemd watchdog");
            tokio::time::interval(every)
        });
        loop {
            let wake = self.wake_at();
            let event = tokio::select! {
                sig = signals.recv() => Event::Signal(sig.unwrap_or(Signal::Stop("the end of the signal channel"))),
                done = wait_run(&mut self.running) => Event::RunDone(Box::new(done)),
                () = tokio::time::sleep_until(wake) => Event::Wake,
                () = tick(&mut watchdog) => Event::Watchdog,
            };
            match event {
                Event::Signal(Signal::Stop(name)) => return self.shutdown(name, signals).await,
                Event::Signal(Signal::Reload) => self.reload(),
                Event::RunDone(done) => self.finished(*done).await,
                Event::Wake => self.on_wake(),
                Event::Watchdog => self.notifier.watchdog(),
            }
        }
    }

    /// When to look at the clock again: the next tick, or sooner.
    fn wake_at(&self) -> Instant {
        let until_tick = match self.next_tick {
            Some(t) => (t - self.clock.now()).to_std().unwrap_or(Duration::ZERO),
            None => MAX_SLEEP,
        };
        Instant::now() + until_tick.min(MAX_SLEEP)
    }

    fn on_wake(&mut self) {
        let now = self.clock.now();
        let Some(tick) = self.next_tick.filter(|t| *t <= now) else { return };
        match &self.running {
            Some(r) => {
                tracing::warn!(
                    scheduled = %tick.to_rfc3339(),
                    run = r.number,
                    running_since = %r.started_at.to_rfc3339(),
                    "Skipping a scheduled run: the previous run is still going"
                );
                self.metrics.run_skipped();
            }
            None => self.start_run("schedule"),
        }
        self.reschedule(now.max(tick));
        self.notifier.status(&self.status_line());
    }

    fn reschedule(&mut self, after: DateTime<Utc>) {
        self.next_tick = self.loaded.schedule.next_after(after);
        if self.next_tick.is_none() {
            tracing::warn!(schedule = self.loaded.schedule.expr(), "The schedule has no future run time");
        }
        self.metrics.set_next_run(self.next_tick);
    }

    fn start_run(&mut self, trigger: &'static str) {
        self.runs += 1;
        let stop = CancellationToken::new();
        let (config, mapping) = (self.loaded.config.clone(), self.loaded.mapping.clone());
        let verify = self.loaded.config.sync.verify_every.is_some_and(|every| {
            self.last_verified.is_none_or(|at| (self.clock.now() - at).to_std().is_ok_and(|d| d >= every))
        });
        let args = SyncArgs {
            mode: Mode::Apply,
            progress: false,
            allow_mass_delete: false,
            verify,
            limit: None,
            record: None,
        };
        let (token, clock) = (stop.clone(), self.clock.clone());
        let handle = tokio::spawn(async move {
            let run = Run { lock_held: true, stop: token, clock, ..Run::new(&config, &mapping, &args) };
            engine::sync(&run).await
        });
        let started_at = self.clock.now();
        tracing::debug!(run = self.runs, trigger, "Sync started");
        self.metrics.run_started();
        self.running = Some(Running { number: self.runs, started_at, stop, handle });
    }

    async fn finished(&mut self, done: Result<Result<Report, Stop>, JoinError>) {
        let Some(run) = self.running.take() else { return };
        let now = self.clock.now();
        let duration_ms = (now - run.started_at).num_milliseconds().max(0) as u64;
        match done {
            Ok(Ok(report)) => {
                record::log_warning_groups(&report);
                record::log_summary(&report);
                if report.verified() {
                    self.last_verified = Some(now);
                }
                self.metrics.run_finished(&report, now);
                let a = &report.applied;
                self.last = Some(format!(
                    "Last run {} {}: {} created, {} updated, {} deleted, {} failed, {} invalid in {:.1} s",
                    now.format("%Y-%m-%d %H:%M:%SZ"),
                    report.outcome.as_str(),
                    a.create,
                    a.update,
                    a.delete,
                    report.failed,
                    report.invalid_rows,
                    report.duration_ms as f64 / 1000.0
                ));
            }
            Ok(Err(stop)) => {
                let message = stop.to_string();
                let mut lines = message.lines();
                let first = lines.next().unwrap_or("");
                tracing::error!(
                    run = run.number,
                    exit = stop.exit().code(),
                    duration_ms,
                    error = first,
                    "Sync failed; waiting for the next scheduled run"
                );
                for more in lines {
                    tracing::error!(run = run.number, "{more}");
                }
                self.metrics.run_failed(Outcome::of_stop(stop.exit()), duration_ms, now);
                self.last = Some(format!("Last run {} failed: {first}", now.format("%Y-%m-%d %H:%M:%SZ")));
            }
            Err(e) => {
                tracing::error!(run = run.number, error = %e, "Sync crashed; waiting for the next scheduled run");
                self.metrics.run_failed(Outcome::Unavailable, duration_ms, now);
                self.last = Some(format!("Last run {} crashed", now.format("%Y-%m-%d %H:%M:%SZ")));
            }
        }
        self.read_mirror(false).await;
        self.notifier.status(&self.status_line());
        crate::secret::warn_again();
    }

    /// The mirror's size for the metrics; at start also the last success, and the last
    /// verify (for the metrics, and so a restart does not verify again before
    /// `verify_every_hours` is up). Read on tokio's blocking pool: SQLite blocks.
    async fn read_mirror(&mut self, at_start: bool) {
        let (path, timeout) = (self.loaded.config.database.clone(), self.loaded.config.lock_timeout);
        let facts = match tokio::task::spawn_blocking(move || MirrorFacts::read(&path, timeout)).await {
            Ok(Some(facts)) => facts,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(error = %e, "Cannot read the mirror for the metrics");
                return;
            }
        };
        if let Some((contacts, pending)) = facts.counts {
            self.metrics.set_mirror(contacts, pending);
        }
        if let Some(d) = facts.deletes {
            let after = i64::try_from(self.loaded.config.sync.delete_after.as_millis()).unwrap_or(i64::MAX);
            self.metrics
                .set_pending_deletions(d.pending, d.oldest_missing_since.map(|t| t.plus_millis(after).millis()));
        }
        if let Some((count, oldest)) = facts.failures {
            self.metrics.set_failing(count, oldest.map(|f| f.first_failed.to_datetime()));
        }
        if at_start && let Some(t) = facts.last_success {
            self.metrics.set_last_success(t.to_datetime());
        }
        if at_start && let Some(t) = facts.last_verified.map(Timestamp::to_datetime) {
            self.metrics.set_last_verify(t);
            self.last_verified = Some(t);
        }
    }

    fn status_line(&self) -> String {
        let next = match self.next_tick {
            Some(t) => format!("next run {}", t.format("%Y-%m-%d %H:%M:%SZ")),
            None => "no next run".to_owned(),
        };
        match (&self.running, &self.last) {
            (Some(r), _) => format!("Syncing (run {} started {}); {next}", r.number, r.started_at.format("%H:%M:%SZ")),
            (None, Some(last)) => format!("{last}; {next}"),
            (None, None) => format!("Waiting; {next}"),
        }
    }

    /// SIGHUP: the new config and mapping replace the old ones from the next run on, or,
    /// if they have problems, each is logged and the old ones stay.
    fn reload(&mut self) {
        self.notifier.reloading();
        let path = self.config_path.clone();
        match load(&path) {
            Ok(new) if new.config.database != self.loaded.config.database => {
                tracing::error!(
                    old = %self.loaded.config.database.display(),
                    new = %new.config.database.display(),
                    "Reload refused: [state].database changed, which needs a restart; keeping the previous config"
                );
                self.metrics.reloaded(false);
            }
            Ok(new) => {
                if new.config.metrics_listen != self.loaded.config.metrics_listen {
                    tracing::warn!("[metrics].listen changed: the new address is used after a restart");
                }
                tracing::info!(
                    config = %new.config.path.display(),
                    schedule = new.schedule.expr(),
                    timezone = new.schedule.timezone(),
                    "Reloaded the config and mapping; the next run uses them"
                );
                self.loaded = new;
                self.reschedule(self.clock.now());
                self.metrics.reloaded(true);
            }
            Err(problems) => {
                for p in &problems.0 {
                    tracing::error!(problem = %p, "Config problem");
                }
                tracing::error!(
                    problems = problems.0.len(),
                    "Reload refused: the new config has problems; still running on the previous one"
                );
                self.metrics.reloaded(false);
            }
        }
        self.notifier.ready(&self.status_line());
    }

    /// SIGTERM/SIGINT: no new request; the writes in flight finish and are committed
    /// (for up to [`STOP_GRACE`]); a second signal stops at once.
    async fn shutdown(&mut self, signal: &'static str, signals: &mut mpsc::Receiver<Signal>) -> Exit {
        tracing::info!(signal, "Stopping: no new requests; letting those in flight finish");
        self.notifier.stopping("Stopping: finishing the writes in flight");
        if let Some(run) = self.running.as_mut() {
            run.stop.cancel();
            let done = tokio::select! {
                done = &mut run.handle => Some(done),
                () = tokio::time::sleep(STOP_GRACE) => {
                    tracing::warn!(
                        grace_s = STOP_GRACE.as_secs(),
                        "The writes in flight did not finish in time; abandoning them (they stay marked pending \
                         in the mirror, and the next run checks them)"
                    );
                    None
                }
                Some(Signal::Stop(again)) = signals.recv() => {
                    tracing::warn!(signal = again, "Stopping at once; the next run checks the writes that were in flight");
                    None
                }
            };
            match done {
                Some(done) => self.finished(done).await,
                None => {
                    if let Some(run) = self.running.take() {
                        run.handle.abort();
                    }
                }
            }
        }
        tracing::info!(signal, "Stopped");
        Exit::Ok
    }
}

async fn wait_run(running: &mut Option<Running>) -> Result<Result<Report, Stop>, JoinError> {
    match running {
        Some(r) => (&mut r.handle).await,
        None => std::future::pending().await,
    }
}

async fn tick(watchdog: &mut Option<tokio::time::Interval>) {
    match watchdog {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// What the daemon reads from the mirror for its metrics (each `None` when unreadable).
struct MirrorFacts {
    counts: Option<(u64, u64)>,
    deletes: Option<crate::mirror::DeleteStatus>,
    failures: Option<(u64, Option<crate::mirror::history::Failure>)>,
    last_success: Option<Timestamp>,
    last_verified: Option<Timestamp>,
}

impl MirrorFacts {
    /// `None` when there is no mirror yet, or it cannot be opened.
    fn read(path: &Path, lock_timeout: Duration) -> Option<MirrorFacts> {
        let m = match Mirror::open_read_only(path, lock_timeout) {
            Ok(m) => m?,
            Err(e) => {
                tracing::debug!(error = %e, "Cannot read the mirror for the metrics");
                return None;
            }
        };
        Some(MirrorFacts {
            counts: m.counts().ok(),
            deletes: m.delete_status().ok(),
            failures: m.failure_summary().ok(),
            last_success: m.last_success().ok().flatten(),
            last_verified: m.last_verified().ok().flatten(),
        })
    }
}
