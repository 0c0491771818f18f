//! Hostile input, generated (proptest): the CSV reader, the mapping (file and row → contact)
//! and the config loader never panic or hang, every rejection is located (row, or
//! file:line:key), and every contact a row maps to is a body the official spec accepts.
//! `PROPTEST_CASES` raises the number of cases (the defaults keep each test to about a second).

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use openphone_sync::config::Config;
use openphone_sync::mapping::{FieldCatalog, Mapper, Mapping};
use openphone_sync::model::{CustomFieldDef, FieldType};
use openphone_sync::openphone::wire;
use openphone_sync::source::{SourceRow, csv};

use crate::support::fake_openphone::schema_violations;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn delimiter() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![b',', b';', b'\t', b'|'])
}

/// Bytes that look like a CSV more often than random bytes do.
fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b",".to_vec()),
        Just(b";".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"sep=;\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xe9".to_vec()),
        "[a-zA-Z0-9 =+@-]{1,8}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(cases(256))]

    /// Any bytes: a header and rows of its width, or a located error; never a panic.
    #[test]
    fn csv_reader_takes_any_bytes(bytes in csv_bytes(), delim in delimiter()) {
        let lines = csv::line_breaks(&bytes) + 1;
        match csv::read(&bytes[..], delim, "t.csv") {
            Ok(data) => {
                prop_assert!(!data.header.is_empty());
                prop_assert!(data.header.last().is_some_and(|h| !h.is_empty()));
                let mut last = 1;
                for r in &data.rows {
                    prop_assert_eq!(r.cells.len(), data.header.len());
                    prop_assert!(r.row > last && r.row <= lines, "row {} after {last}, {lines} lines", r.row);
                    prop_assert!(r.cells.iter().all(|c| !c.contains('\0')));
                    last = r.row;
                }
                for e in &data.errors {
                    prop_assert!(e.row >= 2 && e.row <= lines);
                    prop_assert!(!e.message.is_empty());
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("t.csv"), "{msg}");
                prop_assert!(e.is_config(), "reading memory cannot be unavailable: {msg}");
            }
        }
    }

    /// A table written by a CSV writer (quotes, delimiters, newlines in cells; BOM; CRLF)
    /// reads back cell for cell, each row numbered with the line it starts on.
    #[test]
    fn csv_reader_reads_back_what_a_writer_wrote(
        header in prop::collection::vec("[A-Za-z][A-Za-z0-9_-]{0,8}", 1..6),
        body in prop::collection::vec(prop::collection::vec("[^\0]{0,12}", 6), 0..12),
        delim in delimiter(),
        bom in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let width = header.len();
        // A first cell that is not blank, so no row is a blank row.
        let rows: Vec<Vec<String>> =
            body.into_iter().map(|r| { let mut r = r[..width].to_vec(); r[0] = format!("x{}", r[0]); r }).collect();
        let mut w = ::csv::WriterBuilder::new()
            .delimiter(delim)
            .terminator(if crlf { ::csv::Terminator::CRLF } else { ::csv::Terminator::Any(b'\n') })
            .from_writer(if bom { b"\xef\xbb\xbf".to_vec() } else { Vec::new() });
        w.write_record(&header).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let data = csv::read(&bytes[..], delim, "t.csv").unwrap();
        prop_assert_eq!(&data.header, &header);
        prop_assert!(data.errors.is_empty(), "{:?}", data.errors);
        let mut line = 2;
        prop_assert_eq!(data.rows.len(), rows.len());
        for (got, want) in data.rows.iter().zip(&rows) {
            prop_assert_eq!(&got.cells, want);
            prop_assert_eq!(got.row, line);
            line += 1 + want.iter().map(|c| csv::line_breaks(c.as_bytes())).sum::<u64>();
        }
    }
}

const MAPPING: &str = r#"external_id = "ID"
[default_fields]
first_name = "First"
last_name = "Last"
company = "Company"
role = "Role"
[[emails]]
label = "work"
column = "Email"
[[phone_numbers]]
label = "mobile"
column = "Phone"
[phone]
default_region = "US"
[[custom_fields]]
key = "s"
column = "S"
[[custom_fields]]
key = "b"
column = "B"
[[custom_fields]]
key = "n"
column = "N"
[[custom_fields]]
key = "d"
column = "D"
[[custom_fields]]
key = "m"
column = "M"
[[custom_fields]]
key = "u"
column = "U"
"#;
const COLUMNS: [&str; 13] = ["ID", "First", "Last", "Company", "Role", "Email", "Phone", "S", "B", "N", "D", "M", "U"];

fn mapper(dir: &Path) -> Mapper {
    let path = dir.join("mapping.toml");
    std::fs::write(&path, MAPPING).unwrap();
    let mapping = Mapping::load(&path).unwrap();
    let def = |key: &str, field_type| CustomFieldDef { name: key.to_uppercase(), key: key.into(), field_type };
    let catalog = FieldCatalog::Workspace(vec![
        def("s", FieldType::String),
        def("b", FieldType::Boolean),
        def("n", FieldType::Number),
        def("d", FieldType::Date),
        def("m", FieldType::MultiSelect),
        def("u", FieldType::Url),
    ]);
    let header: Vec<String> = COLUMNS.map(String::from).to_vec();
    Mapper::new(&mapping, &header, "t.csv", &catalog).unwrap()
}

/// Cells of every kind a column can meet: text, formulas, numbers, dates, emails, phones,
/// long and control characters.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        any::<String>(),
        "[=+@-][ -~]{0,12}",
        "[-+]?[0-9]{0,22}(\\.[0-9]{0,6})?([eE][0-9]{1,3})?",
        "[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?",
        "[a-z.]{0,6}@[a-z]{0,5}\\.?[a-z]{0,3}( ::: [a-z]@b\\.co)?",
        "\\+?[0-9 ()-]{0,20}( ::: \\+1 201 555 0123)?",
        "(yes|no|true|FALSE|1|0|y|maybe)",
        "(https?|ftp|mailto|x)://[ -~]{0,20}",
        ".{70,80}",
        "[\0-\u{1f}\u{7f}\u{feff}\u{202e}]{1,4}",
    ]
}

fn link() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "https://docs\\.google\\.com/spreadsheets/d/[A-Za-z0-9_-]{1,180}/edit#gid=0&range=7:7".prop_map(Some),
        "[ -~]{0,12}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    /// Any row maps to a contact whose create body the spec accepts, or to a row error that
    /// carries the row number (and the external id when it is usable).
    #[test]
    fn every_mapped_row_is_a_body_the_spec_accepts(
        cells in prop::collection::vec(cell(), COLUMNS.len()),
        link in link(),
    ) {
        thread_local!(static DIR: tempfile::TempDir = tempfile::tempdir().unwrap());
        let mapper = DIR.with(|d| mapper(d.path()));
        let row = SourceRow { row: 42, cells: cells.into(), link };
        match mapper.map(&row) {
            Ok(record) => {
                prop_assert_eq!(record.row, 42);
                let body = serde_json::to_value(wire::create_body(&record.external_id, "contact-sync", &record.state)).unwrap();
                let violations = schema_violations(&body, false);
                prop_assert!(violations.is_empty(), "{violations:#?}\nbody: {body:#}");
            }
            Err(e) => {
                prop_assert_eq!(e.row, 42);
                prop_assert!(!e.message.is_empty());
                prop_assert!(e.message.len() < 2_000, "a message quotes a whole long cell: {}", e.message.len());
                prop_assert_eq!(e.external_id.is_some(), mapper.external_id(&row).is_some());
            }
        }
    }
}

/// TOML text built from the keys a file knows and does not know, with values of every type.
fn toml_text(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "\"[ -!#-\\[\\]-~]{0,12}\"",
        "-?[0-9]{1,20}",
        "-?[0-9]{1,3}\\.[0-9]{1,3}",
        "(true|false|inf|nan)",
        Just("[]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        Just("\"\"".to_owned()),
        Just("\"tab\"".to_owned()),
        Just("\"mapping.toml\"".to_owned()),
    ];
    let line = prop_oneof![
        (prop::sample::select(keys), value).prop_map(|(k, v)| format!("{k} = {v}")),
        "\\[{1,2}[a-z_]{1,14}\\]{1,2}",
        "[ -~]{0,20}",
    ];
    prop::collection::vec(line, 0..16).prop_map(|l| l.join("\n"))
}

/// A config of the usual shape with values drawn in and out of range and paths relative,
/// nested, absolute or missing (the folder holds `c.csv`, `sub/c.csv` and `mapping.toml`):
/// many load, so what a loaded config promises is checked too.
fn config_shaped() -> impl Strategy<Value = String> {
    let line = |key: &'static str, value: BoxedStrategy<String>| {
        prop::option::of(value).prop_map(move |v| v.map(|v| format!("{key} = {v}\n")).unwrap_or_default())
    };
    let quoted = |re: &'static str| re.prop_map(|p| format!("\"{p}\"")).boxed();
    (
        line("requests_per_second", "-?[0-9]{1,5}".boxed()),
        line("max_delete_fraction", "-?[0-9](\\.[0-9]{1,2})?".boxed()),
        line("database", quoted("(mirror\\.sqlite3|[a-z]{1,6}/[a-z]{1,6}\\.db|/tmp/[a-z]{1,8}\\.db)")),
        quoted("(c\\.csv|\\./c\\.csv|sub/c\\.csv|[a-z]{1,6}\\.csv)"),
        quoted("(mapping\\.toml|\\./mapping\\.toml|sub/\\.\\./mapping\\.toml|[a-z]{1,8}\\.toml)"),
    )
        .prop_map(|(rps, fraction, database, csv, mapping)| {
            format!(
                "[openphone]\n{rps}[state]\n{database}[source]\ntype = \"csv\"\npath = {csv}\n[sync]\nmapping = {mapping}\n{fraction}"
            )
        })
}

const CONFIG_KEYS: &[&str] = &[
    "[openphone]",
    "[source]",
    "[sync]",
    "[state]",
    "[schedule]",
    "[metrics]",
    "[[source]]",
    "api_key_file",
    "base_url",
    "requests_per_second",
    "source_label",
    "timeout_seconds",
    "max_retries",
    "concurrency",
    "database",
    "cron",
    "timezone",
    "listen",
    "type",
    "path",
    "delimiter",
    "spreadsheet_id",
    "range",
    "service_account_key",
    "link",
    "mapping",
    "delete_missing",
    "max_delete_fraction",
    "bogus",
];
/// A mapping of the usual shape, with blank, spaced and joined id columns, labels and
/// regions drawn in and out of what is allowed: many load.
fn mapping_shaped() -> impl Strategy<Value = String> {
    let column = || "\"(ID|Email|[A-Za-z][A-Za-z ]{0,8}| |)\"";
    let id = prop_oneof![
        column().boxed(),
        "\\{ columns = \\[(\"[A-Za-z ]{0,6}\", ){0,3}\\], hash = (true|false) \\}".boxed(),
    ];
    let first_name =
        prop::option::of(column()).prop_map(|c| c.map(|c| format!("[default_fields]\nfirst_name = {c}\n")));
    let email = prop::option::of(("\"(work|home|[a-z]{0,6})\"", column()))
        .prop_map(|e| e.map(|(label, c)| format!("[[emails]]\nlabel = {label}\ncolumn = {c}\n")));
    let region = prop::option::of("\"(US|GB|gb|XX|[A-Z]{2})\"")
        .prop_map(|r| r.map(|r| format!("[phone]\ndefault_region = {r}\n")));
    (id, first_name, email, region).prop_map(|(id, first_name, email, region)| {
        let tables = [first_name, email, region].into_iter().flatten().collect::<String>();
        format!("external_id = {id}\n{tables}")
    })
}

const MAPPING_KEYS: &[&str] = &[
    "[default_fields]",
    "[[emails]]",
    "[[phone_numbers]]",
    "[phone]",
    "[[custom_fields]]",
    "[emails]",
    "external_id",
    "first_name",
    "last_name",
    "company",
    "role",
    "label",
    "column",
    "default_region",
    "name",
    "key",
    "separator",
    "bogus",
];

/// Every problem names the file, and its line (when it has one) is in the file.
fn located(problems: &openphone_sync::config::Problems, path: &Path, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(!problems.is_empty());
    let lines = text.split('\n').count();
    for p in &problems.0 {
        prop_assert_eq!(&p.file, path);
        prop_assert!(p.line.is_none_or(|l| (1..=lines).contains(&l)), "line {:?} of {lines}: {p}", p.line);
        prop_assert!(!p.message.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(256))]

    /// Any config text: a config whose paths resolve against its folder (the mapping it
    /// names exists) and whose numbers are in range, or every problem located by file and
    /// line; never a panic.
    #[test]
    fn config_loader_locates_every_problem(
        text in prop_oneof![toml_text(CONFIG_KEYS), config_shaped(), any::<String>()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mapping.toml"), "external_id = \"ID\"\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for csv in ["c.csv", "sub/c.csv"] {
            std::fs::write(dir.path().join(csv), "ID\n").unwrap();
        }
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &text).unwrap();
        match Config::load(&path) {
            Ok(config) => {
                prop_assert_eq!(&config.path, &path);
                prop_assert!(config.sync.mapping.is_file(), "{:?}", config.sync.mapping);
                prop_assert!(config.database.is_absolute(), "{:?}", config.database);
                let source = config.source.files()[0];
                prop_assert!(source.is_absolute() && source.starts_with(dir.path()), "{:?}", source);
                prop_assert!((1..=1000).contains(&config.openphone.requests_per_second));
                prop_assert!((0.0..=1.0).contains(&config.sync.max_delete_fraction));
            }
            Err(problems) => located(&problems, &path, &text)?,
        }
    }

    /// Any mapping text: a mapping with an external id column that is not blank, or every
    /// problem located.
    #[test]
    fn mapping_loader_locates_every_problem(
        text in prop_oneof![toml_text(MAPPING_KEYS), mapping_shaped(), any::<String>()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mapping.toml");
        std::fs::write(&path, &text).unwrap();
        match Mapping::load(&path) {
            Ok(m) => {
                prop_assert_eq!(&m.path, &path);
                prop_assert!(!m.external_id.columns.is_empty() && m.external_id.columns.iter().all(|c| !c.trim().is_empty()));
            }
            Err(problems) => located(&problems, &path, &text)?,
        }
    }
}
