//! The `[source]` table: [`SourceConfig`], one arm per kind of source, each holding its own
//! checked settings: a CSV file ([`CsvConfig`]), a Google Sheet ([`super::sheets`]) or a
//! workbook ([`super::workbook`]) or vCards ([`super::vcard`]) or a PostgreSQL query
//! ([`super::postgres`]).
//! [`KINDS`] names every `type` and [`KEYS`] which keys each kind reads, so that a key set for
//! another kind is reported with the kinds it is for.
//!
//! Adding a source: its keys in `raw.rs` (`SOURCE_KEYS` and `RawSource`) and in [`KEYS`], its
//! name in [`KINDS`], its arm here and in `build_source`, and its reader in a folder of its own
//! under `src/source/` (one line in `source/open.rs` opens it).

use std::path::{Path, PathBuf};

use super::ctx::Ctx;
use super::encoding::TextEncoding;
use super::header_row;
use super::postgres::{self, PostgresConfig};
use super::raw::RawSource;
use super::sheets::{self, SheetsConfig};
use super::vcard::{self, VcardConfig};
use super::workbook::{self, WorkbookConfig};
use crate::toml_strict::Problems;

/// Every `[source] type`, as written in the config.
pub const KINDS: &[&str] = &["csv", "google_sheets", "workbook", "vcard", "postgres"];

/// Each key of `[source]` other than `type` and `null_values`, with the kinds that read it.
pub const KEYS: &[(&str, &[&str])] = &[
    ("path", &["csv", "workbook", "vcard"]),
    ("delimiter", &["csv"]),
    ("encoding", &["csv"]),
    ("header_row", &["csv", "workbook"]),
    ("sheet", &["workbook"]),
    ("spreadsheet_id", &["google_sheets"]),
    ("range", &["google_sheets"]),
    ("service_account_key", &["google_sheets"]),
    ("api_base_url", &["google_sheets"]),
    ("link", &["google_sheets"]),
    ("allow_plain_http_to_remote_host", &["google_sheets"]),
    ("query", &["postgres"]),
    ("url_env", &["postgres"]),
    ("url_file", &["postgres"]),
    ("url_credential", &["postgres"]),
];

#[derive(Debug, Clone, PartialEq)]
pub enum SourceConfig {
    Csv(CsvConfig),
    GoogleSheets(SheetsConfig),
    Workbook(WorkbookConfig),
    Vcard(VcardConfig),
    Postgres(PostgresConfig),
}

/// A validated CSV source.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvConfig {
    pub path: PathBuf,
    pub delimiter: u8,
    pub encoding: TextEncoding,
    /// The header's line (`header_row`); `None` finds it.
    pub header_row: Option<u64>,
}

impl SourceConfig {
    /// A short description for messages: the file name, or the spreadsheet and range.
    pub fn describe(&self) -> String {
        match self {
            SourceConfig::Csv(c) => c.path.display().to_string(),
            SourceConfig::GoogleSheets(s) => s.describe(),
            SourceConfig::Workbook(w) => w.describe(),
            SourceConfig::Vcard(v) => v.describe(),
            SourceConfig::Postgres(p) => p.describe(),
        }
    }

    /// The user's files the source reads (its data, its key): never written over by a plan file.
    pub fn files(&self) -> Vec<&Path> {
        match self {
            SourceConfig::Csv(c) => vec![&c.path],
            SourceConfig::GoogleSheets(s) => vec![&s.service_account_key],
            SourceConfig::Workbook(w) => vec![&w.path],
            SourceConfig::Vcard(v) => vec![&v.path],
            SourceConfig::Postgres(p) => p.file.iter().map(PathBuf::as_path).collect(),
        }
    }
}

/// The keys of `[source]` that are set, by name.
fn set_keys(raw: &RawSource) -> Vec<&'static str> {
    [
        ("path", raw.path.is_some()),
        ("delimiter", raw.delimiter.is_some()),
        ("encoding", raw.encoding.is_some()),
        ("header_row", raw.header_row.is_some()),
        ("spreadsheet_id", raw.spreadsheet_id.is_some()),
        ("range", raw.range.is_some()),
        ("service_account_key", raw.service_account_key.is_some()),
        ("api_base_url", raw.api_base_url.is_some()),
        ("link", raw.link.is_some()),
        ("allow_plain_http_to_remote_host", raw.allow_plain_http_to_remote_host.is_some()),
        ("sheet", raw.sheet.is_some()),
        ("query", raw.query.is_some()),
        ("url_env", raw.url_env.is_some()),
        ("url_file", raw.url_file.is_some()),
        ("url_credential", raw.url_credential.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect()
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Reports each key set that `kind` does not read, with the kinds that do.
fn foreign_keys(ctx: &Ctx<'_>, raw: &RawSource, kind: &str, problems: &mut Problems) {
    for key in set_keys(raw) {
        let Some((_, kinds)) = KEYS.iter().find(|(k, _)| *k == key) else { continue };
        if !kinds.contains(&kind) {
            let mut message = format!("only for type = {}", quoted_list(kinds));
            if kind == "google_sheets" && matches!(key, "header_row" | "encoding") {
                message.push_str(" (a sheet's range says where its header is)");
            }
            ctx.problem(problems, &format!("source.{key}"), message);
        }
    }
}

pub(super) fn build_source(ctx: &Ctx<'_>, raw: Option<RawSource>, problems: &mut Problems) -> SourceConfig {
    let placeholder = SourceConfig::Csv(CsvConfig {
        path: PathBuf::new(),
        delimiter: b',',
        encoding: TextEncoding::default(),
        header_row: None,
    });
    let Some(raw) = raw else {
        problems.push(ctx.file, None, Some("source"), "missing: a [source] table (type = \"csv\", path = ...)");
        return placeholder;
    };
    let Some(kind) = raw.kind.as_deref() else {
        ctx.problem(problems, "source", format!("missing `type` ({})", quoted_list(KINDS)));
        return placeholder;
    };
    if !KINDS.contains(&kind) {
        ctx.problem(problems, "source.type", format!("unknown source type {kind:?} (expected {})", quoted_list(KINDS)));
        return placeholder;
    }
    foreign_keys(ctx, &raw, kind, problems);
    match kind {
        "csv" => SourceConfig::Csv(build_csv(ctx, &raw, problems)),
        "google_sheets" => sheets::build(ctx, &raw, problems).map(SourceConfig::GoogleSheets).unwrap_or(placeholder),
        "workbook" => SourceConfig::Workbook(workbook::build(ctx, &raw, problems)),
        "vcard" => SourceConfig::Vcard(vcard::build(ctx, &raw, problems)),
        "postgres" => postgres::build(ctx, &raw, problems).map(SourceConfig::Postgres).unwrap_or(placeholder),
        _ => unreachable!("every kind in KINDS has an arm"),
    }
}

fn build_csv(ctx: &Ctx<'_>, raw: &RawSource, problems: &mut Problems) -> CsvConfig {
    let delimiter = match raw.delimiter.as_deref() {
        None => b',',
        Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
        Some("\\t" | "tab") => b'\t',
        Some(_) => {
            ctx.problem(problems, "source.delimiter", "must be one ASCII character, e.g. \",\" or \";\"");
            b','
        }
    };
    let path = if let Some(p) = raw.path.as_deref() {
        ctx.existing_file(problems, "source.path", p)
    } else {
        ctx.problem(problems, "source", "missing `path`: the CSV file to read");
        PathBuf::new()
    };
    let encoding = match raw.encoding.as_deref().map(TextEncoding::parse) {
        None => TextEncoding::default(),
        Some(Ok(e)) => e,
        Some(Err(why)) => {
            ctx.problem(problems, "source.encoding", why);
            TextEncoding::default()
        }
    };
    CsvConfig { path, delimiter, encoding, header_row: header_row::parse(ctx, raw, problems) }
}
