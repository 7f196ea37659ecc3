DROP INDEX communications_district;
ALTER TABLE deliveries DROP COLUMN delivered_at;
ALTER TABLE deliveries DROP COLUMN sent_at;
ALTER TABLE communications DROP COLUMN planned_counts;
ALTER TABLE communications DROP COLUMN audience;
