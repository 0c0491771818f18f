//! [`Mapping`]: what a mapping file says once it is checked (which column feeds which
//! OpenPhone field, and who owns each field), and the columns it needs in a header.

use std::path::PathBuf;

use super::phone::Region;
use crate::model::{FieldType, Policy};
use crate::toml_strict::KeyLines;

/// A loaded, validated mapping file.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub path: PathBuf,
    pub external_id: IdMapping,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub role: Option<String>,
    pub emails: Vec<ItemMapping>,
    pub phones: Vec<ItemMapping>,
    pub default_region: Option<Region>,
    pub custom_fields: Vec<CustomMapping>,
    /// `[default_fields] policy = { company = "if_empty", ... }`.
    pub default_policies: DefaultPolicies,
    pub(super) lines: KeyLines,
}

/// Who owns each default field (`[default_fields] policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultPolicies {
    pub first_name: Policy,
    pub last_name: Policy,
    pub company: Policy,
    pub role: Policy,
}

/// A header column, and which of several columns of that name (1-based) when it repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    pub name: String,
    pub occurrence: Option<usize>,
}

impl ColumnRef {
    pub fn named(name: &str) -> ColumnRef {
        ColumnRef { name: name.to_owned(), occurrence: None }
    }
}

/// Where a record's external id comes from: one column as it is, or several columns
/// joined (with a space), or hashed into a stable id of [`HASHED_ID_LEN`](super::identity::HASHED_ID_LEN) characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMapping {
    pub columns: Vec<String>,
    pub hash: bool,
}

impl IdMapping {
    /// How messages name the id's columns.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.columns.iter().map(|c| format!("{c:?}")).collect();
        match names.len() {
            1 => format!("column {}", names[0]),
            _ => format!("columns {}", names.join(", ")),
        }
    }
}

/// What a bad value in an optional field does to its row (`on_invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInvalid {
    /// The row is not synced; it is reported as an error.
    SkipRow,
    /// The contact syncs without that value; the row gets a warning.
    DropValue,
}

impl OnInvalid {
    pub(super) fn parse(s: &str) -> Option<OnInvalid> {
        match s {
            "skip_row" => Some(OnInvalid::SkipRow),
            "drop_value" => Some(OnInvalid::DropValue),
            _ => None,
        }
    }
}

/// The items an entry with a `separator` gives when it sets no `max_items`.
pub const DEFAULT_MAX_ITEMS: usize = 5;
/// The most `max_items` may be: each item is a slot in every record, filled or not.
pub const MAX_ITEMS_LIMIT: usize = 50;

/// One `[[emails]]` or `[[phone_numbers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemMapping {
    pub label: String,
    pub column: ColumnRef,
    /// Splits a cell into several items (Google Contacts' ` ::: `); the first keeps
    /// `label`, the next ones are labelled `label 2`, `label 3`, ...
    pub separator: Option<String>,
    /// The items (slots) the entry gives: `max_items` with a separator
    /// ([`DEFAULT_MAX_ITEMS`] unless set), 1 without. A fixed number, so that each value
    /// keeps its place (and its OpenPhone item) from run to run.
    pub max_items: usize,
    pub on_invalid: OnInvalid,
    pub policy: Policy,
}

/// One `[[custom_fields]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomMapping {
    pub field: FieldRef,
    pub column: ColumnRef,
    pub separator: String,
    pub on_invalid: OnInvalid,
    /// The field's type as the mapping declares it (checked offline; must agree online).
    pub field_type: Option<FieldType>,
    /// Date formats (strftime) tried in order before ISO 8601.
    pub formats: Vec<String>,
    pub policy: Policy,
}

/// How a mapping names a workspace custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRef {
    Name(String),
    Key(String),
}

impl std::fmt::Display for FieldRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldRef::Name(n) => write!(f, "name {n:?}"),
            FieldRef::Key(k) => write!(f, "key {k:?}"),
        }
    }
}

impl Mapping {
    /// The line of a dotted key in the file, for messages.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.lines.line(key)
    }

    /// Every mapped column with the key that maps it, in file order.
    pub fn columns(&self) -> Vec<(String, ColumnRef)> {
        let mut out: Vec<(String, ColumnRef)> =
            self.external_id.columns.iter().map(|c| ("external_id".to_owned(), ColumnRef::named(c))).collect();
        for (key, col) in [
            ("default_fields.first_name", &self.first_name),
            ("default_fields.last_name", &self.last_name),
            ("default_fields.company", &self.company),
            ("default_fields.role", &self.role),
        ] {
            if let Some(c) = col {
                out.push((key.to_owned(), ColumnRef::named(c)));
            }
        }
        for (i, m) in self.emails.iter().enumerate() {
            out.push((format!("emails[{}].column", i + 1), m.column.clone()));
        }
        for (i, m) in self.phones.iter().enumerate() {
            out.push((format!("phone_numbers[{}].column", i + 1), m.column.clone()));
        }
        for (i, m) in self.custom_fields.iter().enumerate() {
            out.push((format!("custom_fields[{}].column", i + 1), m.column.clone()));
        }
        out
    }

    /// The names of the mapped columns, once each: what a header row must hold.
    pub fn column_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, c) in self.columns() {
            if !names.contains(&c.name) {
                names.push(c.name);
            }
        }
        names
    }
}
