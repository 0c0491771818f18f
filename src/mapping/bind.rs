//! [`Mapper::new`]: binds a [`Mapping`] to a source's header (each column by name and
//! `occurrence`) and to the workspace's custom fields ([`FieldCatalog`]), reporting every
//! column missing from the header and every unknown field.

use super::catalog::{FieldCatalog, resolve_field};
use super::file::{ColumnRef, FieldRef, ItemMapping, Mapping};
use super::identity::IdColumns;
use super::mapper::{CustomColumn, ItemColumn, Mapper};
use crate::model::{FieldType, Policies};
use crate::toml_strict::Problems;

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
                Some(defs) => {
                    if let Some(def) = resolve_field(defs, &cm.field) {
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
                    } else {
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
                }
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
                    max_items: m.max_items,
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
