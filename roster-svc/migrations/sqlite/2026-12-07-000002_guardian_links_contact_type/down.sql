ALTER TABLE guardian_links DROP COLUMN contact_type;
