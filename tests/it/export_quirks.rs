//! End-to-end: the real-world export quirks in `tests/fixtures/quirks/`, each synced by the
//! binary with its outcome asserted (docs/mapping.md, "Messy exports"): it just works; or a row error
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

/// (row, message) of each entry of a report's `list` (`errors` or `warnings`).
fn entries(report: &Value, list: &str) -> Vec<(u64, String)> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["message"].as_str().unwrap().to_owned()))
        .collect()
}

fn errors(report: &Value) -> Vec<(u64, String)> {
    entries(report, "errors")
}

fn warnings(report: &Value) -> Vec<(u64, String)> {
    entries(report, "warnings")
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
async fn google_contacts_export_maps_and_splits_a_cell_with_two_numbers() {
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
separator = " ::: "
[phone]
default_region = "US"
[[custom_fields]]
name = "Interests"
column = "Group Membership"
separator = " ::: "
"#,
    );
    let report = ws.sync(0).await;
    assert_eq!(report["source_rows"], 3);
    assert_eq!(external_ids(&ws), ["ana@example.com", "bo@example.com", "cy@example.com"]);
    let ana = &ws.by_external_id("ana@example.com")[0];
    assert_eq!(ana["defaultFields"]["role"], "CTO");
    assert_eq!(ana["defaultFields"]["phoneNumbers"][0]["value"], "+12015550111");
    assert_eq!(custom(ana, "66aa00000000000000000005"), json!(["* myContacts", "Customers"]));
    let bo = &ws.by_external_id("bo@example.com")[0];
    assert_eq!(bo["defaultFields"]["emails"][1]["value"], "bo@ek.example.com");
    // Cy's cell holds two numbers: two items ("phone 1", "phone 1 2").
    let cy = &ws.by_external_id("cy@example.com")[0]["defaultFields"]["phoneNumbers"];
    let phones: Vec<(&str, &str)> =
        cy.as_array().unwrap().iter().map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap())).collect();
    assert_eq!(phones, [("phone 1", "+12015550113"), ("phone 1 2", "+12015550114")]);
    assert!(errors(&report).is_empty());
    // In sync on the next run, also when read back; one number less removes its item.
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 3);
    let run = ws.run(&["sync", "--verify", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report()["verify"]["drifted"], json!([]));
    let csv = std::fs::read_to_string(ws.path("contacts.csv")).unwrap();
    ws.write("contacts.csv", &csv.replace("+1 201-555-0113 ::: +1 201-555-0114", "+1 201-555-0114"));
    ws.sync(0).await;
    assert_eq!(values(&ws, "cy@example.com", "phoneNumbers"), ["+12015550114"]);
    ws.assert_spec_clean();

    // Without the separator, the cell is left out with a warning that names the fix.
    let mapping = std::fs::read_to_string(ws.path("mapping.toml")).unwrap();
    let ws = with_fixture("google-contacts.csv").await;
    ws.write(
        "mapping.toml",
        &mapping.replace("column = \"Phone 1 - Value\"\nseparator = \" ::: \"", "column = \"Phone 1 - Value\""),
    );
    let report = ws.sync(0).await;
    assert_eq!(report["warning_rows"], 1);
    // Ana's notes span two lines, so Cy's row starts on line 5.
    assert_eq!(report["warnings"][0]["row"], 5);
    let w = report["warnings"][0]["message"].as_str().unwrap();
    assert!(w.contains("column \"Phone 1 - Value\": holds 2 values separated by \" ::: \""), "{w}");
    assert!(w.contains("set `separator = \" ::: \"`"), "{w}");
}

#[tokio::test(flavor = "multi_thread")]
async fn windows_1252_and_utf16_files_are_refused_with_the_line_and_the_fix() {
    let ws = with_fixture("latin1.csv").await;
    let run = refused(&ws).await;
    assert!(
        run.stderr.contains("contacts.csv:2: field 2 is not UTF-8: the file looks like windows-1252"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("set [source] encoding = \"windows-1252\""), "{}", run.stderr);
    assert!(run.stderr.contains("CSV UTF-8"), "{}", run.stderr);

    std::fs::copy(format!("{FIXTURES}/utf16.csv"), ws.path("contacts.csv")).unwrap();
    let run = refused(&ws).await;
    assert!(run.stderr.contains("contacts.csv:1: the file is UTF-16"), "{}", run.stderr);
    assert!(run.stderr.contains("set [source] encoding = \"auto\""), "{}", run.stderr);

    // Read in its encoding, it syncs.
    std::fs::copy(format!("{FIXTURES}/latin1.csv"), ws.path("contacts.csv")).unwrap();
    ws.write_config_with_source("", "type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"windows-1252\"\n");
    ws.sync(0).await;
    assert_eq!(first_name(&ws, "L-1"), "René");
    assert_eq!(ws.by_external_id("L-1")[0]["defaultFields"]["company"], "Café \u{201c}Nord\u{201d}");
    // And UTF-16, by its byte order mark.
    std::fs::copy(format!("{FIXTURES}/utf16.csv"), ws.path("contacts.csv")).unwrap();
    ws.write_config_with_source("", "type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"auto\"\n");
    let run = ws.run(&["sync", "--allow-mass-delete", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(first_name(&ws, "U-1"), "Ana");
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
    // A lone "-" is one of the default [source] null_values: an empty cell.
    assert_eq!((f2["lastName"].clone(), f2["company"].clone()), (json!(null), json!("@acme")));
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
    let report = ws.sync(0).await;
    assert_eq!(external_ids(&ws), ["N-1", "N-2", "N-3"]);
    assert_eq!(ws.by_external_id("N-1")[0]["defaultFields"]["company"], "Acme\nWest\nWing");
    assert_eq!(first_name(&ws, "N-2"), "Bo\r\nBob");
    let warns = warnings(&report);
    assert_eq!(warns.len(), 1);
    assert_eq!(warns[0].0, 7, "{warns:?}");
    assert!(warns[0].1.contains("\"perhaps\" is not a boolean"), "{}", warns[0].1);

    // The same with old Mac line breaks (CR only).
    let ws = with_fixture("mac-cr.csv").await;
    let report = ws.sync(0).await;
    assert_eq!(external_ids(&ws), ["M-1", "M-2"]);
    assert_eq!(warnings(&report).iter().map(|e| e.0).collect::<Vec<_>>(), [4]);
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

/// The values of a contact's phone numbers (or emails: `list`), in order.
fn values(ws: &Workspace, id: &str, list: &str) -> Vec<String> {
    let contact = &ws.by_external_id(id)[0];
    contact["defaultFields"][list]
        .as_array()
        .map(|a| a.iter().map(|p| p["value"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn hubspot_nulls_placeholders_repeated_headers_and_dates_sync_with_warnings() {
    let ws = with_fixture("hubspot.csv").await;
    ws.write(
        "mapping.toml",
        r#"external_id = "Record ID"
[default_fields]
first_name = "First Name"
last_name = "Last Name"
company = "Company Name"
[[emails]]
label = "email"
column = "Email"
[[phone_numbers]]
label = "phone"
column = "Phone Number"
occurrence = 1
[[phone_numbers]]
label = "mobile"
column = "Mobile Phone Number"
[[phone_numbers]]
label = "other"
column = "Phone Number"
occurrence = 2
[phone]
default_region = "US"
[[custom_fields]]
name = "Renewal"
column = "Create Date"
format = "%m/%d/%y %H:%M"
[[custom_fields]]
name = "Lead Source"
column = "Lead Status"
"#,
    );
    let report = ws.sync(0).await;
    assert_eq!(external_ids(&ws), ["101", "102", "103", "104"]);
    assert_eq!((report["invalid_rows"].clone(), report["warning_rows"].clone()), (json!(0), json!(2)));
    assert_eq!(values(&ws, "101", "phoneNumbers"), ["+12015550131", "+12015550141"]);
    assert_eq!(custom(&ws.by_external_id("101")[0], "66aa00000000000000000004"), json!("2024-02-05T01:51:00.000Z"));
    assert_eq!(values(&ws, "102", "emails"), Vec::<String>::new());
    assert_eq!(values(&ws, "102", "phoneNumbers"), ["+12015550142"]);
    assert_eq!(ws.by_external_id("102")[0]["defaultFields"]["company"], json!(null));
    assert_eq!(values(&ws, "103", "phoneNumbers"), ["+8613800138000"]);
    let warns = warnings(&report);
    assert_eq!(warns.iter().map(|w| w.0).collect::<Vec<_>>(), [3, 4, 4], "{warns:?}");
    assert!(warns[0].1.starts_with("column \"Phone Number\": \"1234\""), "{}", warns[0].1);
    assert!(
        warns[1].1.contains("column \"Email\": \"not an email\" is not an email address; left out"),
        "{}",
        warns[1].1
    );
    assert!(warns[2].1.contains("column \"Phone Number\": \"000000000\" is not a"), "{}", warns[2].1);
    assert!(!warns[2].1.contains("integer"), "{}", warns[2].1);
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn international_numbers_extensions_and_placeholders() {
    let ws = with_fixture("phones-international.csv").await;
    ws.write(
        "mapping.toml",
        r#"external_id = "Contact ID"
[default_fields]
first_name = "First Name"
[[phone_numbers]]
label = "work"
column = "Phone"
[[phone_numbers]]
label = "other"
column = "Other Phone"
[phone]
default_region = "US"
"#,
    );
    let report = ws.sync(0).await;
    assert_eq!(external_ids(&ws), ["003A1", "003A2", "003A3", "003A4", "003A5"]);
    assert_eq!(values(&ws, "003A1", "phoneNumbers"), ["+8613800138000", "+861067255922"]);
    assert_eq!(values(&ws, "003A2", "phoneNumbers"), ["+18003282008", "+18887525141"]);
    assert_eq!(values(&ws, "003A3", "phoneNumbers"), ["+37410123456", "+12684641234"]);
    assert_eq!(values(&ws, "003A4", "phoneNumbers"), ["+78001234567", "+442079460958"]);
    assert_eq!(values(&ws, "003A5", "phoneNumbers"), Vec::<String>::new());
    let warns = warnings(&report);
    assert_eq!(warns.iter().map(|w| w.0).collect::<Vec<_>>(), [3, 6], "{warns:?}");
    assert!(warns[0].1.contains("the extension 43023 of \"1-888-752-5141 Ext 43023\" is not sent"), "{}", warns[0].1);
    assert_eq!(
        warns[1].1,
        "column \"Phone\": \"1234\" is not a valid phone number for its country (read as a number of region US, [phone] default_region: numbers from elsewhere need their country code); left out (on_invalid = \"drop_value\")"
    );
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_notes_above_the_header_and_day_month_year_dates() {
    let ws = with_fixture("linkedin.csv").await;
    ws.write(
        "mapping.toml",
        r#"external_id = "URL"
[default_fields]
first_name = "First Name"
last_name = "Last Name"
company = "Company"
role = "Position"
[[emails]]
label = "email"
column = "Email Address"
[[custom_fields]]
name = "Renewal"
column = "Connected On"
format = "%d %b %Y"
"#,
    );
    let report = ws.sync(0).await;
    assert_eq!(report["source_rows"], 2);
    assert_eq!(external_ids(&ws), ["https://www.linkedin.com/in/ana-lima", "https://www.linkedin.com/in/bo-ek"]);
    let ana = &ws.by_external_id("https://www.linkedin.com/in/ana-lima")[0];
    assert_eq!(custom(ana, "66aa00000000000000000004"), json!("2024-05-30T00:00:00.000Z"));

    // Or at the line `header_row` names.
    ws.write_config_with_source("", "type = \"csv\"\npath = \"contacts.csv\"\nheader_row = 4\n");
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn zoho_dates_need_their_format_and_are_never_guessed() {
    let ws = with_fixture("zoho.csv").await;
    let mapping = r#"external_id = "Record Id"
[default_fields]
first_name = "First Name"
[[emails]]
label = "email"
column = "Email"
[[custom_fields]]
name = "Renewal"
column = "Created Time"
"#;
    ws.write("mapping.toml", &format!("{mapping}format = \"%d %b, %Y %H:%M:%S\"\n"));
    let report = ws.sync(0).await;
    assert_eq!(external_ids(&ws).len(), 4);
    let renewal = |id: &str| custom(&ws.by_external_id(id)[0], "66aa00000000000000000004");
    assert_eq!(renewal("zcrm_4876000000325001"), json!("2021-04-16T00:02:00.000Z"));
    assert_eq!(renewal("zcrm_4876000000325003"), json!("2021-04-16T00:00:00.000Z"));
    let warns = warnings(&report);
    assert_eq!(warns.len(), 1, "{warns:?}");
    assert!(warns[0].1.contains("\"yesterday\" is not a date in the format \"%d %b, %Y %H:%M:%S\""), "{}", warns[0].1);

    // Without the format, each Zoho date is reported (offline dry run too, by its declared type).
    ws.write("mapping.toml", &format!("{mapping}type = \"date\"\n"));
    let run = ws.run_with_key(&["sync", "--dry-run", "--output", "json"], None).await;
    let report = run.report();
    assert_eq!(report["warning_rows"], 3, "{report:#}");
    assert!(report["warnings"][0]["message"].as_str().unwrap().contains("set `format` on the field"), "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_windows_1251_outlook_export_is_named_and_read_with_its_encoding() {
    let ws = with_fixture("outlook-ru-cp1251.csv").await;
    ws.write(
        "mapping.toml",
        r#"external_id = "Адрес эл. почты"
[default_fields]
first_name = "Имя"
last_name = "Фамилия"
[[emails]]
label = "email"
column = "Адрес эл. почты"
[[phone_numbers]]
label = "mobile"
column = "Телефон переносной"
"#,
    );
    let run = refused(&ws).await;
    assert!(
        run.stderr.contains("the file looks like windows-1251: set [source] encoding = \"windows-1251\""),
        "{}",
        run.stderr
    );
    for encoding in ["windows-1251", "auto"] {
        ws.write_config_with_source(
            "",
            &format!("type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"{encoding}\"\n"),
        );
        ws.sync(0).await;
    }
    assert_eq!(first_name(&ws, "ivan@example.ru"), "Иван");
    assert_eq!(values(&ws, "maria@example.ru", "phoneNumbers"), ["+79165554433"]);
    assert_eq!(external_ids(&ws).len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_id_column_keys_on_hashed_names_and_emails() {
    let ws = with_fixture("iphone-no-id.csv").await;
    let mapping = |id: &str| {
        format!(
            "external_id = {id}\n[default_fields]\nfirst_name = \"First name\"\nlast_name = \"Last name\"\n[[emails]]\nlabel = \"email\"\ncolumn = \"Email\"\n[[phone_numbers]]\nlabel = \"mobile\"\ncolumn = \"Mobile\"\n[phone]\ndefault_region = \"US\"\n"
        )
    };
    // Keyed on the name alone: two Ana Limas collide, and a long name is over the limit.
    ws.write("mapping.toml", &mapping("{ columns = [\"First name\", \"Last name\"] }"));
    let report = ws.sync(1).await;
    let errs = errors(&report);
    assert_eq!(errs.iter().map(|e| e.0).collect::<Vec<_>>(), [2, 3, 4], "{errs:?}");
    assert!(errs[0].1.contains("is also on row 3"), "{}", errs[0].1);
    assert!(errs[2].1.contains("set `hash = true` on external_id"), "{}", errs[2].1);

    let ws = with_fixture("iphone-no-id.csv").await;
    ws.write("mapping.toml", &mapping("{ columns = [\"First name\", \"Last name\", \"Email\"], hash = true }"));
    ws.sync(0).await;
    let ids = external_ids(&ws);
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(ids.iter().all(|id| id.len() == 42 && id.starts_with("h-")), "{ids:?}");
    // Stable: the next run changes nothing.
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 4);
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_excel_turned_into_scientific_notation_are_row_errors_that_say_so() {
    let ws = with_fixture("excel-scientific-ids.csv").await;
    ws.write(
        "mapping.toml",
        "external_id = \"Customer ID\"\n[default_fields]\nfirst_name = \"First Name\"\n[[emails]]\nlabel = \"email\"\ncolumn = \"Email\"\n",
    );
    let report = ws.sync(1).await;
    assert_eq!(external_ids(&ws), ["111015000001"]);
    let errs = errors(&report);
    assert_eq!(errs.iter().map(|e| e.0).collect::<Vec<_>>(), [3, 4]);
    assert!(
        errs[0].1.contains("\"1.11015E+11\" is a number in scientific notation: Excel changed the id"),
        "{}",
        errs[0].1
    );
    assert_eq!(errs[1].1, "missing external id: column \"Customer ID\" is empty");
    // The same rows, the same problems, the next run: reported as known, exit 0.
    let report = ws.sync(0).await;
    assert_eq!((report["invalid_rows"].clone(), report["known_invalid_rows"].clone()), (json!(2), json!(2)));
}

#[tokio::test(flavor = "multi_thread")]
async fn check_lists_the_rows_that_would_fail_or_lose_a_value() {
    let ws = with_fixture("zoho.csv").await;
    ws.write(
        "mapping.toml",
        "external_id = \"Record Id\"\n[[emails]]\nlabel = \"email\"\ncolumn = \"Email\"\n[[custom_fields]]\nname = \"Renewal\"\ncolumn = \"Created Time\"\ntype = \"date\"\n",
    );
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("ok      rows: 4 valid, 0 invalid, 3 with values left out"), "{}", run.stdout);
    // Grouped: one entry for the column and reason, its count and rows.
    assert!(
        run.stdout.contains("warning column \"Created Time\", 3 values: is not an ISO 8601 date"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "        row 2 \"16 Apr, 2021 00:02:00\", row 3 \"02 Jan, 2023 13:45:10\", row 5 \"yesterday\"\n"
        ),
        "{}",
        run.stdout
    );
    // --all-warnings: each on its own line, with its external id.
    let run = ws.run_with_key(&["check", "--offline", "--all-warnings"], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.matches("warning row ").count(), 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("warning row 2: zcrm_4876000000325001: column \"Created Time\" (date field)"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_shows_each_create_as_the_contact_it_would_send() {
    let ws = with_fixture("phones-international.csv").await;
    ws.write(
        "mapping.toml",
        "external_id = \"Contact ID\"\n[default_fields]\nfirst_name = \"First Name\"\n[[phone_numbers]]\nlabel = \"work\"\ncolumn = \"Phone\"\n[phone]\ndefault_region = \"US\"\n[[custom_fields]]\nname = \"Lead Source\"\ncolumn = \"Other Phone\"\n",
    );
    let run = ws.run(&["sync", "--dry-run", "--output", "json", "--record", "003A1"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["planned"]["create"], 5);
    assert_eq!(report["changes"].as_array().unwrap().len(), 1);
    assert_eq!(
        report["changes"][0]["fields"],
        json!([
            {"field": "first_name", "value": "Li"},
            {"field": "phone_numbers[work]", "value": "+8613800138000"},
            {"field": "custom[66aa00000000000000000001]", "value": "+86 10 6725 5922", "type": "string"},
        ])
    );
    let run = ws.run(&["sync", "--dry-run", "--limit", "2"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("create  row 2      003A1\n                   first_name: \"Li\"\n"), "{}", run.stdout);
    assert!(run.stdout.contains("phone_numbers[work]: \"+18003282008\""), "{}", run.stdout);
    assert!(!run.stdout.contains("003A3"), "{}", run.stdout);
    assert!(run.stdout.contains("showing the first 2 of 5 planned changes (--limit)"), "{}", run.stdout);
    let run = ws.run(&["sync", "--limit", "2"]).await;
    assert_eq!(run.code, 2, "--limit needs --dry-run: {}", run.stderr);
}
