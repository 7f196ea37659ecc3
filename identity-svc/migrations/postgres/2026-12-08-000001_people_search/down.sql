DROP INDEX addresses_value_trgm;
DROP INDEX accounts_family_name_trgm;
DROP INDEX accounts_given_name_trgm;
