//! End-to-end under faults: lost replies, failures before and after a write, hangs, 429
//! storms, a killed run, a deleted mirror, a refused key, and two runs at once. Each ends
//! with the workspace equal to the source and no duplicate.

use std::process::Stdio;
use std::time::Duration;

use crate::support::fake_openphone::{FakeOptions, Fault, FaultRule, RateLimit};
use crate::support::{Workspace, ids, row, standard_fields, wait_until};

fn rule(method: &str, fault: Fault, times: usize) -> FaultRule {
    FaultRule { method: Some(method.into()), path_prefix: Some("/v1/contacts".into()), fault, times, probability: None }
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_replies_to_creates_make_no_duplicate() {
    let ws = Workspace::new().await;
    ws.write_n(6);
    ws.fake.add_fault(rule("POST", Fault::LoseReplyAfterApply, 2));
    ws.fake.add_fault(rule("POST", Fault::FailAfterApply { status: 500 }, 1));
    ws.fake.add_fault(rule("POST", Fault::FailBeforeApply { status: 503 }, 1));
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"], 6, "{report}");
    ws.assert_exactly(&ids(1..=6));
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 6);
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_replies_to_updates_add_no_duplicate_item() {
    let ws = Workspace::new().await;
    let no_phone = |n: usize| row(n).replace(&format!("+1 201 555 {n:04}"), "");
    ws.write_rows(&[no_phone(1), no_phone(2)]);
    ws.sync(0).await;
    // The PATCH adds a phone item; its reply is lost, then the re-read shows it applied.
    ws.fake.add_fault(rule("PATCH", Fault::LoseReplyAfterApply, 1));
    ws.fake.add_fault(rule("PATCH", Fault::FailAfterApply { status: 502 }, 1));
    ws.write_n(2);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 2, "{report}");
    for id in ids(1..=2) {
        let c = &ws.by_external_id(&id)[0];
        assert_eq!(c["defaultFields"]["phoneNumbers"].as_array().unwrap().len(), 1, "{c}");
    }
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_request_times_out_and_the_run_still_converges() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.fake.add_fault(rule("POST", Fault::HangAfterApply, 1));
    ws.fake.add_fault(rule("POST", Fault::HangBeforeApply, 1));
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"], 3, "{report}");
    ws.assert_exactly(&ids(1..=3));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_is_finished_by_the_next_with_no_duplicate() {
    let ws = Workspace::new().await;
    ws.write_n(40);
    // Killed mid-way through the creates.
    ws.kill_sync_mid_run(40).await;
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["create"].as_u64().unwrap() + report["planned"]["unchanged"].as_u64().unwrap(), 40);
    ws.assert_exactly(&ids(1..=40));
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 40);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_mirror_is_rebuilt_from_lookups() {
    let ws = Workspace::new().await;
    ws.write_n(12);
    ws.sync(0).await;
    std::fs::remove_file(ws.mirror_path()).unwrap();
    let _ = std::fs::remove_file(ws.path("mirror.sqlite3-wal"));
    let _ = std::fs::remove_file(ws.path("mirror.sqlite3-shm"));
    ws.fake.clear_requests();
    let mut rows: Vec<String> = (1..=12).map(row).collect();
    rows[0] = rows[0].replace("First1", "Changed");
    ws.write_rows(&rows);
    let report = ws.sync(0).await;
    assert_eq!(report["adopted"], 12, "{report}");
    let sent = ws.fake.requests();
    assert_eq!(sent.iter().filter(|r| r.method == "POST").count(), 0);
    assert_eq!(sent.iter().filter(|r| r.method == "PATCH").count(), 1, "only the changed contact is patched");
    ws.assert_exactly(&ids(1..=12));
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["firstName"], "Changed");
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_stops_at_once_with_exit_4_and_is_never_printed() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    let secret = "sk-wrong-key-SECRET-123456";
    let run = ws.run_with_key(&["-vv", "sync", "--output", "json"], Some(secret)).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("refused the API key"), "{}", run.stderr);
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "the key leaked");
    assert!(ws.fake.contacts().is_empty());
    assert!(ws.fake.requests().len() <= 2, "stopped at once");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_by_a_busy_key_it_slows_down_and_finishes() {
    let ws = Workspace::with(FakeOptions {
        custom_fields: standard_fields(),
        rate_limit: Some(RateLimit { per_second: 4, burst: 4, retry_after: true }),
        ..FakeOptions::default()
    })
    .await;
    // The pace learns q=4 from the policy field and sends no more; the key is busy with
    // others all the same: a quarter of the writes are answered 429 (with r=0, t=1).
    ws.fake.add_fault(FaultRule {
        method: Some("POST".into()),
        path_prefix: Some("/v1/contacts".into()),
        fault: Fault::RateLimited { retry_after_secs: None },
        times: 0,
        probability: Some(0.25),
    });
    ws.fake.set_seed(20);
    ws.write_n(16);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"], 16, "{report}");
    assert!(ws.fake.count_429() > 0, "the fake should have throttled");
    assert_eq!(report["api_requests"].as_u64().unwrap() as usize, ws.fake.requests().len());
    ws.assert_exactly(&ids(1..=16));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_on_the_same_mirror_is_refused() {
    let ws = Workspace::new().await;
    ws.write_n(20);
    ws.fake.set_latency(Duration::from_millis(200));
    let first = ws
        .command(&["sync", "--output", "json"], Some(&ws.api_key))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first run has the lock once its lock file names it.
    let pid = first.id().unwrap();
    let lock = ws.path("mirror.sqlite3.lock");
    let holds = || {
        let text = std::fs::read_to_string(&lock).unwrap_or_default();
        text.split_whitespace().take(2).eq(["sync".to_owned(), pid.to_string()])
    };
    assert!(wait_until(Duration::from_secs(10), holds).await, "the first run did not take the lock within 10 s");
    let second = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(second.code, 3, "{}", second.stderr);
    assert!(second.stderr.contains("another openphone-sync run"), "{}", second.stderr);
    assert!(second.stderr.contains(&format!("pid {pid}")), "the refusal names the holder: {}", second.stderr);
    let out = first.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["applied"]["create"], 20, "{report}");
    ws.assert_exactly(&ids(1..=20));
}
