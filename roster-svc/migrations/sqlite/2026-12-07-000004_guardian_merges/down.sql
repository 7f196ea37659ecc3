DROP TABLE guardian_merges;
