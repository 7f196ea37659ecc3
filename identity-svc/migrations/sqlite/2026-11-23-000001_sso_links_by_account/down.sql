DROP INDEX sso_links_account;
