//! [`Mapping::load`]: reads a mapping file strictly (like the config: file, line and key for
//! every problem) and checks every value.

use std::path::Path;

use serde::Deserialize;

use super::convert;
use super::file::{
    ColumnRef, CustomMapping, DEFAULT_MAX_ITEMS, DefaultPolicies, FieldRef, IdMapping, ItemMapping, MAX_ITEMS_LIMIT,
    Mapping, OnInvalid,
};
use super::phone::Region;
use crate::model::{FieldType, Policy, Scalar};
use crate::toml_strict::{self, KeyLines, Kind, Problems};

const POLICY_KEYS: &[(&str, Kind)] = &[
    (Scalar::FirstName.name(), Kind::Str),
    (Scalar::LastName.name(), Kind::Str),
    (Scalar::Company.name(), Kind::Str),
    (Scalar::Role.name(), Kind::Str),
];
const DEFAULT_FIELD_KEYS: &[(&str, Kind)] = &[
    (Scalar::FirstName.name(), Kind::Str),
    (Scalar::LastName.name(), Kind::Str),
    (Scalar::Company.name(), Kind::Str),
    (Scalar::Role.name(), Kind::Str),
    ("policy", Kind::Table(POLICY_KEYS)),
];
const ITEM_KEYS: &[(&str, Kind)] = &[
    ("label", Kind::Str),
    ("column", Kind::Str),
    ("occurrence", Kind::Int),
    ("separator", Kind::Str),
    ("max_items", Kind::Int),
    ("on_invalid", Kind::Str),
    ("policy", Kind::Str),
];
const PHONE_KEYS: &[(&str, Kind)] = &[("default_region", Kind::Str)];
const CUSTOM_KEYS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("key", Kind::Str),
    ("column", Kind::Str),
    ("occurrence", Kind::Int),
    ("separator", Kind::Str),
    ("on_invalid", Kind::Str),
    ("type", Kind::Str),
    ("format", Kind::StrOrStrs),
    ("policy", Kind::Str),
];
const ID_KEYS: &[(&str, Kind)] = &[("columns", Kind::Strs), ("hash", Kind::Bool)];
const MAPPING_SCHEMA: &[(&str, Kind)] = &[
    ("external_id", Kind::StrOrTable(ID_KEYS)),
    ("default_fields", Kind::Table(DEFAULT_FIELD_KEYS)),
    ("emails", Kind::ArrayOfTables(ITEM_KEYS)),
    ("phone_numbers", Kind::ArrayOfTables(ITEM_KEYS)),
    ("phone", Kind::Table(PHONE_KEYS)),
    ("custom_fields", Kind::ArrayOfTables(CUSTOM_KEYS)),
];

#[derive(Deserialize)]
struct RawMapping {
    external_id: Option<RawId>,
    #[serde(default)]
    default_fields: RawDefaults,
    #[serde(default)]
    emails: Vec<RawItem>,
    #[serde(default)]
    phone_numbers: Vec<RawItem>,
    phone: Option<RawPhone>,
    #[serde(default)]
    custom_fields: Vec<RawCustom>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Column(String),
    Built { columns: Option<Vec<String>>, hash: Option<bool> },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
struct RawDefaults {
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    role: Option<String>,
    #[serde(default)]
    policy: RawPolicies,
}

#[derive(Deserialize, Default)]
struct RawPolicies {
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    role: Option<String>,
}

#[derive(Deserialize)]
struct RawItem {
    label: Option<String>,
    column: Option<String>,
    occurrence: Option<i64>,
    separator: Option<String>,
    max_items: Option<i64>,
    on_invalid: Option<String>,
    policy: Option<String>,
}

#[derive(Deserialize)]
struct RawPhone {
    default_region: Option<String>,
}

#[derive(Deserialize)]
struct RawCustom {
    name: Option<String>,
    key: Option<String>,
    column: Option<String>,
    occurrence: Option<i64>,
    separator: Option<String>,
    on_invalid: Option<String>,
    #[serde(rename = "type")]
    field_type: Option<String>,
    format: Option<OneOrMany>,
    policy: Option<String>,
}

impl Mapping {
    /// Reads and validates a mapping file, collecting every problem.
    pub fn load(path: &Path) -> Result<Mapping, Problems> {
        let (raw, lines, mut problems) = toml_strict::load::<RawMapping>(path, "mapping", MAPPING_SCHEMA)?;
        let mapping = build(path, raw, lines, &mut problems);
        problems.into_result(mapping)
    }
}

fn build(path: &Path, mut raw: RawMapping, lines: KeyLines, problems: &mut Problems) -> Mapping {
    let mut problem = |key: &str, msg: String| problems.push(path, lines.line(key), Some(key), msg);
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let policy = |problem: &mut dyn FnMut(&str, String), key: &str, v: Option<String>| -> Policy {
        let Some(v) = v else { return Policy::Source };
        Policy::parse(&v).unwrap_or_else(|| {
            let known: Vec<&str> = Policy::ALL.iter().map(|p| p.as_str()).collect();
            problem(key, format!("unknown policy {v:?}: use one of {}", known.join(", ")));
            Policy::Source
        })
    };
    let rp = std::mem::take(&mut raw.default_fields.policy);
    let mut default_policies = DefaultPolicies::default();
    for (field, value, mapped, slot) in [
        (Scalar::FirstName, rp.first_name, raw.default_fields.first_name.is_some(), &mut default_policies.first_name),
        (Scalar::LastName, rp.last_name, raw.default_fields.last_name.is_some(), &mut default_policies.last_name),
        (Scalar::Company, rp.company, raw.default_fields.company.is_some(), &mut default_policies.company),
        (Scalar::Role, rp.role, raw.default_fields.role.is_some(), &mut default_policies.role),
    ] {
        let name = field.name();
        let key = format!("default_fields.policy.{name}");
        if value.is_some() && !mapped {
            problem(&key, format!("a policy for {name}, which [default_fields] does not map"));
        }
        *slot = policy(&mut problem, &key, value);
    }
    let external_id = match raw.external_id {
        Some(RawId::Column(c)) if !c.trim().is_empty() => IdMapping { columns: vec![c], hash: false },
        Some(RawId::Built { columns, hash }) => {
            let columns: Vec<String> =
                columns.unwrap_or_default().into_iter().filter(|c| !c.trim().is_empty()).collect();
            if columns.is_empty() {
                problem("external_id", "missing `columns`: the columns that identify a record".into());
            }
            IdMapping { columns, hash: hash.unwrap_or(false) }
        }
        _ => {
            problem("external_id", "missing: the column that identifies a record".into());
            IdMapping { columns: vec![], hash: false }
        }
    };
    let occurrence = |n: Option<i64>, at: &str, problem: &mut dyn FnMut(&str, String)| match n {
        None => None,
        Some(n) if n >= 1 => Some(n as usize),
        Some(_) => {
            problem(&format!("{at}.occurrence"), "must be 1 or more (1 is the first column of that name)".into());
            None
        }
    };
    let on_invalid = |v: Option<String>, at: &str, problem: &mut dyn FnMut(&str, String)| match v.as_deref() {
        None => OnInvalid::DropValue,
        Some(s) => OnInvalid::parse(s).unwrap_or_else(|| {
            problem(&format!("{at}.on_invalid"), format!("{s:?} is not \"skip_row\" or \"drop_value\""));
            OnInvalid::DropValue
        }),
    };
    let separator = |v: Option<String>, at: &str, problem: &mut dyn FnMut(&str, String)| {
        v.filter(|s| {
            if s.is_empty() {
                problem(&format!("{at}.separator"), "must not be empty".into());
            }
            !s.is_empty()
        })
    };
    // How many items a split cell gives: the entry's slots (one without a separator).
    let max_items = |v: Option<i64>, split: bool, at: &str, problem: &mut dyn FnMut(&str, String)| match v {
        None if split => DEFAULT_MAX_ITEMS,
        None => 1,
        Some(_) if !split => {
            problem(
                &format!("{at}.max_items"),
                "needs a `separator` (without one, a cell is one value): set `separator = \" ::: \"` or remove `max_items`"
                    .into(),
            );
            1
        }
        Some(n) if (1..=MAX_ITEMS_LIMIT as i64).contains(&n) => n as usize,
        Some(n) => {
            problem(&format!("{at}.max_items"), format!("{n} is not from 1 to {MAX_ITEMS_LIMIT}"));
            DEFAULT_MAX_ITEMS
        }
    };
    let mut items = |list: Vec<RawItem>, table: &str| -> Vec<ItemMapping> {
        let mut out = Vec::new();
        for (i, item) in list.into_iter().enumerate() {
            let at = format!("{table}[{}]", i + 1);
            let label = nonempty(item.label);
            let column = nonempty(item.column);
            let policy = policy(&mut problem, &format!("{at}.policy"), item.policy);
            if label.is_none() {
                problem(&at, "missing `label` (the item's name in OpenPhone, e.g. \"work\")".into());
            }
            if column.is_none() {
                problem(&at, "missing `column`".into());
            }
            let occurrence = occurrence(item.occurrence, &at, &mut problem);
            let separator = separator(item.separator, &at, &mut problem);
            let max_items = max_items(item.max_items, separator.is_some(), &at, &mut problem);
            let on_invalid = on_invalid(item.on_invalid, &at, &mut problem);
            if let (Some(label), Some(column)) = (label, column) {
                if out.iter().any(|m: &ItemMapping| m.label == label) {
                    problem(&format!("{at}.label"), format!("label {label:?} is used twice in [[{table}]]"));
                }
                out.push(ItemMapping {
                    label,
                    column: ColumnRef { name: column, occurrence },
                    separator,
                    max_items,
                    on_invalid,
                    policy,
                });
            }
        }
        out
    };
    let emails = items(raw.emails, "emails");
    let phones = items(raw.phone_numbers, "phone_numbers");
    let default_region = match raw.phone.and_then(|p| p.default_region) {
        Some(code) => Region::parse(&code).or_else(|| {
            problem("phone.default_region", format!("{code:?} is not a two-letter region code (e.g. \"US\")"));
            None
        }),
        None => None,
    };
    let mut custom_fields: Vec<CustomMapping> = Vec::new();
    for (i, c) in raw.custom_fields.into_iter().enumerate() {
        let at = format!("custom_fields[{}]", i + 1);
        let field = match (nonempty(c.name), nonempty(c.key)) {
            (Some(n), None) => Some(FieldRef::Name(n)),
            (None, Some(k)) => Some(FieldRef::Key(k)),
            (Some(_), Some(_)) => {
                problem(&at, "give `name` or `key`, not both".into());
                None
            }
            (None, None) => {
                problem(&at, "missing `name` (the field's name in OpenPhone) or `key`".into());
                None
            }
        };
        let column = nonempty(c.column);
        if column.is_none() {
            problem(&at, "missing `column`".into());
        }
        let policy = policy(&mut problem, &format!("{at}.policy"), c.policy);
        let occurrence = occurrence(c.occurrence, &at, &mut problem);
        let on_invalid = on_invalid(c.on_invalid, &at, &mut problem);
        let separator = separator(c.separator, &at, &mut problem).unwrap_or_else(|| ";".to_owned());
        let field_type = c.field_type.and_then(|t| {
            FieldType::parse(&t).or_else(|| {
                problem(
                    &format!("{at}.type"),
                    format!("{t:?} is not a field type (address, boolean, date, multi-select, number, string, url)"),
                );
                None
            })
        });
        let formats = match c.format {
            None => vec![],
            Some(OneOrMany::One(f)) => vec![f],
            Some(OneOrMany::Many(f)) => f,
        };
        for f in &formats {
            if let Some(why) = convert::date_format_problem(f) {
                problem(&format!("{at}.format"), format!("{f:?}: {why}"));
            }
        }
        if !formats.is_empty() && field_type.is_some_and(|t| t != FieldType::Date) {
            problem(&format!("{at}.format"), "only for date fields".into());
        }
        if let (Some(field), Some(column)) = (field, column) {
            if custom_fields.iter().any(|m| m.field == field) {
                problem(&at, format!("the custom field {field} is mapped twice"));
            }
            custom_fields.push(CustomMapping {
                field,
                column: ColumnRef { name: column, occurrence },
                separator,
                on_invalid,
                field_type,
                formats,
                policy,
            });
        }
    }
    let d = raw.default_fields;
    Mapping {
        path: path.to_path_buf(),
        external_id,
        first_name: nonempty(d.first_name),
        last_name: nonempty(d.last_name),
        company: nonempty(d.company),
        role: nonempty(d.role),
        emails,
        phones,
        default_region,
        custom_fields,
        default_policies,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_problem_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.toml");
        std::fs::write(
            &p,
            "external_id = \"ID\"\n[default_fields]\nfirst_nme = \"F\"\n[[emails]]\nlabel = \"work\"\n[phone]\ndefault_region = \"ZZ\"\n[[custom_fields]]\nname = \"A\"\nkey = \"b\"\ncolumn = \"S\"\n",
        )
        .unwrap();
        let err = Mapping::load(&p).unwrap_err().to_string();
        for want in [
            "m.toml:3: `default_fields.first_nme`: unknown key",
            "m.toml:4: `emails[1]`: missing `column`",
            "m.toml:7: `phone.default_region`: \"ZZ\" is not a two-letter region code",
            "m.toml:8: `custom_fields[1]`: give `name` or `key`, not both",
        ] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
    }
}
