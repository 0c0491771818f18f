-- The digest of the source row (mapped cells, under one mapping and build) whose record
-- was last confirmed: a row with the same digest needs no mapping to be known in sync.
ALTER TABLE contacts ADD COLUMN source_hash TEXT;
