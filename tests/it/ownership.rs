//! Fields the app may own: a mapped field with `policy = "if_empty"` is written only while
//! the contact's value is empty, one with `"on_create"` only when the contact is created.
//! The decision is taken on the contact as read just before the write.

use serde_json::{Value, json};

use crate::support::{MAPPING, Workspace, row};

fn mapping_with(company_policy: Option<&str>) -> String {
    let mut m = MAPPING.to_owned();
    if let Some(p) = company_policy {
        m = m.replace(
            "company    = \"Company\"\n",
            &format!("company    = \"Company\"\npolicy = {{ company = {p:?} }}\n"),
        );
    }
    // The email is written when the contact is created, never after.
    m.replace("column = \"Email\"\n", "column = \"Email\"\npolicy = \"on_create\"\n")
}

fn contact_id(ws: &Workspace, ext: &str) -> String {
    ws.by_external_id(ext)[0]["id"].as_str().unwrap().to_owned()
}

fn patches(ws: &Workspace) -> Vec<Value> {
    ws.fake.requests().into_iter().filter(|r| r.method == "PATCH").filter_map(|r| r.body).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_company_edited_in_the_app_survives_if_empty_and_is_overwritten_under_source() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", &mapping_with(Some("if_empty")));
    ws.write_n(3);
    ws.sync(0).await;
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["company"], "Company 1", "written on create");
    ws.fake.edit_contact(&contact_id(&ws, "C-0001"), |c| c["defaultFields"]["company"] = json!("Corrected Inc"));

    // Three runs, each with a new company and a new email in the source, and a new last name
    // that the source owns: the app's company and the first email stay.
    for (n, company) in ["Acme A", "Acme B", "Acme C"].iter().enumerate() {
        let r = row(1)
            .replace("Company 1", company)
            .replace("Last1", &format!("Last1-{n}"))
            .replace("user1@example.com", &format!("new{n}@example.com"));
        ws.write_rows(&[r, row(2), row(3)]);
        if n == 0 {
            let dry = ws.run(&["sync", "--dry-run", "--output", "json"]).await.report();
            let lines = dry["changes"][0]["changes"].as_array().unwrap().clone();
            assert!(
                lines
                    .iter()
                    .any(|l| l.as_str().unwrap().starts_with("company: kept: edited in the app (\"Corrected Inc\"")),
                "{lines:?}"
            );
        }
        ws.fake.clear_requests();
        let report = ws.sync(0).await;
        assert_eq!(report["applied"]["update"], 1, "{report}");
        let c = &ws.by_external_id("C-0001")[0];
        assert_eq!(c["defaultFields"]["company"], "Corrected Inc");
        assert_eq!(c["defaultFields"]["lastName"], format!("Last1-{n}"));
        assert_eq!(c["defaultFields"]["emails"][0]["value"], "user1@example.com");
        for body in patches(&ws) {
            assert_eq!(body["defaultFields"]["emails"][0]["value"], "user1@example.com", "on_create sent in a PATCH");
        }
    }
    // A verify does not call the app's company drift.
    let report = ws.run(&["sync", "--verify", "--output", "json"]).await.report();
    assert_eq!(report["verify"]["drifted"], json!([]), "{report}");

    // An empty company is the source's to fill, even under if_empty.
    ws.fake.edit_contact(&contact_id(&ws, "C-0002"), |c| c["defaultFields"]["company"] = Value::Null);
    ws.write_rows(&[row(1).replace("Company 1", "Acme C"), row(2).replace("Company 2", "Filled Co"), row(3)]);
    ws.sync(0).await;
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Filled Co");

    // Under `source` (the default) the source wins again.
    ws.write("mapping.toml", &mapping_with(None));
    ws.write_rows(&[row(1).replace("Company 1", "Acme D"), row(2).replace("Company 2", "Filled Co"), row(3)]);
    ws.sync(0).await;
    assert_eq!(ws.by_external_id("C-0001")[0]["defaultFields"]["company"], "Acme D");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_policy_is_a_config_error_with_file_line_and_key() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", &mapping_with(Some("sometimes")));
    ws.write_n(1);
    let run = ws.run(&["check", "--offline"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("mapping.toml:8: `default_fields.policy.company`: unknown policy \"sometimes\": use one of source, if_empty, on_create"),
        "{}",
        run.stderr
    );
    assert!(ws.fake.requests().is_empty());
}
