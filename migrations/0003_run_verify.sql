-- What a run's `--verify` found (NULL when the run did not verify): mirrored contacts read
-- back, those edited in the app, those deleted there.
ALTER TABLE runs ADD COLUMN verify_checked INTEGER;
ALTER TABLE runs ADD COLUMN verify_drifted INTEGER;
ALTER TABLE runs ADD COLUMN verify_missing INTEGER;
