-- OneRoster 1.2's preferredGivenName (preferredFirstName over REST).
ALTER TABLE people ADD COLUMN preferred_given_name TEXT;
