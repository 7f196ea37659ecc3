-- OneRoster enabledUser=false: the person stays rostered (enrollments, links),
-- and their account cannot sign in until the source enables them again.
ALTER TABLE people ADD COLUMN sign_in_disabled BOOLEAN NOT NULL DEFAULT FALSE;
