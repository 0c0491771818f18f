//! `openphone-sync daemon` run as a process, for what only a process shows: the real
//! signals (SIGHUP reaches the reload, a refused one logs its problems; SIGTERM mid-run exits
//! 0 with nothing lost), the mirror held against a concurrent `sync` or a second daemon,
//! a fake `$NOTIFY_SOCKET` (READY, STATUS, RELOADING, WATCHDOG, STOPPING), config errors on
//! stderr, the log formats. The schedule, reloads, skipped ticks, failed runs and verify
//! run in-process on paused time: `daemon_in_process.rs`. Its metrics: `metrics.rs`.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use crate::support::{Workspace, ids, wait_until};

/// Every second.
pub(crate) const EVERY_SECOND: &str = "[schedule]\ncron = \"* * * * * *\"\n";
/// Once a year: only the run at start happens during a test.
pub(crate) const YEARLY: &str = "[schedule]\ncron = \"0 0 0 1 1 *\"\n";

/// A running daemon, its stderr collected as it comes, and what it told `$NOTIFY_SOCKET`.
pub(crate) struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    /// The task copying stderr into `log`: done once the daemon's stderr is closed.
    reader: tokio::task::JoinHandle<()>,
    notes: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// `daemon` in `ws`, with `env` added to the environment.
    pub(crate) fn start(ws: &Workspace, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = ws.command(&["daemon"], Some(&ws.api_key));
        cmd.env_remove("WATCHDOG_USEC").env_remove("WATCHDOG_PID");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Daemon::spawn(cmd, &ws.path("notify.sock"))
    }

    /// Starts `cmd` (a `daemon` command) with a fake `$NOTIFY_SOCKET` at `socket_path`.
    pub(crate) fn spawn(mut cmd: tokio::process::Command, socket_path: &std::path::Path) -> Daemon {
        let _ = std::fs::remove_file(socket_path);
        let socket = tokio::net::UnixDatagram::bind(socket_path).expect("bind the fake NOTIFY_SOCKET");
        let notes = Arc::new(Mutex::new(Vec::new()));
        let sink = notes.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf).await {
                sink.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        });
        cmd.env("NOTIFY_SOCKET", socket_path);
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start the daemon");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Daemon { child, log, reader, notes }
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub(crate) fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap().clone()
    }

    /// Waits until `cond` holds, or fails the test showing the log.
    pub(crate) async fn wait_for(&self, what: &str, secs: u64, mut cond: impl FnMut(&Daemon) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond(self) {
            assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn wait_log(&self, needle: &str, secs: u64) {
        self.wait_for(needle, secs, |d| d.log().contains(needle)).await;
    }

    /// The address the daemon serves its metrics on, from its start-up log line.
    pub(crate) fn metrics_addr(&self) -> String {
        let log = self.log();
        log.lines()
            .find(|l| l.contains("Serving Prometheus metrics"))
            .and_then(|l| l.split("address=").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no metrics address in:\n{log}"))
            .to_owned()
    }

    /// The daemon's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id().expect("the daemon is running")
    }

    fn signal(&self, sig: i32) {
        let pid = self.child.id().expect("the daemon is running") as i32;
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
    }

    /// Sends SIGTERM and returns the exit code and how long the exit took.
    pub(crate) async fn stop(mut self) -> (i32, Duration, String) {
        let asked = Instant::now();
        self.signal(libc::SIGTERM);
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the daemon did not exit within 15 s of SIGTERM; log:\n{}", self.log()))
            .unwrap();
        let took = asked.elapsed();
        // The log is whole once the reader has met the end of stderr.
        tokio::time::timeout(Duration::from_secs(5), &mut self.reader)
            .await
            .expect("the daemon's stderr closed within 5 s of its exit")
            .expect("the stderr reader");
        (status.code().unwrap_or(-1), took, self.log())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reaches_the_reload_and_a_refused_one_is_logged_with_its_problems() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    ws.append_config(YEARLY);
    let d = Daemon::start(&ws, &[]);
    let ready = |d: &Daemon| d.notes().iter().filter(|n| n.contains("READY=1")).count();
    d.wait_for("READY=1", 10, |d| ready(d) >= 1).await;

    // A good config: systemd hears RELOADING=1, then READY=1 again.
    d.signal(libc::SIGHUP);
    d.wait_for("RELOADING=1 then READY=1", 5, |d| d.notes().iter().any(|n| n.contains("RELOADING=1")) && ready(d) >= 2)
        .await;

    // A bad config: every problem is logged (the journal is where a user reads them), and
    // the daemon goes on with the old one.
    ws.write_config("bogus_key = 1\nrequests_per_second = 0");
    ws.append_config(YEARLY);
    d.signal(libc::SIGHUP);
    d.wait_log("Reload refused", 5).await;
    let log = d.log();
    assert!(log.contains("`openphone.bogus_key`: unknown key"), "{log}");
    assert!(log.contains("`openphone.requests_per_second`: must be between 1 and 1000"), "{log}");
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_run_exits_0_fast_and_loses_nothing() {
    let ws = Workspace::new().await;
    ws.write_config("concurrency = 4");
    ws.append_config(YEARLY);
    ws.write_n(30);
    ws.fake.set_latency(Duration::from_millis(300));
    let d = Daemon::start(&ws, &[]);
    d.wait_for("a few creates", 10, |_| ws.fake.contacts().len() >= 6).await;
    let (code, took, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(log.contains("Stopping: no new requests"), "{log}");
    assert!(log.contains("outcome=\"stopped\""), "{log}");
    let created = ws.fake.contacts().len();
    assert!(created < 30, "the stop should land mid-run ({created} created)");

    // Every contact that reached OpenPhone is recorded in the mirror, none left pending.
    ws.fake.set_latency(Duration::ZERO);
    let status = ws.run(&["status", "--output", "json"]).await;
    let status: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["contacts"], created as u64, "{status}");
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(status["runs"][0]["outcome"], "stopped", "{status}");

    // The next run does the rest, adopting nothing (no write was lost).
    let report = ws.sync(0).await;
    assert_eq!(report["adopted"], 0, "{report}");
    assert_eq!(report["applied"]["create"], (30 - created) as u64, "{report}");
    ws.assert_exactly(&ids(1..=30));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_or_a_second_daemon_is_refused_while_the_daemon_runs() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.append_config(YEARLY);
    let d = Daemon::start(&ws, &[]);
    d.wait_log("Sync finished", 10).await;

    let sync = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(sync.code, 3, "{}", sync.stderr);
    assert!(sync.stderr.contains("the openphone-sync daemon (pid"), "{}", sync.stderr);
    assert!(sync.stderr.contains("systemctl stop openphone-sync"), "{}", sync.stderr);
    let second = ws.run(&["daemon"]).await;
    assert_eq!(second.code, 3, "{}", second.stderr);
    // A dry run only reads, so it still works.
    assert_eq!(ws.run(&["sync", "--dry-run"]).await.code, 0);

    let status = ws.run(&["status"]).await;
    assert!(status.stdout.contains("Daemon: running (pid"), "{}", status.stdout);
    assert!(status.stdout.contains("Schedule: \"0 0 0 1 1 *\" (UTC): next run"), "{}", status.stdout);

    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 2);
    let status = ws.run(&["status"]).await;
    assert!(status.stdout.contains("Daemon: not running."), "{}", status.stdout);
    assert!(status.stdout.contains("if the daemon is started"), "{}", status.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_status_watchdog_and_stopping_reach_the_notify_socket() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    ws.append_config(YEARLY);
    let d = Daemon::start(&ws, &[("WATCHDOG_USEC", "400000")]);
    d.wait_for("3 watchdog pings", 5, |d| d.notes().iter().filter(|n| n.trim() == "WATCHDOG=1").count() >= 3).await;
    let notes = d.notes();
    assert!(notes[0].contains("READY=1\n") && notes[0].contains("STATUS="), "{notes:?}");
    d.wait_for("the first run in STATUS", 5, |d| d.notes().iter().any(|n| n.contains("STATUS=Last run"))).await;
    let notes = d.notes.clone();
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
    // Sent before the exit; the socket's reader may not have taken it yet.
    let stopping = || notes.lock().unwrap().iter().any(|n| n.contains("STOPPING=1"));
    assert!(wait_until(Duration::from_secs(5), stopping).await, "{:?}", notes.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_error_at_start_stops_the_daemon_with_exit_2() {
    let ws = Workspace::new().await;
    // No [schedule].
    let run = ws.run(&["daemon"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`schedule.cron`: missing"), "{}", run.stderr);
    // A bad time zone and a bad metrics address, both reported with their lines.
    ws.append_config(
        "[schedule]\ncron = \"0 * * * * *\"\ntimezone = \"Mars/Olympus\"\n[metrics]\nlisten = \"nowhere\"\n",
    );
    let run = ws.run(&["daemon"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`schedule.timezone`: unknown time zone \"Mars/Olympus\""), "{}", run.stderr);
    assert!(run.stderr.contains("`metrics.listen`: \"nowhere\" is not an address"), "{}", run.stderr);
    assert!(!ws.mirror_path().exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_are_json_lines_or_journald_friendly() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let json = ws.run(&["--log-format", "json", "sync", "--dry-run"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let lines: Vec<&str> = json.stderr.lines().collect();
    assert!(!lines.is_empty());
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["timestamp"].is_string() && v["level"].is_string() && v["message"].is_string(), "{l}");
    }
    assert!(lines.iter().any(|l| l.contains("\"message\":\"Sync finished\"")), "{}", json.stderr);

    // Under systemd, $JOURNAL_STREAM names stderr's device:inode.
    use std::os::unix::fs::MetadataExt;
    let path = ws.path("journal.log");
    let file = std::fs::File::create(&path).unwrap();
    let meta = file.metadata().unwrap();
    let mut cmd = ws.command(&["sync", "--dry-run"], Some(&ws.api_key));
    cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino())).stderr(file).stdout(Stdio::null());
    assert_eq!(cmd.status().await.unwrap().code(), Some(0));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().count() > 0);
    for l in text.lines() {
        assert!(l.starts_with('<') && l.as_bytes()[2] == b'>', "no syslog priority prefix: {l}");
        assert!(!l.contains('\u{1b}'), "ANSI colour in: {l}");
        assert!(!l[3..].starts_with("20"), "a timestamp the journal adds already: {l}");
    }
    assert!(text.contains("<6> INFO openphone_sync"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_a_one_off_sync_the_same_way() {
    let ws = Workspace::new().await;
    ws.write_config("concurrency = 4");
    ws.write_n(30);
    ws.fake.set_latency(Duration::from_millis(300));
    let child = ws
        .command(&["sync", "--output", "json"], Some(&ws.api_key))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || ws.fake.contacts().len() >= 6).await, "no 6 creates in 10 s");
    let asked = Instant::now();
    assert_eq!(unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) }, 0);
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output()).await.unwrap().unwrap();
    assert!(asked.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(4));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "stopped", "{report}");
    let created = ws.fake.contacts().len() as u64;
    assert_eq!(report["applied"]["create"], created, "every create that landed was recorded: {report}");
    ws.fake.set_latency(Duration::ZERO);
    let report = ws.sync(0).await;
    assert_eq!(report["adopted"], 0, "{report}");
    ws.assert_exactly(&ids(1..=30));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_key_can_come_from_a_systemd_credential() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let creds = ws.path("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("api-key"), format!("{}\n", ws.api_key)).unwrap();
    let mut cmd = ws.command(&["sync", "--output", "json"], None);
    cmd.env("CREDENTIALS_DIRECTORY", &creds);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    ws.assert_exactly(&ids(1..=1));
}
