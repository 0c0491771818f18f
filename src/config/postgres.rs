//! The `[source] type = "postgres"` table: [`PostgresConfig`], a `query` and the connection
//! string, read when the config is loaded from exactly one of `url_env` (an environment
//! variable), `url_file` (a file) or `url_credential` (a systemd credential,
//! `$CREDENTIALS_DIRECTORY/<name>`). The string holds a password: it is kept as a
//! [`ConnectionString`], never shown; a problem with it names the key and where it was read
//! from, never its text. Its `sslmode` ([`SslMode`]) is read here: `tokio-postgres` itself
//! knows only `disable`, `prefer` and `require`.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use super::api_key::CREDENTIALS_DIRECTORY_ENV;
use super::ctx::Ctx;
use super::raw::RawSource;
use crate::secret::ConnectionString;
use crate::toml_strict::Problems;

/// How the connection is encrypted and what of the server's certificate is checked (libpq's
/// `sslmode`, less `allow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it (its certificate not checked, as libpq), else plain.
    Prefer,
    /// TLS or no connection; the certificate is not checked (as libpq without a root file).
    Require,
    /// TLS, the certificate chain checked against the system's roots; not the host's name.
    VerifyCa,
    /// TLS, the chain and the host's name checked.
    VerifyFull,
}

/// Where the connection string was read from (for messages: never the string itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlFrom {
    Env(String),
    File(PathBuf),
    Credential(PathBuf),
}

impl std::fmt::Display for UrlFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlFrom::Env(name) => write!(f, "${name}"),
            UrlFrom::File(p) => write!(f, "{}", p.display()),
            UrlFrom::Credential(p) => write!(f, "the systemd credential {}", p.display()),
        }
    }
}

/// A validated PostgreSQL source.
#[derive(Debug, Clone, PartialEq)]
pub struct PostgresConfig {
    /// The query, as written: one row is one contact, its columns the mapping's columns.
    pub query: String,
    /// The connection string, with `sslmode=verify-ca|verify-full` written as `require` for
    /// `tokio-postgres` (the check itself is [`PostgresConfig::ssl`]).
    pub url: ConnectionString,
    pub ssl: SslMode,
    pub from: UrlFrom,
    /// `postgresql://host:port/dbname`, without the user or password: what messages name.
    pub target: String,
    /// The file `url_file` names, which a plan file is never written over.
    pub file: Option<PathBuf>,
}

impl PostgresConfig {
    pub fn describe(&self) -> String {
        self.target.clone()
    }
}

/// The keys the connection string is read from.
const URL_KEYS: &[&str] = &["url_env", "url_file", "url_credential"];

pub(super) fn build(ctx: &Ctx<'_>, raw: &RawSource, problems: &mut Problems) -> Option<PostgresConfig> {
    let query = match raw.query.as_deref() {
        Some(q) if !q.trim().is_empty() => q.to_owned(),
        Some(_) => {
            ctx.problem(problems, "source.query", "is empty: write the SELECT whose rows are the contacts");
            String::new()
        }
        None => {
            ctx.problem(problems, "source", "missing `query`: the SELECT whose rows are the contacts");
            String::new()
        }
    };
    let set: Vec<&str> = URL_KEYS
        .iter()
        .copied()
        .zip([raw.url_env.is_some(), raw.url_file.is_some(), raw.url_credential.is_some()])
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
    let (key, text, from, file) = match set.as_slice() {
        [] => {
            ctx.problem(
                problems,
                "source",
                "missing the connection string: set one of `url_env` (an environment variable's name), `url_file` (a file holding it) or `url_credential` (a systemd credential's name)",
            );
            return None;
        }
        [_] => read_url(ctx, raw, problems)?,
        more => {
            ctx.problem(
                problems,
                &format!("source.{}", more[1]),
                format!("set only one of {}: the connection string is read from one place", more.join(", ")),
            );
            return None;
        }
    };
    let at = format!("source.{key}");
    // A file's (or a variable's) trailing newline is not part of the string.
    let text = text.trim();
    let (ssl, rewritten) = match ssl_mode(text) {
        Ok(v) => v,
        Err(why) => {
            ctx.problem(problems, &at, format!("the connection string in {from}: {why}"));
            return None;
        }
    };
    let parsed = match tokio_postgres::Config::from_str(&rewritten) {
        Ok(c) => c,
        Err(e) => {
            // The parser names the option, never its value; redacted all the same.
            let password = password_of(text);
            let shown =
                ConnectionString::new(text, password).map_or_else(|| e.to_string(), |s| s.redact(&e.to_string()));
            ctx.problem(problems, &at, format!("the connection string in {from} is not one PostgreSQL reads: {shown}"));
            return None;
        }
    };
    if parsed.get_hosts().is_empty() && parsed.get_hostaddrs().is_empty() {
        ctx.problem(
            problems,
            &at,
            format!("the connection string in {from} names no host: add host=... (or the host in a postgresql:// URL; for a Unix socket, its folder, e.g. host=/run/postgresql)"),
        );
        return None;
    }
    let password = parsed.get_password().map(|p| String::from_utf8_lossy(p).into_owned());
    let Some(url) = ConnectionString::new(&rewritten, password) else {
        ctx.problem(problems, &at, format!("{from} is empty"));
        return None;
    };
    Some(PostgresConfig { query, url, ssl, from, target: target(&parsed), file })
}

/// `postgresql://host:port/dbname` (the first host; a socket's folder as the host).
fn target(c: &tokio_postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => c.get_hostaddrs().first().map(ToString::to_string).unwrap_or_default(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let db = c.get_dbname().or(c.get_user()).unwrap_or("");
    crate::escape::escape(&format!("postgresql://{host}:{port}/{db}")).into_owned()
}

/// The connection string's password, when it parses and has one (to redact it).
fn password_of(text: &str) -> Option<String> {
    let parsed = tokio_postgres::Config::from_str(text).ok()?;
    parsed.get_password().map(|p| String::from_utf8_lossy(p).into_owned())
}

/// Reads the one key set: `(key, text, from, file)`.
fn read_url(
    ctx: &Ctx<'_>,
    raw: &RawSource,
    problems: &mut Problems,
) -> Option<(&'static str, String, UrlFrom, Option<PathBuf>)> {
    if let Some(name) = raw.url_env.as_deref() {
        if name.is_empty() || name.contains(['=', '\0']) {
            ctx.problem(problems, "source.url_env", "must be an environment variable's name, e.g. \"CONTACTS_DB_URL\"");
            return None;
        }
        return match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Some(("url_env", v, UrlFrom::Env(name.to_owned()), None)),
            Ok(_) => {
                ctx.problem(
                    problems,
                    "source.url_env",
                    format!("${name} is empty: it must hold the connection string"),
                );
                None
            }
            Err(std::env::VarError::NotPresent) => {
                ctx.problem(
                    problems,
                    "source.url_env",
                    format!(
                        "${name} is not set: it must hold the connection string (postgresql://user:password@host/db)"
                    ),
                );
                None
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                ctx.problem(problems, "source.url_env", format!("${name} is not UTF-8 text"));
                None
            }
        };
    }
    let (key, path, from) = if let Some(p) = raw.url_file.as_deref() {
        let path = ctx.resolve(p);
        ("url_file", path.clone(), UrlFrom::File(path))
    } else {
        let name = raw.url_credential.as_deref().unwrap_or_default();
        if name.is_empty() || name.contains(['/', '\0']) || name == "." || name == ".." {
            ctx.problem(
                problems,
                "source.url_credential",
                "must be a credential's name (LoadCredential=NAME:...), without a `/`",
            );
            return None;
        }
        let Some(dir) = std::env::var_os(CREDENTIALS_DIRECTORY_ENV).filter(|d| !d.is_empty()) else {
            ctx.problem(
                problems,
                "source.url_credential",
                format!(
                    "${CREDENTIALS_DIRECTORY_ENV} is not set: systemd sets it for a unit with LoadCredential={name}:/path/to/file (outside systemd, use url_file)"
                ),
            );
            return None;
        };
        let path = PathBuf::from(dir).join(name);
        ("url_credential", path.clone(), UrlFrom::Credential(path))
    };
    match super::key_file::read(&path) {
        Ok(text) if !text.trim().is_empty() => {
            crate::secret::warn_if_readable_by_others(&path, "Connection string file");
            let file = (key == "url_file").then_some(path);
            Some((key, text, from, file))
        }
        Ok(_) => {
            ctx.problem(problems, &format!("source.{key}"), format!("{} is empty", path.display()));
            None
        }
        Err(e) => {
            ctx.problem(problems, &format!("source.{key}"), format!("cannot read {}: {e}", path.display()));
            None
        }
    }
}

static SSLMODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(\bsslmode\s*=\s*'?)([a-z-]*)").expect("a valid pattern"));

/// The connection string's `sslmode` (`prefer` when unset) and the string `tokio-postgres`
/// is given: `verify-ca` and `verify-full` written as `require` (the check is ours).
fn ssl_mode(text: &str) -> Result<(SslMode, String), String> {
    let Some(found) = SSLMODE.captures(text) else { return Ok((SslMode::Prefer, text.to_owned())) };
    let value = found.get(2).map_or("", |m| m.as_str());
    let mode = match value.to_ascii_lowercase().as_str() {
        "disable" => SslMode::Disable,
        "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        "allow" => {
            return Err("sslmode=allow is not supported: use prefer (TLS when the server offers it) or disable".into());
        }
        other => {
            return Err(format!(
                "sslmode={} is not one of disable, prefer, require, verify-ca, verify-full",
                crate::escape::escape(other)
            ));
        }
    };
    let range = found.get(2).map_or(0..0, |m| m.range());
    let mut rewritten = text.to_owned();
    let written = match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        _ => "require",
    };
    rewritten.replace_range(range, written);
    Ok((mode, rewritten))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_read_from_either_form_and_verify_is_ours() {
        assert_eq!(ssl_mode("host=h").unwrap(), (SslMode::Prefer, "host=h".into()));
        assert_eq!(
            ssl_mode("host=h sslmode=verify-full").unwrap(),
            (SslMode::VerifyFull, "host=h sslmode=require".into())
        );
        assert_eq!(
            ssl_mode("postgresql://u:p@h/db?sslmode=verify-ca&x=1").unwrap(),
            (SslMode::VerifyCa, "postgresql://u:p@h/db?sslmode=require&x=1".into())
        );
        assert_eq!(ssl_mode("host=h sslmode = 'disable'").unwrap().0, SslMode::Disable);
        assert!(ssl_mode("host=h sslmode=allow").unwrap_err().contains("not supported"));
        assert!(ssl_mode("host=h sslmode=bogus").unwrap_err().contains("not one of"));
    }

    #[test]
    fn the_target_names_no_password() {
        let c = tokio_postgres::Config::from_str("postgresql://app:s3cret@db.example.com:6543/crm").unwrap();
        assert_eq!(target(&c), "postgresql://db.example.com:6543/crm");
    }

    /// The config loaded from a file holding the connection string: `Debug` of it shows
    /// neither the string nor its password; `redact` takes both out of a message.
    #[test]
    fn the_connection_string_never_shows() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("m.toml", "external_id = \"id\"\n");
        write("db-url", "postgresql://sync:Sup3r%2FSecret@db.example.com:6543/crm?sslmode=verify-full\n");
        write(
            "config.toml",
            "[source]\ntype = \"postgres\"\nurl_file = \"db-url\"\nquery = \"SELECT 1 AS id\"\n[sync]\nmapping = \"m.toml\"\n",
        );
        let config = crate::config::Config::load(&dir.path().join("config.toml")).unwrap();
        let crate::config::SourceConfig::Postgres(pg) = &config.source else { panic!("{:?}", config.source) };
        assert_eq!(pg.ssl, SslMode::VerifyFull);
        assert_eq!(pg.describe(), "postgresql://db.example.com:6543/crm");
        assert_eq!(pg.file.as_deref(), Some(dir.path().join("db-url").as_path()));
        let shown = format!("{config:?} {config:#?} {pg:?} {}", pg.url);
        assert!(!shown.contains("Sup3r") && !shown.contains("Secret"), "{shown}");
        let message = format!("failed: {} and Sup3r/Secret and Sup3r%2FSecret", pg.url.expose());
        assert_eq!(pg.url.redact(&message), "failed: <redacted> and <redacted> and <redacted>");
    }
}
