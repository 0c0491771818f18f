//! Cells that hold more values than an entry has items for (Google Contacts writes every
//! number of a contact into one cell, `a ::: b ::: c`): `max_items` sets how many items an
//! entry with a `separator` gives (5 unless set), and the values past the last item are each
//! named in the warning, never dropped unseen.

use crate::support::Workspace;

/// A Google Contacts export with one contact whose cell holds `n` numbers.
fn google_csv(n: usize) -> String {
    let numbers: Vec<String> = (1..=n).map(|k| format!("+1 201-555-01{k:02}")).collect();
    format!("Given Name,E-mail 1 - Value,Phone 1 - Value\nAna,ana@example.com,{}\n", numbers.join(" ::: "))
}

fn mapping(extra: &str) -> String {
    format!(
        "external_id = \"E-mail 1 - Value\"\n[default_fields]\nfirst_name = \"Given Name\"\n[[phone_numbers]]\nlabel = \"phone\"\ncolumn = \"Phone 1 - Value\"\nseparator = \" ::: \"\n{extra}\n[phone]\ndefault_region = \"US\"\n"
    )
}

fn phones(ws: &Workspace) -> Vec<(String, String)> {
    let contact = &ws.by_external_id("ana@example.com")[0];
    contact["defaultFields"]["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["value"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_numbers_in_one_cell_keep_five_by_default_and_the_warning_names_the_other_three() {
    let ws = Workspace::new().await;
    ws.write("contacts.csv", &google_csv(8));
    ws.write("mapping.toml", &mapping(""));
    let report = ws.sync(0).await;
    assert_eq!(phones(&ws).len(), 5, "{:?}", phones(&ws));
    assert_eq!(phones(&ws)[4], ("phone 5".to_owned(), "+12015550105".to_owned()));
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = warnings[0]["message"].as_str().unwrap();
    assert!(w.contains("holds 8 values and the entry keeps 5"), "{w}");
    for left_out in ["\"+1 201-555-0106\"", "\"+1 201-555-0107\"", "\"+1 201-555-0108\""] {
        assert!(w.contains(left_out), "{left_out} is named in: {w}");
    }
    assert!(!w.contains("0105\""), "a kept value is not named as left out: {w}");
    assert!(w.contains("max_items"), "{w}");

    // max_items = 8 keeps them all, in their order, and the next run has nothing to do.
    ws.write("mapping.toml", &mapping("max_items = 8"));
    let report = ws.sync(0).await;
    assert_eq!(report["warnings"].as_array().unwrap().len(), 0, "{report:#}");
    let got = phones(&ws);
    let want: Vec<(String, String)> = (1..=8)
        .map(|k| (if k == 1 { "phone".to_owned() } else { format!("phone {k}") }, format!("+120155501{k:02}")))
        .collect();
    assert_eq!(got, want);
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 1);
    ws.assert_spec_clean();

    // With on_invalid = "skip_row", a value that would be left out fails the row instead.
    ws.write("mapping.toml", &mapping("max_items = 6\non_invalid = \"skip_row\""));
    let report = ws.sync(1).await;
    let e = report["errors"][0]["message"].as_str().unwrap();
    assert!(e.contains("holds 8 values and the entry keeps 6") && e.contains("\"+1 201-555-0108\""), "{e}");
    assert_eq!(phones(&ws).len(), 8, "a failed row changes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_items_out_of_range_or_without_a_separator_is_a_mapping_error_with_its_line() {
    let ws = Workspace::new().await;
    ws.write("contacts.csv", &google_csv(2));
    for (extra, want) in [
        ("max_items = 0", "`phone_numbers[1].max_items`: 0 is not from 1 to 50"),
        ("max_items = 51", "`phone_numbers[1].max_items`: 51 is not from 1 to 50"),
        ("max_items = \"8\"", "max_items"),
    ] {
        ws.write("mapping.toml", &mapping(extra));
        let run = ws.run(&["sync", "--dry-run"]).await;
        assert_eq!(run.code, 2, "{extra}: {}", run.stderr);
        assert!(run.stderr.contains(want) && run.stderr.contains("mapping.toml:"), "{extra}: {}", run.stderr);
    }
    ws.write("mapping.toml", &mapping("max_items = 3").replace("separator = \" ::: \"\n", ""));
    let run = ws.run(&["check", "--offline"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`phone_numbers[1].max_items`: needs a `separator`"), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}
