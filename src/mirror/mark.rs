//! Whose file the mirror is: SQLite's `application_id` header field marks a database as an
//! openphone-sync mirror ([`APPLICATION_ID`]). A path that is not a regular file, or an
//! existing database that another program made, is refused before anything is created
//! beside it or written into it, and left byte for byte as it was.

use std::path::Path;

use rusqlite::Connection;

use super::error::MirrorError;

/// `PRAGMA application_id` of every mirror: the bytes "OPSY" (0x4F505359).
pub const APPLICATION_ID: i32 = 0x4F50_5359;

/// The tables the migrations make: a database holding only these (and no mark) is a mirror
/// written by a build from before the mark, and is marked when next opened for writing.
const OUR_TABLES: &[&str] = &["contacts", "runs", "custom_fields", "tombstones", "invalid_rows", "history", "failures"];

fn foreign(path: &Path, detail: String) -> MirrorError {
    MirrorError::Foreign { path: path.to_path_buf(), detail }
}

/// Refuses a mirror path that exists and is not a regular file (`/dev/null`, a folder, a
/// FIFO): nothing is created beside it. A link to a regular file is followed.
pub fn check_file(path: &Path) -> Result<(), MirrorError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(meta) => {
            let what = if meta.is_dir() { "a folder" } else { "not a regular file (a device, FIFO or socket)" };
            Err(foreign(path, format!("it is {what}")))
        }
        Err(_) => Ok(()),
    }
}

/// Refuses a database another program made: marked with another `application_id`, or
/// unmarked and holding tables that are not this tool's. An empty database (no table) is ours
/// to use. Reads only.
pub fn check_owner(conn: &Connection, path: &Path, version: i64) -> rusqlite::Result<Result<(), MirrorError>> {
    let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    if id == APPLICATION_ID {
        return Ok(Ok(()));
    }
    if id != 0 {
        return Ok(Err(foreign(path, format!("its application_id is {id:#010x}: another program's database"))));
    }
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let tables: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let others: Vec<&str> = tables.iter().map(String::as_str).filter(|t| !OUR_TABLES.contains(t)).collect();
    if tables.is_empty() || (version > 0 && others.is_empty()) {
        return Ok(Ok(()));
    }
    let shown = if others.is_empty() { tables.join(", ") } else { others.join(", ") };
    Ok(Err(foreign(
        path,
        format!("it is a database without openphone-sync's mark, holding tables it did not make: {shown}"),
    )))
}

/// Marks an open mirror as this tool's (a no-op when it is already).
pub fn mark(conn: &Connection) -> rusqlite::Result<()> {
    let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    if id != APPLICATION_ID {
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    Ok(())
}
