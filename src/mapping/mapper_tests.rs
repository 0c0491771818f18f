//! The mapper's unit tests: rows of a small mapping, mapped and refused.

use super::*;
use crate::mapping::{FieldCatalog, Mapping};
use crate::model::CustomFieldDef;
use serde_json::json;

const MAPPING: &str = r#"external_id = "ID"
[default_fields]
first_name = "First"
[[emails]]
label = "work"
column = "Email"
[[phone_numbers]]
label = "mobile"
column = "Phone"
[phone]
default_region = "US"
[[custom_fields]]
name = "vip"
column = "VIP"
"#;

fn load(dir: &std::path::Path, text: &str) -> Mapping {
    let p = dir.join("m.toml");
    std::fs::write(&p, text).unwrap();
    Mapping::load(&p).unwrap()
}

fn mapping(dir: &std::path::Path) -> Mapping {
    load(dir, MAPPING)
}

/// Every optional field with `on_invalid = "skip_row"`.
fn strict(dir: &std::path::Path) -> Mapping {
    let text = MAPPING.replace("column = \"Email\"", "column = \"Email\"\non_invalid = \"skip_row\"");
    let text = text.replace("column = \"Phone\"", "column = \"Phone\"\non_invalid = \"skip_row\"");
    load(dir, &text.replace("column = \"VIP\"", "column = \"VIP\"\non_invalid = \"skip_row\""))
}

fn header() -> Vec<String> {
    ["ID", "First", "Email", "Phone", "VIP"].map(String::from).to_vec()
}

fn catalog() -> FieldCatalog {
    FieldCatalog::Workspace(vec![CustomFieldDef {
        name: "VIP".into(),
        key: "k1".into(),
        field_type: FieldType::Boolean,
    }])
}

fn row(cells: [&str; 5]) -> SourceRow {
    SourceRow { row: 7, cells: cells.to_vec().into(), link: None }
}

#[test]
fn maps_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
    let r = m.map(&row(["C-1", " Ann ", "ann@x.io", "(201) 555-0123", "yes"])).unwrap();
    assert_eq!(r.external_id, "C-1");
    assert_eq!(r.state.first_name.as_deref(), Some("Ann"));
    assert_eq!(r.state.emails, vec![Slot { label: "work".into(), value: Some("ann@x.io".into()) }]);
    assert_eq!(r.state.phones[0].value.as_deref(), Some("+12015550123"));
    assert_eq!(r.state.custom["k1"], json!(true));
}

#[test]
fn source_hash_covers_mapped_cells_only() {
    let dir = tempfile::tempdir().unwrap();
    let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
    let a = row(["C-1", "Ann", "ann@x.io", "", "yes"]);
    assert_eq!(m.source_hash(&a), m.source_hash(&a.clone()));
    let b = row(["C-1", "Ann", "ann@x.io", "", "no"]);
    assert_ne!(m.source_hash(&a), m.source_hash(&b));
    // Another catalog (a field's type changed) is another mapper.
    let other = FieldCatalog::Workspace(vec![CustomFieldDef {
        name: "VIP".into(),
        key: "k1".into(),
        field_type: FieldType::String,
    }]);
    let m2 = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &other).unwrap();
    assert_ne!(m.source_hash(&a), m2.source_hash(&a));
    // An unmapped column does not count.
    let wide: Vec<String> = header().into_iter().chain(["Notes".to_owned()]).collect();
    let m3 = Mapper::new(&mapping(dir.path()), &wide, "t.csv", &catalog()).unwrap();
    let wider = |last: &str| {
        let cells: Vec<&str> = a.cells.iter().chain([last]).collect();
        SourceRow { cells: cells.into(), ..a.clone() }
    };
    let (c, d) = (wider("x"), wider("y"));
    assert_eq!(m3.source_hash(&c), m3.source_hash(&d));
}

#[test]
fn bad_optional_values_are_left_out_with_a_warning_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
    let out = m.map_with_warnings(&row(["C-2", "Ann", "nope", "1234", "perhaps"])).unwrap();
    assert_eq!(out.record.state.emails[0].value, None);
    assert_eq!(out.record.state.phones[0].value, None);
    assert_eq!(out.record.state.custom["k1"], serde_json::Value::Null);
    assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
    assert!(
        out.warnings[0].message.starts_with("column \"Email\": \"nope\" is not an email address; left out"),
        "{:?}",
        out.warnings
    );
    assert!(out.warnings[1].message.contains("column \"Phone\": \"1234\""), "{:?}", out.warnings);
    assert!(out.warnings[2].message.contains("column \"VIP\" (boolean field): \"perhaps\""), "{:?}", out.warnings);
    // Null values are empty cells: no warning.
    let m = m.with_null_values(&["null".to_owned(), "N/A".to_owned()]);
    let out = m.map_with_warnings(&row(["C-2", "null", "N/A", "null", ""])).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.record.state.first_name, None);
    // An id is never dropped.
    assert!(m.map(&row(["null", "Ann", "", "", ""])).unwrap_err().message.contains("missing external id"));
    // An extension is a warning; the number syncs.
    let out = m.map_with_warnings(&row(["C-2", "", "", "1-888-752-5141 Ext 43023", ""])).unwrap();
    assert_eq!(out.record.state.phones[0].value.as_deref(), Some("+18887525141"));
    assert!(out.warnings[0].message.contains("the extension 43023"), "{:?}", out.warnings);
}

#[test]
fn separators_split_a_cell_into_items_in_fixed_slots() {
    let dir = tempfile::tempdir().unwrap();
    let text = MAPPING.replace("column = \"Phone\"", "column = \"Phone\"\nseparator = \" ::: \"");
    let m = Mapper::new(&load(dir.path(), &text), &header(), "t.csv", &catalog()).unwrap();
    let out = m.map_with_warnings(&row(["C-4", "", "", "+1 201-555-0123 ::: (201) 555-0124 ::: 12", ""])).unwrap();
    let phones: Vec<(&str, Option<&str>)> =
        out.record.state.phones.iter().map(|s| (s.label.as_str(), s.value.as_deref())).collect();
    assert_eq!(
        phones,
        [
            ("mobile", Some("+12015550123")),
            ("mobile 2", Some("+12015550124")),
            ("mobile 3", None),
            ("mobile 4", None),
            ("mobile 5", None)
        ]
    );
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let six: Vec<String> = (0..6).map(|k| format!("+1 201-555-012{k}")).collect();
    let out = m.map_with_warnings(&row(["C-4", "", "", &six.join(" ::: "), ""])).unwrap();
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(out.warnings[0].message.contains("holds 6 values and the entry keeps 5"), "{:?}", out.warnings);
    assert!(out.warnings[0].message.contains("not kept: \"+1 201-555-0125\""), "{:?}", out.warnings);
    let m = Mapper::new(
        &load(dir.path(), &text.replace("separator", "max_items = 6\nseparator")),
        &header(),
        "t.csv",
        &catalog(),
    )
    .unwrap();
    let out = m.map_with_warnings(&row(["C-4", "", "", &six.join(" ::: "), ""])).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.record.state.phones.len(), 6);
    assert_eq!(out.record.state.phones[5].label, "mobile 6");
    assert_eq!(out.record.state.phones[5].value.as_deref(), Some("+12015550125"));
}

#[test]
fn ids_built_from_columns_hashed_and_mangled_by_excel() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        MAPPING.replace("external_id = \"ID\"", "external_id = { columns = [\"First\", \"Email\"], hash = true }");
    let m = Mapper::new(&load(dir.path(), &text), &header(), "t.csv", &catalog()).unwrap();
    let a = m.map(&row(["", "Ann Lee", "ann@x.io", "", ""])).unwrap().external_id;
    let b = m.map(&row(["", "Ann Lee", "ann2@x.io", "", ""])).unwrap().external_id;
    assert_ne!(a, b);
    assert_eq!(a.len(), crate::mapping::HASHED_ID_LEN);
    assert_eq!(a, m.map(&row(["x", " Ann Lee ", "ann@x.io", "", ""])).unwrap().external_id, "stable");
    let e = m.map(&row(["", "", "", "", ""])).unwrap_err();
    assert_eq!(e.message, "missing external id: columns \"First\", \"Email\" are all empty");
    let text = MAPPING.replace("external_id = \"ID\"", "external_id = { columns = [\"First\", \"ID\"] }");
    let m = Mapper::new(&load(dir.path(), &text), &header(), "t.csv", &catalog()).unwrap();
    assert_eq!(m.map(&row(["7", "Ann", "", "", ""])).unwrap().external_id, "Ann 7");
    let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
    let e = m.map(&row(["1.11015E+11", "", "", "", ""])).unwrap_err();
    assert!(
        e.message.contains("column \"ID\": \"1.11015E+11\" is a number in scientific notation: Excel"),
        "{}",
        e.message
    );
    assert!(m.map(&row(["1E5X", "", "", "", ""])).is_ok());
}

#[test]
fn a_repeated_column_is_picked_by_occurrence() {
    let dir = tempfile::tempdir().unwrap();
    let header: Vec<String> = ["ID", "First", "Email", "Phone", "VIP", "Phone"].map(String::from).to_vec();
    let err = Mapper::new(&mapping(dir.path()), &header, "t.csv", &catalog()).unwrap_err().to_string();
    assert!(
        err.contains("column \"Phone\" appears 2 times in the header of t.csv: set `occurrence` (1 to 2)"),
        "{err}"
    );
    let text = MAPPING.replace("column = \"Phone\"", "column = \"Phone\"\noccurrence = 2");
    let m = Mapper::new(&load(dir.path(), &text), &header, "t.csv", &catalog()).unwrap();
    let cells = ["C-1", "", "", "", "", "(201) 555-0123"].map(String::from).to_vec();
    let r = m.map(&SourceRow { row: 2, cells: cells.into(), link: None }).unwrap();
    assert_eq!(r.state.phones[0].value.as_deref(), Some("+12015550123"));
    let text = MAPPING.replace("column = \"Phone\"", "column = \"Phone\"\noccurrence = 3");
    let err = Mapper::new(&load(dir.path(), &text), &header, "t.csv", &catalog()).unwrap_err().to_string();
    assert!(err.contains("`occurrence = 3`, but the header of t.csv has 2 column(s) named \"Phone\""), "{err}");
}

#[test]
fn a_declared_type_is_used_offline_and_checked_online() {
    let dir = tempfile::tempdir().unwrap();
    let text = MAPPING.replace("column = \"VIP\"", "column = \"VIP\"\ntype = \"date\"\nformat = \"%d %b %Y\"");
    let mapping = load(dir.path(), &text);
    let m = Mapper::new(&mapping, &header(), "t.csv", &FieldCatalog::Unknown).unwrap();
    let out = m.map_with_warnings(&row(["C-1", "", "", "", "30 May 2024"])).unwrap();
    assert_eq!(out.record.state.custom["vip"], json!("2024-05-30T00:00:00.000Z"));
    assert_eq!(m.map_with_warnings(&row(["C-1", "", "", "", "2/5/24"])).unwrap().warnings.len(), 1);
    let err = Mapper::new(&mapping, &header(), "t.csv", &catalog()).unwrap_err().to_string();
    assert!(err.contains("the mapping says \"date\", but the workspace's field \"VIP\" is a boolean field"), "{err}");
}

#[test]
fn row_errors_name_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let m = Mapper::new(&strict(dir.path()), &header(), "t.csv", &catalog()).unwrap();
    let e = m.map(&row(["C-2", "", "nope", "12", "perhaps"])).unwrap_err();
    assert_eq!((e.row, e.external_id.as_deref()), (7, Some("C-2")));
    assert!(e.message.contains("column \"Email\""), "{}", e.message);
    assert!(e.message.contains("column \"Phone\""), "{}", e.message);
    assert!(e.message.contains("column \"VIP\" (boolean field): \"perhaps\""), "{}", e.message);
    let e = m.map(&row(["", "", "", "", ""])).unwrap_err();
    assert_eq!(e.message, "missing external id: column \"ID\" is empty");
    assert!(m.map(&row([&"x".repeat(76), "", "", "", ""])).is_err());
}

#[test]
fn formulas_google_multi_values_and_long_links_are_row_errors() {
    let dir = tempfile::tempdir().unwrap();
    let m = Mapper::new(&strict(dir.path()), &header(), "t.csv", &catalog()).unwrap();
    let e = m.map(&row(["C-3", "=HYPERLINK(\"http://x\",\"Ann\")", "", "", ""])).unwrap_err();
    assert!(e.message.starts_with("column \"First\": \"=HYPERLINK("), "{}", e.message);
    assert!(e.message.contains("is a spreadsheet formula"), "{}", e.message);
    // +, - and @ start real values.
    let r = m.map(&row(["C-3", "@ann", "", "+1 201 555 0123", "-"]));
    assert!(r.unwrap_err().message.contains("column \"VIP\" (boolean field): \"-\""));
    assert!(m.map(&row(["C-3", "-Ann-", "", "+1 201 555 0123", ""])).is_ok());
    let e = m.map(&row(["C-4", "", "a@x.io ::: b@x.io", "+1 201-555-0123 ::: +1 201-555-0124", ""])).unwrap_err();
    assert!(e.message.contains("column \"Email\": holds 2 values separated by \" ::: \""), "{}", e.message);
    assert!(e.message.contains("column \"Phone\": holds 2 values"), "{}", e.message);
    let link =
        |n: usize| SourceRow { link: Some(format!("https://x.io/{}", "a".repeat(n))), ..row(["C-5", "", "", "", ""]) };
    assert_eq!(m.map(&link(187)).unwrap().state.source_url.map(|l| l.len()), Some(200));
    let e = m.map(&link(188)).unwrap_err();
    assert!(e.message.contains("sourceUrl) is 201 characters, over OpenPhone's limit of 200"), "{}", e.message);
    let e = m.map(&row([&"é".repeat(76), "", "", "", ""])).unwrap_err();
    assert!(e.message.contains("column \"ID\": the external id is 76 characters"), "{}", e.message);
}

#[test]
fn a_header_in_one_column_suggests_the_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let header = vec!["ID;First;Email;Phone;VIP".to_owned()];
    let err = Mapper::new(&mapping(dir.path()), &header, "t.csv", &catalog()).unwrap_err().to_string();
    assert!(err.contains("the header looks delimited by ';': set [source] delimiter = \";\""), "{err}");
}

#[test]
fn missing_columns_and_unknown_fields_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let header: Vec<String> = ["ID", "First", "Email"].map(String::from).to_vec();
    let err =
        Mapper::new(&mapping(dir.path()), &header, "t.csv", &FieldCatalog::Workspace(vec![])).unwrap_err().to_string();
    assert!(
        err.contains("m.toml:9: `phone_numbers[1].column`: column \"Phone\" is not in the header of t.csv"),
        "{err}"
    );
    assert!(err.contains("`custom_fields[1]`: the workspace has no custom field with name \"vip\""), "{err}");
}

#[test]
fn a_phone_warning_names_the_region_a_national_number_was_read_in() {
    let dir = tempfile::tempdir().unwrap();
    let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
    let out = m.map_with_warnings(&row(["C-5", "", "", "8590011086", ""])).unwrap();
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].message.contains("\"8590011086\" is not a valid phone number for its country (read as a number of region US, [phone] default_region"),
        "{:?}",
        out.warnings
    );
    // A number with its own country code was not read in the region: the message does not name it.
    let out = m.map_with_warnings(&row(["C-5", "", "", "+44 20 7946 095", ""])).unwrap();
    assert!(!out.warnings[0].message.contains("region US"), "{:?}", out.warnings);
}
