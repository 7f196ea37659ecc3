-- ID-1: accounts. Names, language, status; no credential is unique to a person.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL,
    kind TEXT NOT NULL,                       -- guardian | staff | student
    status TEXT NOT NULL,                     -- invitee | active | deactivated
    given_name TEXT NOT NULL,
    middle_name TEXT NOT NULL DEFAULT '',
    family_name TEXT NOT NULL,
    preferred_language TEXT NOT NULL DEFAULT '',   -- '' = English
    contact_managed_by_sync BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    activated_at TIMESTAMP,
    deactivated_at TIMESTAMP,
    last_login_at TIMESTAMP,
    invited_at TIMESTAMP
);
CREATE INDEX accounts_district ON accounts (district_id, kind, status);

-- Link tables written in bulk by syncs carry no foreign keys: accounts and
-- addresses are never deleted, links are written by one code path in the same
-- transaction as what they point at, and PostgreSQL's per-row FK checks cost
-- 40% of a 100,000-account import.

-- ID-1: external ids per source system (SIS sourcedId, Clever id, upload parent_code).
CREATE TABLE account_sources (
    district_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (district_id, source_system, source_id)
);
CREATE INDEX account_sources_account ON account_sources (account_id);

-- ID-2: one row per normalised address; any number of accounts may link to it.
CREATE TABLE addresses (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                       -- email | phone
    value TEXT NOT NULL,                      -- trimmed, case-folded email or E.164 phone
    created_at TIMESTAMP NOT NULL,
    UNIQUE (value, kind)
);

-- ID-2: up to one email, one mobile phone and one home phone per account.
CREATE TABLE account_credentials (
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,                       -- email | mobile_phone | home_phone
    address_id TEXT NOT NULL,
    confirmed_at TIMESTAMP,                   -- ID-7
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, kind)
);
CREATE INDEX account_credentials_address ON account_credentials (address_id);

-- ID-1: roles scoped to the district ('' school) or a school; source '' = assigned by an administrator.
CREATE TABLE role_grants (
    account_id TEXT NOT NULL,
    role TEXT NOT NULL,
    school_id TEXT NOT NULL DEFAULT '',
    source_system TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, role, school_id, source_system)
);

-- Students roster last reported for a guardian (ID-9 report, ID-11 profile).
CREATE TABLE linked_students (
    account_id TEXT NOT NULL,
    student_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    school_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, student_id)
);

-- District and school names for account choices (ID-3).
CREATE TABLE org_labels (
    org_id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- ID-5: (issuer, subject) links of SSO logins.
CREATE TABLE sso_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- ID-6: Ed25519 signing keys; the public halves are served as a JWKS.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_pkcs8 TEXT NOT NULL,
    public_x TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);

-- ID-6: refresh tokens, stored hashed, rotated on every use, revoked by family.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account ON refresh_tokens (account_id);

-- ID-3: single-use tokens for picking one of several accounts after a proof.
CREATE TABLE selection_tokens (
    token_hash TEXT PRIMARY KEY,
    account_ids TEXT NOT NULL,                -- comma-separated
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- ID-4 / ID-7: one-time codes (hashed), 10 minutes, single use, 5 tries.
CREATE TABLE one_time_codes (
    id TEXT PRIMARY KEY,
    address_id TEXT NOT NULL REFERENCES addresses (id),
    account_id TEXT,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX one_time_codes_address ON one_time_codes (address_id, created_at);

-- ID-3: failed-login counters per identifier, account and client address.
CREATE TABLE login_throttles (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP
);

-- ID-10: audit log.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor_id TEXT,
    subject_account_id TEXT,
    client_address TEXT,
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_district ON audit_events (district_id, created_at);
