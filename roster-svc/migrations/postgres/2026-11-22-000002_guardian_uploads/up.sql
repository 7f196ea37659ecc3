-- RO-7: guardian uploads. An upload is a sync run of the scope's UPLOAD
-- source (the run holds status, progress, dry run and the file); this keeps
-- what only uploads have, and each line of the result file.
CREATE TABLE guardian_uploads (
    run_id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL,
    school_id TEXT,
    source_id TEXT NOT NULL,
    filename TEXT NOT NULL DEFAULT '',
    size_bytes BIGINT NOT NULL,
    encoding TEXT NOT NULL DEFAULT '',
    abandon BOOLEAN NOT NULL,
    counts TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX guardian_uploads_district ON guardian_uploads (district_id, created_at);

CREATE TABLE guardian_upload_rows (
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    line_number BIGINT NOT NULL,
    student_code TEXT NOT NULL,
    parent_code TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    home_phone TEXT NOT NULL,
    language TEXT NOT NULL,
    result TEXT NOT NULL,
    action TEXT,
    error TEXT NOT NULL DEFAULT '',
    account_id TEXT,
    PRIMARY KEY (run_id, seq)
);
