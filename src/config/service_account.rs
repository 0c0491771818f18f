//! The service-account key file: read and checked before any request, so that a wrong file
//! (user credentials, an OAuth client, a broken private key) is named as such, with what to do.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use thiserror::Error;
use yup_oauth2::ServiceAccountKey;

/// Where a service-account key is made, for messages.
const HOW_TO_GET_A_KEY: &str = "in the Google Cloud console open IAM & Admin → Service accounts → the account → \
     Keys → Add key → Create new key → JSON, and point `service_account_key` at the downloaded file";

/// A checked service-account key. `Debug` never shows the private key.
#[derive(Clone)]
pub struct ServiceAccount {
    path: PathBuf,
    key: ServiceAccountKey,
}

impl ServiceAccount {
    /// The key file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The account's address: the one the spreadsheet must be shared with.
    pub fn client_email(&self) -> &str {
        &self.key.client_email
    }

    /// Where the signed JWT grant is sent.
    pub fn token_uri(&self) -> &str {
        &self.key.token_uri
    }

    pub fn into_key(self) -> ServiceAccountKey {
        self.key
    }
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.key.client_email)
            .field("token_uri", &self.key.token_uri)
            .field("private_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Why a key file cannot be used. All of these are the user's to fix in their files.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error("cannot read the service-account key {path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("{path} is not a JSON key file ({message}); {HOW_TO_GET_A_KEY}")]
    NotJson { path: PathBuf, message: String },
    #[error(
        "{path} holds user credentials (\"type\": \"authorized_user\", e.g. from `gcloud auth application-default login`), not a service-account key; {HOW_TO_GET_A_KEY}"
    )]
    UserCredentials { path: PathBuf },
    #[error("{path} is an OAuth client secret, not a service-account key; {HOW_TO_GET_A_KEY}")]
    OAuthClient { path: PathBuf },
    #[error(
        "{path} is not a service-account key (its \"type\" is {found:?}, not \"service_account\"); {HOW_TO_GET_A_KEY}"
    )]
    WrongType { path: PathBuf, found: String },
    #[error("{path} has no {field:?}: it is not a complete service-account key; {HOW_TO_GET_A_KEY}")]
    Missing { path: PathBuf, field: &'static str },
    #[error("{path}: \"private_key\" is not a PEM RSA private key ({message}); download a new key")]
    BadPrivateKey { path: PathBuf, message: String },
    #[error("{path}: \"token_uri\" {uri:?} is not an http(s) URL")]
    BadTokenUri { path: PathBuf, uri: String },
}

/// Reads and checks the key file at `path`.
pub fn load(path: &Path) -> Result<ServiceAccount, KeyError> {
    let text =
        super::key_file::read(path).map_err(|message| KeyError::Unreadable { path: path.to_path_buf(), message })?;
    parse(path, &text)
}

/// Checks the text of a key file (`path` names it in errors).
pub fn parse(path: &Path, text: &str) -> Result<ServiceAccount, KeyError> {
    let path = path.to_path_buf();
    let json: Value =
        serde_json::from_str(text).map_err(|e| KeyError::NotJson { path: path.clone(), message: e.to_string() })?;
    let Some(obj) = json.as_object() else {
        return Err(KeyError::NotJson { path, message: "not a JSON object".into() });
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("service_account") => {}
        Some("authorized_user") => return Err(KeyError::UserCredentials { path }),
        None if obj.contains_key("installed") || obj.contains_key("web") => {
            return Err(KeyError::OAuthClient { path });
        }
        Some(other) => return Err(KeyError::WrongType { path, found: other.to_owned() }),
        None => return Err(KeyError::Missing { path, field: "type" }),
    }
    for field in ["client_email", "private_key", "token_uri"] {
        if obj.get(field).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
            return Err(KeyError::Missing { path, field });
        }
    }
    let key: ServiceAccountKey =
        serde_json::from_value(json).map_err(|e| KeyError::NotJson { path: path.clone(), message: e.to_string() })?;
    check_private_key(&key.private_key).map_err(|message| KeyError::BadPrivateKey { path: path.clone(), message })?;
    match url::Url::parse(&key.token_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return Err(KeyError::BadTokenUri { path, uri: key.token_uri }),
    }
    Ok(ServiceAccount { path, key })
}

/// The private key must be one yup-oauth2 can sign RS256 with: PEM, RSA.
fn check_private_key(pem: &str) -> Result<(), String> {
    let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| format!("not PEM: {e}"))?;
    rustls::crypto::ring::sign::RsaSigningKey::new(&der).map(|_| ()).map_err(|e| format!("not an RSA key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = include_str!("../../tests/fixtures/google/test-key.pem");

    fn key_json(fields: &[(&str, &str)]) -> String {
        let mut obj = serde_json::json!({
            "type": "service_account",
            "project_id": "p",
            "private_key_id": "1",
            "private_key": PEM,
            "client_email": "sync@p.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        });
        for (k, v) in fields {
            obj[*k] = Value::String((*v).to_owned());
        }
        obj.to_string()
    }

    #[test]
    fn accepts_a_service_account_key_and_hides_it() {
        let sa = parse(Path::new("k.json"), &key_json(&[])).unwrap();
        assert_eq!(sa.client_email(), "sync@p.iam.gserviceaccount.com");
        assert_eq!(sa.token_uri(), "https://oauth2.googleapis.com/token");
        let shown = format!("{sa:?}");
        assert!(!shown.contains("PRIVATE KEY") && shown.contains("redacted"), "{shown}");
    }

    #[test]
    fn names_what_is_wrong() {
        let p = Path::new("k.json");
        let err = |text: &str| parse(p, text).unwrap_err();
        assert!(matches!(err("{"), KeyError::NotJson { .. }));
        assert!(matches!(err(r#"{"type":"authorized_user"}"#), KeyError::UserCredentials { .. }));
        assert!(matches!(err(r#"{"installed":{"client_id":"x"}}"#), KeyError::OAuthClient { .. }));
        assert!(matches!(err(r#"{"type":"external_account"}"#), KeyError::WrongType { .. }));
        assert!(matches!(err(&key_json(&[("client_email", "")])), KeyError::Missing { field: "client_email", .. }));
        assert!(matches!(
            err(&key_json(&[("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")])),
            KeyError::BadPrivateKey { .. }
        ));
        assert!(matches!(err(&key_json(&[("token_uri", "oauth2.googleapis.com")])), KeyError::BadTokenUri { .. }));
        let msg = err(r#"{"type":"authorized_user"}"#).to_string();
        assert!(msg.contains("Service accounts") && msg.contains("k.json"), "{msg}");
    }
}
