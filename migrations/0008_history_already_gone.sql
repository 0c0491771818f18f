-- A delete that found its contact gone already (deleted in the app, or by a run killed after
-- its DELETE) sent nothing: it is recorded as `already_gone`, not as a delete. SQLite cannot
-- change a CHECK in place: the table is copied (as in 0007).

CREATE TABLE history_events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER,
    at          TEXT NOT NULL,
    external_id TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN
                  ('create', 'update', 'delete', 'adopt', 'already_in_sync', 'already_gone',
                   'restore', 'forget')),
    -- The source row the record came from at the time (NULL for a delete, restore, forget).
    row         INTEGER,
    contact_id  TEXT,
    -- JSON [[field, before, after], ...]: before as the contact held it, after as sent
    -- and confirmed (NULL = empty).
    changes     TEXT NOT NULL
);
INSERT INTO history_events (id, run_id, at, external_id, action, row, contact_id, changes)
    SELECT id, run_id, at, external_id, action, row, contact_id, changes FROM history;
DROP TABLE history;
ALTER TABLE history_events RENAME TO history;
CREATE INDEX history_by_record ON history (external_id);
CREATE INDEX history_by_run ON history (run_id);
