//! The daemon run in-process ([`openphone_sync::daemon::serve`]) on tokio's paused time, with a
//! [`Clock`] that moves with it: a 15-minute schedule runs in milliseconds, and each test
//! asserts on what the daemon returns, the fake workspace, the mirror (through `status`) and
//! the daemon's metrics, not on its log. The real signals, the log and systemd's socket are
//! `daemon.rs`'s (the daemon as a process); its metrics endpoint is `metrics.rs`'s.

use std::time::Duration;

use openphone_sync::clock::Clock;
use openphone_sync::exit::Exit;
use serde_json::Value;

use crate::support::in_process::{InProcessDaemon, utc};
use crate::support::{MAPPING, Workspace, ids, row};

/// Every 15 minutes.
const QUARTER_HOURLY: &str = "[schedule]\ncron = \"0 */15 * * * *\"\n";
/// Every minute.
const EVERY_MINUTE: &str = "[schedule]\ncron = \"0 * * * * *\"\n";
/// Once a year: only the run at start happens during a test.
const YEARLY: &str = "[schedule]\ncron = \"0 0 0 1 1 *\"\n";
/// The daemon's clock at its start (the schedules above all have a tick after it).
const T0: &str = "2026-12-01T10:00:00Z";

fn start(ws: &Workspace) -> InProcessDaemon {
    let _ = tracing_subscriber::fmt().with_env_filter("openphone_sync=debug").with_test_writer().try_init();
    InProcessDaemon::start(ws.path("config.toml"), Clock::test(utc(T0)))
}

fn first_name(ws: &Workspace, id: &str) -> Option<String> {
    ws.by_external_id(id).first().and_then(|c| c["defaultFields"]["firstName"].as_str().map(str::to_owned))
}

/// The paused clock flows again: what follows runs the binary, whose exit a paused clock
/// would not wait for (every timeout would fire as soon as the test's runtime is idle).
fn real_time() {
    tokio::time::resume();
}

#[tokio::test(start_paused = true)]
async fn syncs_at_start_then_on_its_schedule_and_picks_up_an_edit() {
    let ws = Workspace::new().await;
    ws.write_config("");
    ws.use_key_file();
    ws.write_n(3);
    ws.append_config(QUARTER_HOURLY);
    let d = start(&ws);
    d.until("the run at start", Duration::from_mins(1), |d| d.runs("ok") == 1.0).await;
    ws.assert_exactly(&ids(1..=3));
    // The start and the next run are the daemon's clock's: the schedule's first time after it.
    assert_eq!(d.metric("openphone_sync_start_time_seconds"), utc(T0).timestamp() as f64);
    assert_eq!(d.metric("openphone_sync_next_run_timestamp_seconds"), utc("2026-12-01T10:15:00Z").timestamp() as f64);

    let mut rows: Vec<String> = (1..=3).map(row).collect();
    rows[0] = rows[0].replace("First1", "Edited");
    ws.write_rows(&rows);
    // Nothing runs before the tick.
    tokio::time::sleep(Duration::from_mins(10)).await;
    assert_eq!((d.runs("ok"), first_name(&ws, "C-0001").as_deref()), (1.0, Some("First1")));
    d.until("the run at 10:15", Duration::from_mins(10), |d| d.runs("ok") == 2.0).await;
    assert_eq!(first_name(&ws, "C-0001").as_deref(), Some("Edited"));
    let last_run = d.metric("openphone_sync_last_run_timestamp_seconds");
    assert!(
        (utc("2026-12-01T10:15:00Z").timestamp() as f64..=utc("2026-12-01T10:16:00Z").timestamp() as f64)
            .contains(&last_run)
    );
    assert_eq!(d.metric("openphone_sync_next_run_timestamp_seconds"), utc("2026-12-01T10:30:00Z").timestamp() as f64);
    ws.assert_exactly(&ids(1..=3));

    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    ws.assert_spec_clean();
}

#[tokio::test(start_paused = true)]
async fn a_tick_that_comes_during_a_run_is_skipped_and_counted() {
    let ws = Workspace::new().await;
    // Each request takes 20 s: the 8 creates, two at a time, take more than a minute.
    ws.write_config("concurrency = 2\ntimeout_seconds = 60");
    ws.use_key_file();
    ws.append_config(EVERY_MINUTE);
    ws.write_n(8);
    ws.fake.set_latency(Duration::from_secs(20));
    let d = start(&ws);
    d.until("a skipped tick", Duration::from_mins(5), |d| d.metric("openphone_sync_skipped_runs_total") >= 1.0).await;
    assert_eq!(d.metric("openphone_sync_run_in_progress"), 1.0);
    ws.fake.set_latency(Duration::ZERO);
    d.until("the first run's end", Duration::from_mins(5), |d| d.runs("ok") >= 1.0).await;
    ws.assert_exactly(&ids(1..=8));
    // Runs never overlapped: the mirror's lock was never contended and no run failed.
    for outcome in ["partial", "refused", "unavailable", "stopped", "config_error"] {
        assert_eq!(d.runs(outcome), 0.0, "{outcome}:\n{}", d.metrics_text());
    }
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
}

#[tokio::test(start_paused = true)]
async fn a_reload_takes_a_good_config_and_keeps_the_old_one_on_a_bad_one() {
    let ws = Workspace::new().await;
    ws.write_config("");
    ws.use_key_file();
    ws.write_n(2);
    ws.append_config(QUARTER_HOURLY);
    let d = start(&ws);
    d.until("the run at start", Duration::from_mins(1), |_| ws.fake.contacts().len() == 2).await;

    // A bad config: refused, and the daemon goes on with the old one.
    ws.write_config("bogus_key = 1\nrequests_per_second = 0");
    ws.use_key_file();
    ws.append_config(QUARTER_HOURLY);
    d.reload().await;
    d.until("the reload refused", Duration::from_secs(5), |d| {
        d.metric("openphone_sync_config_reloads_total{outcome=\"failed\"}") == 1.0
    })
    .await;
    ws.write_n(3);
    d.until("row 3 synced on the old config", Duration::from_mins(16), |_| ws.fake.contacts().len() == 3).await;

    // A good config with a new mapping: first names now come from the "Last Name" column.
    ws.write_config("");
    ws.use_key_file();
    ws.append_config(QUARTER_HOURLY);
    ws.write("mapping.toml", &MAPPING.replace("first_name = \"First Name\"", "first_name = \"Last Name\""));
    d.reload().await;
    d.until("the reload taken", Duration::from_secs(5), |d| {
        d.metric("openphone_sync_config_reloads_total{outcome=\"ok\"}") == 1.0
    })
    .await;
    d.until("the new mapping applied", Duration::from_mins(16), |_| {
        first_name(&ws, "C-0003").as_deref() == Some("Last3")
    })
    .await;
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    ws.assert_exactly(&ids(1..=3));
}

#[tokio::test(start_paused = true)]
async fn a_stop_mid_run_returns_0_and_loses_nothing() {
    let ws = Workspace::new().await;
    ws.write_config("concurrency = 4\ntimeout_seconds = 60");
    ws.use_key_file();
    ws.append_config(YEARLY);
    ws.write_n(30);
    ws.fake.set_latency(Duration::from_secs(3));
    let d = start(&ws);
    d.until("a few creates", Duration::from_mins(2), |_| ws.fake.contacts().len() >= 6).await;
    let asked = tokio::time::Instant::now();
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    // The writes in flight (3 s each) finished; the grace (8 s) was not needed whole.
    assert!(asked.elapsed() < Duration::from_secs(8), "took {:?} of the daemon's time", asked.elapsed());
    let created = ws.fake.contacts().len();
    assert!(created < 30, "the stop should land mid-run ({created} created)");

    // Every contact that reached OpenPhone is recorded in the mirror, none left pending.
    real_time();
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

#[tokio::test(start_paused = true)]
async fn a_config_error_at_start_ends_the_daemon_with_exit_2_and_no_mirror() {
    let ws = Workspace::new().await;
    ws.write_config("");
    ws.use_key_file();
    // No [schedule].
    let stop = start(&ws).ended().await.expect_err("no schedule");
    assert_eq!(stop.exit(), Exit::Config);
    assert!(stop.to_string().contains("`schedule.cron`: missing"), "{stop}");
    // A bad time zone and a bad metrics address, both reported.
    ws.append_config(
        "[schedule]\ncron = \"0 * * * * *\"\ntimezone = \"Mars/Olympus\"\n[metrics]\nlisten = \"nowhere\"\n",
    );
    let stop = start(&ws).ended().await.expect_err("bad time zone and address");
    assert_eq!(stop.exit(), Exit::Config);
    let message = stop.to_string();
    assert!(message.contains("`schedule.timezone`: unknown time zone \"Mars/Olympus\""), "{message}");
    assert!(message.contains("`metrics.listen`: \"nowhere\" is not an address"), "{message}");
    assert!(!ws.mirror_path().exists());
}

#[tokio::test(start_paused = true)]
async fn a_failed_run_is_counted_and_the_next_tick_tries_again() {
    let ws = Workspace::new().await;
    ws.write_config("");
    ws.use_key_file();
    ws.write_n(2);
    ws.append_config(QUARTER_HOURLY);
    let d = start(&ws);
    d.until("the run at start", Duration::from_mins(1), |d| d.runs("ok") == 1.0).await;
    let csv = std::fs::read_to_string(ws.path("contacts.csv")).unwrap();
    std::fs::remove_file(ws.path("contacts.csv")).unwrap();
    d.until("the run at 10:15 failing", Duration::from_mins(16), |d| d.runs("unavailable") == 1.0).await;
    assert_eq!(d.metric("openphone_sync_run_in_progress"), 0.0);
    ws.write("contacts.csv", &csv.replace("First2", "Back"));
    d.until("the run at 10:30", Duration::from_mins(16), |d| d.runs("ok") == 2.0).await;
    assert_eq!(first_name(&ws, "C-0002").as_deref(), Some("Back"));
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    real_time();
    let status = ws.run(&["status"]).await;
    assert!(status.stdout.contains("unavailable"), "the failed run is in the history:\n{}", status.stdout);
}

#[tokio::test(start_paused = true)]
async fn the_daemon_verifies_at_start_and_again_a_day_later_on_its_clock() {
    let ws = Workspace::new().await;
    ws.write_config("");
    ws.use_key_file();
    ws.write_n(2);
    real_time();
    ws.sync(0).await;
    tokio::time::pause();
    let id = ws.by_external_id("C-0001")[0]["id"].as_str().unwrap().to_owned();
    let edit = |name: &str| ws.fake.edit_contact(&id, |c| c["defaultFields"]["firstName"] = name.into());
    let first_name = || ws.by_external_id("C-0001")[0]["defaultFields"]["firstName"].clone();
    let edited = |d: &InProcessDaemon| d.metric("openphone_sync_drift_total{kind=\"edited\"}");
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();

    // verify_every_hours = 0: the daemon trusts the mirror, and the edit stays.
    ws.write(
        "config.toml",
        &config.replace("max_delete_fraction = 0.5\n", "max_delete_fraction = 0.5\nverify_every_hours = 0\n"),
    );
    ws.append_config(YEARLY);
    edit("Edited");
    let d = start(&ws);
    d.until("the run at start", Duration::from_mins(1), |d| d.runs("ok") == 1.0).await;
    assert_eq!(edited(&d), 0.0);
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    assert_eq!(first_name(), "Edited");

    // The default (daily): the run at start verifies, counts the drift and restores it.
    ws.write("config.toml", &config);
    ws.append_config(YEARLY);
    let clock = Clock::test(utc(T0));
    let d = InProcessDaemon::start(ws.path("config.toml"), clock.clone());
    d.until("the run at start", Duration::from_mins(1), |d| d.runs("ok") == 1.0).await;
    assert_eq!(edited(&d), 1.0);
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    assert_eq!(first_name(), "First1");

    // A restart within the day does not verify again: the mirror remembers the last verify.
    edit("Edited again");
    clock.set(utc("2026-12-01T20:00:00Z"));
    let d = InProcessDaemon::start(ws.path("config.toml"), clock.clone());
    d.until("the run at start", Duration::from_mins(1), |d| d.runs("ok") == 1.0).await;
    assert_eq!(edited(&d), 0.0);
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    assert_eq!(first_name(), "Edited again");

    // A day after the verify, by the daemon's clock, a restart verifies again.
    clock.set(utc("2026-12-02T10:01:00Z"));
    let d = InProcessDaemon::start(ws.path("config.toml"), clock.clone());
    d.until("the run at start", Duration::from_mins(1), |d| d.runs("ok") == 1.0).await;
    assert_eq!(edited(&d), 1.0);
    assert!(matches!(d.stop().await, Ok(Exit::Ok)));
    assert_eq!(first_name(), "First1");

    real_time();
    let status = ws.run(&["status", "--output", "json"]).await;
    let status: Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(status["last_verify"].is_string(), "{status}");
    assert_eq!(status["runs"][0]["verify"], serde_json::json!([2, 1, 0]), "{status}");
    assert_eq!(status["runs"][1]["verify"], Value::Null);
    assert_eq!(status["runs"][2]["verify"], serde_json::json!([2, 1, 0]), "{status}");
}
