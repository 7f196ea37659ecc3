-- Clever: each guardian–student link's own contact type (Parent/Guardian,
-- Emergency, Primary, Secondary, Family); empty where the source has none.
ALTER TABLE guardian_links ADD COLUMN contact_type TEXT NOT NULL DEFAULT '';
