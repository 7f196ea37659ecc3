-- MS-1: a communication and who it was for.
CREATE TABLE communications (
    id TEXT PRIMARY KEY,
    district_id TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'communication',  -- communication | system
    sender_account_id TEXT NOT NULL,             -- '' for system messages
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    variants TEXT NOT NULL DEFAULT '[]',      -- JSON: per-language subject/body
    channels TEXT NOT NULL,                   -- comma-separated: email,sms,voice
    emergency BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL,                     -- planning | queued | done
    created_at TIMESTAMP NOT NULL,
    UNIQUE (district_id, idempotency_key)
);

-- Tables written in bulk when a communication is planned carry no foreign keys:
-- communications and deliveries are never deleted, their rows are written in one
-- transaction by one code path, and PostgreSQL's per-row FK checks would cost a
-- large share of planning a 100,000-account communication.

-- Every recipient sees the communication in their history, however many share an address.
CREATE TABLE communication_recipients (
    communication_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (communication_id, account_id)
);
CREATE INDEX communication_recipients_account ON communication_recipients (account_id);

-- MS-2/MS-4: the queue. One delivery per (communication, channel, address), enforced here.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    communication_id TEXT NOT NULL,
    channel TEXT NOT NULL,                    -- email | sms | voice
    address TEXT NOT NULL,                    -- normalised email or E.164 phone
    language TEXT NOT NULL DEFAULT '',
    subject TEXT,                             -- rendered text of system messages
    body TEXT,
    status TEXT NOT NULL,                     -- queued | sending | sent | delivered | failed | bounced | skipped
    skip_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    provider_message_id TEXT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (communication_id, channel, address)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_leases ON deliveries (status, lease_expires_at);
CREATE INDEX deliveries_provider ON deliveries (provider_message_id);

-- Which recipients a delivery stands for (history per account, MS-5).
CREATE TABLE delivery_recipients (
    delivery_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (delivery_id, account_id)
);
CREATE INDEX delivery_recipients_account ON delivery_recipients (account_id);

-- MS-6/MS-7/MS-3: status per (channel, address), not per person (a landline is bad
-- for SMS, not for voice). A STOP opt-out is its own flag that Reset Status keeps.
CREATE TABLE address_status (
    channel TEXT NOT NULL,                    -- email | sms | voice
    address TEXT NOT NULL,
    bad BOOLEAN NOT NULL DEFAULT FALSE,
    bad_reason TEXT,
    bad_since TIMESTAMP,
    opted_out BOOLEAN NOT NULL DEFAULT FALSE,
    opted_out_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, address)
);

-- Bounce and provider event history, so rules (3 soft bounces in 7 days) can be evaluated.
CREATE TABLE address_events (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    kind TEXT NOT NULL,                       -- hard_bounce | soft_bounce | complaint | delivered | reset | stop | start
    reason TEXT NOT NULL DEFAULT '',
    delivery_id TEXT,
    actor_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX address_events_address ON address_events (channel, address, created_at);

-- MS-3: per account and channel.
CREATE TABLE preferences (
    account_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, channel)
);
