//! Schema migrations: `migrations/*.sql`, applied in order inside one transaction, with
//! the schema version in `PRAGMA user_version`.

use rusqlite::Connection;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] =
    &[include_str!("../../migrations/0001_init.sql"), include_str!("../../migrations/0002_source_hash.sql")];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema version of an open database.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Brings the schema up to [`SCHEMA_VERSION`]. A database from a newer build is refused.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let current = version(conn).map_err(|e| e.to_string())?;
    if current > SCHEMA_VERSION {
        return Err(format!(
            "the mirror has schema version {current}, newer than this build's {SCHEMA_VERSION}: upgrade openphone-sync"
        ));
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).map_err(|e| format!("migration {}: {e}", i + 1))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())
}
