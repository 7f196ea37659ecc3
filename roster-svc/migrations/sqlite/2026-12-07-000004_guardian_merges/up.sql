-- RO-8: guardian records pointed at the survivor of a merge (identity-svc's
-- merge id), with the account each had before, for undo.
CREATE TABLE guardian_merges (
    merge_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    previous_account_id TEXT NOT NULL,
    PRIMARY KEY (merge_id, person_id)
);
