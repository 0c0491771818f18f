//! Deletes a user can take back: a row missing from the source deletes its contact only
//! after `[sync].delete_after`, every delete keeps the contact's complete state, and
//! `restore` brings it back as it was (values added in the app included). The runs that
//! need another time run in-process with a [`Clock`] the test sets.

use openphone_sync::clock::Clock;
use openphone_sync::outcome::Mode;
use serde_json::{Value, json};

use crate::support::in_process::{json, text, utc};
use crate::support::{MAPPING, NOTES_FIELD, Workspace, custom, ids, row};

const T0: &str = "2026-12-01T10:00:00Z";
const T0_PLUS_59M: &str = "2026-12-01T10:59:00Z";
const T0_PLUS_1H: &str = "2026-12-01T11:00:00Z";
const T0_PLUS_2H: &str = "2026-12-01T12:00:00Z";

/// A sync (`mode`) in-process as if the wall clock said `now`.
async fn run_at(ws: &Workspace, mode: Mode, now: &str) -> openphone_sync::report::Report {
    ws.sync_in_process(mode, &Clock::fixed(utc(now))).await.unwrap_or_else(|stop| panic!("the run stopped: {stop}"))
}

/// `sync --output json` in-process as if the wall clock said `now`, asserting the exit code.
async fn sync_at(ws: &Workspace, now: &str, code: i32) -> Value {
    let report = run_at(ws, Mode::Apply, now).await;
    let report_json = json(&report);
    assert_eq!(i32::from(report.exit().code()), code, "{report_json:#}");
    report_json
}

fn set_delete_after(ws: &Workspace, value: &str) {
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write("config.toml", &config.replace("delete_after = \"0s\"", &format!("delete_after = {value:?}")));
}

fn contact_id(ws: &Workspace, ext: &str) -> String {
    ws.by_external_id(ext)[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_sheet_deletes_nothing_until_delete_after_and_its_return_costs_nothing() {
    let ws = Workspace::new().await;
    ws.write_config("");
    ws.use_key_file();
    // No custom fields: a run with nothing to write then sends no request at all.
    ws.write("mapping.toml", &MAPPING[..MAPPING.find("[[custom_fields]]").unwrap()]);
    set_delete_after(&ws, "1h");
    ws.write_n(20);
    sync_at(&ws, T0, 0).await;

    // The bottom 10 % cut by mistake: nothing is deleted, the report says when it would be.
    ws.write_n(18);
    ws.fake.clear_requests();
    let report = sync_at(&ws, T0, 0).await;
    assert_eq!(report["planned"]["delete"], 0, "{report}");
    assert_eq!(
        report["pending_deletion"],
        json!([
            {"external_id": "C-0019", "missing_since": "2026-12-01T10:00:00.000Z", "due": "2026-12-01T11:00:00.000Z"},
            {"external_id": "C-0020", "missing_since": "2026-12-01T10:00:00.000Z", "due": "2026-12-01T11:00:00.000Z"}
        ])
    );
    assert!(ws.fake.requests().is_empty(), "{:?}", ws.fake.requests());
    let dry = text(&run_at(&ws, Mode::DryRun, T0_PLUS_59M).await);
    assert!(
        dry.contains(
            "pending            C-0019 (row missing since 2026-12-01T10:00:00.000Z; deleted at 2026-12-01T11:00:00.000Z"
        ),
        "{dry}"
    );
    let status = ws.run(&["status", "--output", "json"]).await;
    let deletes = &serde_json::from_str::<Value>(&status.stdout).unwrap()["deletes"];
    assert_eq!(
        (deletes["pending"].as_u64(), deletes["next_due"].as_str()),
        (Some(2), Some("2026-12-01T11:00:00.000Z"))
    );

    // The rows come back an hour later: the marks go, and the run costs no request.
    ws.write_n(20);
    let report = sync_at(&ws, T0_PLUS_1H, 0).await;
    assert_eq!((report["planned"]["delete"].as_u64(), report["api_requests"].as_u64()), (Some(0), Some(0)));
    assert_eq!(report["pending_deletion"], json!([]));
    assert!(ws.fake.requests().is_empty());
    ws.assert_exactly(&ids(1..=20));

    // Cut again and left cut: the clock starts over, and past the hour the contacts go.
    ws.write_n(18);
    let report = sync_at(&ws, T0_PLUS_1H, 0).await;
    assert_eq!(report["pending_deletion"][0]["due"], "2026-12-01T12:00:00.000Z");
    ws.assert_exactly(&ids(1..=20));
    let report = sync_at(&ws, T0_PLUS_2H, 0).await;
    assert_eq!(report["applied"]["delete"], 2, "{report}");
    ws.assert_exactly(&ids(1..=18));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_contact_comes_back_with_restore_as_it_was_and_stays() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    // Added in the app before the delete: a phone and a custom value the mapping does not map.
    ws.fake.edit_contact(&contact_id(&ws, "C-0002"), |c| {
        c["defaultFields"]["phoneNumbers"].as_array_mut().unwrap().push(json!({"name": "desk", "value": "+14155550177"}));
        c["customFields"].as_array_mut().unwrap().push(
            json!({"name": "Notes", "key": NOTES_FIELD, "id": NOTES_FIELD, "type": "string", "value": "Met at the fair"}),
        );
    });
    let before = ws.by_external_id("C-0002")[0].clone();
    ws.write_rows(&[row(1), row(3)]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["delete"], 1, "{report}");
    assert!(ws.by_external_id("C-0002").is_empty());
    let run = report["run_id"].as_i64().unwrap().to_string();

    let dry = ws.run(&["restore", "--run", &run, "--dry-run", "--output", "json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(serde_json::from_str::<Value>(&dry.stdout).unwrap()["restored"][0]["external_id"], "C-0002");
    assert!(ws.by_external_id("C-0002").is_empty(), "a dry run writes nothing");

    ws.fake.clear_requests();
    let restored = ws.run(&["restore", "--run", &run, "--output", "json"]).await;
    assert_eq!(restored.code, 0, "{}\n{}", restored.stdout, restored.stderr);
    let out: Value = serde_json::from_str(&restored.stdout).unwrap();
    assert_eq!(
        (out["restored"][0]["external_id"].as_str(), out["restored"][0]["adopted"].as_bool()),
        (Some("C-0002"), Some(false))
    );
    let methods: Vec<String> = ws.fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "GET", "POST"], "a lookup, the workspace's custom fields, then the create");
    let back = &ws.by_external_id("C-0002")[0];
    for f in ["firstName", "lastName", "company", "role"] {
        assert_eq!(back["defaultFields"][f], before["defaultFields"][f], "{f}");
    }
    // The same items (new ids: it is a new contact).
    let items = |c: &Value, list: &str| -> Vec<(String, String)> {
        c["defaultFields"][list]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["name"].as_str().unwrap().to_owned(), i["value"].as_str().unwrap().to_owned()))
            .collect()
    };
    assert_eq!(items(back, "emails"), items(&before, "emails"));
    let phones: Vec<&str> = back["defaultFields"]["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(phones, ["+12015550002", "+14155550177"]);
    assert_eq!(custom(back, NOTES_FIELD), "Met at the fair");
    assert_eq!(back["customFields"].as_array().unwrap().len(), before["customFields"].as_array().unwrap().len());
    ws.assert_spec_clean();

    // Its row is still missing: the next two runs keep it, and status says so.
    for _ in 0..2 {
        let report = ws.sync(0).await;
        assert_eq!(
            (report["planned"]["delete"].as_u64(), report["kept_restored"].clone()),
            (Some(0), json!(["C-0002"]))
        );
    }
    assert_eq!(ws.by_external_id("C-0002").len(), 1);
    let status: Value = serde_json::from_str(&ws.run(&["status", "--output", "json"]).await.stdout).unwrap();
    assert_eq!(status["deletes"]["kept_restored"], json!(["C-0002"]));

    // A second restore finds nothing left to restore; `forget` lets it go.
    let again = ws.run(&["restore", "C-0002", "--output", "json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&again.stdout).unwrap()["restored"], json!([]));
    let forget = ws.run(&["forget", "C-0002", "C-0009", "--output", "json"]).await;
    assert_eq!(forget.code, 1, "C-0009 is not a kept restore");
    assert_eq!(serde_json::from_str::<Value>(&forget.stdout).unwrap()["forgotten"], json!(["C-0002"]));
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["delete"], 1, "{report}");
    assert!(ws.by_external_id("C-0002").is_empty());
    ws.assert_exactly(&[ids(1..=1), ids(3..=3)].concat());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_that_comes_back_after_a_restore_is_synced_and_no_longer_kept() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.sync(0).await;
    ws.write_rows(&[row(1)]);
    ws.sync(0).await;
    let restored = ws.run(&["restore", "C-0002", "--output", "json"]).await;
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Globex")]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1, "{report}");
    assert_eq!(report["kept_restored"], json!([]));
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Globex");
    ws.assert_exactly(&ids(1..=2));
}
