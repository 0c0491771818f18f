//! The contacts API as it is live today (the fake's default rules): a PATCH replaces the
//! lists it is not sent, and a lookup takes at most 20 externalIds. What a user added in the
//! app survives every write, under both readings of PATCH; lookups stay within 20 ids; and a
//! lookup that fails never turns into a write.

use serde_json::{Value, json};

use crate::support::fake_openphone::{FakeOptions, Fault, FaultRule, MAX_EXTERNAL_IDS, PatchMode};
use crate::support::{NOTES_FIELD, Workspace, custom, ids, row, standard_fields};

const LEAD_SOURCE: &str = "66aa00000000000000000001";

async fn workspace(mode: PatchMode) -> Workspace {
    Workspace::with(FakeOptions { custom_fields: standard_fields(), patch_mode: mode, ..FakeOptions::default() }).await
}

/// A fast workspace for hundreds of records: no server-side limit, a high client limit.
async fn fast_workspace() -> Workspace {
    let ws =
        Workspace::with(FakeOptions { custom_fields: standard_fields(), rate_limit: None, ..FakeOptions::default() })
            .await;
    ws.write_config("requests_per_second = 500\n");
    ws
}

fn contact_id(ws: &Workspace, ext: &str) -> String {
    ws.by_external_id(ext)[0]["id"].as_str().unwrap().to_owned()
}

fn values(contact: &Value, list: &str) -> Vec<String> {
    let mut v: Vec<String> = contact["defaultFields"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{}={}", i["name"].as_str().unwrap(), i["value"].as_str().unwrap()))
        .collect();
    v.sort();
    v
}

fn lookups(ws: &Workspace) -> Vec<Vec<String>> {
    ws.fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/contacts")
        .map(|r| r.query.iter().filter(|(k, _)| k == "externalIds").map(|(_, v)| v.clone()).collect())
        .collect()
}

fn rule(method: &str, path: &str, fault: Fault, times: usize) -> FaultRule {
    FaultRule { method: Some(method.into()), path_prefix: Some(path.into()), fault, times, probability: None }
}

/// Values added in the app (emails, phones, unmapped custom values, a role, items with the
/// tool's own labels) survive updates, drift repair and `--verify`.
async fn app_values_survive_every_write(mode: PatchMode) {
    let ws = workspace(mode).await;
    ws.write_n(4);
    ws.sync(0).await;

    ws.fake.edit_contact(&contact_id(&ws, "C-0001"), |c| {
        c["defaultFields"]["emails"].as_array_mut().unwrap().push(json!({"name": "home", "value": "home1@mail.io"}));
        c["defaultFields"]["phoneNumbers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "home", "value": "+14155550199"}));
    });
    ws.fake.edit_contact(&contact_id(&ws, "C-0002"), |c| {
        c["customFields"].as_array_mut().unwrap().push(
            json!({"name": "Notes", "key": NOTES_FIELD, "id": NOTES_FIELD, "type": "string", "value": "VIP since 2019"}),
        );
        c["defaultFields"]["role"] = json!("CEO");
    });
    // Items with the tool's own labels, added beside the tool's.
    ws.fake.edit_contact(&contact_id(&ws, "C-0003"), |c| {
        c["defaultFields"]["phoneNumbers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "mobile", "value": "+14155550188"}));
    });
    ws.fake.edit_contact(&contact_id(&ws, "C-0004"), |c| {
        c["defaultFields"]["emails"].as_array_mut().unwrap().push(json!({"name": "work", "value": "alt4@mail.io"}));
    });

    // The source changes every contact: a company each, an email, a phone emptied, a custom value.
    let mut rows: Vec<String> =
        (1..=4).map(|n| row(n).replace(&format!("Company {n}"), &format!("NewCo {n}"))).collect();
    rows[0] = rows[0].replace("user1@example.com", "new1@example.com");
    rows[2] = rows[2].replace("+1 201 555 0003", "");
    rows[3] = rows[3].replace("Referral", "Trade show");
    ws.write_rows(&rows);
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(report["applied"], json!({"create": 0, "update": 4, "delete": 0}), "{report}");
    // Budget: N updates cost N PATCHes + ⌈N/20⌉ reads, plus the custom-field list.
    assert_eq!(report["api_requests"], 4 + 1 + 1, "{report}");
    assert_eq!(lookups(&ws), vec![ids(1..=4)]);

    let c1 = &ws.by_external_id("C-0001")[0];
    assert_eq!(values(c1, "emails"), ["home=home1@mail.io", "work=new1@example.com"]);
    assert_eq!(values(c1, "phoneNumbers"), ["home=+14155550199", "mobile=+12015550001"]);
    let c2 = &ws.by_external_id("C-0002")[0];
    assert_eq!(custom(c2, NOTES_FIELD), "VIP since 2019");
    assert_eq!((&c2["defaultFields"]["role"], &c2["defaultFields"]["company"]), (&json!("CEO"), &json!("NewCo 2")));
    let c3 = &ws.by_external_id("C-0003")[0];
    assert_eq!(values(c3, "phoneNumbers"), ["mobile=+14155550188"], "only the tool's number was removed");
    let c4 = &ws.by_external_id("C-0004")[0];
    assert_eq!(values(c4, "emails"), ["work=alt4@mail.io", "work=user4@example.com"]);
    assert_eq!(custom(c4, LEAD_SOURCE), "Trade show");

    // Drift repair: a name edited in the app is restored by --verify; the app's values stay.
    ws.fake.edit_contact(&contact_id(&ws, "C-0002"), |c| {
        c["defaultFields"]["firstName"] = json!("Edited");
        c["defaultFields"]["phoneNumbers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "desk", "value": "+14155550177"}));
    });
    let run = ws.run(&["sync", "--verify", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["verify"]["drifted"][0]["external_id"], "C-0002", "{report}");
    assert_eq!(report["applied"]["update"], 1);
    let c2 = &ws.by_external_id("C-0002")[0];
    assert_eq!(c2["defaultFields"]["firstName"], "First2");
    assert_eq!(values(c2, "phoneNumbers"), ["desk=+14155550177", "mobile=+12015550002"]);
    assert_eq!(custom(c2, NOTES_FIELD), "VIP since 2019");
    assert_eq!(c2["defaultFields"]["role"], "CEO");

    // A second verify finds everything in step, and the app's values are all still there.
    let report = ws.run(&["sync", "--verify", "--output", "json"]).await.report();
    assert_eq!(report["verify"], json!({"checked": 4, "drifted": [], "missing": []}), "{report}");
    assert_eq!(values(&ws.by_external_id("C-0001")[0], "emails"), ["home=home1@mail.io", "work=new1@example.com"]);
    assert_eq!(values(&ws.by_external_id("C-0004")[0], "emails"), ["work=alt4@mail.io", "work=user4@example.com"]);
    ws.assert_exactly(&ids(1..=4));
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn app_values_survive_every_write_when_patch_replaces() {
    app_values_survive_every_write(PatchMode::Replace).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn app_values_survive_every_write_when_patch_merges() {
    app_values_survive_every_write(PatchMode::Merge).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_hundred_new_rows_cost_fifteen_lookups_and_no_400() {
    let ws = fast_workspace().await;
    ws.write_n(300);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"], json!({"create": 300, "update": 0, "delete": 0}), "{report}");
    assert_eq!((report["failed"].as_u64(), report["outcome"].as_str()), (Some(0), Some("ok")));
    let batches = lookups(&ws);
    assert_eq!(batches.len(), 15);
    assert!(batches.iter().all(|b| b.len() == MAX_EXTERNAL_IDS), "{batches:?}");
    assert!(ws.fake.requests().iter().all(|r| r.status != 400), "no request was refused");
    assert_eq!(report["api_requests"], 1 + 15 + 300);
    ws.assert_exactly(&ids(1..=300));
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_lookup_sends_no_create_and_the_next_run_finishes() {
    let ws = fast_workspace().await;
    ws.write_n(30);
    // One of the two lookups (20 + 10 ids) is refused.
    ws.fake.add_fault(rule("GET", "/v1/contacts", Fault::FailBeforeApply { status: 400 }, 1));
    let report = ws.sync(1).await;
    let failed: Vec<&str> =
        report["errors"].as_array().unwrap().iter().map(|e| e["external_id"].as_str().unwrap()).collect();
    assert!(failed.len() == 10 || failed.len() == 20, "{report}");
    assert_eq!(report["applied"]["create"].as_u64().unwrap() as usize, 30 - failed.len());
    for e in report["errors"].as_array().unwrap() {
        assert!(e["message"].as_str().unwrap().contains("lookup before writing failed"), "{e}");
        assert_eq!((e["action"].as_str(), e["status"].as_u64()), (Some("create"), Some(400)));
    }
    let posted: Vec<String> = ws
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body.as_ref().unwrap()["externalId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(posted.len(), 30 - failed.len());
    assert!(failed.iter().all(|f| !posted.iter().any(|p| p == f)), "a record whose lookup failed was created");

    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"].as_u64().unwrap() as usize, failed.len());
    ws.assert_exactly(&ids(1..=30));
}

#[tokio::test(flavor = "multi_thread")]
async fn openphone_down_at_the_lookup_sends_nothing_and_exits_4() {
    let ws = fast_workspace().await;
    ws.write_config("requests_per_second = 500\nmax_retries = 0\n");
    ws.write_n(50);
    ws.fake.add_fault(rule("GET", "/v1/contacts", Fault::FailBeforeApply { status: 503 }, 100));
    let report = ws.sync(4).await;
    assert_eq!(report["outcome"], "unavailable");
    assert_eq!((report["failed"].as_u64(), report["applied"]["create"].as_u64()), (Some(50), Some(0)));
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"), "nothing was written");
    assert!(ws.fake.contacts().is_empty());
    ws.fake.clear_faults();
    ws.sync(0).await;
    ws.assert_exactly(&ids(1..=50));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_read_before_update_sends_no_patch() {
    let ws = fast_workspace().await;
    ws.write_n(5);
    ws.sync(0).await;
    let rows: Vec<String> = (1..=5).map(|n| row(n).replace(&format!("Company {n}"), "Globex")).collect();
    ws.write_rows(&rows);
    ws.fake.clear_requests();
    ws.fake.add_fault(rule("GET", "/v1/contacts", Fault::FailBeforeApply { status: 400 }, 1));
    let report = ws.sync(1).await;
    assert_eq!((report["failed"].as_u64(), report["applied"]["update"].as_u64()), (Some(5), Some(0)), "{report}");
    assert!(ws.fake.requests().iter().all(|r| r.method != "PATCH"), "a record whose read failed was written");
    assert!(ws.fake.contacts().iter().all(|c| c["defaultFields"]["company"] != "Globex"));
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 5);
    assert!(ws.fake.contacts().iter().all(|c| c["defaultFields"]["company"] == "Globex"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_taken_over_by_another_source_is_reported_not_touched() {
    let ws = workspace(PatchMode::Replace).await;
    ws.write_n(2);
    ws.sync(0).await;
    ws.fake.edit_contact(&contact_id(&ws, "C-0002"), |c| c["source"] = json!("hubspot"));
    let before = ws.by_external_id("C-0002")[0].clone();
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Globex")]);
    ws.fake.clear_requests();
    let report = ws.sync(1).await;
    assert_eq!(report["failed"], 1, "{report}");
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("\"hubspot\"") && message.contains("left alone"), "{message}");
    assert_eq!(report["errors"][0]["row"], 3);
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(ws.by_external_id("C-0002"), vec![before]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_deleted_in_the_app_is_created_again_after_a_lookup() {
    let ws = workspace(PatchMode::Replace).await;
    ws.write_n(3);
    ws.sync(0).await;
    ws.fake.remove_contact(&contact_id(&ws, "C-0002"));
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Globex"), row(3)]);
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1, "{report}");
    // One lookup read the record before the write; it found nothing, so the create followed.
    let sent: Vec<(String, String)> = ws.fake.requests().iter().map(|r| (r.method.clone(), r.path.clone())).collect();
    let kinds: Vec<&str> = sent.iter().map(|(m, _)| m.as_str()).filter(|m| *m != "GET").collect();
    assert_eq!(kinds, ["POST"], "{sent:?}");
    assert_eq!(lookups(&ws), vec![vec!["C-0002".to_owned()]]);
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Globex");
    ws.assert_exactly(&ids(1..=3));
}
