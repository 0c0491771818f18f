-- Every time in the mirror becomes one type: INTEGER Unix milliseconds (UTC), the
-- `clock::Timestamp` of the code. Before, times were RFC 3339 text, compared as text
-- (pruning, deferred deletes, the oldest failure), which holds only while every row is
-- written in exactly one format. Numbers compare, sort and index as times whatever wrote
-- them, and the code computes in milliseconds already. The commands still show RFC 3339.
--
-- SQLite cannot change a column's type in place: each table is copied (as in 0007), its
-- times converted; a time SQLite cannot read becomes NULL where the column allows it
-- (a missing row's mark then starts afresh, as the code read it before), else 0. The
-- migrations run in one transaction: a crash leaves the mirror as it was.


CREATE TABLE contacts_v9 (
    external_id   TEXT PRIMARY KEY NOT NULL,
    contact_id    TEXT,
    hash          TEXT,
    pushed        TEXT,
    pending       TEXT CHECK (pending IN ('create', 'update')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    source_hash   TEXT,
    -- When the record's source row was first seen missing (NULL while the row is there).
    missing_since INTEGER,
    restored      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO contacts_v9 (external_id, contact_id, hash, pushed, pending, created_at, updated_at, source_hash, missing_since, restored)
    SELECT external_id,
           contact_id,
           hash,
           pushed,
           pending,
           COALESCE(CAST(strftime('%s', created_at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', created_at), 4) AS INTEGER), 0),
           COALESCE(CAST(strftime('%s', updated_at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', updated_at), 4) AS INTEGER), 0),
           source_hash,
           CAST(strftime('%s', missing_since) AS INTEGER) * 1000 + CAST(substr(strftime('%f', missing_since), 4) AS INTEGER),
           restored
    FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_v9 RENAME TO contacts;

CREATE TABLE runs_v9 (
    id                 INTEGER PRIMARY KEY,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    mode               TEXT NOT NULL,
    outcome            TEXT,
    exit_code          INTEGER,
    source_rows        INTEGER,
    invalid_rows       INTEGER,
    planned_create     INTEGER, planned_update INTEGER, planned_delete INTEGER, planned_unchanged INTEGER,
    applied_create     INTEGER, applied_update INTEGER, applied_delete INTEGER,
    failed             INTEGER,
    api_requests       INTEGER,
    duration_ms        INTEGER,
    first_error        TEXT,
    verify_checked     INTEGER, verify_drifted INTEGER, verify_missing INTEGER,
    known_invalid_rows INTEGER
);
INSERT INTO runs_v9 (id, started_at, finished_at, mode, outcome, exit_code, source_rows, invalid_rows, planned_create, planned_update, planned_delete, planned_unchanged, applied_create, applied_update, applied_delete, failed, api_requests, duration_ms, first_error, verify_checked, verify_drifted, verify_missing, known_invalid_rows)
    SELECT id,
           COALESCE(CAST(strftime('%s', started_at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', started_at), 4) AS INTEGER), 0),
           CAST(strftime('%s', finished_at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', finished_at), 4) AS INTEGER),
           mode,
           outcome,
           exit_code,
           source_rows,
           invalid_rows,
           planned_create,
           planned_update,
           planned_delete,
           planned_unchanged,
           applied_create,
           applied_update,
           applied_delete,
           failed,
           api_requests,
           duration_ms,
           first_error,
           verify_checked,
           verify_drifted,
           verify_missing,
           known_invalid_rows
    FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v9 RENAME TO runs;

CREATE TABLE custom_fields_v9 (
    key        TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    fetched_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO custom_fields_v9 (key, name, type, fetched_at)
    SELECT key,
           name,
           type,
           COALESCE(CAST(strftime('%s', fetched_at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', fetched_at), 4) AS INTEGER), 0)
    FROM custom_fields;
DROP TABLE custom_fields;
ALTER TABLE custom_fields_v9 RENAME TO custom_fields;

CREATE TABLE tombstones_v9 (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    contact_id  TEXT NOT NULL,
    run_id      INTEGER,
    -- NULL while the delete is not confirmed (a tombstone is written before the DELETE).
    deleted_at  INTEGER,
    contact     TEXT NOT NULL,
    pushed      TEXT,
    restored_at INTEGER
);
INSERT INTO tombstones_v9 (id, external_id, contact_id, run_id, deleted_at, contact, pushed, restored_at)
    SELECT id,
           external_id,
           contact_id,
           run_id,
           CAST(strftime('%s', deleted_at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', deleted_at), 4) AS INTEGER),
           contact,
           pushed,
           CAST(strftime('%s', restored_at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', restored_at), 4) AS INTEGER)
    FROM tombstones;
DROP TABLE tombstones;
ALTER TABLE tombstones_v9 RENAME TO tombstones;
CREATE INDEX tombstones_by_external_id ON tombstones (external_id);
CREATE INDEX tombstones_by_run ON tombstones (run_id);

CREATE TABLE failures_v9 (
    key          TEXT PRIMARY KEY NOT NULL,
    external_id  TEXT,
    row          INTEGER,
    action       TEXT CHECK (action IN ('create', 'update', 'delete')),
    first_failed INTEGER NOT NULL,
    last_failed  INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    status       INTEGER,
    code         TEXT,
    last_run     INTEGER
) WITHOUT ROWID;
INSERT INTO failures_v9 (key, external_id, row, action, first_failed, last_failed, attempts, last_error, status, code, last_run)
    SELECT key,
           external_id,
           row,
           action,
           COALESCE(CAST(strftime('%s', first_failed) AS INTEGER) * 1000 + CAST(substr(strftime('%f', first_failed), 4) AS INTEGER), 0),
           COALESCE(CAST(strftime('%s', last_failed) AS INTEGER) * 1000 + CAST(substr(strftime('%f', last_failed), 4) AS INTEGER), 0),
           attempts,
           last_error,
           status,
           code,
           last_run
    FROM failures;
DROP TABLE failures;
ALTER TABLE failures_v9 RENAME TO failures;

CREATE TABLE history_v9 (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER,
    at          INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN
                  ('create', 'update', 'delete', 'adopt', 'already_in_sync', 'already_gone',
                   'restore', 'forget')),
    row         INTEGER,
    contact_id  TEXT,
    changes     TEXT NOT NULL
);
INSERT INTO history_v9 (id, run_id, at, external_id, action, row, contact_id, changes)
    SELECT id,
           run_id,
           COALESCE(CAST(strftime('%s', at) AS INTEGER) * 1000 + CAST(substr(strftime('%f', at), 4) AS INTEGER), 0),
           external_id,
           action,
           row,
           contact_id,
           changes
    FROM history;
DROP TABLE history;
ALTER TABLE history_v9 RENAME TO history;
CREATE INDEX history_by_record ON history (external_id);
CREATE INDEX history_by_run ON history (run_id);
