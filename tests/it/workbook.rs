//! `[source] type = "workbook"`: the recipe of docs/mapping.md (`examples/recipes/excel-workbook/`)
//! synced from workbooks LibreOffice wrote (`tests/fixtures/workbooks/`, made by its
//! `make.sh`: .xlsx, .xls and .ods alike); typed cells (a 13-digit id kept whole, date cells,
//! a formula's cached value, error cells read as empty with a warning naming the cell); `check`,
//! `check --offline`, the dry run and the daemon; paths that are not workbooks, a sheet that
//! matches nothing, an empty workbook; a kill mid-run and a rerun. Workbooks the tests change
//! between runs are written with `rust_xlsxwriter`.

use std::time::Duration;

use openphone_sync::clock::Clock;
use serde_json::Value;

use crate::support::in_process::{InProcessDaemon, utc};
use crate::support::{Workspace, custom};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The keys of the standard custom fields the recipe maps.
const LEAD_SOURCE: &str = "66aa00000000000000000001";
const SCORE: &str = "66aa00000000000000000003";
const RENEWAL: &str = "66aa00000000000000000004";

/// A workspace holding the recipe's mapping and `[source]` table, reading `file` (copied from
/// the fixtures) under the recipe's name for it.
fn recipe(ws: &Workspace, file: &str) {
    let dir = format!("{ROOT}/examples/recipes/excel-workbook");
    std::fs::copy(format!("{dir}/mapping.toml"), ws.path("mapping.toml")).expect("mapping");
    let config = std::fs::read_to_string(format!("{dir}/config.toml")).unwrap();
    let source = config.split("[source]\n").nth(1).unwrap().split("\n[").next().unwrap();
    std::fs::copy(format!("{ROOT}/tests/fixtures/workbooks/{file}"), ws.path(file)).expect("fixture");
    ws.write_config_with_source("", &format!("{}\n", source.replace("contacts.xlsx", file)));
}

fn phones(c: &Value) -> Vec<String> {
    c["defaultFields"]["phoneNumbers"].as_array().unwrap().iter().map(|p| p["value"].as_str().unwrap().into()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recipe_syncs_libreoffices_xlsx_xls_and_ods() {
    for file in ["contacts.xlsx", "contacts.xls", "contacts.ods"] {
        let ws = Workspace::new().await;
        recipe(&ws, file);
        let offline = ws.run_with_key(&["check", "--offline"], None).await;
        assert!(offline.stdout.contains("every mapped column present"), "{file}: {}{}", offline.stdout, offline.stderr);
        let check = ws.run(&["check"]).await;
        assert!(check.code == 0 || check.code == 1, "{file}: {}{}", check.stdout, check.stderr);
        let dry = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
        assert_eq!(dry.report()["planned"]["create"], 3, "{file}: {}", dry.stdout);
        assert!(ws.fake.contacts().is_empty(), "a dry run writes nothing");

        let run = ws.run(&["sync", "--output", "json"]).await;
        // Row 8 has no id: reported by its row, the rest syncs (exit 1).
        assert_eq!(run.code, 1, "{file}: {}{}", run.stdout, run.stderr);
        let report = run.report();
        assert_eq!(report["applied"]["create"], 3, "{file}: {report:#}");
        assert!(report.to_string().contains("\"row\":8"), "{file}: the row without an id is named: {report:#}");
        // The id is a 13-digit number cell (Excel shows 4.15556E+12): every digit is kept.
        let ana = &ws.by_external_id("4155552671001")[0];
        assert_eq!(ana["defaultFields"]["firstName"], "Ana", "{file}");
        assert_eq!(phones(ana), ["+12015550111"], "{file}: a phone typed as a number");
        assert!(custom(ana, RENEWAL).as_str().unwrap().starts_with("2019-02-03"), "{file}: {ana:#}");
        assert_eq!(custom(ana, SCORE), 5.0, "{file}: the formula's cached value");
        let bo = &ws.by_external_id("4155552671002")[0];
        assert_eq!(phones(bo), ["+12015550112"], "{file}");
        assert_eq!(custom(bo, SCORE), Value::Null, "{file}: #DIV/0! is an empty cell: {bo:#}");
        assert_eq!(custom(bo, LEAD_SOURCE), Value::Null, "{file}: #N/A is an empty cell");
        for cell in ["Contacts!G5", "Contacts!H5"] {
            assert!(run.stderr.contains(cell), "{file}: a warning names {cell}: {}", run.stderr);
        }
        ws.assert_spec_clean();
        let again = ws.run(&["sync", "--output", "json"]).await.report();
        assert_eq!(again["planned"]["create"], 0, "{file}: {again:#}");
        assert_eq!(again["planned"]["update"], 0, "{file}: {again:#}");
    }
}

/// Writes `name`: a "Contacts" sheet with the standard columns, rows 1..=n, `first` naming
/// each contact (to a temporary name renamed into place, as an export should).
fn write_book(ws: &Workspace, name: &str, n: usize, first: &str) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Contacts").unwrap();
    for (col, h) in ["ID", "First Name", "Last Name", "Mobile"].iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    for i in 1..=n {
        let r = i as u32;
        sheet.write_number(r, 0, 9_000_000_000_000.0 + i as f64).unwrap();
        sheet.write_string(r, 1, format!("{first}{i}")).unwrap();
        sheet.write_string(r, 2, "Book").unwrap();
        sheet.write_number(r, 3, 2_015_550_000.0 + i as f64).unwrap();
    }
    let tmp = ws.path(&format!("{name}.tmp.xlsx"));
    book.save(&tmp).unwrap();
    std::fs::rename(tmp, ws.path(name)).unwrap();
}

const BOOK_MAPPING: &str = r#"
external_id = "ID"

[default_fields]
first_name = "First Name"
last_name  = "Last Name"

[[phone_numbers]]
label  = "mobile"
column = "Mobile"

[phone]
default_region = "US"
"#;

fn use_book(ws: &Workspace, extra: &str) {
    ws.write("mapping.toml", BOOK_MAPPING);
    ws.write_config_with_source("", &format!("type = \"workbook\"\npath = \"book.xlsx\"\n{extra}"));
}

fn book_ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| (9_000_000_000_000u64 + i as u64).to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_is_finished_by_the_next_with_no_duplicate() {
    let ws = Workspace::new().await;
    write_book(&ws, "book.xlsx", 40, "First");
    use_book(&ws, "");
    // Killed mid-way through the creates.
    ws.kill_sync_mid_run(40).await;
    ws.sync(0).await;
    ws.assert_exactly(&book_ids(40));
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 40);
}

#[tokio::test(start_paused = true)]
async fn the_daemon_picks_up_a_saved_workbook() {
    let ws = Workspace::new().await;
    write_book(&ws, "book.xlsx", 3, "First");
    use_book(&ws, "sheet = 1\n");
    ws.use_key_file();
    ws.append_config("[schedule]\ncron = \"0 */15 * * * *\"\n");
    let d = InProcessDaemon::start(ws.path("config.toml"), Clock::test(utc("2026-12-01T10:00:00Z")));
    d.until("3 contacts", Duration::from_mins(1), |_| ws.fake.contacts().len() == 3).await;
    write_book(&ws, "book.xlsx", 4, "Edited");
    d.until("the edit and the new row at the next tick", Duration::from_mins(16), |_| {
        let c = ws.fake.contacts();
        c.len() == 4 && c.iter().all(|c| c["defaultFields"]["firstName"].as_str().unwrap().starts_with("Edited"))
    })
    .await;
    assert!(matches!(d.stop().await, Ok(openphone_sync::exit::Exit::Ok)));
    ws.assert_exactly(&book_ids(4));
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_that_are_not_workbooks_are_config_errors_naming_the_path() {
    let ws = Workspace::new().await;
    write_book(&ws, "book.xlsx", 1, "First");
    ws.write("mapping.toml", BOOK_MAPPING);
    std::fs::create_dir(ws.path("folder.xlsx")).unwrap();
    let fifo = std::ffi::CString::new(ws.path("fifo.xlsx").into_os_string().into_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    ws.write("text.xlsx", "ID,First Name\n1,Ana\n");
    ws.write("contacts.csv", "ID\n1\n");
    for (path, want) in [
        ("folder.xlsx", "a folder, not a file"),
        ("fifo.xlsx", "not a regular file"),
        ("missing.xlsx", "file not found"),
        ("contacts.csv", "not a workbook's name"),
        ("text.xlsx", "not a readable workbook"),
    ] {
        ws.write_config_with_source("", &format!("type = \"workbook\"\npath = \"{path}\"\n"));
        let run = ws.run_with_key(&["check", "--offline"], None).await;
        assert_eq!(run.code, 2, "{path}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(want) && run.stderr.contains(path), "{path}: {}", run.stderr);
    }
    // CSV keys on a workbook are named as such.
    ws.write_config_with_source("", "type = \"workbook\"\npath = \"book.xlsx\"\ndelimiter = \";\"\n");
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("`source.delimiter`: only for type = \"csv\""), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sheet_that_matches_nothing_and_an_empty_workbook_sync_nothing() {
    let ws = Workspace::new().await;
    write_book(&ws, "book.xlsx", 2, "First");
    use_book(&ws, "sheet = \"People\\u001b[31m\"\n");
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(r#"no sheet "People\u{1b}[31m": its sheets are "Contacts""#), "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "a control character reaches the terminal: {:?}", run.stderr);
    use_book(&ws, "sheet = 2\n");
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no sheet number 2"), "{}", run.stderr);

    std::fs::copy(format!("{ROOT}/tests/fixtures/workbooks/empty.xlsx"), ws.path("book.xlsx")).unwrap();
    use_book(&ws, "");
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("no header row"), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}
