ALTER TABLE selection_tokens DROP COLUMN sso_subject;
ALTER TABLE selection_tokens DROP COLUMN sso_issuer;
DROP TABLE sso_pending_logins;
