DROP TABLE audit_events;
DROP TABLE sso_links;
DROP TABLE role_grants;
DROP TABLE account_addresses;
DROP TABLE addresses;
DROP TABLE account_sources;
DROP TABLE accounts;
