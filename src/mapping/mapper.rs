//! [`Mapper`]: the mapping resolved against a source header (column indices) and the
//! workspace's custom fields (keys and types); it turns one source row into a [`Record`].

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::config::diagnostic::Problems;
use crate::model::{ContactState, CustomFieldDef, Digest, FieldType, Record, Slot, Unmapped};
use crate::source::{RowError, SourceRow};

use super::limits::{self, EXTERNAL_ID_MAX};
use super::phone::{self, Region};
use super::{FieldRef, Mapping, convert};

/// How Google Contacts joins several values of one type in a cell.
const GOOGLE_MULTI: &str = " ::: ";

/// Where the custom fields' keys and types came from.
#[derive(Debug, Clone)]
pub enum FieldCatalog {
    /// Fetched from the workspace in this run.
    Workspace(Vec<CustomFieldDef>),
    /// Remembered in the mirror from an earlier run (offline dry run).
    Cached(Vec<CustomFieldDef>),
    /// Not known (offline, no earlier run): custom fields are read as text, by name.
    Unknown,
}

impl FieldCatalog {
    fn defs(&self) -> Option<&[CustomFieldDef]> {
        match self {
            FieldCatalog::Workspace(d) | FieldCatalog::Cached(d) => Some(d),
            FieldCatalog::Unknown => None,
        }
    }
}

#[derive(Debug, Clone)]
struct CustomColumn {
    key: String,
    ty: FieldType,
    index: usize,
    column: String,
    separator: String,
}

/// A mapping bound to one source's header and one workspace's custom fields.
#[derive(Debug, Clone)]
pub struct Mapper {
    external_id: usize,
    external_id_column: String,
    /// Every mapped column: its index in the header and its name.
    mapped: Vec<(usize, String)>,
    first_name: Option<usize>,
    last_name: Option<usize>,
    company: Option<usize>,
    role: Option<usize>,
    emails: Vec<(String, usize, String)>,
    phones: Vec<(String, usize, String)>,
    custom: Vec<CustomColumn>,
    region: Option<Region>,
    /// Digest of this build and of everything above: equal row digests under equal
    /// fingerprints map to equal records.
    fingerprint: [u8; 32],
}

/// Finds a workspace field by key, or by name (exactly, then ignoring case if unique).
pub fn resolve_field<'a>(defs: &'a [CustomFieldDef], field: &FieldRef) -> Option<&'a CustomFieldDef> {
    match field {
        FieldRef::Key(k) => defs.iter().find(|d| &d.key == k),
        FieldRef::Name(n) => defs.iter().find(|d| &d.name == n).or_else(|| {
            let mut matches = defs.iter().filter(|d| d.name.eq_ignore_ascii_case(n));
            let first = matches.next();
            if matches.next().is_some() { None } else { first }
        }),
    }
}

impl Mapper {
    /// Binds `mapping` to `header` and the custom fields of `catalog`. Every mapped column
    /// missing from the header and every unknown custom field is a problem.
    pub fn new(mapping: &Mapping, header: &[String], origin: &str, catalog: &FieldCatalog) -> Result<Mapper, Problems> {
        let mut problems = Problems::default();
        for (key, column) in mapping.columns() {
            let count = header.iter().filter(|h| *h == column).count();
            let msg = match count {
                1 => continue,
                0 => format!(
                    "column {column:?} is not in the header of {origin} (it has: {}){}",
                    quote_all(header),
                    delimiter_hint(header)
                ),
                _ => format!(
                    "column {column:?} appears {count} times in the header of {origin}: rename all but one of them (the mapping cannot tell them apart)"
                ),
            };
            problems.push(&mapping.path, mapping.line(&key), Some(&key), msg);
        }
        let idx = |col: &str| header.iter().position(|h| h == col).unwrap_or(usize::MAX);
        let mut custom = Vec::new();
        for (i, cm) in mapping.custom_fields.iter().enumerate() {
            let (key, ty) = match catalog.defs() {
                Some(defs) => match resolve_field(defs, &cm.field) {
                    Some(def) => (def.key.clone(), def.field_type),
                    None => {
                        let at = format!("custom_fields[{}]", i + 1);
                        let known: Vec<String> = defs.iter().map(|d| format!("{:?} ({})", d.name, d.key)).collect();
                        problems.push(
                            &mapping.path,
                            mapping.line(&at),
                            Some(&at),
                            format!(
                                "the workspace has no custom field with {} (it has: {})",
                                cm.field,
                                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                            ),
                        );
                        continue;
                    }
                },
                None => match &cm.field {
                    FieldRef::Name(n) | FieldRef::Key(n) => (n.clone(), FieldType::String),
                },
            };
            custom.push(CustomColumn {
                key,
                ty,
                index: idx(&cm.column),
                column: cm.column.clone(),
                separator: cm.separator.clone(),
            });
        }
        let items = |list: &[super::ItemMapping]| {
            list.iter().map(|m| (m.label.clone(), idx(&m.column), m.column.clone())).collect::<Vec<_>>()
        };
        let mut mapper = Mapper {
            external_id: idx(&mapping.external_id),
            external_id_column: mapping.external_id.clone(),
            mapped: mapping.columns().into_iter().map(|(_, c)| (idx(c), c.to_owned())).collect(),
            first_name: mapping.first_name.as_deref().map(idx),
            last_name: mapping.last_name.as_deref().map(idx),
            company: mapping.company.as_deref().map(idx),
            role: mapping.role.as_deref().map(idx),
            emails: items(&mapping.emails),
            phones: items(&mapping.phones),
            custom,
            region: mapping.default_region,
            fingerprint: [0; 32],
        };
        // The build's version covers changes in conversion rules and phone metadata.
        let identity = format!("{} {mapper:?}", env!("CARGO_PKG_VERSION"));
        mapper.fingerprint = Sha256::digest(identity.as_bytes()).into();
        problems.into_result(mapper)
    }

    /// A digest of what this mapper reads from `row` (the mapped cells and the row's link)
    /// and of the mapper itself: when it equals the digest recorded at the last confirmed
    /// write, the row maps to the record that was written, so it need not be mapped again.
    /// The single-valued fields this mapping leaves alone (`source_url` is per row: set
    /// only when the source gives rows a link).
    pub fn unmapped(&self) -> Unmapped {
        Unmapped {
            first_name: self.first_name.is_none(),
            last_name: self.last_name.is_none(),
            company: self.company.is_none(),
            role: self.role.is_none(),
            source_url: false,
        }
    }

    pub fn source_hash(&self, row: &SourceRow) -> Digest {
        let mut h = Sha256::new();
        h.update(self.fingerprint);
        let mut cell = |i: usize| {
            h.update(row.cells.get(i).map(String::as_bytes).unwrap_or_default());
            h.update([0x1f]);
        };
        cell(self.external_id);
        for i in [self.first_name, self.last_name, self.company, self.role].into_iter().flatten() {
            cell(i);
        }
        for (_, i, _) in self.emails.iter().chain(&self.phones) {
            cell(*i);
        }
        for c in &self.custom {
            cell(c.index);
        }
        h.update(row.link.as_deref().unwrap_or_default().as_bytes());
        Digest::of(&h.finalize())
    }

    /// The row's external id, if the cell is usable (for rows that fail otherwise).
    pub fn external_id(&self, row: &SourceRow) -> Option<String> {
        let id = row.cells.get(self.external_id)?.trim();
        (!id.is_empty() && id.chars().count() <= EXTERNAL_ID_MAX).then(|| id.to_owned())
    }

    /// Maps one row; every problem in the row goes into one error message.
    pub fn map(&self, row: &SourceRow) -> Result<Record, RowError> {
        let cell = |i: usize| row.cells.get(i).map(|c| c.trim()).unwrap_or("");
        let text = |i: Option<usize>| i.map(cell).filter(|c| !c.is_empty()).map(str::to_owned);
        let mut errors: Vec<String> = Vec::new();
        // A formula is not a value: the export should have written its result.
        for (index, column) in &self.mapped {
            let c = cell(*index);
            if c.starts_with('=') {
                errors.push(format!(
                    "column {column:?}: {} is a spreadsheet formula, not its value: export the values (copy the cells and paste them as values)",
                    convert::shown(c)
                ));
            }
        }
        let raw_id = cell(self.external_id);
        let external_id = if raw_id.is_empty() {
            errors.push("missing external id".to_owned());
            None
        } else if let Some(problem) = limits::external_id_problem(raw_id, &self.external_id_column) {
            errors.push(problem);
            None
        } else {
            Some(raw_id.to_owned())
        };
        let mut state = ContactState {
            first_name: text(self.first_name),
            last_name: text(self.last_name),
            company: text(self.company),
            role: text(self.role),
            ..ContactState::default()
        };
        for (label, index, column) in &self.emails {
            let value = match cell(*index) {
                "" => None,
                c if c.contains(GOOGLE_MULTI) => {
                    errors.push(several_values(column, c, "an email column takes one address"));
                    None
                }
                c => convert::email(c).map_err(|e| errors.push(format!("column {column:?}: {e}"))).ok(),
            };
            state.emails.push(Slot { label: label.clone(), value });
        }
        for (label, index, column) in &self.phones {
            let value = match cell(*index) {
                "" => None,
                c if c.contains(GOOGLE_MULTI) => {
                    errors.push(several_values(column, c, "a phone column takes one number"));
                    None
                }
                c => phone::parse(c, self.region)
                    .map(|p| p.e164)
                    .map_err(|e| errors.push(format!("column {column:?}: {} {e}", convert::shown(c))))
                    .ok(),
            };
            state.phones.push(Slot { label: label.clone(), value });
        }
        let mut custom = BTreeMap::new();
        for c in &self.custom {
            match convert::custom_value(cell(c.index), c.ty, &c.separator) {
                Ok(v) => {
                    custom.insert(c.key.clone(), v);
                }
                Err(e) => errors.push(format!("column {:?} ({} field): {e}", c.column, c.ty.as_str())),
            }
        }
        state.custom = custom;
        if let Some(problem) = row.link.as_deref().and_then(limits::source_url_problem) {
            errors.push(problem);
        }
        state.source_url = row.link.clone();
        state.unmapped = Unmapped { source_url: row.link.is_none(), ..self.unmapped() };
        match (external_id, errors.is_empty()) {
            (Some(external_id), true) => Ok(Record::new(row.row, external_id, state)),
            (external_id, _) => Err(RowError { row: row.row, external_id, message: errors.join("; ") }),
        }
    }
}

/// A Google Contacts cell with several values (`a@x.io ::: b@x.io`) in a one-value column.
fn several_values(column: &str, cell: &str, takes: &str) -> String {
    let n = cell.split(GOOGLE_MULTI).count();
    format!(
        "column {column:?}: holds {n} values separated by {GOOGLE_MULTI:?} (as Google Contacts exports them); {takes}: keep one in the cell"
    )
}

/// When the header is one column holding another delimiter, says which to configure.
fn delimiter_hint(header: &[String]) -> String {
    let [only] = header else { return String::new() };
    match [';', '\t', '|', ','].into_iter().find(|d| only.contains(*d)) {
        Some('\t') => "; the header looks delimited by tabs: set [source] delimiter = \"tab\"".to_owned(),
        Some(d) => format!("; the header looks delimited by {d:?}: set [source] delimiter = \"{d}\""),
        None => String::new(),
    }
}

fn quote_all(header: &[String]) -> String {
    header.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(dir: &std::path::Path) -> Mapping {
        let p = dir.join("m.toml");
        std::fs::write(
            &p,
            r#"external_id = "ID"
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
"#,
        )
        .unwrap();
        Mapping::load(&p).unwrap()
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
        SourceRow { row: 7, cells: cells.map(String::from).to_vec(), link: None }
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
        let mut b = a.clone();
        b.cells[4] = "no".into();
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
        let mut c = a.clone();
        c.cells.push("x".into());
        let mut d = a.clone();
        d.cells.push("y".into());
        assert_eq!(m3.source_hash(&c), m3.source_hash(&d));
    }

    #[test]
    fn row_errors_name_every_column() {
        let dir = tempfile::tempdir().unwrap();
        let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
        let e = m.map(&row(["C-2", "", "nope", "12", "perhaps"])).unwrap_err();
        assert_eq!((e.row, e.external_id.as_deref()), (7, Some("C-2")));
        assert!(e.message.contains("column \"Email\""), "{}", e.message);
        assert!(e.message.contains("column \"Phone\""), "{}", e.message);
        assert!(e.message.contains("column \"VIP\" (boolean field): \"perhaps\""), "{}", e.message);
        let e = m.map(&row(["", "", "", "", ""])).unwrap_err();
        assert_eq!(e.message, "missing external id");
        assert!(m.map(&row([&"x".repeat(76), "", "", "", ""])).is_err());
    }

    #[test]
    fn formulas_google_multi_values_and_long_links_are_row_errors() {
        let dir = tempfile::tempdir().unwrap();
        let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
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
        let link = |n: usize| SourceRow {
            link: Some(format!("https://x.io/{}", "a".repeat(n))),
            ..row(["C-5", "", "", "", ""])
        };
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
        let err = Mapper::new(&mapping(dir.path()), &header, "t.csv", &FieldCatalog::Workspace(vec![]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.toml:9: `phone_numbers[1].column`: column \"Phone\" is not in the header of t.csv"),
            "{err}"
        );
        assert!(err.contains("`custom_fields[1]`: the workspace has no custom field with name \"vip\""), "{err}");
    }
}
