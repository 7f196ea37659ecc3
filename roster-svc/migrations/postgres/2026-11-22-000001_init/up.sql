-- RO-1: the rostered model. Every rostered record keeps its source system (the
-- sync source id) and its source id; records are deactivated, never deleted.
CREATE TABLE districts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'America/New_York',
    default_phone_region TEXT NOT NULL DEFAULT 'US',
    supported_languages TEXT NOT NULL DEFAULT 'en',
    status TEXT NOT NULL DEFAULT 'active',
    idempotency_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    name TEXT NOT NULL,
    identifier TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);

CREATE TABLE academic_sessions (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT,
    parent_source_id TEXT,
    school_year TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);

CREATE TABLE courses (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    title TEXT NOT NULL,
    course_code TEXT,
    org_source_id TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);

CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    school_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    title TEXT NOT NULL,
    class_code TEXT,
    class_type TEXT,
    course_source_id TEXT,
    term_source_ids TEXT NOT NULL DEFAULT '',
    grades TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',    -- active | archived
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);
CREATE INDEX classes_school ON classes (school_id, status);

-- Students, staff and guardians as rostered; account_id links to identity-svc's
-- account (students have none). Lists are stored space-separated.
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    kind TEXT NOT NULL,                       -- student | staff | guardian
    role TEXT NOT NULL,                       -- as the source wrote it: student, teacher, aide, parent …
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    account_id TEXT,
    given_name TEXT NOT NULL,
    middle_name TEXT,
    family_name TEXT NOT NULL,
    identifier TEXT,
    grades TEXT NOT NULL DEFAULT '',
    school_id TEXT,
    school_ids TEXT NOT NULL DEFAULT '',
    email TEXT,
    phone TEXT,
    home_phone TEXT,
    preferred_language TEXT,
    source_hash TEXT,                         -- fingerprint of the source row last applied
    status TEXT NOT NULL DEFAULT 'active',    -- active | deactivated
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);
CREATE INDEX people_district_kind ON people (district_id, kind, status);
CREATE INDEX people_account ON people (account_id);
CREATE INDEX people_school ON people (school_id, kind);

CREATE TABLE enrollments (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    class_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    role TEXT NOT NULL,                       -- student | teacher | administrator | proctor
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);
CREATE INDEX enrollments_class ON enrollments (class_id, status);
CREATE INDEX enrollments_person ON enrollments (person_id);

-- Guardian–student links (RO-8: one guardian, many students; a source adds and
-- removes only its own links).
CREATE TABLE guardian_links (
    guardian_id TEXT NOT NULL,
    student_id TEXT NOT NULL,
    district_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    relationship TEXT NOT NULL DEFAULT 'guardian',
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (guardian_id, student_id)
);
CREATE INDEX guardian_links_student ON guardian_links (student_id);
CREATE INDEX guardian_links_source ON guardian_links (district_id, source_system);

-- RO-2: a configured connector for a district or a school.
CREATE TABLE sync_sources (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    school_id TEXT,
    kind TEXT NOT NULL,                       -- oneroster_csv | oneroster_rest | clever | upload
    name TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    secret_ciphertext TEXT,
    daily_at TEXT,                            -- HH:MM in the district's time zone
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    manages_guardians BOOLEAN NOT NULL DEFAULT TRUE,
    send_invitations BOOLEAN NOT NULL DEFAULT FALSE,
    unarchive_classes BOOLEAN NOT NULL DEFAULT TRUE,
    update_active_user_contacts BOOLEAN NOT NULL DEFAULT FALSE,
    deactivation_threshold_percent INTEGER NOT NULL DEFAULT 20,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sync_sources_district ON sync_sources (district_id);

-- RO-3/RO-5: one run of a source, with its progress, guard numbers and totals.
CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sync_sources (id),
    district_id TEXT NOT NULL,
    status TEXT NOT NULL,                     -- queued | running | completed | failed
    trigger_kind TEXT NOT NULL,               -- schedule | on_demand | bundle_import | upload
    mode TEXT,                                -- full | delta
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    forced BOOLEAN NOT NULL DEFAULT FALSE,
    full_sync BOOLEAN NOT NULL DEFAULT FALSE,
    idempotency_key TEXT,
    requested_by TEXT,
    phase TEXT NOT NULL DEFAULT 'unspecified',
    records_done BIGINT NOT NULL DEFAULT 0,
    records_total BIGINT NOT NULL DEFAULT 0,
    totals TEXT NOT NULL DEFAULT '[]',
    guard TEXT,
    failure_kind TEXT,
    failure_message TEXT,
    oneroster_version TEXT,
    filename TEXT,
    upload_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (source_id, idempotency_key)
);
CREATE INDEX sync_runs_source ON sync_runs (source_id, created_at);
CREATE INDEX sync_runs_status ON sync_runs (status, created_at);
CREATE INDEX sync_runs_district ON sync_runs (district_id, created_at);

-- The bytes of a pushed bundle until its run has read them.
CREATE TABLE sync_run_inputs (
    run_id TEXT PRIMARY KEY,
    content BYTEA NOT NULL
);

-- RO-3: one run per source at a time across replicas; a crashed holder's lease expires.
CREATE TABLE sync_leases (
    source_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE sync_report_rows (
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    entity TEXT NOT NULL,
    source_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    changed_fields TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    record_id TEXT,
    account_id TEXT,
    PRIMARY KEY (run_id, seq)
);
