//! What people read, pinned by insta snapshots (`tests/it/snapshots/`): the text report of a
//! sync, the dry-run plan, `status` as text and JSON, and `check`. Times, durations,
//! OpenPhone ids and the temporary folder show as placeholders (`Workspace::snapshot`).

use serde_json::Value;

use crate::support::{Workspace, ids, row};

/// Rows 1–3 synced; then a source that changes row 2's company, adds row 4, drops row 3,
/// has a row whose email is not an email (left out with a warning) and a row with no id
/// (invalid: exit 1).
async fn synced_then_edited() -> Workspace {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    ws.write_rows(&[
        row(1),
        row(2).replace("Company 2", "Globex"),
        row(4),
        row(5).replace("user5@example.com", "user5 at example"),
        row(6).replace("C-0006", ""),
    ]);
    ws
}

#[tokio::test(flavor = "multi_thread")]
async fn the_text_report_of_a_sync() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    let first = ws.run(&["sync"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    ws.snapshot("sync_report_first_load", &first.stdout);

    let ws = synced_then_edited().await;
    let delta = ws.run(&["sync"]).await;
    ws.snapshot("sync_report_delta", &delta.stdout);
    assert_eq!(delta.code, 1, "a row is newly invalid: {}", delta.stderr);
    ws.assert_exactly(&ids([1, 2, 4, 5]));
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Globex");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dry_run_plan() {
    let ws = synced_then_edited().await;
    let before = ws.fake.contacts();
    ws.fake.clear_requests();
    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(run.code, 1, "a dry run with a newly invalid row: {}", run.stderr);
    ws.snapshot("dry_run_plan", &run.stdout);
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"), "a dry run writes nothing");
    assert_eq!(ws.fake.contacts(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_as_text_and_json() {
    let ws = synced_then_edited().await;
    ws.sync(1).await;
    let text = ws.run(&["status"]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    ws.snapshot("status_text", &text.stdout);
    let json = ws.run(&["status", "--output", "json"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let status: Value = serde_json::from_str(&json.stdout).expect("status --output json is JSON");
    assert_eq!(status["contacts"], 4, "{status}");
    ws.snapshot("status_json", &serde_json::to_string_pretty(&status).unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn check_online_and_offline() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    let online = ws.run(&["check"]).await;
    assert_eq!(online.code, 0, "{}", online.stderr);
    ws.snapshot("check", &online.stdout);
    let offline = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    ws.snapshot("check_offline", &offline.stdout);
    assert!(ws.fake.contacts().is_empty(), "check writes nothing");
}
