-- Every change applied to OpenPhone, kept [state].history_days (pruned by run), and the
-- records that fail run after run until they sync or their row goes away.

CREATE TABLE history (
    id          INTEGER PRIMARY KEY,
    -- The run that applied it (runs.id).
    run_id      INTEGER,
    at          TEXT NOT NULL,
    external_id TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    -- The source row the record came from at the time (NULL for a delete: its row is gone).
    row         INTEGER,
    contact_id  TEXT,
    -- JSON [[field, before, after], ...]: the values as sent (NULL = empty).
    changes     TEXT NOT NULL
);
CREATE INDEX history_by_record ON history (external_id);
CREATE INDEX history_by_run ON history (run_id);

CREATE TABLE failures (
    -- The external id, or 'row N' for a row with none.
    key          TEXT PRIMARY KEY NOT NULL,
    external_id  TEXT,
    row          INTEGER,
    action       TEXT CHECK (action IN ('create', 'update', 'delete')),
    first_failed TEXT NOT NULL,
    last_failed  TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    status       INTEGER,
    code         TEXT,
    -- The run that last saw it fail: a complete run drops the records it did not see fail.
    last_run     INTEGER
) WITHOUT ROWID;
