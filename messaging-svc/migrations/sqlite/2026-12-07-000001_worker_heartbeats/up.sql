-- Crash recovery of the delivery queue (OP-2): each delivery's provider call
-- is marked before it starts, so after a crash only the marked ones may have
-- gone out; and each worker beats a heart, so a dead worker's claims return
-- to the queue within seconds instead of waiting out their lease.
ALTER TABLE deliveries ADD COLUMN sending_since TIMESTAMP;

CREATE TABLE delivery_workers (
    owner TEXT PRIMARY KEY NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL
);
