//! End-to-end: the real-world export quirks in `tests/fixtures/quirks/`, each synced by the
//! binary with its outcome asserted (README "Messy exports"): it just works; or a row error
//! with its row number while the rest syncs (exit 1); or a file-level error that names the
//! problem and the fix and writes nothing (exit 2). No run sends a body the spec refuses.

use serde_json::{Value, json};

use crate::support::{Run, Workspace, custom};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/quirks");

/// A workspace whose contacts.csv is the fixture `name`.
async fn with_fixture(name: &str) -> Workspace {
    let ws = Workspace::new().await;
    std::fs::copy(format!("{FIXTURES}/{name}"), ws.path("contacts.csv")).expect("fixture");
    ws
}

/// The external ids in the fake workspace, sorted.
fn external_ids(ws: &Workspace) -> Vec<String> {
    let mut ids: Vec<String> =
        ws.fake.contacts().iter().map(|c| c["externalId"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

/// (row, message) of each error in a report.
fn errors(report: &Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["message"].as_str().unwrap().to_owned()))
        .collect()
}

fn first_name(ws: &Workspace, id: &str) -> Value {
    ws.by_external_id(id)[0]["defaultFields"]["firstName"].clone()
}

/// A file-level problem: exit 2, the message on stderr, nothing written.
async fn refused(ws: &Workspace) -> Run {
    let run = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(run.code, 2, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"), "{:#?}", ws.fake.requests());
    assert!(ws.fake.contacts().is_empty());
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn excel_export_with_bom_crlf_sep_line_and_trailing_delimiters_just_works() {
    let ws = with_fixture("excel-bom-crlf-sep.csv").await;
    let report = ws.sync(0).await;
    assert_eq!(report["source_rows"], 2);
    assert_eq!(external_ids(&ws), ["Q-1", "Q-2"]);
    let q2 = &ws.by_external_id("Q-2")[0];
    assert_eq!(q2["defaultFields"]["firstName"], "Bo; Jr.");
    assert_eq!(q2["defaultFields"]["company"], "Ek \"AB\"");
    assert_eq!(q2["defaultFields"]["phoneNumbers"][0]["value"], "+12015550102");
    assert_eq!(custom(q2, "66aa00000000000000000003"), json!(-1.5));
    assert_eq!(first_name(&ws, "Q-1"), "Ana");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn google_contacts_export_maps_and_reports_a_cell_with_two_numbers() {
    let ws = with_fixture("google-contacts.csv").await;
    ws.write(
        "mapping.toml",
        r#"external_id = "E-mail 1 - Value"
[default_fields]
first_name = "Given Name"
last_name = "Family Name"
company = "Organization 1 - Name"
role = "Organization 1 - Title"
[[emails]]
label = "email 1"
column = "E-mail 1 - Value"
[[emails]]
label = "email 2"
column = "E-mail 2 - Value"
[[phone_numbers]]
label = "phone 1"
column = "Phone 1 - Value"
[phone]
default_region = "US"
[[custom_fields]]
name = "Interests"
column = "Group Membership"
separator = " ::: "
"#,
    );
    let report = ws.sync(1).await;
    assert_eq!(report["source_rows"], 3);
    assert_eq!(external_ids(&ws), ["ana@example.com", "bo@example.com"]);
    let ana = &ws.by_external_id("ana@example.com")[0];
    assert_eq!(ana["defaultFields"]["role"], "CTO");
    assert_eq!(ana["defaultFields"]["phoneNumbers"][0]["value"], "+12015550111");
    assert_eq!(custom(ana, "66aa00000000000000000005"), json!(["* myContacts", "Customers"]));
    let bo = &ws.by_external_id("bo@example.com")[0];
    assert_eq!(bo["defaultFields"]["emails"][1]["value"], "bo@ek.example.com");
    // Ana's notes span two lines, so Cy's row starts on line 5.
    let errs = errors(&report);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, 5);
    assert!(errs[0].1.contains("column \"Phone 1 - Value\": holds 2 values separated by \" ::: \""), "{}", errs[0].1);
    assert_eq!(report["errors"][0]["external_id"], "cy@example.com");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn windows_1252_and_utf16_files_are_refused_with_the_line_and_the_fix() {
    let ws = with_fixture("latin1.csv").await;
    let run = refused(&ws).await;
    assert!(run.stderr.contains("contacts.csv:2: field 2 is not UTF-8"), "{}", run.stderr);
    assert!(run.stderr.contains("Windows-1252"), "{}", run.stderr);
    assert!(run.stderr.contains("CSV UTF-8"), "{}", run.stderr);

    std::fs::copy(format!("{FIXTURES}/utf16.csv"), ws.path("contacts.csv")).unwrap();
    let run = refused(&ws).await;
    assert!(run.stderr.contains("contacts.csv:1: the file is UTF-16"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_semicolon_file_is_refused_with_the_delimiter_to_set_then_syncs_with_it() {
    let ws = with_fixture("semicolon.csv").await;
    let run = refused(&ws).await;
    assert!(run.stderr.contains("the header looks delimited by ';': set [source] delimiter = \";\""), "{}", run.stderr);
    ws.write_config_with_source("", "type = \"csv\"\npath = \"contacts.csv\"\ndelimiter = \";\"\n");
    ws.sync(0).await;
    assert_eq!(external_ids(&ws), ["S-1", "S-2"]);
    assert_eq!(ws.by_external_id("S-1")[0]["defaultFields"]["company"], "Acme; Inc");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_header_is_refused_only_when_mapped() {
    let ws = with_fixture("duplicate-unmapped-header.csv").await;
    ws.sync(0).await;
    assert_eq!(external_ids(&ws), ["D-1"]);

    let ws = with_fixture("duplicate-mapped-header.csv").await;
    let run = refused(&ws).await;
    assert!(run.stderr.contains("column \"Email\" appears 2 times in the header"), "{}", run.stderr);
    assert!(run.stderr.contains("rename all but one"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn formulas_are_row_errors_and_plus_minus_at_are_values() {
    let ws = with_fixture("formulas.csv").await;
    let report = ws.sync(1).await;
    assert_eq!(external_ids(&ws), ["F-2", "F-5"]);
    let errs = errors(&report);
    assert_eq!(errs.iter().map(|e| e.0).collect::<Vec<_>>(), [2, 4, 5]);
    assert!(errs[0].1.contains("column \"First Name\": \"=HYPERLINK("), "{}", errs[0].1);
    assert!(errs[0].1.contains("is a spreadsheet formula, not its value"), "{}", errs[0].1);
    assert!(errs[1].1.contains("column \"Company\": \"=1+1\" is a spreadsheet formula"), "{}", errs[1].1);
    assert!(errs[2].1.contains("column \"ID\": \"=F-4\" is a spreadsheet formula"), "{}", errs[2].1);
    let f2 = &ws.by_external_id("F-2")[0]["defaultFields"];
    assert_eq!((f2["lastName"].clone(), f2["company"].clone()), (json!("-"), json!("@acme")));
    assert_eq!(f2["phoneNumbers"][0]["value"], "+12015550121");
    assert_eq!(custom(&ws.by_external_id("F-2")[0], "66aa00000000000000000001"), json!("+referral"));
    let f5 = &ws.by_external_id("F-5")[0]["defaultFields"];
    assert_eq!([&f5["firstName"], &f5["lastName"], &f5["company"]], [&json!("@cy"), &json!("+Plus"), &json!("-Minus")]);
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_30000_character_cell_is_read_and_reported_only_where_a_limit_applies() {
    let ws = with_fixture("long-cell.csv").await;
    let report = ws.sync(1).await;
    assert_eq!(external_ids(&ws), ["L-1", "L-3", "L-4"]);
    let errs = errors(&report);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, 3);
    assert!(errs[0].1.contains("the external id is 30000 characters, over OpenPhone's limit of 75"), "{}", errs[0].1);
    assert!(errs[0].1.len() < 300, "the message quotes the cell: {}", errs[0].1.len());
    // The API sets no limit on names: the cell is sent whole.
    assert_eq!(first_name(&ws, "L-3").as_str().map(str::len), Some(30_000));
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_trailing_columns_just_work() {
    let ws = with_fixture("trailing-empty-columns.csv").await;
    ws.sync(0).await;
    assert_eq!(external_ids(&ws), ["T-1", "T-2", "T-3"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn ragged_rows_are_row_errors_and_the_rest_syncs() {
    let ws = with_fixture("ragged.csv").await;
    let report = ws.sync(1).await;
    assert_eq!(external_ids(&ws), ["R-1", "R-4"]);
    let errs = errors(&report);
    assert_eq!(errs.iter().map(|e| e.0).collect::<Vec<_>>(), [3, 4]);
    assert!(errs[0].1.contains("the row has 3 fields but the header has 11"), "{}", errs[0].1);
    assert!(errs[1].1.contains("the row has 12 fields but the header has 11"), "{}", errs[1].1);
}

#[tokio::test(flavor = "multi_thread")]
async fn quoted_newlines_stay_in_their_cell_and_rows_keep_their_line_numbers() {
    let ws = with_fixture("quoted-newlines.csv").await;
    let report = ws.sync(1).await;
    assert_eq!(external_ids(&ws), ["N-1", "N-2"]);
    assert_eq!(ws.by_external_id("N-1")[0]["defaultFields"]["company"], "Acme\nWest\nWing");
    assert_eq!(first_name(&ws, "N-2"), "Bo\r\nBob");
    let errs = errors(&report);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].0, 7, "{errs:?}");
    assert!(errs[0].1.contains("\"perhaps\" is not a boolean"), "{}", errs[0].1);

    // The same with old Mac line breaks (CR only).
    let ws = with_fixture("mac-cr.csv").await;
    let report = ws.sync(1).await;
    assert_eq!(external_ids(&ws), ["M-1"]);
    assert_eq!(errors(&report).iter().map(|e| e.0).collect::<Vec<_>>(), [4]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nul_byte_is_a_row_error_and_the_rest_syncs() {
    let ws = with_fixture("nul-bytes.csv").await;
    let report = ws.sync(1).await;
    assert_eq!(external_ids(&ws), ["Z-1", "Z-3"]);
    let errs = errors(&report);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].0, 3);
    assert!(errs[0].1.contains("field 2 holds a NUL byte"), "{}", errs[0].1);
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quote_never_closed_is_refused_at_its_line_rather_than_swallowing_the_rows_after_it() {
    let ws = with_fixture("unclosed-quote.csv").await;
    let run = refused(&ws).await;
    assert!(run.stderr.contains("contacts.csv:3: a quote opened on this line is never closed"), "{}", run.stderr);
}
