//! [`Mapper`]: the mapping resolved against a source header (column indices) and the
//! workspace's custom fields (keys and types); it turns one source row into a [`Record`],
//! with the warnings of the values it left out (`on_invalid = "drop_value"`).

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::model::{ContactState, CustomFieldDef, Digest, FieldType, Policies, Record, Slot, Unmapped};
use crate::source::{RowError, SourceRow};
use crate::toml_strict::Problems;

use super::identity::IdColumns;
use super::limits;
use super::phone::{self, Region};
use super::{ColumnRef, FieldRef, ItemMapping, Mapping, OnInvalid, convert};

/// How Google Contacts joins several values of one type in a cell.
const GOOGLE_MULTI: &str = " ::: ";
/// The items one `[[emails]]`/`[[phone_numbers]]` entry with a `separator` can give: a fixed
/// number of slots, so that each value keeps its place (and its OpenPhone item) from run to
/// run, and a value that goes away is removed.
pub const SPLIT_SLOTS: usize = 5;

/// Where the custom fields' keys and types came from.
#[derive(Debug, Clone)]
pub enum FieldCatalog {
    /// Fetched from the workspace in this run.
    Workspace(Vec<CustomFieldDef>),
    /// Remembered in the mirror from an earlier run (offline dry run).
    Cached(Vec<CustomFieldDef>),
    /// Not known (offline, no earlier run): custom fields are read by name, as the type
    /// the mapping declares (`type`), else as text.
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
    on_invalid: OnInvalid,
    formats: Vec<String>,
}

/// An `[[emails]]` or `[[phone_numbers]]` entry bound to its column.
#[derive(Debug, Clone)]
struct ItemColumn {
    label: String,
    index: usize,
    column: String,
    separator: Option<String>,
    on_invalid: OnInvalid,
}

/// A mapping bound to one source's header and one workspace's custom fields.
#[derive(Debug, Clone)]
pub struct Mapper {
    external_id: IdColumns,
    /// Every mapped column: its index in the header and its name.
    mapped: Vec<(usize, String)>,
    first_name: Option<usize>,
    last_name: Option<usize>,
    company: Option<usize>,
    role: Option<usize>,
    emails: Vec<ItemColumn>,
    phones: Vec<ItemColumn>,
    custom: Vec<CustomColumn>,
    region: Option<Region>,
    /// Who owns each mapped field.
    policies: Policies,
    /// Cells read as empty (`[source] null_values`).
    nulls: Vec<String>,
    /// Digest of this build and of everything above: equal row digests under equal
    /// fingerprints map to equal records.
    fingerprint: [u8; 32],
}

/// What a valid row maps to: the record, and the values left out of it.
#[derive(Debug, Clone)]
pub struct MappedRow {
    pub record: Record,
    /// One message per value left out (`on_invalid = "drop_value"`, an extension).
    pub warnings: Vec<String>,
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

/// The index of `column` in `header`, or why it cannot be found.
fn locate(header: &[String], column: &ColumnRef, origin: &str) -> Result<usize, String> {
    let name = &column.name;
    let at: Vec<usize> = header.iter().enumerate().filter(|(_, h)| *h == name).map(|(i, _)| i).collect();
    match (at.len(), column.occurrence) {
        (0, _) => Err(format!(
            "column {name:?} is not in the header of {origin} (it has: {}){}",
            quote_all(header),
            delimiter_hint(header)
        )),
        (1, None) => Ok(at[0]),
        (n, None) => Err(format!(
            "column {name:?} appears {n} times in the header of {origin}: set `occurrence` (1 to {n}) to pick one, or rename all but one of them"
        )),
        (n, Some(k)) => at
            .get(k - 1)
            .copied()
            .ok_or_else(|| format!("`occurrence = {k}`, but the header of {origin} has {n} column(s) named {name:?}")),
    }
}

impl Mapper {
    /// Binds `mapping` to `header` and the custom fields of `catalog`. Every mapped column
    /// missing from the header and every unknown custom field is a problem.
    pub fn new(mapping: &Mapping, header: &[String], origin: &str, catalog: &FieldCatalog) -> Result<Mapper, Problems> {
        let mut problems = Problems::default();
        let mut mapped = Vec::new();
        for (key, column) in mapping.columns() {
            match locate(header, &column, origin) {
                Ok(i) => mapped.push((i, column.name.clone())),
                Err(msg) => {
                    let line = mapping.line(&key).or_else(|| mapping.line(key.trim_end_matches(".column")));
                    problems.push(&mapping.path, line, Some(&key), msg);
                    mapped.push((usize::MAX, column.name.clone()));
                }
            }
        }
        let idx = |col: &ColumnRef| locate(header, col, origin).unwrap_or(usize::MAX);
        let named = |col: &str| idx(&ColumnRef::named(col));
        let mut custom = Vec::new();
        for (i, cm) in mapping.custom_fields.iter().enumerate() {
            let at = format!("custom_fields[{}]", i + 1);
            let (key, ty) = match catalog.defs() {
                Some(defs) => match resolve_field(defs, &cm.field) {
                    Some(def) => {
                        if let Some(declared) = cm.field_type.filter(|t| *t != def.field_type) {
                            problems.push(
                                &mapping.path,
                                mapping.line(&format!("{at}.type")),
                                Some(&format!("{at}.type")),
                                format!(
                                    "the mapping says {:?}, but the workspace's field {:?} is a {} field",
                                    declared.as_str(),
                                    def.name,
                                    def.field_type.as_str()
                                ),
                            );
                        }
                        (def.key.clone(), def.field_type)
                    }
                    None => {
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
                    FieldRef::Name(n) | FieldRef::Key(n) => (n.clone(), cm.field_type.unwrap_or(FieldType::String)),
                },
            };
            custom.push(CustomColumn {
                key,
                ty,
                index: idx(&cm.column),
                column: cm.column.name.clone(),
                separator: cm.separator.clone(),
                on_invalid: cm.on_invalid,
                formats: cm.formats.clone(),
            });
        }
        let items = |list: &[ItemMapping]| {
            list.iter()
                .map(|m| ItemColumn {
                    label: m.label.clone(),
                    index: idx(&m.column),
                    column: m.column.name.clone(),
                    separator: m.separator.clone(),
                    on_invalid: m.on_invalid,
                })
                .collect::<Vec<_>>()
        };
        let dp = mapping.default_policies;
        let policies = Policies {
            first_name: dp.first_name,
            last_name: dp.last_name,
            company: dp.company,
            role: dp.role,
            emails: mapping.emails.iter().map(|m| m.policy).collect(),
            phones: mapping.phones.iter().map(|m| m.policy).collect(),
            custom: custom.iter().zip(&mapping.custom_fields).map(|(c, m)| (c.key.clone(), m.policy)).collect(),
        };
        let mut mapper = Mapper {
            external_id: IdColumns::new(
                mapping.external_id.columns.iter().map(|c| (named(c), c.clone())).collect(),
                mapping.external_id.hash,
            ),
            mapped,
            first_name: mapping.first_name.as_deref().map(named),
            last_name: mapping.last_name.as_deref().map(named),
            company: mapping.company.as_deref().map(named),
            role: mapping.role.as_deref().map(named),
            emails: items(&mapping.emails),
            phones: items(&mapping.phones),
            custom,
            region: mapping.default_region,
            policies,
            nulls: Vec::new(),
            fingerprint: [0; 32],
        };
        mapper.fingerprint();
        problems.into_result(mapper)
    }

    /// Who owns each mapped field (`policy` in the mapping).
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The mapped custom fields' types, by key.
    pub fn custom_types(&self) -> BTreeMap<String, FieldType> {
        self.custom.iter().map(|c| (c.key.clone(), c.ty)).collect()
    }

    /// Cells equal to one of `nulls` (trimmed) are read as empty (`[source] null_values`).
    pub fn with_null_values(mut self, nulls: &[String]) -> Mapper {
        self.nulls = nulls.to_vec();
        self.fingerprint();
        self
    }

    /// The build's version covers changes in conversion rules and phone metadata.
    fn fingerprint(&mut self) {
        self.fingerprint = [0; 32];
        let identity = format!("{} {self:?}", env!("CARGO_PKG_VERSION"));
        self.fingerprint = Sha256::digest(identity.as_bytes()).into();
    }

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

    /// A digest of what this mapper reads from `row` (the mapped cells and the row's link)
    /// and of the mapper itself: when it equals the digest recorded at the last confirmed
    /// write, the row maps to the record that was written, so it need not be mapped again.
    pub fn source_hash(&self, row: &SourceRow) -> Digest {
        let mut h = Sha256::new();
        h.update(self.fingerprint);
        for (i, _) in &self.mapped {
            h.update(row.cells.get(*i).map(String::as_bytes).unwrap_or_default());
            h.update([0x1f]);
        }
        h.update(row.link.as_deref().unwrap_or_default().as_bytes());
        Digest::of(&h.finalize())
    }

    /// A cell, trimmed; empty when it is missing or a null value.
    fn cell<'r>(&self, row: &'r SourceRow, index: usize) -> &'r str {
        let c = row.cells.get(index).map(|c| c.trim()).unwrap_or("");
        if self.nulls.iter().any(|n| n == c) { "" } else { c }
    }

    /// The row's external id, if it is usable (for rows that fail otherwise).
    pub fn external_id(&self, row: &SourceRow) -> Option<String> {
        self.id_of(row).ok()
    }

    /// The row's external id from its column(s), or why it has none.
    fn id_of(&self, row: &SourceRow) -> Result<String, String> {
        self.external_id.id(|i| self.cell(row, i))
    }

    /// Maps one row; every problem in the row goes into one error message.
    pub fn map(&self, row: &SourceRow) -> Result<Record, RowError> {
        self.map_with_warnings(row).map(|m| m.record)
    }

    /// Maps one row, with a warning for each value left out of it.
    pub fn map_with_warnings(&self, row: &SourceRow) -> Result<MappedRow, RowError> {
        let cell = |i: usize| self.cell(row, i);
        let text = |i: Option<usize>| i.map(cell).filter(|c| !c.is_empty()).map(str::to_owned);
        let mut errors: Vec<String> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
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
        let external_id = self.id_of(row).map_err(|e| errors.push(e)).ok();
        let mut state = ContactState {
            first_name: text(self.first_name),
            last_name: text(self.last_name),
            company: text(self.company),
            role: text(self.role),
            ..ContactState::default()
        };
        // `None`: a plain warning; else a bad value, handled by its field's `on_invalid`.
        let mut bad = |policy: Option<OnInvalid>, message: String| match policy {
            Some(OnInvalid::SkipRow) => errors.push(message),
            Some(OnInvalid::DropValue) => warnings.push(format!("{message}; left out (on_invalid = \"drop_value\")")),
            None => warnings.push(message),
        };
        for item in &self.emails {
            let convert = |c: &str| convert::email(c).map(|e| (e, None));
            state.emails.extend(item_slots(
                item,
                cell(item.index),
                &mut bad,
                "an email column takes one address",
                convert,
            ));
        }
        for item in &self.phones {
            let region = self.region;
            let convert = |c: &str| {
                phone::parse(c, region)
                    .map(|p| {
                        let note = p.extension.as_ref().map(|x| {
                            format!(
                                "column {:?}: the extension {x} of {} is not sent (OpenPhone keeps numbers in E.164, which has no extension)",
                                item.column,
                                convert::shown(c)
                            )
                        });
                        (p.e164, note)
                    })
                    .map_err(|e| format!("{} {e}", convert::shown(c)))
            };
            state.phones.extend(item_slots(
                item,
                cell(item.index),
                &mut bad,
                "a phone column takes one number",
                convert,
            ));
        }
        let mut custom = BTreeMap::new();
        for c in &self.custom {
            let value = match convert::custom_value(cell(c.index), c.ty, &c.separator, &c.formats) {
                Ok(v) => v,
                Err(e) => {
                    bad(Some(c.on_invalid), format!("column {:?} ({} field): {e}", c.column, c.ty.as_str()));
                    serde_json::Value::Null
                }
            };
            custom.insert(c.key.clone(), value);
        }
        state.custom = custom;
        if let Some(problem) = row.link.as_deref().and_then(limits::source_url_problem) {
            errors.push(problem);
        }
        state.source_url = row.link.clone();
        state.unmapped = Unmapped { source_url: row.link.is_none(), ..self.unmapped() };
        match (external_id, errors.is_empty()) {
            (Some(external_id), true) => Ok(MappedRow { record: Record::new(row.row, external_id, state), warnings }),
            (external_id, _) => Err(RowError { row: row.row, external_id, message: errors.join("; ") }),
        }
    }
}

/// The slots of one email or phone entry: one, or [`SPLIT_SLOTS`] with a `separator`. A
/// value `convert` refuses goes to `bad` (an error or a warning, by `on_invalid`) and leaves
/// its slot empty; `convert` may add a note (a warning) to a value it keeps.
fn item_slots(
    item: &ItemColumn,
    cell: &str,
    bad: &mut impl FnMut(Option<OnInvalid>, String),
    takes: &str,
    convert: impl Fn(&str) -> Result<(String, Option<String>), String>,
) -> Vec<Slot> {
    let column = &item.column;
    let values: Vec<&str> = match &item.separator {
        Some(sep) => cell.split(sep.as_str()).map(str::trim).filter(|v| !v.is_empty()).collect(),
        None if cell.is_empty() => vec![],
        None => vec![cell],
    };
    let slots = if item.separator.is_some() { SPLIT_SLOTS } else { 1 };
    if item.separator.is_none() && cell.contains(GOOGLE_MULTI) {
        let n = cell.split(GOOGLE_MULTI).count();
        bad(
            Some(item.on_invalid),
            format!(
                "column {column:?}: holds {n} values separated by {GOOGLE_MULTI:?} (as Google Contacts exports them); {takes}: set `separator = {GOOGLE_MULTI:?}` on this entry"
            ),
        );
        return vec![Slot { label: item.label.clone(), value: None }];
    }
    if values.len() > slots {
        bad(
            None,
            format!(
                "column {column:?}: holds {} values, and an entry with a separator keeps the first {SPLIT_SLOTS}",
                values.len()
            ),
        );
    }
    (0..slots)
        .map(|k| {
            let label = if k == 0 { item.label.clone() } else { format!("{} {}", item.label, k + 1) };
            let value = values.get(k).and_then(|v| match convert(v) {
                Ok((value, note)) => {
                    if let Some(note) = note {
                        bad(None, note);
                    }
                    Some(value)
                }
                Err(e) => {
                    bad(Some(item.on_invalid), format!("column {column:?}: {e}"));
                    None
                }
            });
            Slot { label, value }
        })
        .collect()
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
    fn bad_optional_values_are_left_out_with_a_warning_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let m = Mapper::new(&mapping(dir.path()), &header(), "t.csv", &catalog()).unwrap();
        let out = m.map_with_warnings(&row(["C-2", "Ann", "nope", "1234", "perhaps"])).unwrap();
        assert_eq!(out.record.state.emails[0].value, None);
        assert_eq!(out.record.state.phones[0].value, None);
        assert_eq!(out.record.state.custom["k1"], serde_json::Value::Null);
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
        assert!(
            out.warnings[0].starts_with("column \"Email\": \"nope\" is not an email address; left out"),
            "{:?}",
            out.warnings
        );
        assert!(out.warnings[1].contains("column \"Phone\": \"1234\""), "{:?}", out.warnings);
        assert!(out.warnings[2].contains("column \"VIP\" (boolean field): \"perhaps\""), "{:?}", out.warnings);
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
        assert!(out.warnings[0].contains("the extension 43023"), "{:?}", out.warnings);
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
        let six = ["+1 201-555-0123"; 6].join(" ::: ");
        let out = m.map_with_warnings(&row(["C-4", "", "", &six, ""])).unwrap();
        assert!(out.warnings[0].contains("holds 6 values"), "{:?}", out.warnings);
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
        let r = m.map(&SourceRow { row: 2, cells, link: None }).unwrap();
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
        assert!(
            err.contains("the mapping says \"date\", but the workspace's field \"VIP\" is a boolean field"),
            "{err}"
        );
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
