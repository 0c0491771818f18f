//! The `[source] type = "google_sheets"` table: [`SheetsConfig`], checked like the rest of the
//! config (every problem with its line), including the service-account key file itself.

use std::path::PathBuf;

use super::diagnostic::Problems;
use super::{Ctx, RawSource};
use crate::source::google_sheets::a1::A1Range;
use crate::source::google_sheets::key;

/// The Sheets API's address, replaced by `api_base_url` (proxies, tests).
pub const DEFAULT_API_BASE_URL: &str = "https://sheets.googleapis.com/";

/// Where a contact's `sourceUrl` points (`[source].link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// The record's row in the sheet (the default).
    Row,
    /// The tab: stays right when rows move or are sorted, but does not show the record.
    Sheet,
    /// No `sourceUrl` is written (one set earlier is left alone).
    None,
}

/// A validated Google Sheets source.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetsConfig {
    /// The id in the sheet's address (`/spreadsheets/d/<id>/edit`).
    pub spreadsheet_id: String,
    /// The range as configured, in A1 notation (checked).
    pub range: String,
    pub service_account_key: PathBuf,
    /// The key file's account: the address the sheet must be shared with.
    pub client_email: String,
    /// Replaces `https://sheets.googleapis.com/`; always ends with `/`.
    pub api_base_url: url::Url,
    pub link: LinkMode,
}

impl SheetsConfig {
    pub fn describe(&self) -> String {
        format!("Google Sheet {} ({})", self.spreadsheet_id, self.range)
    }
}

/// Checks the google_sheets keys of `raw`; `None` when a required one is missing or unusable.
pub(super) fn build(ctx: &Ctx<'_>, raw: &RawSource, problems: &mut Problems) -> Option<SheetsConfig> {
    for (key, set) in [("source.path", raw.path.is_some()), ("source.delimiter", raw.delimiter.is_some())] {
        if set {
            ctx.problem(problems, key, "only for type = \"csv\"");
        }
    }
    let spreadsheet_id = match raw.spreadsheet_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            Some(id.to_owned())
        }
        Some(id) => {
            let hint = match id.split_once("/d/") {
                Some((_, rest)) => format!(" (from that address it is {:?})", rest.split('/').next().unwrap_or("")),
                None => String::new(),
            };
            ctx.problem(
                problems,
                "source.spreadsheet_id",
                format!("not a spreadsheet id: use the part of the sheet's address between /d/ and /edit{hint}"),
            );
            None
        }
        None => {
            ctx.problem(problems, "source", "missing `spreadsheet_id`: the id in the sheet's address");
            None
        }
    };
    let range = match raw.range.as_deref() {
        Some(r) => match A1Range::parse(r) {
            Ok(_) => Some(r.trim().to_owned()),
            Err(e) => {
                ctx.problem(problems, "source.range", format!("malformed range: {e}"));
                None
            }
        },
        None => {
            ctx.problem(
                problems,
                "source",
                "missing `range`: the cells to read, header row first (e.g. \"Contacts!A1:Z\")",
            );
            None
        }
    };
    let account = match raw.service_account_key.as_deref() {
        Some(p) => {
            let path = ctx.resolve(p);
            match key::load(&path) {
                Ok(account) => Some((path, account.client_email().to_owned())),
                Err(e) => {
                    ctx.problem(problems, "source.service_account_key", e.to_string());
                    None
                }
            }
        }
        None => {
            ctx.problem(problems, "source", "missing `service_account_key`: the service account's JSON key file");
            None
        }
    };
    let api_base_url = api_base_url(ctx, raw.api_base_url.as_deref(), problems);
    let link = match raw.link.as_deref() {
        None | Some("row") => LinkMode::Row,
        Some("sheet") => LinkMode::Sheet,
        Some("none") => LinkMode::None,
        Some(other) => {
            ctx.problem(problems, "source.link", format!("{other:?}: expected \"row\", \"sheet\" or \"none\""));
            LinkMode::Row
        }
    };
    let (service_account_key, client_email) = account?;
    Some(SheetsConfig {
        spreadsheet_id: spreadsheet_id?,
        range: range?,
        service_account_key,
        client_email,
        api_base_url: api_base_url?,
        link,
    })
}

/// The base URL, with the trailing `/` google-sheets4 needs.
fn api_base_url(ctx: &Ctx<'_>, value: Option<&str>, problems: &mut Problems) -> Option<url::Url> {
    let text = value.unwrap_or(DEFAULT_API_BASE_URL);
    match url::Url::parse(text) {
        Ok(mut u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() && u.fragment().is_none() => {
            if !u.path().ends_with('/') {
                let path = format!("{}/", u.path());
                u.set_path(&path);
            }
            Some(u)
        }
        Ok(_) => {
            ctx.problem(problems, "source.api_base_url", "must be an http:// or https:// URL without ? or #");
            None
        }
        Err(e) => {
            ctx.problem(problems, "source.api_base_url", format!("not a URL: {e}"));
            None
        }
    }
}
