//! [`SheetsError`]: why a Google Sheet could not be read, each saying what to do about it, and
//! which of them are the user's files to fix (exit 2) rather than the sheet or Google (exit 4).
//! Also the shape of Google's error replies.

use serde::Deserialize;
use thiserror::Error;

use crate::config::service_account::KeyError;

/// Why a sheet could not be read.
#[derive(Debug, Error)]
pub enum SheetsError {
    /// The key file cannot be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The configured range is not one the API can read.
    #[error("the range {range:?} is malformed: {message}; fix `range` (e.g. \"Contacts!A1:Z\")")]
    BadRange { range: String, message: String },
    /// The token endpoint answered, and refused the service account's grant.
    #[error(
        "the token endpoint {token_uri} refused the service account {client_email}: {reason}. The key may have been deleted or disabled, or the account removed: create a new key for it and point `service_account_key` at it"
    )]
    TokenRefused { token_uri: String, client_email: String, reason: String },
    /// The token endpoint could not be reached or gave no usable answer (after retries).
    #[error("cannot get an access token from {token_uri}: {message}")]
    TokenUnavailable { token_uri: String, message: String },
    /// The service account may not read the spreadsheet.
    #[error(
        "the service account {client_email} may not read spreadsheet {spreadsheet_id}: share the spreadsheet with {client_email} (Share → add it as a Viewer)"
    )]
    NotShared { spreadsheet_id: String, client_email: String },
    /// Google refused for another reason it explained (the Sheets API is off for the project, ...).
    #[error("Google refused to read spreadsheet {spreadsheet_id}: {message}")]
    Forbidden { spreadsheet_id: String, message: String },
    /// There is no spreadsheet with this id (or it was deleted).
    #[error(
        "there is no spreadsheet {spreadsheet_id}: check `spreadsheet_id` (the part of the sheet's address between /d/ and /edit)"
    )]
    SpreadsheetNotFound { spreadsheet_id: String },
    /// The range names a tab the spreadsheet does not have.
    #[error("the spreadsheet has no tab {tab:?}{}: fix `range`, or rename the tab back", list_tabs(tabs))]
    NoSuchTab { tab: String, tabs: Vec<String> },
    /// Google did not accept the access token it issued.
    #[error("the Sheets API refused the access token: {message}")]
    Unauthenticated { message: String },
    /// Google or the network failed (after retries), or an answer could not be understood.
    #[error("{what} failed: {message}")]
    Unavailable { what: &'static str, message: String },
}

fn list_tabs(tabs: &[String]) -> String {
    if tabs.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = tabs.iter().map(|t| format!("{t:?}")).collect();
        format!(" (it has: {})", quoted.join(", "))
    }
}

impl SheetsError {
    /// Whether the user's own files are wrong (the config, the key file): exit 2 rather than 4.
    pub fn is_config(&self) -> bool {
        matches!(self, SheetsError::Key(_) | SheetsError::BadRange { .. })
    }
}

/// Google's error reply: `{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GoogleError {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub details: Vec<serde_json::Value>,
}

impl GoogleError {
    /// Reads Google's error body, if it is one.
    pub fn from_body(body: &serde_json::Value) -> Option<GoogleError> {
        serde_json::from_value(body.get("error")?.clone()).ok()
    }

    /// The `reason` of the first `ErrorInfo` detail (`SERVICE_DISABLED`, ...).
    pub fn reason(&self) -> Option<&str> {
        self.details.iter().find_map(|d| d.get("reason")?.as_str())
    }
}
