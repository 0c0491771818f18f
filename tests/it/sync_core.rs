//! End-to-end: first sync, no-op rerun, exact deltas, dry run, bad rows, the mass-delete
//! guard, item edits by id, and contacts changed behind the sync's back.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::support::{Workspace, custom, ids, row};

#[tokio::test(flavor = "multi_thread")]
async fn first_sync_creates_exactly_the_source() {
    let ws = Workspace::new().await;
    ws.write_rows(&[
        row(1),
        row(2),
        "C-0003,\"Doe, Jr.\",,\"Acme, \"\"Inc\"\"\",,(415) 555-2671,,no,-3.5,2025-06-30T12:00:00+02:00,".to_owned(),
    ]);
    let report = ws.sync(0).await;
    assert_eq!(report["mode"], "apply");
    assert_eq!(report["source_rows"], 3);
    assert_eq!(report["planned"], json!({"create": 3, "update": 0, "delete": 0, "unchanged": 0}));
    assert_eq!(report["applied"], json!({"create": 3, "update": 0, "delete": 0}));
    assert_eq!(report["failed"], 0);
    assert_eq!(report["errors"], json!([]));
    ws.assert_exactly(&ids(1..=3));

    let c1 = &ws.by_external_id("C-0001")[0];
    assert_eq!(c1["source"], "contact-sync");
    assert_eq!(c1["defaultFields"]["firstName"], "First1");
    assert_eq!(c1["defaultFields"]["lastName"], "Last1");
    assert_eq!(c1["defaultFields"]["company"], "Company 1");
    assert_eq!(c1["defaultFields"]["emails"][0]["name"], "work");
    assert_eq!(c1["defaultFields"]["emails"][0]["value"], "user1@example.com");
    assert_eq!(c1["defaultFields"]["phoneNumbers"][0]["value"], "+12015550001");
    assert_eq!(custom(c1, "66aa00000000000000000001"), json!("Referral"));
    assert_eq!(custom(c1, "66aa00000000000000000002"), json!(true));
    assert_eq!(custom(c1, "66aa00000000000000000003"), json!(1));
    assert_eq!(custom(c1, "66aa00000000000000000004"), json!("2025-01-02T00:00:00.000Z"));
    assert_eq!(custom(c1, "66aa00000000000000000005"), json!(["a", "b"]));

    let c3 = &ws.by_external_id("C-0003")[0];
    assert_eq!(c3["defaultFields"]["firstName"], "Doe, Jr.");
    assert_eq!(c3["defaultFields"]["lastName"], json!(null));
    assert_eq!(c3["defaultFields"]["company"], "Acme, \"Inc\"");
    assert_eq!(c3["defaultFields"]["emails"], json!([]));
    assert_eq!(c3["defaultFields"]["phoneNumbers"][0]["value"], "+14155552671");
    assert_eq!(custom(c3, "66aa00000000000000000002"), json!(false));
    assert_eq!(custom(c3, "66aa00000000000000000003"), json!(-3.5));
    assert_eq!(custom(c3, "66aa00000000000000000004"), json!("2025-06-30T10:00:00.000Z"));
    ws.assert_spec_clean();

    // Requests: 1 custom-field list, 1 lookup for 3 new ids, 3 creates.
    assert_eq!(report["api_requests"], 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn noop_rerun_costs_at_most_two_requests_and_writes_nothing() {
    let ws = Workspace::new().await;
    ws.write_n(30);
    ws.sync(0).await;
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(report["planned"], json!({"create": 0, "update": 0, "delete": 0, "unchanged": 30}));
    assert_eq!(report["applied"], json!({"create": 0, "update": 0, "delete": 0}));
    let sent = ws.fake.requests();
    assert!(sent.len() <= 2, "a no-op run sent {} requests: {sent:#?}", sent.len());
    assert!(sent.iter().all(|r| r.method == "GET"), "{sent:#?}");
    assert_eq!(report["api_requests"], sent.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delta_costs_one_request_per_change_and_patches_the_complete_contact() {
    let ws = Workspace::new().await;
    ws.write_n(10);
    ws.sync(0).await;
    let before = ws.by_external_id("C-0003")[0].clone();
    ws.fake.clear_requests();

    // Row 3: new company. Row 10 removed. Rows 11, 12 added.
    let mut rows: Vec<String> = (1..=9).map(row).collect();
    rows[2] = rows[2].replace("Company 3", "Globex");
    rows.push(row(11));
    rows.push(row(12));
    ws.write_rows(&rows);
    let report = ws.sync(0).await;
    assert_eq!(report["planned"], json!({"create": 2, "update": 1, "delete": 1, "unchanged": 8}));
    assert_eq!(report["applied"], json!({"create": 2, "update": 1, "delete": 1}));

    let sent = ws.fake.requests();
    let count = |m: &str| sent.iter().filter(|r| r.method == m).count();
    assert_eq!((count("POST"), count("PATCH"), count("DELETE")), (2, 1, 1), "{sent:#?}");
    // GETs: the custom-field list and one lookup that reads the two new ids, the changed one
    // and the one to delete.
    assert_eq!(count("GET"), 2, "{sent:#?}");
    let lookup = sent.iter().find(|r| r.method == "GET" && r.path == "/v1/contacts").unwrap();
    let asked: Vec<&str> = lookup.query.iter().filter(|(k, _)| k == "externalIds").map(|(_, v)| v.as_str()).collect();
    assert_eq!(asked, vec!["C-0011", "C-0012", "C-0003", "C-0010"]);
    // The PATCH is the complete contact as it was, ids kept, with the new company.
    let patch = sent.iter().find(|r| r.method == "PATCH").unwrap().body.clone().unwrap();
    let df = &before["defaultFields"];
    assert_eq!(
        patch["defaultFields"],
        json!({"firstName": df["firstName"], "lastName": df["lastName"], "company": "Globex", "role": null,
               "emails": df["emails"], "phoneNumbers": df["phoneNumbers"]})
    );
    let sent_custom: Vec<(&str, &Value)> =
        patch["customFields"].as_array().unwrap().iter().map(|c| (c["key"].as_str().unwrap(), &c["value"])).collect();
    let had_custom: Vec<(&str, &Value)> =
        before["customFields"].as_array().unwrap().iter().map(|c| (c["key"].as_str().unwrap(), &c["value"])).collect();
    assert_eq!(sent_custom, had_custom);
    assert_eq!((&patch["externalId"], &patch["source"]), (&json!("C-0003"), &json!("contact-sync")));

    let mut want = ids(1..=9);
    want.extend(ids(11..=12));
    ws.assert_exactly(&want);
    assert_eq!(ws.by_external_id("C-0003")[0]["defaultFields"]["company"], "Globex");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn emails_and_phones_are_edited_and_removed_by_item_id() {
    let ws = Workspace::new().await;
    ws.write_rows(&[row(1), row(2)]);
    ws.sync(0).await;
    let before = ws.by_external_id("C-0001")[0].clone();
    let email_id = before["defaultFields"]["emails"][0]["id"].clone();
    let phone_id = before["defaultFields"]["phoneNumbers"][0]["id"].clone();

    ws.fake.clear_requests();
    ws.write_rows(&[row(1).replace("user1@example.com", "new1@example.com").replace("+1 201 555 0001", ""), row(2)]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1);
    let patch = ws.fake.requests().into_iter().find(|r| r.method == "PATCH").unwrap().body.unwrap();
    assert_eq!(
        patch["defaultFields"]["emails"],
        json!([{"id": email_id, "name": "work", "value": "new1@example.com"}])
    );
    assert_eq!(patch["defaultFields"]["phoneNumbers"], json!([{"id": phone_id, "name": "mobile", "value": null}]));
    let after = &ws.by_external_id("C-0001")[0];
    assert_eq!(
        after["defaultFields"]["emails"],
        json!([{"id": email_id, "name": "work", "value": "new1@example.com"}])
    );
    assert_eq!(after["defaultFields"]["phoneNumbers"], json!([]));

    // Adding the phone back adds an item (no id), and the next run is a no-op.
    ws.write_rows(&[row(1).replace("user1@example.com", "new1@example.com"), row(2)]);
    ws.sync(0).await;
    let after = &ws.by_external_id("C-0001")[0];
    assert_eq!(after["defaultFields"]["phoneNumbers"][0]["value"], "+12015550001");
    assert_eq!(after["defaultFields"]["phoneNumbers"].as_array().unwrap().len(), 1);
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 2);
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_writes_nothing_and_lists_field_changes() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    let run = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["mode"], "dry_run");
    assert_eq!(report["planned"]["create"], 3);
    assert_eq!(report["applied"], json!({"create": 0, "update": 0, "delete": 0}));
    assert!(!ws.mirror_path().exists(), "a dry run must not create the mirror");
    assert!(ws.fake.contacts().is_empty());
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));

    ws.sync(0).await;
    let mirror_before = std::fs::read(ws.mirror_path()).unwrap();
    ws.write_rows(&[row(1).replace("First1", "Ada"), row(2)]);
    ws.fake.clear_requests();
    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("update  row 2      C-0001"), "{}", run.stdout);
    assert!(run.stdout.contains("first_name: \"First1\" → \"Ada\""), "{}", run.stdout);
    assert!(run.stdout.contains("delete             C-0003"), "{}", run.stdout);
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(std::fs::read(ws.mirror_path()).unwrap(), mirror_before, "a dry run must not write the mirror");
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["firstName"], "First1");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_without_a_key_plans_offline() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    let run = ws.run_with_key(&["sync", "--dry-run", "--output", "json"], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["planned"]["create"], 2);
    let notes = report["notes"].to_string();
    assert!(notes.contains("custom fields were not checked"), "{notes}");
    assert!(notes.contains("not looked up"), "{notes}");
    assert!(ws.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_rows_are_reported_by_row_and_the_rest_sync() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", &crate::support::strict_mapping());
    ws.write_rows(&[
        row(1),
        row(2).replace("user2@example.com", "not-an-email"),
        ",NoId,,,,,,,,,".to_owned(),
        row(4).replace(",yes,", ",perhaps,"),
        row(5),
        "C-0006,too,few".to_owned(),
        row(7).replace("+1 201 555 0007", "12"),
        row(5).replace("First5", "Dup"),
    ]);
    let report = ws.sync(1).await;
    assert_eq!(report["source_rows"], 8);
    assert_eq!(report["invalid_rows"], 7);
    let errors = report["errors"].as_array().unwrap();
    let rows: Vec<u64> = errors.iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, vec![3, 4, 5, 6, 7, 8, 9]);
    let msg = |r: u64| errors.iter().find(|e| e["row"] == r).unwrap()["message"].as_str().unwrap().to_owned();
    assert!(msg(3).contains("\"not-an-email\" is not an email address"), "{}", msg(3));
    assert_eq!(msg(4), "missing external id: column \"ID\" is empty");
    assert!(msg(5).contains("column \"VIP\" (boolean field): \"perhaps\""), "{}", msg(5));
    assert!(msg(6).contains("also on row 9"), "{}", msg(6));
    assert!(msg(7).contains("fields but the header has"), "{}", msg(7));
    assert!(msg(8).contains("column \"Mobile\""), "{}", msg(8));
    assert_eq!(errors[1]["external_id"], json!(null));
    assert_eq!(errors[0]["external_id"], "C-0002");
    assert_eq!(errors[0]["action"], json!(null));
    ws.assert_exactly(&ids([1]));
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_rows_never_delete_their_contacts() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", &crate::support::strict_mapping());
    ws.write_n(4);
    ws.sync(0).await;
    ws.write_rows(&[row(1), row(2).replace(",yes,", ",perhaps,"), row(3), row(4)]);
    let report = ws.sync(1).await;
    assert_eq!(report["planned"]["delete"], 0);
    ws.assert_exactly(&ids(1..=4));
}

#[tokio::test(flavor = "multi_thread")]
async fn mass_delete_guard_refuses_unless_allowed() {
    let ws = Workspace::new().await;
    ws.write_n(10);
    ws.sync(0).await;
    ws.write_rows(&(1..=4).map(row).collect::<Vec<_>>());
    ws.fake.clear_requests();
    let report = ws.sync(3).await;
    assert_eq!(report["outcome"], "refused");
    assert!(report["fatal"].as_str().unwrap().contains("6 of 10"), "{report}");
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));
    ws.assert_exactly(&ids(1..=10));

    // An empty source is refused even below the fraction.
    ws.write_rows(&[]);
    let report = ws.sync(3).await;
    assert!(report["fatal"].as_str().unwrap().contains("no valid records"), "{report}");
    ws.assert_exactly(&ids(1..=10));

    ws.write_rows(&(1..=4).map(row).collect::<Vec<_>>());
    let run = ws.run(&["sync", "--allow-mass-delete", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report()["applied"]["delete"], 6);
    ws.assert_exactly(&ids(1..=4));
}

#[tokio::test(flavor = "multi_thread")]
async fn contacts_changed_in_the_app_are_repaired() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    // C-0001 deleted in the app, then its row changes: it is created again.
    let id1 = ws.by_external_id("C-0001")[0]["id"].as_str().unwrap().to_owned();
    ws.fake.remove_contact(&id1);
    // C-0003 deleted in the app, and its row is removed: found gone, nothing to send.
    let id3 = ws.by_external_id("C-0003")[0]["id"].as_str().unwrap().to_owned();
    ws.fake.remove_contact(&id3);
    ws.write_rows(&[row(1).replace("First1", "Again"), row(2)]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"], json!({"create": 0, "update": 1, "delete": 0}));
    assert_eq!(report["already_gone"], 1, "{report:#}");
    ws.assert_exactly(&ids(1..=2));
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["firstName"], "Again");
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 2);
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_with_our_external_id_made_by_someone_else_is_left_alone() {
    let ws = Workspace::new().await;
    ws.fake.insert_contact(json!({
        "defaultFields": {"firstName": "Theirs"},
        "externalId": "C-0001",
        "source": "hubspot-import"
    }));
    ws.write_n(2);
    let report = ws.sync(1).await;
    assert_eq!(report["applied"]["create"], 1);
    assert_eq!(report["failed"], 1);
    assert!(report["errors"][0]["message"].as_str().unwrap().contains("not created by openphone-sync"));
    assert_eq!(ws.by_external_id("C-0001").len(), 1);
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["firstName"], "Theirs");
}

#[tokio::test(flavor = "multi_thread")]
async fn fields_the_mapping_leaves_out_are_never_cleared() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.sync(0).await;
    // The user stops mapping the company, and sets one in the app.
    let mapping = std::fs::read_to_string(ws.path("mapping.toml")).unwrap();
    ws.write("mapping.toml", &mapping.replace("company    = \"Company\"\n", ""));
    let id = ws.by_external_id("C-0001")[0]["id"].as_str().unwrap().to_owned();
    ws.fake.edit_contact(&id, |c| c["defaultFields"]["company"] = json!("Set in the app"));
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 0, "{report}");
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["company"], "Set in the app");
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Company 2");

    // Nor when the mirror is lost and the contacts are adopted and patched.
    std::fs::remove_file(ws.mirror_path()).unwrap();
    ws.write_rows(&[row(1).replace("First1", "Changed"), row(2)]);
    let report = ws.sync(0).await;
    assert_eq!(report["adopted"], 2, "{report}");
    let c1 = &ws.by_external_id("C-0001")[0];
    assert_eq!(c1["defaultFields"]["firstName"], "Changed");
    assert_eq!(c1["defaultFields"]["company"], "Set in the app");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_in_an_unmapped_column_costs_nothing() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    // Same rows, plus a column no mapping reads.
    let mut text = format!("{},Notes\n", crate::support::HEADER);
    for n in 1..=3 {
        let _ = writeln!(text, "{},note {n}", row(n));
    }
    ws.write("contacts.csv", &text);
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 3);
    assert!(ws.fake.requests().len() <= 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_invalid_the_same_way_as_last_run_do_not_fail_the_run_again() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", &crate::support::strict_mapping());
    ws.write_rows(&[row(1), row(2).replace(",yes,", ",perhaps,"), "C-0003,too,few".to_owned()]);
    let report = ws.sync(1).await;
    assert_eq!((report["invalid_rows"].clone(), report["known_invalid_rows"].clone()), (json!(2), json!(0)));
    // The same rows, the same problems: known, exit 0.
    let report = ws.sync(0).await;
    assert_eq!((report["invalid_rows"].clone(), report["known_invalid_rows"].clone()), (json!(2), json!(2)));
    assert_eq!(report["outcome"], "ok");
    let run = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    // A new problem on a known row, or a new invalid row: exit 1.
    ws.write_rows(&[row(1), row(2).replace(",yes,", ",maybe,"), "C-0003,too,few".to_owned()]);
    let report = ws.sync(1).await;
    assert_eq!(report["known_invalid_rows"], 1);
    let run = ws.run(&["status", "--output", "json"]).await;
    assert!(run.stdout.contains("\"known_invalid_rows\": 1"), "{}", run.stdout);
}
