//! [`Mapper`]: a mapping bound to a source header and the workspace's custom fields (see
//! [`super::bind`]); it turns one source row into a [`Record`], with the warnings of the
//! values it left out (`on_invalid = "drop_value"`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::model::{ContactState, Digest, FieldType, Policies, Record, Slot, Unmapped};
use crate::source::{RowError, SourceRow};

use super::convert;
use super::file::OnInvalid;
use super::identity::IdColumns;
use super::limits;
use super::phone::{self, Region};
use super::region_hint::PhoneTally;
use super::warning::Warning;

/// How Google Contacts joins several values of one type in a cell.
const GOOGLE_MULTI: &str = " ::: ";
/// The rules a cell is read by, beyond the mapping file: part of the fingerprint, so that a
/// build that reads cells differently maps every row once again (bump it when they change).
const CELL_RULES: &str = "cells-2: Excel's leading apostrophe before a number or id is dropped";

/// A cell without the `'` that spreadsheet programs (and exports written for them, such as
/// Shopify's) put before a number or an id so that Excel keeps it as text: `'6241140277432`,
/// `'+1 555 0100`. Only before a digit or `+`: `'Twas` is a value as written.
fn without_text_marker(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit() || c == '+') => rest,
        _ => cell,
    }
}
#[derive(Debug, Clone)]
pub(super) struct CustomColumn {
    pub(super) key: String,
    pub(super) ty: FieldType,
    pub(super) index: usize,
    pub(super) column: String,
    pub(super) separator: String,
    pub(super) on_invalid: OnInvalid,
    pub(super) formats: Vec<String>,
}

/// An `[[emails]]` or `[[phone_numbers]]` entry bound to its column.
#[derive(Debug, Clone)]
pub(super) struct ItemColumn {
    pub(super) label: String,
    pub(super) index: usize,
    pub(super) column: String,
    pub(super) separator: Option<String>,
    /// Its slots: `max_items` with a separator, 1 without.
    pub(super) max_items: usize,
    pub(super) on_invalid: OnInvalid,
}

/// A mapping bound to one source's header and one workspace's custom fields.
#[derive(Debug, Clone)]
pub struct Mapper {
    pub(super) external_id: IdColumns,
    /// Every mapped column: its index in the header and its name.
    pub(super) mapped: Vec<(usize, String)>,
    pub(super) first_name: Option<usize>,
    pub(super) last_name: Option<usize>,
    pub(super) company: Option<usize>,
    pub(super) role: Option<usize>,
    pub(super) emails: Vec<ItemColumn>,
    pub(super) phones: Vec<ItemColumn>,
    pub(super) custom: Vec<CustomColumn>,
    pub(super) region: Option<Region>,
    /// Who owns each mapped field.
    pub(super) policies: Policies,
    /// Cells read as empty (`[source] null_values`).
    pub(super) nulls: Vec<String>,
    /// Digest of this build and of everything above: equal row digests under equal
    /// fingerprints map to equal records.
    pub(super) fingerprint: [u8; 32],
}

/// What a valid row maps to: the record, and the values left out of it.
#[derive(Debug, Clone)]
pub struct MappedRow {
    pub record: Record,
    /// One per value left out (`on_invalid = "drop_value"`, an extension), without the
    /// external id (the caller resolves it).
    pub warnings: Vec<Warning>,
}

/// A value a row cannot keep as it is: its column, the value, why (without the value) and
/// the whole message.
struct Problem {
    column: String,
    value: String,
    reason: String,
    message: String,
}

impl Problem {
    /// The usual shape: `column "C": "value" reason`.
    fn of(column: &str, value: &str, reason: String) -> Problem {
        let message = format!("column {column:?}: {} {reason}", convert::shown(value));
        Problem { column: column.to_owned(), value: value.to_owned(), reason, message }
    }
}

impl Mapper {
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
    pub(super) fn fingerprint(&mut self) {
        self.fingerprint = [0; 32];
        let identity = format!("{} {CELL_RULES} {self:?}", env!("CARGO_PKG_VERSION"));
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
            h.update(row.cells.get(*i).map(str::as_bytes).unwrap_or_default());
            h.update([0x1f]);
        }
        h.update(row.link.as_deref().unwrap_or_default().as_bytes());
        Digest::of(&h.finalize())
    }

    /// A cell, trimmed and without Excel's text marker ([`without_text_marker`]); empty when
    /// it is missing or a null value.
    fn cell<'r>(&self, row: &'r SourceRow, index: usize) -> &'r str {
        without_text_marker(self.cell_as_written(row, index))
    }

    /// A cell, trimmed; empty when it is missing or a null value. Text marker kept.
    fn cell_as_written<'r>(&self, row: &'r SourceRow, index: usize) -> &'r str {
        let c = row.cells.get(index).map_or("", |c| c.trim());
        if self.nulls.iter().any(|n| n == c) { "" } else { c }
    }

    /// The row's external id, if it is usable (for rows that fail otherwise).
    pub fn external_id<'r>(&self, row: &'r SourceRow) -> Option<Cow<'r, str>> {
        self.id_of(row).ok()
    }

    /// The external id earlier builds gave this row, when it differs from
    /// [`Mapper::external_id`]: read with Excel's text marker kept (`'6241140277432`). A
    /// contact synced under it keeps it (see `records::map_items`).
    pub fn external_id_as_written(&self, row: &SourceRow) -> Option<String> {
        // Only a cell with the marker reads differently (the common case costs no id).
        if !self.external_id.positions().any(|i| self.cell_as_written(row, i).starts_with('\'')) {
            return None;
        }
        let old = self.external_id.id(|i| self.cell_as_written(row, i)).ok()?;
        (Some(&old) != self.external_id(row).as_ref()).then(|| old.into_owned())
    }

    /// The row's external id from its column(s), or why it has none.
    fn id_of<'r>(&self, row: &'r SourceRow) -> Result<Cow<'r, str>, String> {
        self.external_id.id(|i| self.cell(row, i))
    }

    /// Maps one row; every problem in the row goes into one error message.
    pub fn map(&self, row: &SourceRow) -> Result<Record, RowError> {
        self.map_with_warnings(row).map(|m| m.record)
    }

    /// A tally of the phone numbers this mapper reads, for [`PhoneTally::hints`].
    pub fn phone_tally(&self) -> PhoneTally {
        PhoneTally::new(self.phones.iter().map(|p| p.column.clone()), self.region)
    }

    /// Maps one row, with a warning for each value left out of it.
    pub fn map_with_warnings(&self, row: &SourceRow) -> Result<MappedRow, RowError> {
        self.map_tallied(row, &mut self.phone_tally())
    }

    /// [`Mapper::map_with_warnings`], counting the row's phone numbers in `tally`.
    pub fn map_tallied(&self, row: &SourceRow, tally: &mut PhoneTally) -> Result<MappedRow, RowError> {
        let cell = |i: usize| self.cell(row, i);
        let text = |i: Option<usize>| i.map(cell).filter(|c| !c.is_empty()).map(str::to_owned);
        let mut errors: Vec<String> = Vec::new();
        let mut warnings: Vec<Warning> = Vec::new();
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
        let external_id = self.id_of(row).map(Cow::into_owned).map_err(|e| errors.push(e)).ok();
        let mut state = ContactState {
            first_name: text(self.first_name),
            last_name: text(self.last_name),
            company: text(self.company),
            role: text(self.role),
            ..ContactState::default()
        };
        // `None`: a plain warning; else a bad value, handled by its field's `on_invalid`.
        let mut bad = |policy: Option<OnInvalid>, p: Problem| {
            let left_out = "; left out (on_invalid = \"drop_value\")";
            let (reason, message) = match policy {
                Some(OnInvalid::SkipRow) => return errors.push(p.message),
                Some(OnInvalid::DropValue) => (format!("{}{left_out}", p.reason), format!("{}{left_out}", p.message)),
                None => (p.reason, p.message),
            };
            warnings.push(Warning {
                row: row.row,
                external_id: None,
                column: p.column,
                reason,
                value: p.value,
                message,
            });
        };
        for item in &self.emails {
            let convert = |c: &str| convert::email(c).map(|e| (e, None)).map_err(|e| reason_of(&e, c));
            state.emails.extend(item_slots(
                item,
                cell(item.index),
                &mut bad,
                "an email column takes one address",
                convert,
            ));
        }
        for (entry, item) in self.phones.iter().enumerate() {
            let region = self.region;
            let convert = |c: &str| {
                let parsed = phone::parse(c, region);
                let in_region = region.filter(|_| parsed.is_err() && phone::read_in_region(c, region));
                // Refused for want of a region: read in the default one, or none is set.
                let refused = in_region.is_some() || matches!(parsed, Err(phone::PhoneError::NoCountryCode));
                tally.count(entry, c, refused);
                parsed
                    .map(|p| {
                        let note = p.extension.as_ref().map(|x| Problem {
                            column: item.column.clone(),
                            value: c.to_owned(),
                            reason: "has an extension, which is not sent (OpenPhone keeps numbers in E.164, which has no extension)".to_owned(),
                            message: format!(
                                "column {:?}: the extension {x} of {} is not sent (OpenPhone keeps numbers in E.164, which has no extension)",
                                item.column,
                                convert::shown(c)
                            ),
                        });
                        (p.e164, note)
                    })
                    .map_err(|e| match in_region {
                        Some(r) => format!(
                            "{e} (read as a number of region {r}, [phone] default_region: numbers from elsewhere need their country code)"
                        ),
                        None => e.to_string(),
                    })
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
                    let value = cell(c.index);
                    bad(
                        Some(c.on_invalid),
                        Problem {
                            column: c.column.clone(),
                            value: value.to_owned(),
                            message: format!("column {:?} ({} field): {e}", c.column, c.ty.as_str()),
                            reason: reason_of(&e, value),
                        },
                    );
                    serde_json::Value::Null
                }
            };
            custom.insert(c.key.clone(), value);
        }
        state.custom = custom;
        if let Some(problem) = row.link.as_deref().and_then(limits::source_url_problem) {
            errors.push(problem);
        }
        state.source_url.clone_from(&row.link);
        state.unmapped = Unmapped { source_url: row.link.is_none(), ..self.unmapped() };
        match (external_id, errors.is_empty()) {
            (Some(external_id), true) => Ok(MappedRow { record: Record::new(row.row, external_id, state), warnings }),
            (external_id, _) => Err(RowError { row: row.row, external_id, message: errors.join("; ") }),
        }
    }
}

/// The slots of one email or phone entry: one, or `max_items` with a `separator`; values
/// past the last slot are named in one bad value (each of them, so none is lost unseen). A
/// value `convert` refuses goes to `bad` (an error or a warning, by `on_invalid`) and leaves
/// its slot empty; `convert` may add a note (a warning) to a value it keeps.
fn item_slots(
    item: &ItemColumn,
    cell: &str,
    bad: &mut impl FnMut(Option<OnInvalid>, Problem),
    takes: &str,
    mut convert: impl FnMut(&str) -> Result<(String, Option<Problem>), String>,
) -> Vec<Slot> {
    let column = &item.column;
    let values: Vec<&str> = match &item.separator {
        Some(sep) => cell.split(sep.as_str()).map(str::trim).filter(|v| !v.is_empty()).collect(),
        None if cell.is_empty() => vec![],
        None => vec![cell],
    };
    let slots = item.max_items;
    if item.separator.is_none() && cell.contains(GOOGLE_MULTI) {
        let n = cell.split(GOOGLE_MULTI).count();
        bad(
            Some(item.on_invalid),
            Problem {
                column: column.clone(),
                value: cell.to_owned(),
                reason: format!(
                    "holds several values separated by {GOOGLE_MULTI:?} (as Google Contacts exports them); {takes}: set `separator = {GOOGLE_MULTI:?}` on this entry"
                ),
                message: format!(
                    "column {column:?}: holds {n} values separated by {GOOGLE_MULTI:?} (as Google Contacts exports them); {takes}: set `separator = {GOOGLE_MULTI:?}` on this entry"
                ),
            },
        );
        return vec![Slot { label: item.label.clone(), value: None }];
    }
    if values.len() > slots {
        let left_out: Vec<String> = values[slots..].iter().map(|v| convert::shown(v)).collect();
        bad(
            Some(item.on_invalid),
            Problem {
                column: column.clone(),
                value: values[slots..].join(item.separator.as_deref().unwrap_or(" ")),
                reason: format!(
                    "holds more values than the entry keeps (max_items = {slots}); set a larger max_items on this entry to keep them"
                ),
                message: format!(
                    "column {column:?}: holds {} values and the entry keeps {slots} (max_items = {slots}); not kept: {} (set a larger max_items on this entry to keep them)",
                    values.len(),
                    left_out.join(", ")
                ),
            },
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
                Err(reason) => {
                    bad(Some(item.on_invalid), Problem::of(column, v, reason));
                    None
                }
            });
            Slot { label, value }
        })
        .collect()
}

/// A conversion's message without the value it starts with (`"x" is not an email address`
/// gives `is not an email address`): what values that failed alike share.
fn reason_of(message: &str, value: &str) -> String {
    let shown = convert::shown(value.trim());
    message.strip_prefix(shown.as_str()).map_or(message, str::trim_start).to_owned()
}

#[cfg(test)]
#[path = "mapper_tests.rs"]
mod tests;
