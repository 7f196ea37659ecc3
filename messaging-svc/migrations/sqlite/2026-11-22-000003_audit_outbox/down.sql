DROP TABLE audit_outbox;
