-- ID-3: devices (browsers, apps) that signed in to an account before. A
-- known device's failed logins count against the device, not against the
-- identifier or that account, so guessing at a shared address never slows
-- down the family's own devices. The token itself is never stored.
CREATE TABLE known_devices (
    token_hash TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (token_hash, account_id)
);
CREATE INDEX known_devices_account ON known_devices (account_id);
