-- ID-5: SSO logins begun and not finished: the state (stored hashed), nonce and
-- PKCE verifier stay server side; single use, about 10 minutes.
CREATE TABLE sso_pending_logins (
    state_hash TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sso_pending_logins_expiry ON sso_pending_logins (expires_at);

-- ID-5: an account choice after an SSO login links the chosen account to this
-- (issuer, subject) when it is redeemed.
ALTER TABLE selection_tokens ADD COLUMN sso_issuer TEXT;
ALTER TABLE selection_tokens ADD COLUMN sso_subject TEXT;
