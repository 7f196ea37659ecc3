-- GW-3 People, RO-1 ListStudents/ListStaff: the words of a search are found
-- by substring through an index of their trigrams (FTS5's trigram
-- tokenizer, case-insensitive) instead of a scan of every person; the LIKE
-- the search always made then checks only the few the index found. The
-- table holds only the index: the text stays in people (external content,
-- joined by rowid) and the triggers keep it current. A VACUUM may renumber
-- those rowids: roster checks the index when it starts and rebuilds it when
-- it differs (homeroom_platform::db::ensure_fts_current).
CREATE VIRTUAL TABLE people_search USING fts5(
    given_name, family_name, identifier, email,
    content = 'people', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER people_search_insert AFTER INSERT ON people BEGIN
    INSERT INTO people_search (rowid, given_name, family_name, identifier, email)
    VALUES (new.rowid, new.given_name, new.family_name, new.identifier, new.email);
END;
CREATE TRIGGER people_search_delete AFTER DELETE ON people BEGIN
    INSERT INTO people_search (people_search, rowid, given_name, family_name, identifier, email)
    VALUES ('delete', old.rowid, old.given_name, old.family_name, old.identifier, old.email);
END;
CREATE TRIGGER people_search_update
AFTER UPDATE OF given_name, family_name, identifier, email ON people BEGIN
    INSERT INTO people_search (people_search, rowid, given_name, family_name, identifier, email)
    VALUES ('delete', old.rowid, old.given_name, old.family_name, old.identifier, old.email);
    INSERT INTO people_search (rowid, given_name, family_name, identifier, email)
    VALUES (new.rowid, new.given_name, new.family_name, new.identifier, new.email);
END;
INSERT INTO people_search (people_search) VALUES ('rebuild');
