//! Schema migrations: `migrations/*.sql`, applied in order inside one transaction, with
//! the schema version in `PRAGMA user_version`.

use rusqlite::Connection;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_source_hash.sql"),
    include_str!("../../migrations/0003_run_verify.sql"),
    include_str!("../../migrations/0004_deferred_deletes.sql"),
    include_str!("../../migrations/0005_invalid_rows.sql"),
    include_str!("../../migrations/0006_history.sql"),
    include_str!("../../migrations/0007_history_events.sql"),
    include_str!("../../migrations/0008_history_already_gone.sql"),
    include_str!("../../migrations/0009_times_as_unix_milliseconds.sql"),
    include_str!("../../migrations/0010_contacts_known_index.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The oldest schema version this build reads as it is (a dry run, `status`): the
/// migrations after it add only an index, which a read does without.
pub const READS_FROM: i64 = 9;

/// The schema version of an open database.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Why a migration did not apply.
#[derive(Debug)]
pub enum MigrateError {
    /// SQLite failed (locked, full, ...): the caller says what that means.
    Sql(rusqlite::Error),
    /// The schema cannot be brought up to date.
    Failed(String),
}

/// Brings the schema up to [`SCHEMA_VERSION`], in one transaction. A database from a newer
/// build is refused (the caller checks that first, before anything is written).
pub fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let current = version(conn).map_err(MigrateError::Sql)?;
    if current > SCHEMA_VERSION {
        return Err(MigrateError::Failed(format!(
            "schema version {current}, newer than this build's {SCHEMA_VERSION}: upgrade openphone-sync"
        )));
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction().map_err(MigrateError::Sql)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::Unknown) | None => MigrateError::Failed(format!("migration {}: {e}", i + 1)),
            Some(_) => MigrateError::Sql(e),
        })?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(MigrateError::Sql)?;
    tx.commit().map_err(MigrateError::Sql)
}
