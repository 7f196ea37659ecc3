-- ID-1: accounts; ID-2: addresses shared by any number of accounts; roles; audit (ID-10).
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL,
    kind TEXT NOT NULL,                       -- guardian | staff | student
    status TEXT NOT NULL,                     -- invitee | active | deactivated
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    preferred_language TEXT NOT NULL DEFAULT 'en',
    contact_managed_by_sync BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);
CREATE INDEX accounts_district ON accounts (district_id, kind, status);

-- External ids per source system (SIS sourcedId, Clever id, upload parent_code).
CREATE TABLE account_sources (
    district_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (district_id, source_system, source_id)
);
CREATE INDEX account_sources_account ON account_sources (account_id);

-- One row per normalised address: no uniqueness per person, only per value.
CREATE TABLE addresses (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                       -- email | phone
    value TEXT NOT NULL,                      -- trimmed, case-folded email or E.164 phone
    created_at TIMESTAMP NOT NULL,
    UNIQUE (kind, value)
);

-- Which account holds which address, and for what: unique per (account, address, purpose).
CREATE TABLE account_addresses (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    address_id TEXT NOT NULL REFERENCES addresses (id),
    purpose TEXT NOT NULL,                    -- login | record (home phone)
    confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, address_id, purpose)
);
CREATE INDEX account_addresses_address ON account_addresses (address_id);

CREATE TABLE role_grants (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    role TEXT NOT NULL,
    school_id TEXT NOT NULL DEFAULT '',       -- '' = the whole district
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, role, school_id)
);

-- ID-5 (later): (issuer, subject) links of SSO logins.
CREATE TABLE sso_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);

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
