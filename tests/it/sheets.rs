//! End-to-end: the Google Sheets source against the fake token endpoint and Sheets API
//! (`support::fake_google`): a sheet syncs exactly like the same data in a CSV, rows keep their
//! sheet numbers (also when the range starts below row 1), contacts link to their rows, and each
//! error a user can act on says what to do, with exit 2 (their files) or 4 (the sheet, Google).

use serde_json::{Value, json};

use crate::support::fake_google::{self, CLIENT_EMAIL, Cell, FakeGoogle, SCOPE, Tab, text_row};
use crate::support::{Workspace, date_cell, header_cells, ids, row, sheet_row, wait_until};

const SHEET_ID: &str = "1TestSheet_abc-DEF";
const GID: i64 = 1_234_567;

fn link(row: u64) -> String {
    format!("https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid={GID}&range={row}:{row}")
}

/// A workspace reading the tab "Contacts" of a fake spreadsheet holding `rows`.
async fn sheet_workspace(rows: Vec<Vec<Cell>>, range: &str) -> (Workspace, FakeGoogle) {
    let ws = Workspace::new().await;
    let google = FakeGoogle::start().await;
    google.add_spreadsheet(SHEET_ID, vec![Tab::new(0, "Notes", vec![]), Tab::new(GID, "Contacts", rows)]);
    ws.use_sheet(&google, SHEET_ID, range, "");
    (ws, google)
}

/// A contact without what differs between two workspaces: ids, times, the source link.
fn comparable(mut c: Value) -> Value {
    let obj = c.as_object_mut().unwrap();
    for k in ["id", "createdAt", "updatedAt", "sourceUrl", "createdByUserId"] {
        obj.remove(k);
    }
    for list in ["emails", "phoneNumbers"] {
        if let Some(items) = c["defaultFields"][list].as_array_mut() {
            for item in items {
                item.as_object_mut().unwrap().remove("id");
            }
        }
    }
    if let Some(fields) = c["customFields"].as_array_mut() {
        for f in fields.iter_mut() {
            f.as_object_mut().unwrap().remove("id");
        }
        fields.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    }
    c
}

fn contacts(ws: &Workspace) -> Vec<Value> {
    let mut all: Vec<Value> = ws.fake.contacts().into_iter().map(comparable).collect();
    all.sort_by(|a, b| a["externalId"].as_str().cmp(&b["externalId"].as_str()));
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sheet_syncs_exactly_like_the_same_data_in_a_csv() {
    // Row 4 of each: a date-time, an empty email, a phone typed as text, a short row.
    let csv_rows = vec![
        row(1),
        row(2),
        "C-0003,\"Doe, Jr.\",,\"Acme, \"\"Inc\"\"\",,(415) 555-2671,,no,-3.5,2025-01-05T10:30:00,".to_owned(),
    ];
    let mut sheet = vec![header_cells(), sheet_row(1), sheet_row(2)];
    sheet.push(vec![
        Cell::Text("C-0003".into()),
        Cell::Text("Doe, Jr.".into()),
        Cell::Empty,
        Cell::Text("Acme, \"Inc\"".into()),
        Cell::Empty,
        Cell::Text("(415) 555-2671".into()),
        Cell::Empty,
        Cell::Bool(false),
        Cell::Number(-3.5),
        date_cell(5, 10.5),
    ]);

    let csv = Workspace::new().await;
    csv.write_rows(&csv_rows);
    let (ws, google) = sheet_workspace(sheet, "Contacts!A1:K").await;

    let from_csv = csv.sync(0).await;
    let from_sheet = ws.sync(0).await;
    for key in ["source_rows", "invalid_rows", "planned", "applied", "failed", "errors"] {
        assert_eq!(from_sheet[key], from_csv[key], "{key}");
    }
    assert_eq!(from_sheet["planned"]["create"], 3);
    assert_eq!(contacts(&ws), contacts(&csv));
    ws.assert_spec_clean();

    // Each contact links to its row; the rows are the sheet's.
    let c1 = &ws.by_external_id("C-0001")[0];
    assert_eq!(c1["sourceUrl"], link(2));
    assert_eq!(ws.by_external_id("C-0003")[0]["sourceUrl"], link(4));
    assert_eq!(c1["defaultFields"]["phoneNumbers"][0]["value"], "+12015550001");
    assert_eq!(csv.by_external_id("C-0001")[0]["sourceUrl"], Value::Null);

    // One grant per run, exactly as Google wants it.
    let grants = google.grants();
    assert_eq!(grants.len(), 1, "{grants:?}");
    let claims = &grants[0].claims;
    assert!(grants[0].signature_ok);
    assert_eq!((claims["iss"].as_str(), claims["scope"].as_str()), (Some(CLIENT_EMAIL), Some(SCOPE)));
    assert_eq!(claims["aud"].as_str(), Some(google.token_uri().as_str()));
    // Tabs, values, and the columns holding numbers (to tell dates from numbers).
    let calls: Vec<String> = google.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        calls,
        vec![
            format!("/v4/spreadsheets/{SHEET_ID}"),
            format!("/v4/spreadsheets/{SHEET_ID}/values/Contacts!A1:K"),
            format!("/v4/spreadsheets/{SHEET_ID}/values:batchGet"),
        ]
    );
    let batch = &google.requests()[2];
    let ranges: Vec<&str> = batch.query.iter().filter(|(k, _)| k == "ranges").map(|(_, v)| v.as_str()).collect();
    assert_eq!(ranges, vec!["Contacts!F1:F1000", "Contacts!I1:I1000", "Contacts!J1:J1000"]);

    // Nothing changed: nothing is sent. The most verbose log shows no credential.
    ws.fake.clear_requests();
    let mut cmd = ws.command(&["-vv", "sync", "--output", "json"], Some(&ws.api_key));
    let out = cmd.env_remove("RUST_LOG").output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for secret in ["ya29.", "assertion", "PRIVATE KEY"] {
        assert!(!stderr.contains(secret), "{secret:?} in the log:\n{stderr}");
    }
    assert!(stderr.contains("Read the sheet") && stderr.contains("hyper"), "the log is the most verbose: {stderr}");
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["planned"], json!({"create": 0, "update": 0, "delete": 0, "unchanged": 3}));
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));

    // An edit in the sheet is one PATCH: the complete contact with the new company.
    let mut edited = vec![header_cells(), sheet_row(1), sheet_row(2)];
    edited[2][3] = Cell::Text("Globex".into());
    google.set_rows(SHEET_ID, "Contacts", edited);
    ws.fake.clear_requests();
    let report = ws.run(&["sync", "--output", "json", "--allow-mass-delete"]).await.report();
    assert_eq!(report["applied"], json!({"create": 0, "update": 1, "delete": 1}));
    let patch = ws.fake.requests().into_iter().find(|r| r.method == "PATCH").unwrap().body.unwrap();
    assert_eq!(patch["defaultFields"]["company"], "Globex");
    assert_eq!(patch["defaultFields"]["firstName"], ws.by_external_id("C-0002")[0]["defaultFields"]["firstName"]);
    ws.assert_exactly(&ids(1..=2));
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Globex");
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_keep_their_sheet_numbers_when_the_range_starts_lower() {
    // Column A and rows 1-4 are outside the range; the header is on row 5, from column B.
    let mut rows = vec![
        text_row(&["Exported for the sales team"]),
        vec![],
        text_row(&["", "do not edit above the header"]),
        vec![],
    ];
    let shifted = |cells: Vec<Cell>| {
        let mut r = vec![Cell::Text("ignored".into())];
        r.extend(cells);
        r
    };
    rows.push(shifted(header_cells())); // row 5
    rows.push(shifted(sheet_row(1))); // row 6
    let mut bad_email = sheet_row(2);
    bad_email[4] = Cell::Text("not-an-email".into());
    rows.push(shifted(bad_email)); // row 7
    rows.push(vec![]); // row 8: blank, skipped
    let mut no_id = sheet_row(4);
    no_id[0] = Cell::Empty;
    rows.push(shifted(no_id)); // row 9
    rows.push(shifted(sheet_row(5))); // row 10
    rows.push(shifted(sheet_row(5))); // row 11: the same id again
    rows.push(shifted(sheet_row(6)[..5].to_vec())); // row 12: the API drops its empty tail
    let (ws, _google) = sheet_workspace(rows, "Contacts!B5:L").await;
    ws.write("mapping.toml", &crate::support::strict_mapping());

    let report = ws.sync(1).await;
    assert_eq!(report["source_rows"], 6);
    let errors = report["errors"].as_array().unwrap();
    let at: Vec<u64> = errors.iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(at, vec![7, 9, 10, 11], "{errors:#?}");
    assert!(errors[0]["message"].as_str().unwrap().contains("\"not-an-email\" is not an email address"));
    assert_eq!(errors[0]["external_id"], "C-0002");
    assert_eq!(errors[1]["message"], "missing external id: column \"ID\" is empty");
    assert!(errors[2]["message"].as_str().unwrap().contains("also on row 11"), "{errors:#?}");

    ws.assert_exactly(&["C-0001".to_owned(), "C-0006".to_owned()]);
    let c1 = &ws.by_external_id("C-0001")[0];
    assert_eq!(c1["sourceUrl"], link(6));
    let c6 = &ws.by_external_id("C-0006")[0];
    assert_eq!(c6["sourceUrl"], link(12));
    assert_eq!(c6["defaultFields"]["phoneNumbers"], json!([]));

    // The text report names the same rows; they are known from the last run (exit 0).
    let text = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("row 7"), "{}", text.stdout);
    assert!(text.stdout.contains("4 invalid (4 known from the last run)"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn link_sheet_points_at_the_tab_and_link_none_writes_no_url() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1)], "Contacts").await;
    ws.use_sheet(&google, SHEET_ID, "Contacts", "link = \"sheet\"\n");
    ws.sync(0).await;
    let tab = format!("https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid={GID}");
    assert_eq!(ws.by_external_id("C-0001")[0]["sourceUrl"], tab);

    // Moving the row changes nothing for a tab link.
    google.set_rows(SHEET_ID, "Contacts", vec![header_cells(), vec![], sheet_row(1)]);
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 1);

    ws.use_sheet(&google, SHEET_ID, "Contacts", "link = \"none\"\n");
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 1, "no link: the one written stays");
    assert_eq!(ws.by_external_id("C-0001")[0]["sourceUrl"], tab);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unshared_sheet_names_the_address_to_share_it_with() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1)], "Contacts!A1:K").await;
    google.unshare(SHEET_ID, CLIENT_EMAIL);
    let run = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("share the spreadsheet with {CLIENT_EMAIL}")), "{}", run.stderr);
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));

    let check = ws.run(&["check"]).await;
    assert_eq!(check.code, 4, "{}", check.stderr);
    assert!(check.stderr.contains(CLIENT_EMAIL), "{}", check.stderr);
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_spreadsheet_or_tab_is_named() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1)], "Contacts!A1:K").await;

    ws.use_sheet(&google, "NoSuchSheet", "Contacts!A1:K", "");
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("there is no spreadsheet NoSuchSheet"), "{}", run.stderr);

    ws.use_sheet(&google, SHEET_ID, "Contacs!A1:K", "");
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("has no tab \"Contacs\" (it has: \"Notes\", \"Contacts\")"), "{}", run.stderr);

    // A name alone may be a tab or a named range: Google decides, the message is the same.
    ws.use_sheet(&google, SHEET_ID, "Contacs", "");
    let run = ws.run(&["check", "--offline"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("has no tab \"Contacs\""), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_range_is_a_config_error() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1)], "Contacts!A0:K").await;
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    let line = config.lines().position(|l| l.starts_with("range")).unwrap() + 1;
    assert!(run.stderr.contains(&format!("config.toml:{line}: `source.range`: malformed range")), "{}", run.stderr);
    assert!(google.requests().is_empty() && google.grants().is_empty(), "nothing is sent for a malformed range");

    // One only Google can refuse: beyond the sheet's columns.
    ws.use_sheet(&google, SHEET_ID, "Contacts!A1:ZZ", "");
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("the range \"Contacts!A1:ZZ\" is malformed: Range"), "{}", run.stderr);
    assert!(run.stderr.contains("exceeds grid limits"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn key_file_problems_are_config_errors_with_their_line() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1)], "Contacts!A1:K").await;
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    let line = config.lines().position(|l| l.starts_with("service_account_key")).unwrap() + 1;
    let at = format!("config.toml:{line}: `source.service_account_key`: ");

    std::fs::remove_file(ws.path("service-account.json")).unwrap();
    for cmd in [&["sync"][..], &["check", "--offline"], &["status"]] {
        let run = ws.run(cmd).await;
        assert_eq!(run.code, 2, "{cmd:?}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("{at}cannot read the service-account key")), "{}", run.stderr);
    }

    ws.write("service-account.json", r#"{"type": "authorized_user", "client_id": "x", "refresh_token": "y"}"#);
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&at) && run.stderr.contains("user credentials"), "{}", run.stderr);
    assert!(run.stderr.contains("Service accounts"), "says where to get a key: {}", run.stderr);

    ws.write("service-account.json", r#"{"installed": {"client_id": "x"}}"#);
    let run = ws.run(&["sync"]).await;
    assert!(run.stderr.contains("is an OAuth client secret, not a service-account key"), "{}", run.stderr);
    assert_eq!(run.code, 2);
    assert!(google.grants().is_empty() && ws.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_stops_the_run_and_says_why() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1)], "Contacts!A1:K").await;
    ws.write("service-account.json", &google.key_json(fake_google::OTHER_KEY_PEM, CLIENT_EMAIL));
    let run = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the token endpoint {} refused the service account {CLIENT_EMAIL}: invalid_grant: Invalid JWT Signature.",
            google.token_uri()
        )),
        "{}",
        run.stderr
    );
    let grants = google.grants();
    assert_eq!(grants.len(), 1, "a refusal is not retried");
    assert!(!grants[0].signature_ok);
    assert!(google.requests().is_empty());

    let check = ws.run(&["check", "--offline"]).await;
    assert_eq!(check.code, 4, "{}", check.stderr);
    assert!(check.stderr.contains("Invalid JWT Signature"), "{}", check.stderr);
    // The unit's ExecStartPre (`check --offline --no-source`) does not read the sheet, so a
    // Google that refuses (or cannot be reached) at boot does not keep the daemon from starting.
    let before = google.grants().len();
    let check = ws.run_with_key(&["check", "--offline", "--no-source"], None).await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stdout.contains("not read (--no-source)"), "{}", check.stdout);
    assert_eq!(google.grants().len(), before, "nothing was asked of Google");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reads_the_sheet_and_google_outages_are_retried() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1), sheet_row(2)], "Contacts!A1:K").await;
    google.fail_next(&[503]);
    let run = ws.run(&["check"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("source Google Sheet {SHEET_ID} (Contacts!A1:K): 2 rows, every mapped column present")),
        "{}",
        run.stdout
    );
    let statuses: Vec<u16> = google.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![503, 200, 200, 200]);
    assert!(ws.fake.contacts().is_empty(), "check writes nothing");

    // A mapped column the sheet lacks is a mapping error, as for a CSV.
    google.set_rows(SHEET_ID, "Contacts", vec![text_row(&["ID", "First Name"]), sheet_row(1)]);
    let run = ws.run(&["check", "--offline"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("is not in the header of Google Sheet {SHEET_ID}")), "{}", run.stderr);

    // An empty tab has no header.
    google.set_rows(SHEET_ID, "Contacts", vec![]);
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no header row"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_while_the_sheet_is_read_ends_the_run_at_once() {
    let (ws, google) = sheet_workspace(vec![header_cells(), sheet_row(1)], "Contacts!A1:K").await;
    google.set_latency(std::time::Duration::from_mins(1));
    let child = ws
        .command(&["sync", "--output", "json"], Some(&ws.api_key))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop it once its first Sheets request is in, held by the latency.
    assert!(
        wait_until(std::time::Duration::from_secs(10), || google.received() > 0).await,
        "no Sheets request within 10 s (grants: {})",
        google.grants().len()
    );
    let asked = std::time::Instant::now();
    assert_eq!(unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) }, 0);
    let out =
        tokio::time::timeout(std::time::Duration::from_secs(15), child.wait_with_output()).await.unwrap().unwrap();
    assert!(asked.elapsed() < std::time::Duration::from_secs(3), "took {:?}", asked.elapsed());
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "stopped", "{report}");
    assert!(report["fatal"].as_str().unwrap().contains("while reading the source"), "{report}");
    assert!(ws.fake.contacts().is_empty());
}
