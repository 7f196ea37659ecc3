-- The generation of each district's reports (the duplicate-guardian report, RO-8): triggers
-- advance it whenever a table those reports read changes, and the service
-- keeps a computed report until its district's generation moves
-- (homeroom_platform::report_cache). Here a writing transaction adds one
-- `report_changes` row per district it changed (its txid): inserts of
-- distinct rows never wait on each other, where one counter row per district
-- would serialise its writers and could deadlock two of them. Inserts and
-- deletes are noted once per statement; updates per row, and only when a
-- column the reports read changed.
CREATE TABLE report_generations (
    district_id TEXT PRIMARY KEY,
    folded BIGINT NOT NULL
);
CREATE TABLE report_changes (
    district_id TEXT NOT NULL,
    xid BIGINT NOT NULL,
    PRIMARY KEY (district_id, xid)
);

CREATE FUNCTION report_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_changes (district_id, xid)
    SELECT DISTINCT district_id, txid_current() FROM changed
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION report_changed_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_changes (district_id, xid)
    SELECT DISTINCT d, txid_current() FROM (VALUES (OLD.district_id), (NEW.district_id)) AS v (d)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER people_report_insert AFTER INSERT ON people
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER people_report_delete AFTER DELETE ON people
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER people_report_update AFTER UPDATE ON people FOR EACH ROW
    WHEN (OLD.kind IS DISTINCT FROM NEW.kind
    OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.district_id IS DISTINCT FROM NEW.district_id
    OR OLD.given_name IS DISTINCT FROM NEW.given_name
    OR OLD.family_name IS DISTINCT FROM NEW.family_name
    OR OLD.email IS DISTINCT FROM NEW.email
    OR OLD.phone IS DISTINCT FROM NEW.phone
    OR OLD.account_id IS DISTINCT FROM NEW.account_id
    OR OLD.identifier IS DISTINCT FROM NEW.identifier
    OR OLD.source_id IS DISTINCT FROM NEW.source_id
    OR OLD.source_system IS DISTINCT FROM NEW.source_system
    OR OLD.school_id IS DISTINCT FROM NEW.school_id
    OR OLD.school_ids IS DISTINCT FROM NEW.school_ids)
    EXECUTE FUNCTION report_changed_row();

CREATE TRIGGER guardian_links_report_insert AFTER INSERT ON guardian_links
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER guardian_links_report_delete AFTER DELETE ON guardian_links
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER guardian_links_report_update AFTER UPDATE ON guardian_links FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
    OR OLD.guardian_id IS DISTINCT FROM NEW.guardian_id
    OR OLD.student_id IS DISTINCT FROM NEW.student_id
    OR OLD.district_id IS DISTINCT FROM NEW.district_id)
    EXECUTE FUNCTION report_changed_row();

CREATE TRIGGER sync_sources_report_insert AFTER INSERT ON sync_sources
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER sync_sources_report_delete AFTER DELETE ON sync_sources
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER sync_sources_report_update AFTER UPDATE ON sync_sources FOR EACH ROW
    WHEN (OLD.kind IS DISTINCT FROM NEW.kind
    OR OLD.district_id IS DISTINCT FROM NEW.district_id)
    EXECUTE FUNCTION report_changed_row();
