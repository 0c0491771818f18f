//! Issue 19 items 2 and 3: an email held by `policy = "if_empty"` is sent back as the app
//! holds it and nothing is added beside it, on every path (update, `--verify`); the history
//! and the report say what was sent and answered: a held field is not recorded as changed,
//! email and phone items are in the entries, and an update that finds the contact already
//! as wanted sends nothing and is counted and recorded as `already_in_sync`.

use serde_json::{Value, json};

use crate::support::{MAPPING, Workspace, row};

fn held_email_mapping() -> String {
    MAPPING.replace(
        "label  = \"work\"\ncolumn = \"Email\"",
        "label  = \"work\"\ncolumn = \"Email\"\npolicy = \"if_empty\"",
    )
}

fn emails(ws: &Workspace, id: &str) -> Vec<(String, String)> {
    let c = &ws.by_external_id(id)[0];
    c["defaultFields"]["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap_or("").to_owned(), e["value"].as_str().unwrap_or("").to_owned()))
        .collect()
}

async fn history(ws: &Workspace, id: &str) -> Value {
    let run = ws.run(&["history", id, "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn patches(ws: &Workspace) -> usize {
    ws.fake.requests().iter().filter(|r| r.method == "PATCH").count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_email_edited_in_the_app_never_gains_a_second_item() {
    let ws = Workspace::new().await;
    assert!(held_email_mapping().contains("policy = \"if_empty\""));
    ws.write("mapping.toml", &held_email_mapping());
    ws.write_rows(&[row(1)]);
    ws.sync(0).await;
    let id = ws.by_external_id("C-0001")[0]["id"].as_str().unwrap().to_owned();
    ws.fake.edit_contact(&id, |c| c["defaultFields"]["emails"][0]["value"] = json!("app@example.com"));

    // The row's email changes: held, so nothing is sent and nothing is recorded as changed.
    ws.write_rows(&[row(1).replace("user1@example.com", "source@example.com")]);
    ws.fake.clear_requests();
    let report = ws.sync(0).await;
    assert_eq!(patches(&ws), 0, "the held email is not sent");
    assert_eq!(
        (report["applied"]["update"].as_u64(), report["already_in_sync"].as_u64()),
        (Some(0), Some(1)),
        "{report}"
    );
    let h = history(&ws, "C-0001").await;
    assert_eq!(h["changes"][0]["action"], "already_in_sync", "{h:#}");
    assert_eq!(h["changes"][0]["changes"], json!([]), "{h:#}");

    // Later only the first name changes: the PATCH sends the app's email back, nothing beside it.
    ws.write_rows(&[row(1).replace("user1@example.com", "source@example.com").replace("First1", "Ann")]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1, "{report}");
    assert_eq!(emails(&ws, "C-0001"), [("work".to_owned(), "app@example.com".to_owned())]);
    let h = history(&ws, "C-0001").await;
    assert_eq!(h["changes"][0]["action"], "update");
    assert_eq!(h["changes"][0]["changes"], json!([{"field": "first_name", "from": "First1", "to": "Ann"}]), "{h:#}");

    // Verify's repair keeps it too.
    ws.fake.edit_contact(&id, |c| c["defaultFields"]["company"] = json!("Edited"));
    let run = ws.run(&["sync", "--verify", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(emails(&ws, "C-0001"), [("work".to_owned(), "app@example.com".to_owned())]);
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["company"], "Company 1");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lists_the_email_and_phone_items_sent() {
    let ws = Workspace::new().await;
    ws.write_rows(&[row(1)]);
    ws.sync(0).await;
    ws.write_rows(&[row(1)
        .replace("user1@example.com", "new@example.com")
        .replace("+1 201 555 0001", "+1 201 555 0099")]);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1, "{report}");
    let h = history(&ws, "C-0001").await;
    assert_eq!(h["changes"][0]["action"], "update");
    assert_eq!(
        h["changes"][0]["changes"],
        json!([
            {"field": "emails[work]", "from": "user1@example.com", "to": "new@example.com"},
            {"field": "phone_numbers[mobile]", "from": "+12015550001", "to": "+12015550099"}
        ]),
        "{h:#}"
    );
    let create = &h["changes"][1];
    assert_eq!(create["action"], "create");
    let fields: Vec<&str> =
        create["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"emails[work]") && fields.contains(&"phone_numbers[mobile]"), "{fields:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_that_find_the_contacts_already_as_wanted_send_nothing_and_say_so() {
    let ws = Workspace::new().await;
    ws.write_rows(&[row(1), row(2), row(3)]);
    ws.sync(0).await;
    // Someone already made the change in the app; then the source catches up.
    for c in ws.fake.contacts() {
        let id = c["id"].as_str().unwrap().to_owned();
        ws.fake.edit_contact(&id, |c| c["defaultFields"]["company"] = json!("Same Co"));
    }
    ws.write_rows(&[1, 2, 3].map(|n| row(n).replace(&format!("Company {n}"), "Same Co")));
    ws.fake.clear_requests();
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("0 updated, 0 deleted, 3 already in sync (nothing sent)"), "{}", run.stdout);
    assert_eq!(patches(&ws), 0);
    let h = ws.run(&["history", "--run", "2", "--output", "json"]).await;
    let h: Value = serde_json::from_str(&h.stdout).unwrap();
    let actions: Vec<&str> = h["changes"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["already_in_sync"; 3], "{h:#}");
}
