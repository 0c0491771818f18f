-- Every run reads what the plan needs of each mirrored contact (`Mirror::index`): its ids,
-- digests, pending write and missing mark, never the stored JSON (`pushed`), which is most
-- of each row. The table is a b-tree of whole rows, so that scan, and the row count before
-- it, read every byte of the table (650 MB for a million contacts). This index holds those
-- columns only: the scan and the count read it instead, about a third of the table. It is
-- ordered by `external_id`, as the table is, so the index in memory keeps the table's order
-- (a source in id order then looks its rows up in memory order). Nothing else changes; a
-- build that reads schema 9 reads this one (see `migrate::READS_FROM`).
CREATE INDEX contacts_known ON contacts
    (external_id, contact_id, hash, pending, source_hash, missing_since, restored);
