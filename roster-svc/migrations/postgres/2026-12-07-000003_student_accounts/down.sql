ALTER TABLE sync_sources DROP COLUMN student_account_grades;
