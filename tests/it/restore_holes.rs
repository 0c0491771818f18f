//! Issue 19 items 5 and 6, and the restore and forget entries of item 3: `restore` names
//! every id or run that matched nothing (exit 1, listed in `--output json`); a contact
//! whose custom field was removed from the workspace since its delete is restored with what
//! the workspace still accepts, each value left out reported (by the dry run too); restore
//! and forget are entries in the record's history.

use serde_json::Value;

use crate::support::{Workspace, row, standard_fields};

const LEAD_SOURCE: &str = "66aa00000000000000000001";

/// Three contacts synced, C-0002 deleted; returns the deleting run's id.
async fn one_deleted() -> (Workspace, String) {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    ws.write_rows(&[row(1), row(3)]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["delete"], 1, "{report}");
    (ws, report["run_id"].as_i64().unwrap().to_string())
}

fn json(run: &crate::support::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_that_matches_nothing_names_it_and_exits_1() {
    let (ws, _) = one_deleted().await;
    for dry in [true, false] {
        let mut args = vec!["restore", "C-9999", "C-0001", "--output", "json"];
        if dry {
            args.push("--dry-run");
        }
        let run = ws.run(&args).await;
        assert_eq!(run.code, 1, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(json(&run)["unmatched"], serde_json::json!(["C-9999", "C-0001"]), "{}", run.stdout);
    }
    let run = ws.run(&["restore", "--run", "999"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("run 999: matches no deleted contact"), "{}", run.stdout);
    let run = ws.run(&["restore", "--all-since", "2999-01-01T00:00:00Z", "--output", "json"]).await;
    assert_eq!(run.code, 1);
    assert_eq!(json(&run)["unmatched"][0], "since 2999-01-01T00:00:00.000Z");
    assert_eq!(ws.fake.contacts().len(), 2, "nothing was restored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_field_removed_since_the_delete_is_left_out_and_reported() {
    let (ws, run_id) = one_deleted().await;
    ws.fake.set_custom_fields(standard_fields().into_iter().filter(|d| d.key != LEAD_SOURCE).collect());

    let dry = ws.run(&["restore", "--run", &run_id, "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    assert!(dry.stdout.contains(&format!("left out custom[{LEAD_SOURCE}]: \"Referral\"")), "{}", dry.stdout);

    let run = ws.run(&["restore", "--run", &run_id, "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = json(&run);
    let left_out = out["restored"][0]["left_out"].as_array().unwrap();
    assert_eq!(left_out.len(), 1, "{out:#}");
    assert!(left_out[0].as_str().unwrap().starts_with(&format!("custom[{LEAD_SOURCE}]")), "{out:#}");
    let back = &ws.by_external_id("C-0002")[0];
    assert_eq!(back["defaultFields"]["firstName"], "First2");
    assert!(crate::support::custom(back, LEAD_SOURCE).is_null());
    assert_eq!(crate::support::custom(back, "66aa00000000000000000003"), 2, "the other values are restored");
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_and_forget_are_entries_in_the_records_history() {
    let (ws, run_id) = one_deleted().await;
    let run = ws.run(&["restore", "--run", &run_id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let new_id = ws.by_external_id("C-0002")[0]["id"].as_str().unwrap().to_owned();
    let h = json(&ws.run(&["history", "C-0002", "--output", "json"]).await);
    assert_eq!(h["changes"][0]["action"], "restore", "{h:#}");
    assert_eq!(h["changes"][0]["contact_id"], new_id.as_str());
    let fields: Vec<&str> =
        h["changes"][0]["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"first_name") && fields.contains(&"emails[work]"), "{h:#}");
    assert_eq!(h["changes"][1]["action"], "delete");

    let forget = ws.run(&["forget", "C-0002"]).await;
    assert_eq!(forget.code, 0, "{}", forget.stderr);
    let h = json(&ws.run(&["history", "C-0002", "--output", "json"]).await);
    assert_eq!(h["changes"][0]["action"], "forget", "{h:#}");
    let text = ws.run(&["history", "C-0002"]).await.stdout;
    assert!(text.contains("restore") && text.contains(&new_id), "{text}");
}
