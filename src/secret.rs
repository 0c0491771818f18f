//! [`ApiKey`]: the OpenPhone API key, and [`ConnectionString`]: a database's connection string
//! (it holds a password), neither of which ever appears in `Debug`, `Display` or logs; and
//! [`warn_if_shared`], the warning for a key file other users may read.

use std::fmt;
use std::path::Path;

/// The OpenPhone API key. Only [`ApiKey::expose`] gives the text, and only the
/// HTTP client calls it, to build the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key, trimming the whitespace and newline a key file usually ends with.
    /// `None` when nothing is left.
    pub fn new(raw: &str) -> Option<ApiKey> {
        let key = raw.trim();
        (!key.is_empty()).then(|| ApiKey(key.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A database's connection string (`postgresql://user:password@host/db`, or `host=... password=...`):
/// it holds a password, so only [`ConnectionString::expose`] gives the text, and only the
/// PostgreSQL source calls it, to connect. [`ConnectionString::redact`] takes it (and its
/// password) out of a message that might quote it.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    text: String,
    password: Option<String>,
}

impl ConnectionString {
    /// Wraps a connection string, trimming the whitespace and newline a file usually ends
    /// with; `password` is the one it holds, to redact. `None` when nothing is left.
    pub fn new(raw: &str, password: Option<String>) -> Option<ConnectionString> {
        let text = raw.trim();
        (!text.is_empty())
            .then(|| ConnectionString { text: text.to_owned(), password: password.filter(|p| !p.is_empty()) })
    }

    pub fn expose(&self) -> &str {
        &self.text
    }

    /// `message` with the connection string and its password replaced by `<redacted>`.
    pub fn redact(&self, message: &str) -> String {
        let mut out = message.replace(&self.text, "<redacted>");
        if let Some(p) = &self.password {
            out = out.replace(p.as_str(), "<redacted>");
            // A URL carries it percent-encoded.
            let encoded = percent_encoding::utf8_percent_encode(p, percent_encoding::NON_ALPHANUMERIC).to_string();
            out = out.replace(&encoded, "<redacted>");
        }
        out
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionString(<redacted>)")
    }
}

impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Logs a warning when the key file at `path` can be read (or written) by its group or by
/// others: a key there is a secret only its owner should read. Says nothing where modes do
/// not exist or the file cannot be examined (reading it reports that).
pub fn warn_if_shared(path: &Path) {
    warn_if_readable_by_others(path, "Key file");
}

/// The files and modes warned about since the last [`warn_again`].
static WARNED: std::sync::Mutex<Vec<(std::path::PathBuf, u32)>> = std::sync::Mutex::new(Vec::new());

/// Logs a warning when the file at `path` (`what`: "Key file", "Mirror") can be read (or
/// written) by its group or by others, once for a file and mode until [`warn_again`]: a
/// command that reads the file twice says it once.
pub fn warn_if_readable_by_others(path: &Path, what: &str) {
    let Some(mode) = shared_mode(path) else { return };
    let mut warned = WARNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if warned.iter().any(|(p, m)| p == path && *m == mode) {
        return;
    }
    warned.push((path.to_path_buf(), mode));
    tracing::warn!(
        file = %path.display(),
        mode = format!("{mode:04o}"),
        "{what} {} can be read by other users (mode {mode:04o}): run `chmod 600 {}`",
        path.display(),
        path.display()
    );
}

/// Lets the next [`warn_if_readable_by_others`] of each file warn again: the daemon calls it
/// after each run, so that every run says it once (a warning only at start would scroll away).
pub fn warn_again() {
    WARNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
}

/// The permission bits of `path` when they give its group or others any access.
fn shared_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_noticed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        std::fs::write(&p, "k").unwrap();
        for (mode, shared) in [(0o600, None), (0o400, None), (0o640, Some(0o640)), (0o604, Some(0o604))] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(shared_mode(&p), shared, "{mode:o}");
        }
        assert_eq!(shared_mode(&dir.path().join("none")), None);
    }

    #[test]
    fn debug_and_display_hide_the_key() {
        let key = ApiKey::new("  sk-live-abcdef\n").unwrap();
        assert_eq!(key.expose(), "sk-live-abcdef");
        assert!(!format!("{key:?} {key}").contains("abcdef"));
        assert!(ApiKey::new(" \n").is_none());
    }

    /// `Debug` of every struct that holds a credential, or is built from a file holding
    /// one, shows none of it.
    #[test]
    fn debug_of_everything_holding_a_secret_hides_it() {
        const PEM: &str = include_str!("../tests/fixtures/google/test-key.pem");
        const KEY: &str = "sk-live-DEBUG-1a2b3c4d5e6f";
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("api-key", KEY);
        write("m.toml", "external_id = \"ID\"\n");
        let sa = serde_json::json!({
            "type": "service_account", "private_key": PEM, "client_email": "sa@p.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        });
        write("sa.json", &sa.to_string());
        write(
            "config.toml",
            "[openphone]\napi_key_file = \"api-key\"\n[source]\ntype = \"google_sheets\"\nspreadsheet_id = \"x\"\n\
             range = \"A1:B\"\nservice_account_key = \"sa.json\"\n[sync]\nmapping = \"m.toml\"\n",
        );
        let config = crate::config::Config::load(&dir.path().join("config.toml")).unwrap();
        let key = config.api_key().unwrap().unwrap();
        assert_eq!(key.expose(), KEY);
        let options = crate::openphone::client::ClientOptions {
            base_url: config.openphone.base_url.clone(),
            api_key: key.clone(),
            requests_per_second: 10,
            timeout: std::time::Duration::from_secs(1),
            max_retries: 0,
        };
        let client = crate::openphone::Client::new(options.clone()).unwrap();
        let account = crate::config::service_account::load(&dir.path().join("sa.json")).unwrap();
        let shown = format!("{key:?} {key} {options:?} {client:?} {account:?} {config:?} {config:#?}");
        let body: Vec<&str> = PEM.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!shown.contains(KEY), "the API key shows: {shown}");
        assert!(!shown.contains("PRIVATE KEY"), "the private key shows: {shown}");
        for line in body {
            assert!(!shown.contains(line), "a line of the private key shows: {shown}");
        }
        assert!(shown.contains("redacted") && shown.contains("sa.json"), "{shown}");
    }
}
