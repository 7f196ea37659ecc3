-- Invitations a run owes: written with the run's records, sent after the run
-- completes, retried until identity takes them (a crash loses none).
CREATE TABLE pending_invitations (
    run_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    district_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, account_id)
);
CREATE INDEX pending_invitations_due ON pending_invitations (next_attempt_at);
