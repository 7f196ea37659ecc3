-- ID-4: an invitation carries a join link (<public URL>/join?code=…) naming its
-- account: a single-use token valid 7 days, stored only as its hash. Staff can
-- send a new one; every one of an account's links ends when it joins.
CREATE TABLE invitation_links (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX invitation_links_account ON invitation_links (account_id);
