-- OneRoster enabledUser=false: the account stays (with its credentials and
-- history) but cannot sign in until its source enables it again.
ALTER TABLE accounts ADD COLUMN sign_in_disabled BOOLEAN NOT NULL DEFAULT FALSE;
