-- The generation of each district's reports (the duplicate-guardian report, RO-8): triggers
-- advance it whenever a table those reports read changes, and the service
-- keeps a computed report until its district's generation moves
-- (homeroom_platform::report_cache). SQLite writes one transaction at a time,
-- so its triggers add one to `folded`; `report_changes` is PostgreSQL's.
CREATE TABLE report_generations (
    district_id TEXT PRIMARY KEY NOT NULL,
    folded BIGINT NOT NULL
);
CREATE TABLE report_changes (
    district_id TEXT NOT NULL,
    xid BIGINT NOT NULL,
    PRIMARY KEY (district_id, xid)
);

CREATE TRIGGER people_report_insert AFTER INSERT ON people BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER people_report_delete AFTER DELETE ON people BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER people_report_update AFTER UPDATE ON people
WHEN old.kind IS NOT new.kind
    OR old.status IS NOT new.status
    OR old.district_id IS NOT new.district_id
    OR old.given_name IS NOT new.given_name
    OR old.family_name IS NOT new.family_name
    OR old.email IS NOT new.email
    OR old.phone IS NOT new.phone
    OR old.account_id IS NOT new.account_id
    OR old.identifier IS NOT new.identifier
    OR old.source_id IS NOT new.source_id
    OR old.source_system IS NOT new.source_system
    OR old.school_id IS NOT new.school_id
    OR old.school_ids IS NOT new.school_ids
BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1), (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;

CREATE TRIGGER guardian_links_report_insert AFTER INSERT ON guardian_links BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER guardian_links_report_delete AFTER DELETE ON guardian_links BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER guardian_links_report_update AFTER UPDATE ON guardian_links
WHEN old.status IS NOT new.status
    OR old.guardian_id IS NOT new.guardian_id
    OR old.student_id IS NOT new.student_id
    OR old.district_id IS NOT new.district_id
BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1), (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;

CREATE TRIGGER sync_sources_report_insert AFTER INSERT ON sync_sources BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER sync_sources_report_delete AFTER DELETE ON sync_sources BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER sync_sources_report_update AFTER UPDATE ON sync_sources
WHEN old.kind IS NOT new.kind
    OR old.district_id IS NOT new.district_id
BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1), (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
