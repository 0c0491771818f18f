-- Deferred deletes and tombstones ([sync].delete_after, `restore`, `forget`).

-- When the record's source row was first seen missing (NULL while the row is there). The
-- contact is deleted once the row has been missing for [sync].delete_after.
ALTER TABLE contacts ADD COLUMN missing_since TEXT;
-- 1 when `restore` brought the contact back while its row is missing: it is not deleted
-- again until the row comes back (which clears it) or `forget` names it.
ALTER TABLE contacts ADD COLUMN restored INTEGER NOT NULL DEFAULT 0;

-- The complete state of each contact just before this tool deleted it, kept
-- [state].keep_deleted_days for `restore`.
CREATE TABLE tombstones (
    id           INTEGER PRIMARY KEY,
    external_id  TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    -- The run that deleted it.
    run_id       INTEGER,
    -- NULL while the delete is not confirmed (a tombstone is written before the DELETE).
    deleted_at   TEXT,
    -- The contact as read just before the delete (API JSON): every field, items and values
    -- added in the app included.
    contact      TEXT NOT NULL,
    -- The mirror's last confirmed state (JSON PushedState), to link it again on restore.
    pushed       TEXT,
    restored_at  TEXT
);
CREATE INDEX tombstones_by_external_id ON tombstones (external_id);
CREATE INDEX tombstones_by_run ON tombstones (run_id);
