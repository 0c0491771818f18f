-- The mirror: what openphone-sync pushed to OpenPhone, keyed on externalId.

CREATE TABLE contacts (
    external_id  TEXT PRIMARY KEY NOT NULL,
    -- The OpenPhone contact id; NULL while a create was sent but not confirmed.
    contact_id   TEXT,
    -- ContactState::hash() of `pushed`; NULL when nothing was confirmed yet.
    hash         TEXT,
    -- JSON PushedState: the state last confirmed, with item ids.
    pushed       TEXT,
    -- NULL, or 'create' / 'update': a write was sent and not yet confirmed.
    pending      TEXT CHECK (pending IN ('create', 'update')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    mode           TEXT NOT NULL,
    outcome        TEXT,
    exit_code      INTEGER,
    source_rows    INTEGER,
    invalid_rows   INTEGER,
    planned_create INTEGER, planned_update INTEGER, planned_delete INTEGER, planned_unchanged INTEGER,
    applied_create INTEGER, applied_update INTEGER, applied_delete INTEGER,
    failed         INTEGER,
    api_requests   INTEGER,
    duration_ms    INTEGER,
    first_error    TEXT
);

-- The workspace's custom fields as last fetched, for offline dry runs.
CREATE TABLE custom_fields (
    key        TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    fetched_at TEXT NOT NULL
) WITHOUT ROWID;
