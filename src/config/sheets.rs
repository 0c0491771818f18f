//! The `[source] type = "google_sheets"` table: [`SheetsConfig`], checked like the rest of the
//! config (every problem with its line), including the service-account key file itself.

use std::path::PathBuf;

use super::a1::A1Range;
use super::ctx::Ctx;
use super::plain_http;
use super::raw::RawSource;
use super::service_account;
use crate::toml_strict::Problems;

/// The Sheets API's address, replaced by `api_base_url` (proxies, tests).
const DEFAULT_API_BASE_URL: &str = "https://sheets.googleapis.com/";

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
    /// The range, parsed: its tab and where its rows start.
    pub range: A1Range,
    /// The range as written (trimmed): what is sent to the API and shown in messages.
    pub range_text: String,
    pub service_account_key: PathBuf,
    /// The key file's account: the address the sheet must be shared with.
    pub client_email: String,
    /// Replaces `https://sheets.googleapis.com/`; always ends with `/`.
    pub api_base_url: url::Url,
    pub link: LinkMode,
}

impl SheetsConfig {
    pub fn describe(&self) -> String {
        format!("Google Sheet {} ({})", self.spreadsheet_id, self.range_text)
    }
}

/// Checks the google_sheets keys of `raw`; `None` when a required one is missing or unusable.
pub(super) fn build(ctx: &Ctx<'_>, raw: &RawSource, problems: &mut Problems) -> Option<SheetsConfig> {
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
    let range = if let Some(r) = raw.range.as_deref() {
        match A1Range::parse(r) {
            Ok(parsed) => Some((parsed, r.trim().to_owned())),
            Err(e) => {
                ctx.problem(problems, "source.range", format!("malformed range: {e}"));
                None
            }
        }
    } else {
        ctx.problem(
            problems,
            "source",
            "missing `range`: the cells to read, header row first (e.g. \"Contacts!A1:Z\")",
        );
        None
    };
    let allow_http = raw.allow_plain_http_to_remote_host.unwrap_or(false);
    let account = if let Some(p) = raw.service_account_key.as_deref() {
        let path = ctx.resolve(p);
        match service_account::load(&path) {
            Ok(account) => {
                // The signed grant goes to `token_uri`, and the access token comes back.
                let token_uri = url::Url::parse(account.token_uri()).expect("checked by service_account::load");
                if let Some(why) = plain_http::refusal(&token_uri, allow_http, "source") {
                    ctx.problem(
                        problems,
                        "source.service_account_key",
                        format!("{}: \"token_uri\" {}: {why}", path.display(), account.token_uri()),
                    );
                }
                Some((path, account.client_email().to_owned()))
            }
            Err(e) => {
                ctx.problem(problems, "source.service_account_key", e.to_string());
                None
            }
        }
    } else {
        ctx.problem(problems, "source", "missing `service_account_key`: the service account's JSON key file");
        None
    };
    let api_base_url = api_base_url(ctx, raw.api_base_url.as_deref(), problems);
    if let Some(why) = api_base_url.as_ref().and_then(|u| plain_http::refusal(u, allow_http, "source")) {
        ctx.problem(problems, "source.api_base_url", why);
    }
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
    let (range, range_text) = range?;
    Some(SheetsConfig {
        spreadsheet_id: spreadsheet_id?,
        range,
        range_text,
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, SourceConfig};

    const PEM: &str = include_str!("../../tests/fixtures/google/test-key.pem");

    fn setup(dir: &Path, source: &str) -> Result<Config, String> {
        std::fs::write(dir.join("m.toml"), "external_id = \"ID\"\n").unwrap();
        let key = serde_json::json!({
            "type": "service_account", "private_key": PEM, "client_email": "sa@p.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        });
        std::fs::write(dir.join("sa.json"), key.to_string()).unwrap();
        let cfg = dir.join("config.toml");
        std::fs::write(&cfg, format!("[source]\n{source}\n[sync]\nmapping = \"m.toml\"\n")).unwrap();
        Config::load(&cfg).map_err(|p| p.to_string())
    }

    #[test]
    fn loads_a_sheet_source_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = setup(
            dir.path(),
            "type = \"google_sheets\"\nspreadsheet_id = \"1AbC-d_E\"\nrange = \"Contacts!A5:Z\"\nservice_account_key = \"sa.json\"\n",
        )
        .unwrap();
        let SourceConfig::GoogleSheets(s) = c.source else { panic!("not a sheet: {:?}", c.source) };
        assert_eq!(s.spreadsheet_id, "1AbC-d_E");
        assert_eq!(s.range_text, "Contacts!A5:Z");
        assert_eq!((s.range.sheet.as_deref(), s.range.start_row()), (Some("Contacts"), 5));
        assert_eq!(s.service_account_key, dir.path().join("sa.json"));
        assert_eq!(s.client_email, "sa@p.iam.gserviceaccount.com");
        assert_eq!(s.api_base_url.as_str(), DEFAULT_API_BASE_URL);
        assert_eq!(s.link, LinkMode::Row);

        let c = setup(
            dir.path(),
            "type = \"google_sheets\"\nspreadsheet_id = \"x\"\nrange = \"A1:Z\"\nservice_account_key = \"sa.json\"\napi_base_url = \"http://127.0.0.1:9/proxy\"\nlink = \"sheet\"\n",
        )
        .unwrap();
        let SourceConfig::GoogleSheets(s) = c.source else { panic!() };
        assert_eq!(s.api_base_url.as_str(), "http://127.0.0.1:9/proxy/", "a trailing slash is added");
        assert_eq!(s.link, LinkMode::Sheet);
    }

    #[test]
    fn reports_every_sheet_problem_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let err = setup(
            dir.path(),
            "type = \"google_sheets\"\npath = \"c.csv\"\nspreadsheet_id = \"https://docs.google.com/spreadsheets/d/1AbC/edit#gid=0\"\nrange = \"Contacts!A1:Z:Q\"\nservice_account_key = \"nope.json\"\napi_base_url = \"ftp://x\"\nlink = \"cell\"\n",
        )
        .unwrap_err();
        for want in [
            "config.toml:3: `source.path`: only for type = \"csv\"",
            "config.toml:4: `source.spreadsheet_id`: not a spreadsheet id: use the part of the sheet's address between /d/ and /edit (from that address it is \"1AbC\")",
            "config.toml:5: `source.range`: malformed range: \"A1:Z:Q\" has more than one `:`",
            "config.toml:6: `source.service_account_key`: cannot read the service-account key",
            "config.toml:7: `source.api_base_url`: must be an http:// or https:// URL",
            "config.toml:8: `source.link`: \"cell\": expected \"row\", \"sheet\" or \"none\"",
        ] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
        let err = setup(dir.path(), "type = \"google_sheets\"\n").unwrap_err();
        for want in ["missing `spreadsheet_id`", "missing `range`", "missing `service_account_key`"] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
        let err =
            setup(dir.path(), "type = \"csv\"\npath = \"m.toml\"\nrange = \"A1:B\"\nlink = \"row\"\n").unwrap_err();
        assert!(err.contains("config.toml:4: `source.range`: only for type = \"google_sheets\""), "{err}");
        assert!(err.contains("config.toml:5: `source.link`: only for type = \"google_sheets\""), "{err}");
    }
}
