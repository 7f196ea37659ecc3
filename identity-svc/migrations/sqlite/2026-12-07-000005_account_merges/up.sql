-- Merging duplicate guardians: one row per merge (undoable for 30 days) with
-- what it changed, so an undo puts everything back.
CREATE TABLE account_merges (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL,
    survivor_id TEXT NOT NULL,
    -- The merged accounts' ids, space-separated.
    merged_ids TEXT NOT NULL,
    -- JSON: what the merge changed (see ops::merge::Undo).
    undo TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    undone_at TIMESTAMP
);
CREATE INDEX account_merges_survivor ON account_merges (survivor_id);

-- A source record of a merged account keeps naming the survivor: the account
-- it was merged from (NULL: the record's own account).
ALTER TABLE account_sources ADD COLUMN merged_from TEXT;

-- A merged survivor's linked students come from several source records: each
-- record's share (bucket: '' for the survivor's own records, else the merged
-- account's id); linked_students holds their union.
CREATE TABLE merged_links (
    account_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    student_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    school_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, bucket, student_id)
);
