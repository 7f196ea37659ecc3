-- MS-1/MS-5: what GetCommunication shows that the deliveries alone cannot say.
ALTER TABLE communications ADD COLUMN audience TEXT NOT NULL DEFAULT '{}';        -- JSON: the audience as requested
ALTER TABLE communications ADD COLUMN planned_counts TEXT NOT NULL DEFAULT '{}';  -- JSON: per channel, accounts reached and accounts skipped (no preference, no address)

-- MS-5: when the provider accepted a delivery and when it confirmed it.
ALTER TABLE deliveries ADD COLUMN sent_at TIMESTAMP;
ALTER TABLE deliveries ADD COLUMN delivered_at TIMESTAMP;

-- ListCommunications: a district's communications, newest first (ids are UUIDv7).
CREATE INDEX communications_district ON communications (district_id, kind, id);
