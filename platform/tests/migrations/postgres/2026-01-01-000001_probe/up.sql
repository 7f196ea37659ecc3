CREATE TABLE probes (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
