-- GW-3 People search: a word of a name or an address is found by substring
-- (lower(x) LIKE '%word%') through trigram indexes instead of a scan of every
-- account and address. pg_trgm ships with PostgreSQL and is a trusted
-- extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX accounts_given_name_trgm ON accounts USING gin (lower(given_name) gin_trgm_ops);
CREATE INDEX accounts_family_name_trgm ON accounts USING gin (lower(family_name) gin_trgm_ops);
CREATE INDEX addresses_value_trgm ON addresses USING gin (lower(value) gin_trgm_ops);
