//! A record's story and the records that keep failing, as a user reads them: `history`
//! after a create, two updates and a delete; `history --run N`; a failing row listed by
//! `failures` (and counted by `status`) until it is fixed. Text output pinned by snapshots,
//! with times and ids redacted.

use serde_json::{Value, json};

use crate::support::{Workspace, ids, row, snapshot, strict_mapping};

async fn history(ws: &Workspace, args: &[&str]) -> (String, Value) {
    let mut text_args = vec!["history"];
    text_args.extend_from_slice(args);
    let text = ws.run(&text_args).await;
    assert_eq!(text.code, 0, "history: {}", text.stderr);
    text_args.extend_from_slice(&["--output", "json"]);
    let json = ws.run(&text_args).await;
    assert_eq!(json.code, 0, "history --output json: {}", json.stderr);
    (text.stdout, serde_json::from_str(&json.stdout).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_s_story_after_a_create_two_updates_and_a_delete() {
    let ws = Workspace::new().await;
    ws.write_rows(&[row(1), row(2)]);
    ws.sync(0).await;
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Globex")]);
    ws.sync(0).await;
    // The record moves to row 3: the story says which row each change came from.
    ws.write_rows(&[row(1), row(3), row(2).replace("Company 2", "Globex").replace("First2", "Ann")]);
    ws.sync(0).await;
    ws.write_rows(&[row(1), row(3)]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["delete"], 1);
    ws.assert_exactly(&ids([1, 3]));

    let (text, json) = history(&ws, &["C-0002"]).await;
    let changes = json["changes"].as_array().unwrap();
    let actions: Vec<&str> = changes.iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["delete", "update", "update", "create"], "newest first: {json:#}");
    let rows: Vec<Value> = changes.iter().map(|c| c["row"].clone()).collect();
    assert_eq!(rows, vec![json!(null), json!(4), json!(3), json!(3)]);
    let runs: Vec<i64> = changes.iter().map(|c| c["run_id"].as_i64().unwrap()).collect();
    assert_eq!(runs, vec![4, 3, 2, 1]);
    assert_eq!(changes[2]["changes"], json!([{"field": "company", "from": "Company 2", "to": "Globex"}]));
    assert_eq!(changes[1]["changes"], json!([{"field": "first_name", "from": "First2", "to": "Ann"}]));
    // A create sets every mapped field, values as sent; a delete clears them.
    let created = changes[3]["changes"].to_string();
    assert!(created.contains(r#"{"field":"emails[work]","from":null,"to":"user2@example.com"}"#), "{created}");
    assert!(created.contains(r#""to":"+12015550002""#), "the phone as sent (E.164): {created}");
    assert!(changes[0]["changes"].to_string().contains(r#""from":"Ann","to":null"#));
    // No credential anywhere in the story.
    assert!(!text.contains(&ws.api_key) && !json.to_string().contains(&ws.api_key));
    snapshot("history_of_a_record", &text);

    let (text, json) = history(&ws, &["--run", "3"]).await;
    assert_eq!(json["changes"].as_array().unwrap().len(), 2, "run 3 created C-0003 and updated C-0002: {json:#}");
    snapshot("history_of_a_run", &text);

    let (text, json) = history(&ws, &["C-9999"]).await;
    assert_eq!(json["changes"], json!([]));
    assert!(text.contains("No change to C-9999"), "{text}");
    let missing = ws.run(&["history", "--run", "99"]).await;
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no run #99"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_row_is_listed_until_it_is_fixed() {
    let ws = Workspace::new().await;
    // A bad phone fails its row (not only the value) under `on_invalid = "skip_row"`.
    ws.write("mapping.toml", &strict_mapping());
    let bad_phone = row(2).replace("+1 201 555 0002", "12");
    ws.write_rows(&[row(1), bad_phone.clone(), ",NoId,,,,,,,,,".to_owned()]);
    ws.sync(1).await;
    // The same rows invalid the same way no longer fail the run, but stay listed.
    ws.sync(0).await;

    let failures = ws.run(&["failures", "--output", "json"]).await;
    assert_eq!(failures.code, 0, "{}", failures.stderr);
    let list: Value = serde_json::from_str(&failures.stdout).unwrap();
    let failing = list["failing"].as_array().unwrap();
    let keys: Vec<&str> = failing.iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["C-0002", "row 4"]);
    assert_eq!(failing[0]["attempts"], 2);
    assert_eq!(failing[0]["row"], 3);
    assert!(failing[0]["last_error"].as_str().unwrap().contains("column \"Mobile\""), "{list:#}");
    assert!(failing[0]["first_failed"].as_str().unwrap() < failing[0]["last_failed"].as_str().unwrap());
    let text = ws.run(&["failures"]).await.stdout;
    snapshot("failures", &text);
    let status = ws.run(&["status"]).await.stdout;
    assert!(status.contains("Failing records: 2 (oldest: C-0002"), "{status}");
    let status: Value = serde_json::from_str(&ws.run(&["status", "--output", "json"]).await.stdout).unwrap();
    assert_eq!(status["failing"], 2);

    // Fixed, and the row without an id removed: both leave the list.
    ws.write_rows(&[row(1), row(2)]);
    ws.sync(0).await;
    ws.assert_exactly(&ids(1..=2));
    let list: Value = serde_json::from_str(&ws.run(&["failures", "--output", "json"]).await.stdout).unwrap();
    assert_eq!(list["failing"], json!([]));
    assert_eq!(ws.run(&["failures"]).await.stdout, "No failing records.\n");
    assert!(ws.run(&["status"]).await.stdout.contains("Failing records: none."));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_openphone_refuses_is_a_failing_record_until_it_syncs() {
    use crate::support::fake_openphone::{Fault, FaultRule};
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.fake.add_fault(FaultRule {
        method: Some("POST".into()),
        path_prefix: Some("/v1/contacts".into()),
        fault: Fault::FailBeforeApply { status: 400 },
        times: 1,
        probability: None,
    });
    let report = ws.sync(1).await;
    assert_eq!(report["failed"], 1);
    let list: Value = serde_json::from_str(&ws.run(&["failures", "--output", "json"]).await.stdout).unwrap();
    let failing = list["failing"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "{list:#}");
    assert_eq!((&failing[0]["action"], &failing[0]["status"]), (&json!("create"), &json!(400)));
    // The next run retries it, as every run does; once it syncs it leaves the list.
    ws.sync(0).await;
    ws.assert_exactly(&ids(1..=2));
    let list: Value = serde_json::from_str(&ws.run(&["failures", "--output", "json"]).await.stdout).unwrap();
    assert_eq!(list["failing"], json!([]));
}

/// A delete that finds its contact gone already sends nothing, so it says so (found by the
/// model test, MODEL_SEED=1001 with 10,000 cases: a run killed after its DELETE, then a run
/// that found the contact gone, recorded a delete clearing every field and counted it as
/// deleted). A DELETE whose reply was lost, retried and answered 404, did delete it.
#[tokio::test(flavor = "multi_thread")]
async fn a_delete_that_finds_the_contact_gone_already_says_nothing_was_sent() {
    use crate::support::fake_openphone::{Fault, FaultRule};
    let ws = Workspace::new().await;
    ws.write_rows(&(1..=6).map(row).collect::<Vec<_>>());
    ws.sync(0).await;

    // C-0005 deleted in the app; C-0006's DELETE reaches OpenPhone but its reply is lost.
    let c5 = ws.by_external_id("C-0005")[0]["id"].as_str().unwrap().to_owned();
    let c6 = ws.by_external_id("C-0006")[0]["id"].as_str().unwrap().to_owned();
    ws.fake.remove_contact(&c5);
    ws.fake.add_fault(FaultRule {
        method: Some("DELETE".into()),
        path_prefix: Some("/v1/contacts".into()),
        fault: Fault::LoseReplyAfterApply,
        times: 1,
        probability: None,
    });
    ws.write_rows(&(1..=4).map(row).collect::<Vec<_>>());
    ws.fake.clear_requests();
    let text = ws.run(&["sync"]).await;
    assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
    ws.assert_exactly(&ids(1..=4));
    let deletes: Vec<_> = ws.fake.requests().into_iter().filter(|r| r.method == "DELETE").map(|r| r.path).collect();
    assert_eq!(deletes, vec![format!("/v1/contacts/{c6}"); 2], "the lost one, its retry");
    assert!(text.stdout.contains("1 deleted, 1 already gone (nothing sent)"), "{}", text.stdout);

    let (_, json) = history(&ws, &["C-0005"]).await;
    let newest = &json["changes"][0];
    assert_eq!(newest["action"], "already_gone", "{json:#}");
    assert_eq!(newest["changes"], json!([]), "nothing was sent, nothing is listed: {json:#}");
    let (_, json) = history(&ws, &["C-0006"]).await;
    let newest = &json["changes"][0];
    assert_eq!(newest["action"], "delete", "{json:#}");
    assert!(!newest["changes"].as_array().unwrap().is_empty(), "a delete lists the fields it cleared: {json:#}");

    // The JSON report counts the same way.
    ws.write_rows(&(1..=3).map(row).collect::<Vec<_>>());
    let c4 = ws.by_external_id("C-0004")[0]["id"].as_str().unwrap().to_owned();
    ws.fake.remove_contact(&c4);
    let report = ws.sync(0).await;
    assert_eq!(
        (report["applied"]["delete"].as_u64(), report["already_gone"].as_u64()),
        (Some(0), Some(1)),
        "{report:#}"
    );
}
