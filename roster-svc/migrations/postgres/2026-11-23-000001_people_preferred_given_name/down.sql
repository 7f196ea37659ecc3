ALTER TABLE people DROP COLUMN preferred_given_name;
