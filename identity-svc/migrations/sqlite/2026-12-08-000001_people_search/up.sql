-- GW-3 People search: a word of a name or an address is found by substring
-- through an index of its trigrams instead of a scan of every account and
-- address (FTS5's trigram tokenizer, case-insensitive). The two tables hold
-- only the index; the text stays in accounts and addresses (external content,
-- joined by rowid) and the triggers below keep the index current. A VACUUM
-- may renumber those rowids: identity checks the index against the tables
-- when it starts and rebuilds it when they differ (store::search).
CREATE VIRTUAL TABLE accounts_search USING fts5(
    given_name, family_name,
    content = 'accounts', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_search (rowid, given_name, family_name)
    VALUES (new.rowid, new.given_name, new.family_name);
END;
CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_search (accounts_search, rowid, given_name, family_name)
    VALUES ('delete', old.rowid, old.given_name, old.family_name);
END;
CREATE TRIGGER accounts_search_update AFTER UPDATE OF given_name, family_name ON accounts BEGIN
    INSERT INTO accounts_search (accounts_search, rowid, given_name, family_name)
    VALUES ('delete', old.rowid, old.given_name, old.family_name);
    INSERT INTO accounts_search (rowid, given_name, family_name)
    VALUES (new.rowid, new.given_name, new.family_name);
END;
INSERT INTO accounts_search (accounts_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE addresses_search USING fts5(
    value,
    content = 'addresses', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER addresses_search_insert AFTER INSERT ON addresses BEGIN
    INSERT INTO addresses_search (rowid, value) VALUES (new.rowid, new.value);
END;
CREATE TRIGGER addresses_search_delete AFTER DELETE ON addresses BEGIN
    INSERT INTO addresses_search (addresses_search, rowid, value)
    VALUES ('delete', old.rowid, old.value);
END;
CREATE TRIGGER addresses_search_update AFTER UPDATE OF value ON addresses BEGIN
    INSERT INTO addresses_search (addresses_search, rowid, value)
    VALUES ('delete', old.rowid, old.value);
    INSERT INTO addresses_search (rowid, value) VALUES (new.rowid, new.value);
END;
INSERT INTO addresses_search (addresses_search) VALUES ('rebuild');
