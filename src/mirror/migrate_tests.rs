//! Migration 0009 on a mirror the previous schema (version 8) wrote: every time, RFC 3339
//! text then, is the same moment after it as INTEGER Unix milliseconds, read back through
//! [`Timestamp`]: a deferred delete's mark and its due time, runs, tombstones, history,
//! failures; an unreadable time becomes NULL or 0 as the migration says. Migration 0010 on a
//! version-9 mirror: read as it is until a run migrates it, then scanned through its index.

use rusqlite::Connection;

use super::migrate::{MIGRATIONS, SCHEMA_VERSION, version};
use super::rows::Select;
use super::store::{INDEX_SCAN, Mirror};
use super::timestamp::Timestamp;
use crate::config::DEFAULT_LOCK_TIMEOUT;
use crate::plan::Presence;

fn at(rfc3339: &str) -> Timestamp {
    Timestamp::from_datetime(chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc())
}

/// A mirror as the build before 0009 left it: schema version 8, marked, times as text (as
/// `format_millis` wrote them, and one with an offset and more digits, as RFC 3339 allows).
fn old_mirror(path: &std::path::Path) {
    mirror_at(
        path,
        8,
        "INSERT INTO contacts (external_id, contact_id, hash, pushed, pending, created_at, updated_at, missing_since, restored)
         VALUES ('C-1', 'ct1', NULL, NULL, NULL, '2026-11-01T08:00:00.000Z', '2026-11-02T08:00:00.000Z', '2026-12-01T10:00:00.000Z', 0),
                ('C-2', 'ct2', NULL, NULL, NULL, '2026-11-01T08:00:00.000Z', '2026-11-01T08:00:00.000Z', NULL, 0),
                ('C-3', 'ct3', NULL, NULL, NULL, '2026-11-01T08:00:00.000Z', '2026-11-01T08:00:00.000Z', '2026-11-30T09:30:15.250123+01:00', 1),
                ('C-4', 'ct4', NULL, NULL, NULL, '2026-11-01T08:00:00.000Z', '2026-11-01T08:00:00.000Z', 'yesterday', 0);
         INSERT INTO runs (id, started_at, finished_at, mode, outcome, exit_code, duration_ms, verify_checked, verify_drifted, verify_missing)
         VALUES (1, '2026-12-01T09:59:00.000Z', '2026-12-01T10:00:00.500Z', 'apply', 'ok', 0, 60500, 2, 1, 0),
                (2, '2026-12-01T10:15:00.000Z', NULL, 'apply', NULL, NULL, NULL, NULL, NULL, NULL);
         INSERT INTO tombstones (id, external_id, contact_id, run_id, deleted_at, contact, pushed, restored_at)
         VALUES (1, 'C-9', 'ct9', 1, '2026-12-01T09:59:30.042Z', '{}', NULL, NULL);
         INSERT INTO history (id, run_id, at, external_id, action, row, contact_id, changes)
         VALUES (1, 1, '2026-12-01T09:59:30.042Z', 'C-9', 'delete', NULL, 'ct9', '[]'),
                (2, NULL, 'garbage', 'C-9', 'restore', NULL, 'ct9', '[]');
         INSERT INTO failures (key, external_id, row, action, first_failed, last_failed, attempts, last_error, last_run)
         VALUES ('C-5', 'C-5', 5, 'create', '2026-11-30T10:00:00.000Z', '2026-12-01T10:00:00.000Z', 2, 'HTTP 400', 1);
         INSERT INTO custom_fields (key, name, type, fetched_at) VALUES ('k', 'Notes', 'string', '2026-12-01T09:59:01.000Z');",
    );
}

#[test]
fn the_times_of_a_version_8_mirror_are_the_same_moments_after_migration_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite3");
    old_mirror(&path);
    let m = Mirror::open(&path, DEFAULT_LOCK_TIMEOUT).unwrap();
    assert_eq!(version(&m.conn).unwrap(), SCHEMA_VERSION);

    // Every time column holds integers (or NULL) now.
    for (table, column) in [
        ("contacts", "created_at"),
        ("contacts", "updated_at"),
        ("contacts", "missing_since"),
        ("runs", "started_at"),
        ("runs", "finished_at"),
        ("tombstones", "deleted_at"),
        ("tombstones", "restored_at"),
        ("history", "at"),
        ("failures", "first_failed"),
        ("failures", "last_failed"),
        ("custom_fields", "fetched_at"),
    ] {
        let types: Vec<String> = m
            .conn
            .prepare(&format!("SELECT DISTINCT typeof({column}) FROM {table}"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(types.iter().all(|t| t == "integer" || t == "null"), "{table}.{column}: {types:?}");
    }

    // The deferred delete: the same mark, so the same due time; the restored record stays
    // restored; an unreadable mark reads as present (marked afresh), as it did before.
    let index = m.index().unwrap();
    assert_eq!(index["C-1"].presence, Presence::MissingSince(at("2026-12-01T10:00:00Z").millis()));
    assert_eq!(index["C-2"].presence, Presence::Present);
    assert_eq!(index["C-3"].presence, Presence::Restored);
    assert_eq!(index["C-4"].presence, Presence::Present);
    let deletes = m.delete_status().unwrap();
    assert_eq!((deletes.pending, deletes.oldest_missing_since), (1, Some(at("2026-12-01T10:00:00Z"))));
    let restored: Option<i64> =
        m.conn.query_row("SELECT missing_since FROM contacts WHERE external_id = 'C-3'", [], |r| r.get(0)).unwrap();
    assert_eq!(restored, Some(at("2026-11-30T08:30:15.250Z").millis()));

    // Runs, as `status` shows them.
    let runs = m.recent_runs(10).unwrap();
    assert_eq!(runs[1].started_at.to_string(), "2026-12-01T09:59:00.000Z");
    assert_eq!(runs[1].end.as_ref().unwrap().finished_at.to_string(), "2026-12-01T10:00:00.500Z");
    assert_eq!((runs[0].started_at, runs[0].end.is_none()), (at("2026-12-01T10:15:00Z"), true));
    assert_eq!(m.last_verified().unwrap(), Some(at("2026-12-01T10:00:00.500Z")));
    assert_eq!(m.last_success().unwrap(), Some(at("2026-12-01T10:00:00.500Z")));

    // A tombstone, history entries and a failure keep their times.
    let tombstones = m.tombstones(&Select::Run(1)).unwrap();
    assert_eq!(tombstones[0].deleted_at, at("2026-12-01T09:59:30.042Z"));
    assert_eq!(m.tombstones(&Select::Since(at("2026-12-01T09:59:30.042Z").millis())).unwrap().len(), 1);
    assert_eq!(m.tombstones(&Select::Since(at("2026-12-01T09:59:30.043Z").millis())).unwrap().len(), 0);
    let history = m.history_of("C-9").unwrap();
    let times: Vec<String> = history.iter().map(|e| e.at.to_string()).collect();
    assert!(times.contains(&"2026-12-01T09:59:30.042Z".to_owned()), "{times:?}");
    assert!(times.contains(&"1970-01-01T00:00:00.000Z".to_owned()), "the unreadable one: {times:?}");
    let failures = m.failures().unwrap();
    assert_eq!(
        (failures[0].first_failed, failures[0].last_failed),
        (at("2026-11-30T10:00:00Z"), at("2026-12-01T10:00:00Z"))
    );
    let json = serde_json::to_value(&failures[0]).unwrap();
    assert_eq!(json["first_failed"], "2026-11-30T10:00:00.000Z");

    // Opened again, nothing moves: the migration ran once.
    drop(m);
    let again = Mirror::open(&path, DEFAULT_LOCK_TIMEOUT).unwrap();
    assert_eq!(again.delete_status().unwrap().oldest_missing_since, Some(at("2026-12-01T10:00:00Z")));
    assert_eq!(again.recent_runs(1).unwrap()[0].started_at, at("2026-12-01T10:15:00Z"));
}

#[test]
fn a_version_8_mirror_is_not_read_before_a_run_migrates_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite3");
    old_mirror(&path);
    // `status` and a dry run only read: they say what to do, and write nothing.
    let err = Mirror::open_read_only(&path, DEFAULT_LOCK_TIMEOUT).err().expect("refused");
    assert!(err.to_string().contains("run a real sync first"), "{err}");
    assert_eq!(version(&Connection::open(&path).unwrap()).unwrap(), 8);
}

#[test]
fn a_migration_that_fails_leaves_the_version_8_mirror_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite3");
    old_mirror(&path);
    // A table in the way of the copy: the migration fails part-way, inside its transaction.
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE history_v9 (x)").unwrap();
    assert!(Mirror::open(&path, DEFAULT_LOCK_TIMEOUT).is_err());
    let conn = Connection::open(&path).unwrap();
    assert_eq!(version(&conn).unwrap(), 8);
    let (kind, text): (String, String) = conn
        .query_row("SELECT typeof(missing_since), missing_since FROM contacts WHERE external_id = 'C-1'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((kind.as_str(), text.as_str()), ("text", "2026-12-01T10:00:00.000Z"));
}

/// A mirror as the build before 0010 left it: schema version 9, marked, two contacts (one
/// with its stored JSON, one with an update pending and missing since a time).
fn version_9_mirror(path: &std::path::Path) {
    mirror_at(
        path,
        9,
        "INSERT INTO contacts (external_id, contact_id, hash, pushed, pending, created_at, updated_at, source_hash, missing_since, restored)
         VALUES ('C-1', 'ct1', NULL, '{}', NULL, 1, 1, NULL, NULL, 0),
                ('C-2', 'ct2', NULL, NULL, 'update', 1, 1, NULL, 5000, 0);",
    );
}

/// A mirror as the build of schema `version` left it: marked, its migrations run (none
/// after), and `rows` written, in one transaction.
fn mirror_at(path: &std::path::Path, version: usize, rows: &str) {
    let mut conn = Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    for sql in &MIGRATIONS[..version] {
        tx.execute_batch(sql).unwrap();
    }
    tx.pragma_update(None, "user_version", i64::try_from(version).unwrap()).unwrap();
    tx.pragma_update(None, "application_id", super::mark::APPLICATION_ID).unwrap();
    tx.execute_batch(rows).unwrap();
    tx.commit().unwrap();
}

/// What SQLite says it will read for `sql`.
pub(super) fn query_plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let details: Vec<String> = stmt.query_map([], |r| r.get(3)).unwrap().collect::<Result<_, _>>().unwrap();
    details.join("; ")
}

#[test]
fn a_version_9_mirror_is_read_as_it_is_and_scanned_through_its_index_once_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite3");
    version_9_mirror(&path);
    // A dry run or `status` after the upgrade reads it without migrating it (0010 is an index).
    let read = Mirror::open_read_only(&path, DEFAULT_LOCK_TIMEOUT).unwrap().expect("a mirror");
    let before = read.index().unwrap();
    assert_eq!(before.len(), 2);
    assert_eq!(before["C-2"].presence, Presence::MissingSince(5000));
    assert!(query_plan(&read.conn, INDEX_SCAN).starts_with("SCAN contacts"), "{}", query_plan(&read.conn, INDEX_SCAN));
    drop(read);
    assert_eq!(version(&Connection::open(&path).unwrap()).unwrap(), 9);

    // A run migrates it: the same index, now read from `contacts_known` (the scan and the
    // count before it), not from the table with its JSON.
    let m = Mirror::open(&path, DEFAULT_LOCK_TIMEOUT).unwrap();
    assert_eq!(version(&m.conn).unwrap(), SCHEMA_VERSION);
    assert_eq!(m.index().unwrap(), before);
    for sql in [INDEX_SCAN, "SELECT COUNT(*) FROM contacts"] {
        let plan = query_plan(&m.conn, sql);
        assert!(plan.contains("USING COVERING INDEX contacts_known"), "{sql}: {plan}");
    }
}
