DROP TABLE merged_links;
ALTER TABLE account_sources DROP COLUMN merged_from;
DROP TABLE account_merges;
