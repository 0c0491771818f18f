//! The Google side: the service-account token (yup-oauth2, JWT grant to the key's `token_uri`,
//! scope `spreadsheets.readonly` only) and the three Sheets calls (google-sheets4): the tab list,
//! `values.get` of the range, and `values.batchGet` of the columns that hold numbers. Retries
//! what may pass (network, timeouts, 429, 5xx) with backoff; turns Google's refusals into
//! [`SheetsError`]s that say what to do.

use std::future::Future;
use std::time::Duration;

use google_sheets4::api::{Scope, ValueRange};
use google_sheets4::hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use google_sheets4::hyper_util::client::legacy::Client;
use google_sheets4::hyper_util::client::legacy::connect::HttpConnector;
use google_sheets4::hyper_util::rt::TokioExecutor;
use google_sheets4::{Error as GError, Sheets};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use yup_oauth2::{CustomHyperClientBuilder, ServiceAccountAuthenticator};

use super::error::{GoogleError, SheetsError};
use crate::config::service_account::{KeyError, ServiceAccount};

/// The only scope asked for: read spreadsheets, nothing else.
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";

/// Attempts per call (the first and the retries).
const ATTEMPTS: u32 = 4;
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
const METADATA_TIMEOUT: Duration = Duration::from_mins(1);
/// A large range can take a while to compute and send.
const VALUES_TIMEOUT: Duration = Duration::from_mins(5);

/// Characters left as they are in the range's path segment; the rest is percent-encoded (a
/// tab name may hold spaces, `/`, `#`, `?`, which google-sheets4 would put in the path raw).
const RANGE_KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'!').remove(b':').remove(b'-').remove(b'_').remove(b'.');

type Connector = HttpsConnector<HttpConnector>;

/// A tab of the spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    pub title: String,
    /// The `gid` in the sheet's address.
    pub sheet_id: i64,
}

/// An authenticated Sheets client for one spreadsheet.
pub struct Api {
    hub: Sheets<Connector>,
    spreadsheet_id: String,
    client_email: String,
}

/// What a failed call came to, before the caller says what it means.
enum Failure {
    /// Google answered with an error it explains.
    Google(GoogleError),
    /// Anything else, already worded (after retries when it could pass).
    Other(String),
}

impl Api {
    /// Gets an access token for `account` and sets up the client for `spreadsheet_id`.
    pub async fn connect(
        account: ServiceAccount,
        api_base_url: &str,
        spreadsheet_id: &str,
    ) -> Result<Api, SheetsError> {
        let connector = connector();
        let client_email = account.client_email().to_owned();
        let token_uri = account.token_uri().to_owned();
        let path = account.path().to_path_buf();
        let auth_client = Client::builder(TokioExecutor::new()).build::<_, String>(connector.clone());
        let auth =
            ServiceAccountAuthenticator::with_client(account.into_key(), CustomHyperClientBuilder::from(auth_client))
                .with_timeout(TOKEN_TIMEOUT)
                .build()
                .await
                .map_err(|e| KeyError::BadPrivateKey { path, message: e.to_string() })?;
        let mut last = String::new();
        let mut token = None;
        for attempt in 0..ATTEMPTS {
            match auth.token(&[SCOPE]).await {
                Ok(t) => match t.token() {
                    Some(t) => {
                        token = Some(t.to_owned());
                        break;
                    }
                    None => last = "the answer held no access token".into(),
                },
                Err(yup_oauth2::Error::AuthError(e)) => {
                    return Err(SheetsError::TokenRefused { token_uri, client_email, reason: e.to_string() });
                }
                Err(e) => last = e.to_string(),
            }
            tracing::warn!(attempt = attempt + 1, token_uri = %token_uri, error = %last, "Could not get an access token");
            if attempt + 1 < ATTEMPTS {
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        let token = token.ok_or(SheetsError::TokenUnavailable { token_uri, message: last })?;
        tracing::debug!(client_email = %client_email, "Got an access token for the Sheets API");
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let mut hub = Sheets::new(client, token);
        hub.base_url(api_base_url.to_owned());
        hub.root_url(api_base_url.to_owned());
        Ok(Api { hub, spreadsheet_id: spreadsheet_id.to_owned(), client_email })
    }

    /// The spreadsheet's tabs (one `spreadsheets.get` with a fields mask: no cell data).
    pub async fn tabs(&self) -> Result<Vec<Tab>, SheetsError> {
        let id = &self.spreadsheet_id;
        let sheet = call("reading the spreadsheet's tabs", METADATA_TIMEOUT, || {
            self.hub
                .spreadsheets()
                .get(id)
                .param("fields", "spreadsheetId,sheets.properties(sheetId,title)")
                .add_scope(Scope::SpreadsheetReadonly)
                .doit()
        })
        .await
        .map_err(|f| self.refusal("reading the spreadsheet's tabs", f))?;
        Ok(sheet
            .sheets
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| {
                let p = s.properties?;
                Some(Tab { title: p.title?, sheet_id: i64::from(p.sheet_id.unwrap_or(0)) })
            })
            .collect())
    }

    /// `values.get` of `range`, unformatted, dates as serial numbers, by rows. A 400 "Unable to
    /// parse range" comes back as [`SheetsError::BadRange`] for the caller to refine.
    pub async fn values(&self, range: &str) -> Result<ValueRange, SheetsError> {
        let encoded = utf8_percent_encode(range, RANGE_KEEP).to_string();
        let id = &self.spreadsheet_id;
        call("reading the range", VALUES_TIMEOUT, || {
            self.hub
                .spreadsheets()
                .values_get(id, &encoded)
                .value_render_option("UNFORMATTED_VALUE")
                .date_time_render_option("SERIAL_NUMBER")
                .major_dimension("ROWS")
                .add_scope(Scope::SpreadsheetReadonly)
                .doit()
        })
        .await
        .map_err(|f| match f {
            Failure::Google(g) if g.code == 400 => {
                SheetsError::BadRange { range: range.to_owned(), message: g.message }
            }
            f => self.refusal("reading the range", f),
        })
    }

    /// `values.batchGet` of one-column `ranges`, dates as formatted strings, by columns: a cell
    /// that is a number in [`Api::values`] and a string here is a date, time or duration.
    pub async fn shown_columns(&self, ranges: &[String]) -> Result<Vec<ValueRange>, SheetsError> {
        let id = &self.spreadsheet_id;
        let reply = call("reading the date columns", VALUES_TIMEOUT, || {
            let mut c = self
                .hub
                .spreadsheets()
                .values_batch_get(id)
                .value_render_option("UNFORMATTED_VALUE")
                .date_time_render_option("FORMATTED_STRING")
                .major_dimension("COLUMNS")
                .add_scope(Scope::SpreadsheetReadonly);
            for r in ranges {
                c = c.add_ranges(r);
            }
            c.doit()
        })
        .await
        .map_err(|f| self.refusal("reading the date columns", f))?;
        Ok(reply.value_ranges.unwrap_or_default())
    }

    fn refusal(&self, what: &'static str, f: Failure) -> SheetsError {
        refusal(&self.spreadsheet_id, &self.client_email, what, f)
    }
}

/// What a refusal by Google means for the spreadsheet.
fn refusal(spreadsheet_id: &str, client_email: &str, what: &'static str, f: Failure) -> SheetsError {
    let g = match f {
        Failure::Google(g) => g,
        Failure::Other(message) => return SheetsError::Unavailable { what, message },
    };
    let spreadsheet_id = spreadsheet_id.to_owned();
    // Not shared: a bare PERMISSION_DENIED. Other 403s (the API is off for the key's project,
    // a scope is missing) carry a reason and a message worth showing as they are.
    let not_shared = g.reason().is_none() && !g.message.contains("API has not been used");
    match g.code {
        403 if not_shared => SheetsError::NotShared { spreadsheet_id, client_email: client_email.to_owned() },
        403 => SheetsError::Forbidden { spreadsheet_id, message: g.message },
        404 => SheetsError::SpreadsheetNotFound { spreadsheet_id },
        401 => SheetsError::Unauthenticated { message: g.message },
        code => SheetsError::Unavailable { what, message: format!("{code} {}: {}", g.status, g.message) },
    }
}

/// Runs one Sheets call with retries. The raw reply (which still holds the body) is dropped at once.
async fn call<T, F, Fut>(what: &'static str, timeout: Duration, mut f: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = google_sheets4::Result<(google_sheets4::common::Response, T)>>,
{
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        let started = std::time::Instant::now();
        match tokio::time::timeout(timeout, f()).await {
            Ok(Ok((_, value))) => {
                tracing::debug!(what, ms = started.elapsed().as_millis() as u64, "Sheets API answered");
                return Ok(value);
            }
            Ok(Err(e)) => match classify(e) {
                Ok(retryable) => last = retryable,
                Err(failure) => return Err(failure),
            },
            Err(_) => last = format!("no answer within {} s", timeout.as_secs()),
        }
        tracing::warn!(what, attempt = attempt + 1, error = %last, "Sheets API call failed");
        if attempt + 1 < ATTEMPTS {
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Err(Failure::Other(format!("{last} (after {ATTEMPTS} attempts)")))
}

/// `Ok(message)` for a failure worth retrying, `Err` for one that will not pass.
fn classify(e: GError) -> Result<String, Failure> {
    let retryable = |code: u16| code == 429 || code >= 500;
    match e {
        GError::HttpError(e) => Ok(format!("network error: {e}")),
        GError::Io(e) => Ok(format!("network error: {e}")),
        GError::BadRequest(body) => match GoogleError::from_body(&body) {
            Some(g) if retryable(g.code) => Ok(format!("{} {}: {}", g.code, g.status, g.message)),
            Some(g) => Err(Failure::Google(g)),
            None => Err(Failure::Other(format!("unexpected error reply: {body}"))),
        },
        GError::Failure(response) => {
            let status = response.status();
            if retryable(status.as_u16()) {
                Ok(format!("HTTP {status}"))
            } else {
                Err(Failure::Google(GoogleError {
                    code: status.as_u16(),
                    message: format!("HTTP {status}"),
                    ..GoogleError::default()
                }))
            }
        }
        GError::JsonDecodeError(_, e) => {
            Err(Failure::Other(format!("the answer is not what the Sheets API sends: {e}")))
        }
        other => Err(Failure::Other(other.to_string())),
    }
}

/// 1 s, 2 s, 4 s, ...
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.min(5))
}

/// HTTPS with the system's roots (ring), or plain HTTP for a local proxy or a test.
fn connector() -> Connector {
    let provider = rustls::crypto::ring::default_provider();
    let builder = match HttpsConnectorBuilder::new().with_provider_and_native_roots(provider.clone()) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "No system root certificates: HTTPS to Google will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider.into())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    builder.https_or_http().enable_http1().enable_http2().build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn google(body: serde_json::Value) -> Failure {
        Failure::Google(GoogleError::from_body(&body).expect("a Google error body"))
    }

    #[test]
    fn refusals_say_what_to_do() {
        let r = |body| refusal("S1", "sa@p.iam.gserviceaccount.com", "reading", google(body));
        let denied = json!({"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}});
        assert!(matches!(r(denied), SheetsError::NotShared { .. }));
        let disabled = json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
            "message": "Google Sheets API has not been used in project 42 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project=42 then retry.",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED"}]}});
        let e = r(disabled);
        assert!(matches!(e, SheetsError::Forbidden { .. }), "{e:?}");
        assert!(e.to_string().contains("Enable it by visiting"), "{e}");
        let missing =
            json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}});
        assert!(matches!(r(missing), SheetsError::SpreadsheetNotFound { .. }));
        let e = refusal("S1", "sa@x", "reading", Failure::Other("no answer within 60 s (after 4 attempts)".into()));
        assert_eq!(e.to_string(), "reading failed: no answer within 60 s (after 4 attempts)");
        assert!(!e.is_config());
    }

    #[test]
    fn ranges_are_encoded_for_the_path() {
        let enc = |r: &str| utf8_percent_encode(r, RANGE_KEEP).to_string();
        assert_eq!(enc("Contacts!A1:Z"), "Contacts!A1:Z");
        assert_eq!(enc("'Q&A #1/2'!A1:Z"), "%27Q%26A%20%231%2F2%27!A1:Z");
    }
}
