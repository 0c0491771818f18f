//! What spreadsheet programs add to a cell: Excel's leading apostrophe (`'6241140277432`,
//! `'+1 201 555 0101`), which exports such as Shopify's write before numbers and ids so
//! that Excel keeps them as text, is not part of the value. A contact synced by an earlier
//! build under the id with the apostrophe keeps that id (docs/mapping.md, "Identity").

use std::fmt::Write as _;

use rusqlite::Connection;

use crate::support::Workspace;

const MAPPING: &str = r#"external_id = "Customer ID"
[default_fields]
first_name = "First Name"
[[phone_numbers]]
label = "phone"
column = "Phone"
[phone]
default_region = "US"
"#;

fn shopify(rows: &[(&str, &str, &str)]) -> String {
    let mut csv = String::from("Customer ID,First Name,Phone\n");
    for (id, name, phone) in rows {
        let _ = writeln!(csv, "{id},{name},{phone}");
    }
    csv
}

fn ids(ws: &Workspace) -> Vec<String> {
    let mut ids: Vec<String> =
        ws.fake.contacts().iter().map(|c| c["externalId"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leading_apostrophe_before_a_number_or_id_is_not_part_of_the_value() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", MAPPING);
    ws.write(
        "contacts.csv",
        &shopify(&[("'6241140277432", "'Twas", "'+1 201 555 0101"), ("'6241140277433", "Bo", "'(201) 555-0102")]),
    );
    let report = ws.sync(0).await;
    assert_eq!(report["warnings"].as_array().unwrap().len(), 0, "{report:#}");
    assert_eq!(ids(&ws), ["6241140277432", "6241140277433"]);
    let ann = &ws.by_external_id("6241140277432")[0]["defaultFields"];
    assert_eq!(ann["phoneNumbers"][0]["value"], "+12015550101");
    assert_eq!(ann["firstName"], "'Twas", "an apostrophe before a letter is the value's");
    assert_eq!(ws.by_external_id("6241140277433")[0]["defaultFields"]["phoneNumbers"][0]["value"], "+12015550102");
    // The same file written without the apostrophes is the same contacts, unchanged.
    ws.write(
        "contacts.csv",
        &shopify(&[("6241140277432", "'Twas", "+1 201 555 0101"), ("6241140277433", "Bo", "(201) 555-0102")]),
    );
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 2, "{report:#}");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_synced_with_the_apostrophe_in_its_id_keeps_that_id() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", MAPPING);
    // What an earlier build left: the contact and the mirror under "'6241140277432". Made
    // here by syncing under a stand-in id and renaming it in both places.
    ws.write("contacts.csv", &shopify(&[("X6241140277432", "Ann", "+1 201 555 0101")]));
    ws.sync(0).await;
    let old = "'6241140277432";
    let contact_id = ws.fake.contacts()[0]["id"].as_str().unwrap().to_owned();
    ws.fake.edit_contact(&contact_id, |c| c["externalId"] = old.into());
    let db = Connection::open(ws.mirror_path()).unwrap();
    db.execute("UPDATE contacts SET external_id = ?1 WHERE external_id = 'X6241140277432'", [old]).unwrap();
    drop(db);

    // The export still writes the apostrophe; a new customer comes with one too.
    ws.write(
        "contacts.csv",
        &shopify(&[("'6241140277432", "Ann", "'+1 201 555 0101"), ("'6241140277499", "Cy", "'+1 201 555 0103")]),
    );
    let dry = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let dry = dry.report();
    assert_eq!((dry["planned"]["create"].as_u64(), dry["planned"]["delete"].as_u64()), (Some(1), Some(0)), "{dry:#}");
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"], 1, "{report:#}");
    assert_eq!(report["applied"]["delete"], 0, "{report:#}");
    assert!(
        report["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("1 rows keep the external id")),
        "{report:#}"
    );
    assert_eq!(ids(&ws), [old, "6241140277499"], "the old contact keeps its id; the new one has none");
    assert_eq!(ws.fake.contacts_with_external_id(old)[0]["id"], contact_id.as_str());
    // Nothing to do on the next run, and the old contact is not deleted later either.
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 2, "{report:#}");
    assert_eq!(report["pending_deletion"].as_array().unwrap().len(), 0, "{report:#}");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn encoding_names_people_use_are_accepted_and_an_unknown_one_lists_close_ones() {
    let ws = Workspace::new().await;
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/quirks/latin1.csv");
    std::fs::copy(fixture, ws.path("contacts.csv")).unwrap();
    for name in ["latin-1", "latin1", "iso-8859-1", "cp1252", "ISO_8859-1"] {
        ws.write_config_with_source("", &format!("type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"{name}\"\n"));
        let run = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_eq!(run.report()["planned"]["create"], 1, "{name}");
    }
    ws.write_config_with_source("", "type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"latin-1\"\n");
    ws.sync(0).await;
    assert_eq!(ws.by_external_id("L-1")[0]["defaultFields"]["firstName"], "René");

    // utf8 is UTF-8: a UTF-8 file reads, the Latin-1 one is refused at its line.
    ws.write_config_with_source("", "type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"utf8\"\n");
    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("contacts.csv:2: field 2 is not UTF-8"), "{}", run.stderr);

    for (name, close) in [("latn-1", "\"latin-1\""), ("windows-1215", "\"windows-1251\""), ("utf-9", "\"utf-8\"")] {
        ws.write_config_with_source("", &format!("type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"{name}\"\n"));
        let run = ws.run(&["check", "--offline"]).await;
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains("config.toml:") && run.stderr.contains("source.encoding"), "{}", run.stderr);
        assert!(run.stderr.contains("did you mean") && run.stderr.contains(close), "{name}: {}", run.stderr);
    }
}
