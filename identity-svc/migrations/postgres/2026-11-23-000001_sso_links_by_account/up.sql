-- ID-5: an account's profile lists the issuers of its SSO links.
CREATE INDEX sso_links_account ON sso_links (account_id);
