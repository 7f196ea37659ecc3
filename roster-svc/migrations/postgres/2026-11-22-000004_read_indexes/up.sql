-- RO-1 reads: students and staff page by name, classes by title.
CREATE INDEX people_name ON people (district_id, kind, family_name, given_name, id);
CREATE INDEX classes_title ON classes (district_id, title, id);
