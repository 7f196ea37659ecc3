ALTER TABLE accounts DROP COLUMN sign_in_disabled;
