-- MS-7 / ID-10: events for identity's central audit log (Reset Status), written
-- in the transaction of what they record and forwarded by a worker until
-- identity takes them, so none is lost while identity is down.
CREATE TABLE audit_outbox (
    id TEXT PRIMARY KEY,                  -- also sent as details.messaging_event_id
    event TEXT NOT NULL,                  -- JSON: the event for RecordAuditEvents
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,   -- a claim moves it past the claim's lease
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_outbox_due ON audit_outbox (next_attempt_at);
