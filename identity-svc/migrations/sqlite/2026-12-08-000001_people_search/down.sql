DROP TRIGGER addresses_search_update;
DROP TRIGGER addresses_search_delete;
DROP TRIGGER addresses_search_insert;
DROP TABLE addresses_search;
DROP TRIGGER accounts_search_update;
DROP TRIGGER accounts_search_delete;
DROP TRIGGER accounts_search_insert;
DROP TABLE accounts_search;
