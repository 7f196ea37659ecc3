ALTER TABLE people DROP COLUMN sign_in_disabled;
