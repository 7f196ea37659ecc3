-- Students get accounts (their SIS email) in these grades, space-separated
-- CEDS codes; empty: no student accounts (the default).
ALTER TABLE sync_sources ADD COLUMN student_account_grades TEXT NOT NULL DEFAULT '';
