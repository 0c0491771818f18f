//! A strict walk of a TOML document against a small schema: every unknown key, wrong
//! type and syntax error, with its line, before serde sees the document. It also records
//! the line of every key, so later semantic checks can point at the line too.

use std::collections::HashMap;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{Problems, line_of};

/// The expected shape of a TOML value.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    Int,
    /// A float or an integer.
    Number,
    Bool,
    /// An array of strings.
    Strs,
    /// A string, or an array of strings.
    StrOrStrs,
    /// A string, or an integer (a workbook's sheet: its name or its position).
    StrOrInt,
    /// A string, or a table.
    StrOrTable(&'static [(&'static str, Kind)]),
    Table(&'static [(&'static str, Kind)]),
    ArrayOfTables(&'static [(&'static str, Kind)]),
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Int => "an integer",
            Kind::Number => "a number",
            Kind::Bool => "true or false",
            Kind::Strs => "an array of strings",
            Kind::StrOrStrs => "a string or an array of strings",
            Kind::StrOrInt => "a string or an integer",
            Kind::StrOrTable(_) => "a string or a table",
            Kind::Table(_) => "a table",
            Kind::ArrayOfTables(_) => "an array of tables ([[...]])",
        }
    }
}

/// Where each key stands in the file: dotted path → 1-based line.
#[derive(Debug, Default, Clone)]
pub struct KeyLines(HashMap<String, usize>);

impl KeyLines {
    pub fn line(&self, path: &str) -> Option<usize> {
        self.0.get(path).copied()
    }
}

/// Reads `file` (a `what` file: "config", "mapping") strictly: the schema walk reports
/// unknown keys and wrong types; serde (which ignores unknown keys) then gives the values,
/// so the caller can add its semantic problems to those found here. `Err` when the
/// values cannot be read at all.
pub fn load<T: serde::de::DeserializeOwned>(
    file: &Path,
    what: &str,
    schema: &'static [(&'static str, Kind)],
) -> Result<(T, KeyLines, Problems), Problems> {
    let mut problems = Problems::default();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            problems.push(file, None, None, format!("cannot read the {what} file: {e}"));
            return Err(problems);
        }
    };
    let (lines, found) = check(file, &text, schema);
    problems.extend(found);
    match toml::from_str(&text) {
        Ok(raw) => Ok((raw, lines, problems)),
        Err(e) => {
            if problems.is_empty() {
                let line = e.span().map(|s| line_of(&text, s.start));
                problems.push(file, line, None, e.message().trim().to_owned());
            }
            Err(problems)
        }
    }
}

/// Walks `text` (the contents of `file`) against `schema`, returning the key lines and
/// every problem found (syntax errors, unknown keys, wrong types).
pub fn check(file: &Path, text: &str, schema: &'static [(&'static str, Kind)]) -> (KeyLines, Problems) {
    let mut lines = KeyLines::default();
    let mut problems = Problems::default();
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let line = e.span().map(|s| line_of(text, s.start));
        problems.push(file, line, None, format!("TOML syntax error: {}", e.message().trim()));
    }
    if errors.is_empty() {
        walk_table(file, text, doc.get_ref(), schema, "", &mut lines, &mut problems);
    }
    problems.0.sort_by_key(|p| p.line);
    (lines, problems)
}

fn walk_table(
    file: &Path,
    text: &str,
    table: &DeTable<'_>,
    schema: &'static [(&'static str, Kind)],
    prefix: &str,
    lines: &mut KeyLines,
    problems: &mut Problems,
) {
    for (key, value) in table {
        let name: &str = key.get_ref();
        let path = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
        let line = line_of(text, key.span().start);
        lines.0.insert(path.clone(), line);
        match schema.iter().find(|(k, _)| *k == name) {
            None => {
                let known: Vec<&str> = schema.iter().map(|(k, _)| *k).collect();
                problems.push(
                    file,
                    Some(line),
                    Some(&path),
                    format!("unknown key (expected one of: {})", known.join(", ")),
                );
            }
            Some((_, kind)) => walk_value(file, text, value, *kind, &path, line, lines, problems),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn walk_value(
    file: &Path,
    text: &str,
    value: &Spanned<DeValue<'_>>,
    kind: Kind,
    path: &str,
    line: usize,
    lines: &mut KeyLines,
    problems: &mut Problems,
) {
    let ok = match (kind, value.get_ref()) {
        (Kind::Str | Kind::StrOrStrs | Kind::StrOrTable(_) | Kind::StrOrInt, DeValue::String(_))
        | (Kind::Int | Kind::Number | Kind::StrOrInt, DeValue::Integer(_))
        | (Kind::Number, DeValue::Float(_))
        | (Kind::Bool, DeValue::Boolean(_)) => true,
        (Kind::Strs | Kind::StrOrStrs, DeValue::Array(items)) => {
            items.iter().all(|i| matches!(i.get_ref(), DeValue::String(_)))
        }
        (Kind::Table(schema) | Kind::StrOrTable(schema), DeValue::Table(t)) => {
            walk_table(file, text, t, schema, path, lines, problems);
            true
        }
        (Kind::ArrayOfTables(schema), DeValue::Array(items)) => {
            let mut all_tables = true;
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{}]", i + 1);
                let item_line = line_of(text, item.span().start);
                lines.0.insert(item_path.clone(), item_line);
                match item.get_ref() {
                    DeValue::Table(t) => walk_table(file, text, t, schema, &item_path, lines, problems),
                    _ => all_tables = false,
                }
            }
            all_tables
        }
        _ => false,
    };
    if !ok {
        problems.push(file, Some(line), Some(path), format!("must be {}", kind.describe()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INNER: &[(&str, Kind)] = &[("a", Kind::Str), ("n", Kind::Number)];
    const SCHEMA: &[(&str, Kind)] = &[("t", Kind::Table(INNER)), ("items", Kind::ArrayOfTables(INNER))];

    #[test]
    fn reports_every_unknown_key_and_type_with_lines() {
        let text = "[t]\na = 1\nbogus = true\n\n[[items]]\nn = \"x\"\n[[items]]\nzz = 2\n";
        let (lines, problems) = check(Path::new("c.toml"), text, SCHEMA);
        let shown: Vec<String> = problems.0.iter().map(std::string::ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "c.toml:2: `t.a`: must be a string",
                "c.toml:3: `t.bogus`: unknown key (expected one of: a, n)",
                "c.toml:6: `items[1].n`: must be a number",
                "c.toml:8: `items[2].zz`: unknown key (expected one of: a, n)",
            ]
        );
        assert_eq!(lines.line("t.a"), Some(2));
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let (_, problems) = check(Path::new("c.toml"), "[t]\na = \n", SCHEMA);
        assert_eq!(problems.0.len(), 1, "{problems}");
        assert_eq!(problems.0[0].line, Some(2));
    }
}
