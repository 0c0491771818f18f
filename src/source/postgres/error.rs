//! [`PgError`]: why the PostgreSQL source could not be read, written for the person who wrote
//! the query or the connection string: the server's message with its SQLSTATE, detail and
//! hint, and where in the query it points (line, column, the line itself and a caret under
//! the character), never a Rust `Debug` dump and never the connection string or its password
//! (every message passes through [`ConnectionString::redact`]). Text from the server is
//! escaped for the terminal.

use std::fmt::Write as _;

use thiserror::Error;
use tokio_postgres::error::{DbError, ErrorPosition, SqlState};

use crate::escape::escape;
use crate::secret::ConnectionString;

/// Why the PostgreSQL source could not be read.
#[derive(Debug, Error)]
pub enum PgError {
    /// The server could not be reached, or the connection broke (exit 4: try again later).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server refused the login or the database (exit 2: the connection string is wrong).
    #[error("the server refused the connection: {0}")]
    Refused(String),
    /// The query failed, at the server (exit 2: the query is wrong).
    #[error("the query failed: {0}")]
    Query(String),
    /// The connection broke while the rows were read (exit 4).
    #[error("the connection broke while the rows were read: {0}")]
    Lost(String),
    /// A column of a type the source does not read (exit 2).
    #[error(
        "the query's column {column:?} is of type {ty}, which is not read: cast it in the query (e.g. {column}::text), or leave it out"
    )]
    UnsupportedType { column: String, ty: String },
    /// The statement returns no rows (an UPDATE, a SET, ...) (exit 2).
    #[error("the query returns no columns: it must be a SELECT (or a VALUES, or a TABLE) whose rows are the contacts")]
    NoColumns,
    /// The TLS settings could not be built (no system roots for verify-ca/verify-full) (exit 4).
    #[error("TLS: {0}")]
    Tls(String),
}

impl PgError {
    /// Whether the config (its query or connection string) must change (exit 2).
    pub fn is_config(&self) -> bool {
        matches!(self, PgError::Refused(_) | PgError::Query(_) | PgError::UnsupportedType { .. } | PgError::NoColumns)
    }

    /// An error from connecting: refused (the login, the database) or unreachable.
    pub fn connecting(e: &tokio_postgres::Error, url: &ConnectionString) -> PgError {
        if let Some(db) = e.as_db_error() {
            return PgError::Refused(url.redact(&server_message(db, None)));
        }
        let mut message = chain(e);
        if message.contains("invalid peer certificate") {
            message.push_str(
                " (sslmode=verify-ca and verify-full accept a certificate that leads to one of the system's root certificates, and verify-full one that names the host: add the server's CA to the system's store, or use sslmode=require to encrypt without checking)",
            );
        }
        PgError::Connect(url.redact(&escape(&message)))
    }

    /// An error from the query: the server's (with where in `query` it points), or the
    /// connection breaking (`Lost`).
    pub fn querying(e: &tokio_postgres::Error, query: &str, url: &ConnectionString) -> PgError {
        match e.as_db_error() {
            // The server ending the session (an admin's pg_terminate_backend, a shutdown).
            Some(db) if db.code().code().starts_with("57P") => PgError::Lost(url.redact(&server_message(db, None))),
            Some(db) => PgError::Query(url.redact(&server_message(db, Some(query)))),
            None => PgError::Lost(url.redact(&escape(&chain(e)))),
        }
    }
}

/// The error and its causes, `: `-joined (tokio-postgres's own text holds its cause).
fn chain(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            let _ = write!(text, ": {more}");
        }
        cause = c.source();
    }
    text
}

/// `ERROR 42703: column "nam" does not exist`, then where in `query` (when the server says),
/// the detail and the hint, one per line.
pub fn server_message(db: &DbError, query: Option<&str>) -> String {
    let mut out = format!("{} {}: {}", db.severity(), db.code().code(), escape(db.message()));
    if *db.code() == SqlState::READ_ONLY_SQL_TRANSACTION {
        out.push_str(" (the query runs in a READ ONLY transaction: it may only read)");
    }
    if let (Some(ErrorPosition::Original(at)), Some(query)) = (db.position(), query) {
        out.push('\n');
        out.push_str(&point_at(query, *at as usize));
    }
    if let Some(detail) = db.detail() {
        let _ = write!(out, "\n  detail: {}", escape(detail));
    }
    if let Some(hint) = db.hint() {
        let _ = write!(out, "\n  hint: {}", escape(hint));
    }
    if let Some(ErrorPosition::Internal { position, query: internal }) = db.position() {
        let _ = write!(out, "\n  in an internal query, at character {position}: {}", escape(internal));
    }
    out
}

/// Where the server's 1-based character position `at` is in `query`:
/// `  at line 2, column 8 of the query:`, the line, and a caret under the character.
pub fn point_at(query: &str, at: usize) -> String {
    let index = at.saturating_sub(1);
    let mut line_no = 1;
    let mut line_start = 0;
    for (i, c) in query.chars().enumerate().take(index) {
        if c == '\n' {
            line_no += 1;
            line_start = i + 1;
        }
    }
    let line: String = query.chars().skip(line_start).take_while(|c| *c != '\n').collect();
    let column = index - line_start + 1;
    // The caret under the character: a tab in the line is a tab before it.
    let pad: String = line.chars().take(column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    format!(
        "  at line {line_no}, column {column} of the query:\n    {}\n    {pad}^",
        escape(line.trim_end_matches('\r'))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caret_points_at_the_character() {
        let query = "SELECT id,\n       nam\nFROM people";
        assert_eq!(point_at(query, 19), "  at line 2, column 8 of the query:\n           nam\n           ^");
        assert_eq!(
            point_at("SELECT é, x", 11),
            "  at line 1, column 11 of the query:\n    SELECT é, x\n              ^"
        );
        assert_eq!(point_at("\tSELECT", 2), "  at line 1, column 2 of the query:\n    \tSELECT\n    \t^");
    }
}
