//! The `[source]` table: [`SourceConfig`], a CSV file (its delimiter, encoding and header
//! line) or a Google Sheet ([`super::sheets`]).

use std::path::PathBuf;

use super::ctx::Ctx;
use super::encoding::TextEncoding;
use super::raw::RawSource;
use super::sheets::{self, SheetsConfig};
use crate::toml_strict::Problems;

#[derive(Debug, Clone, PartialEq)]
pub enum SourceConfig {
    Csv {
        path: PathBuf,
        delimiter: u8,
        encoding: TextEncoding,
        /// The header's line (`header_row`); `None` finds it.
        header_row: Option<u64>,
    },
    GoogleSheets(SheetsConfig),
}

impl SourceConfig {
    /// A short description for messages: the file name, or the spreadsheet and range.
    pub fn describe(&self) -> String {
        match self {
            SourceConfig::Csv { path, .. } => path.display().to_string(),
            SourceConfig::GoogleSheets(s) => s.describe(),
        }
    }
}

pub(super) fn build_source(ctx: &Ctx<'_>, raw: Option<RawSource>, problems: &mut Problems) -> SourceConfig {
    let placeholder = SourceConfig::Csv {
        path: PathBuf::new(),
        delimiter: b',',
        encoding: TextEncoding::default(),
        header_row: None,
    };
    let Some(raw) = raw else {
        problems.push(ctx.file, None, Some("source"), "missing: a [source] table (type = \"csv\", path = ...)");
        return placeholder;
    };
    match raw.kind.as_deref() {
        Some("csv") => {
            for (key, set) in [
                ("source.spreadsheet_id", raw.spreadsheet_id.is_some()),
                ("source.range", raw.range.is_some()),
                ("source.service_account_key", raw.service_account_key.is_some()),
                ("source.api_base_url", raw.api_base_url.is_some()),
                ("source.link", raw.link.is_some()),
                ("source.allow_plain_http_to_remote_host", raw.allow_plain_http_to_remote_host.is_some()),
            ] {
                if set {
                    ctx.problem(problems, key, "only for type = \"google_sheets\"");
                }
            }
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
            let header_row = match raw.header_row {
                None => None,
                Some(n) if n >= 1 => Some(n as u64),
                Some(_) => {
                    ctx.problem(problems, "source.header_row", "must be a line number, 1 or more");
                    None
                }
            };
            SourceConfig::Csv { path, delimiter, encoding, header_row }
        }
        Some("google_sheets") => {
            for (key, set) in
                [("source.encoding", raw.encoding.is_some()), ("source.header_row", raw.header_row.is_some())]
            {
                if set {
                    ctx.problem(problems, key, "only for type = \"csv\" (a sheet's range says where its header is)");
                }
            }
            sheets::build(ctx, &raw, problems).map(SourceConfig::GoogleSheets).unwrap_or(placeholder)
        }
        Some(other) => {
            ctx.problem(
                problems,
                "source.type",
                format!("unknown source type {other:?} (expected \"csv\" or \"google_sheets\")"),
            );
            placeholder
        }
        None => {
            ctx.problem(problems, "source", "missing `type` (\"csv\" or \"google_sheets\")");
            placeholder
        }
    }
}
