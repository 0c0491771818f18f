-- The rows the last apply run found invalid, each by its external id (or `row N` when it had
-- none) and its message: a later run tells a known problem from a new one (exit 0 or 1).
-- And how many of a run's invalid rows were known that way.
CREATE TABLE invalid_rows (
    row_key TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (row_key, message)
);
ALTER TABLE runs ADD COLUMN known_invalid_rows INTEGER;
