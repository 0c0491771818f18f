//! Drift between the mirror and OpenPhone: contacts edited or deleted in the app behind the
//! sync's back (found and restored by `sync --verify`), and a lost or emptied mirror file
//! (rebuilt from lookups with no duplicate).

use serde_json::json;

use crate::support::{Workspace, custom, ids, row};

const LEAD_SOURCE: &str = "66aa00000000000000000001";

fn contact_id(ws: &Workspace, ext: &str) -> String {
    ws.by_external_id(ext)[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_finds_edits_made_in_the_app_and_restores_them() {
    let ws = Workspace::new().await;
    ws.write_n(6);
    ws.sync(0).await;

    // Edits in the app: a name, an email, a custom field; one contact deleted; and an edit
    // of a field the mapping leaves alone (role), which is not drift.
    ws.fake.edit_contact(&contact_id(&ws, "C-0001"), |c| c["defaultFields"]["firstName"] = json!("Edited"));
    ws.fake.edit_contact(&contact_id(&ws, "C-0002"), |c| {
        c["defaultFields"]["emails"][0]["value"] = json!("typo@example.com");
    });
    ws.fake.edit_contact(&contact_id(&ws, "C-0003"), |c| {
        let fields = c["customFields"].as_array_mut().unwrap();
        fields.iter_mut().find(|f| f["key"] == LEAD_SOURCE).unwrap()["value"] = json!("Cold call");
    });
    ws.fake.remove_contact(&contact_id(&ws, "C-0004"));
    ws.fake.edit_contact(&contact_id(&ws, "C-0005"), |c| c["defaultFields"]["role"] = json!("CEO"));

    // An ordinary run trusts the mirror: it sees nothing and costs nothing.
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 6, "{report}");
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));

    // A dry run with --verify reports the drift and writes nothing.
    let before = ws.fake.contacts();
    let run = ws.run(&["sync", "--verify", "--dry-run", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let v = &report["verify"];
    assert_eq!(v["checked"], 6, "{report}");
    assert_eq!(v["missing"], json!(["C-0004"]));
    let drifted: Vec<&str> =
        v["drifted"].as_array().unwrap().iter().map(|d| d["external_id"].as_str().unwrap()).collect();
    assert_eq!(drifted, ["C-0001", "C-0002", "C-0003"]);
    assert_eq!(v["drifted"][0]["fields"], json!([{"field": "first_name", "synced": "First1", "now": "Edited"}]));
    assert_eq!(v["drifted"][1]["fields"][0]["now"], "typo@example.com");
    assert_eq!(v["drifted"][2]["fields"][0]["now"], "Cold call");
    assert_eq!(report["planned"], json!({"create": 1, "update": 3, "delete": 0, "unchanged": 2}));
    assert_eq!(ws.fake.contacts(), before, "a dry run writes nothing");

    // The real run restores them: one PATCH each (the complete contact, from the read the
    // verify made: no second read), with the drifted field set back.
    ws.fake.clear_requests();
    let run = ws.run(&["sync", "--verify", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["applied"], json!({"create": 1, "update": 3, "delete": 0}), "{report}");
    let patches: Vec<_> = ws.fake.requests().into_iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 3);
    let first = patches.iter().find(|r| r.path.ends_with(&contact_id(&ws, "C-0001"))).unwrap();
    assert_eq!(first.body.as_ref().unwrap()["defaultFields"]["firstName"], "First1");
    let reads = ws.fake.requests().iter().filter(|r| r.path == "/v1/contacts" && r.method == "GET").count();
    assert_eq!(reads, 2, "one read-back of the 6 mirrored contacts, one lookup before the create");
    ws.assert_workspace_equals_source().await;
    ws.assert_spec_clean();
    // The app's value in an unmapped field stays.
    assert_eq!(ws.by_external_id("C-0005")[0]["defaultFields"]["role"], "CEO");
    assert_eq!(custom(&ws.by_external_id("C-0003")[0], LEAD_SOURCE), "Referral");

    // Now the mirror agrees with OpenPhone: a second verify finds nothing, for one lookup.
    ws.fake.clear_requests();
    let run = ws.run(&["sync", "--verify", "--output", "json"]).await;
    let report = run.report();
    assert_eq!(report["verify"], json!({"checked": 6, "drifted": [], "missing": []}), "{report}");
    assert_eq!(report["planned"]["unchanged"], 6);
    let lookups = ws.fake.requests().iter().filter(|r| r.path == "/v1/contacts").count();
    assert_eq!(lookups, 1, "6 contacts are read back in one request");
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_needs_the_key_and_an_edit_that_matches_the_source_costs_nothing() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.sync(0).await;
    let run = ws.run_with_key(&["sync", "--verify", "--dry-run"], None).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--verify") && run.stderr.contains("API key"), "{}", run.stderr);

    // The app and the source made the same edit: verify learns it, no PATCH is sent, and
    // the next ordinary run trusts the mirror again.
    ws.fake.edit_contact(&contact_id(&ws, "C-0001"), |c| c["defaultFields"]["company"] = json!("Renamed Inc"));
    ws.write_rows(&[row(1).replace("Company 1", "Renamed Inc"), row(2)]);
    ws.fake.clear_requests();
    let run = ws.run(&["sync", "--verify", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report()["verify"]["drifted"].as_array().unwrap().len(), 1);
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"), "nothing to write");
    ws.fake.clear_requests();
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 2);
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_emptied_mirror_file_is_rebuilt_from_lookups() {
    let ws = Workspace::new().await;
    ws.write_n(8);
    ws.sync(0).await;
    // An operator empties the file (`: > mirror.sqlite3`) and removes its journal.
    std::fs::write(ws.mirror_path(), b"").unwrap();
    let _ = std::fs::remove_file(ws.path("mirror.sqlite3-wal"));
    let _ = std::fs::remove_file(ws.path("mirror.sqlite3-shm"));
    // A dry run says which creates would adopt a contact, and which meet someone else's.
    ws.fake.insert_contact(json!({"externalId": "C-0009", "source": "hubspot", "defaultFields": {"firstName": "H"}}));
    ws.write_n(9);
    let run = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
    let report = run.report();
    let changes = report["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 9, "{report}");
    assert!(changes[0]["changes"][0].as_str().unwrap().contains("would be adopted, not created again"), "{report}");
    assert!(changes[8]["changes"][0].as_str().unwrap().contains("another source (hubspot)"), "{report}");
    ws.write_n(8);
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(report["adopted"], 8, "{report}");
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"), "adopted, nothing created or patched");
    let mut want = ids(1..=8);
    want.push("C-0009".into());
    ws.assert_exactly(&want);
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 8);
}

/// A mirror of more than 20 contacts is read back by listing our `source` (50 a page) while
/// that is cheaper than lookups of 20; what the listing does not show is looked up, and only a
/// lookup declares a contact deleted.
#[tokio::test(flavor = "multi_thread")]
async fn verify_of_a_larger_mirror_lists_by_source_and_looks_up_the_rest() {
    let ws = Workspace::new().await;
    ws.fake.set_rate_limit(None);
    ws.write_config("requests_per_second = 500\n");
    ws.write_n(45);
    ws.sync(0).await;
    ws.fake.edit_contact(&contact_id(&ws, "C-0007"), |c| c["defaultFields"]["lastName"] = json!("Edited"));
    ws.fake.remove_contact(&contact_id(&ws, "C-0030"));
    ws.fake.clear_requests();
    let report = ws.run(&["sync", "--verify", "--output", "json"]).await.report();
    assert_eq!(report["verify"]["checked"], 45, "{report}");
    assert_eq!(report["verify"]["missing"], json!(["C-0030"]));
    assert_eq!(report["verify"]["drifted"][0]["external_id"], "C-0007");
    let reads: Vec<Vec<(String, String)>> = ws
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/contacts")
        .map(|r| r.query)
        .collect();
    // One page lists all 44 (no externalIds), one lookup confirms the missing one, one more
    // looks it up again before it is created.
    assert!(reads[0].iter().any(|(k, v)| k == "sources" && v == "contact-sync"), "{reads:?}");
    assert!(reads[0].iter().all(|(k, _)| k != "externalIds"));
    assert_eq!(reads.len(), 3, "{reads:?}");
    ws.assert_workspace_equals_source().await;
}

/// Another instance shares the label with 200 older contacts of its own: the listing stops at
/// the cost of lookups (3 pages for 45 mirrored) and the rest is looked up; nothing is missed.
#[tokio::test(flavor = "multi_thread")]
async fn verify_stops_listing_a_shared_label_at_the_cost_of_lookups() {
    let ws = Workspace::new().await;
    ws.fake.set_rate_limit(None);
    ws.write_config("requests_per_second = 500\n");
    for n in 0..200 {
        ws.fake.insert_contact(json!({"externalId": format!("other-{n:03}"), "source": "contact-sync",
            "defaultFields": {"firstName": "Other"}}));
    }
    ws.write_n(45);
    ws.sync(0).await;
    ws.fake.clear_requests();
    let report = ws.run(&["sync", "--verify", "--output", "json"]).await.report();
    assert_eq!(report["verify"], json!({"checked": 45, "drifted": [], "missing": []}), "{report}");
    let reads: Vec<bool> = ws
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/contacts")
        .map(|r| r.query.iter().any(|(k, _)| k == "externalIds"))
        .collect();
    assert_eq!(reads, [false, false, false, true, true, true], "3 pages listed, then 3 lookups of 20");
    assert_eq!(ws.fake.contacts().len(), 245);
}
