-- RO-1: the rostered model. Every rostered record keeps its source system and source id.
CREATE TABLE districts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'America/New_York',
    default_phone_region TEXT NOT NULL DEFAULT 'US',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    name TEXT NOT NULL,
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
    status TEXT NOT NULL DEFAULT 'active',
    UNIQUE (district_id, source_system, source_id)
);

CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);

-- Students, staff and guardians as rostered; account_id links to identity-svc's account.
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    kind TEXT NOT NULL,                       -- student | staff | guardian
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    account_id TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    grade TEXT,
    school_id TEXT REFERENCES schools (id),
    email TEXT,
    phone TEXT,
    home_phone TEXT,
    preferred_language TEXT NOT NULL DEFAULT 'en',
    status TEXT NOT NULL DEFAULT 'active',    -- active | deactivated
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, source_system, source_id)
);
CREATE INDEX people_district_kind ON people (district_id, kind, status);
CREATE INDEX people_account ON people (account_id);

CREATE TABLE enrollments (
    class_id TEXT NOT NULL REFERENCES classes (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    role TEXT NOT NULL,                       -- student | teacher
    status TEXT NOT NULL DEFAULT 'active',
    PRIMARY KEY (class_id, person_id, role)
);
CREATE INDEX enrollments_person ON enrollments (person_id);

-- Guardian–student links (RO-8: one guardian, many students; links are added, never replaced).
CREATE TABLE guardian_links (
    guardian_id TEXT NOT NULL REFERENCES people (id),
    student_id TEXT NOT NULL REFERENCES people (id),
    relationship TEXT NOT NULL DEFAULT 'guardian',
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    source_system TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (guardian_id, student_id)
);
CREATE INDEX guardian_links_student ON guardian_links (student_id);

-- RO-2: a configured connector for a district or a school.
CREATE TABLE sync_sources (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    school_id TEXT REFERENCES schools (id),
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
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- RO-3/RO-5: one run of a source, its lease (one run per source at a time) and totals.
CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sync_sources (id),
    status TEXT NOT NULL,                     -- queued | running | completed | failed
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    forced BOOLEAN NOT NULL DEFAULT FALSE,
    idempotency_key TEXT,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    records_done BIGINT NOT NULL DEFAULT 0,
    records_total BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (source_id, idempotency_key)
);
CREATE INDEX sync_runs_source ON sync_runs (source_id, created_at);

CREATE TABLE sync_report_rows (
    run_id TEXT NOT NULL REFERENCES sync_runs (id),
    seq BIGINT NOT NULL,
    entity TEXT NOT NULL,
    source_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    changed_fields TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, seq)
);
