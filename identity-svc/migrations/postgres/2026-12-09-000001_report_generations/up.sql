-- The generation of each district's reports (the shared-credential report, ID-9): triggers
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

CREATE FUNCTION report_changed_by_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_changes (district_id, xid)
    SELECT DISTINCT a.district_id, txid_current()
    FROM changed AS c JOIN accounts AS a ON a.id = c.account_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION report_changed_row_by_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_changes (district_id, xid)
    SELECT DISTINCT district_id, txid_current()
    FROM accounts WHERE id IN (OLD.account_id, NEW.account_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_report_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER accounts_report_delete AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed();
CREATE TRIGGER accounts_report_update AFTER UPDATE ON accounts FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
    OR OLD.district_id IS DISTINCT FROM NEW.district_id)
    EXECUTE FUNCTION report_changed_row();

CREATE TRIGGER account_credentials_report_insert AFTER INSERT ON account_credentials
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed_by_account();
CREATE TRIGGER account_credentials_report_delete AFTER DELETE ON account_credentials
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed_by_account();
CREATE TRIGGER account_credentials_report_update AFTER UPDATE ON account_credentials FOR EACH ROW
    WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id
    OR OLD.kind IS DISTINCT FROM NEW.kind
    OR OLD.address_id IS DISTINCT FROM NEW.address_id)
    EXECUTE FUNCTION report_changed_row_by_account();

CREATE TRIGGER role_grants_report_insert AFTER INSERT ON role_grants
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed_by_account();
CREATE TRIGGER role_grants_report_delete AFTER DELETE ON role_grants
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed_by_account();
CREATE TRIGGER role_grants_report_update AFTER UPDATE ON role_grants FOR EACH ROW
    WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id
    OR OLD.school_id IS DISTINCT FROM NEW.school_id)
    EXECUTE FUNCTION report_changed_row_by_account();

CREATE TRIGGER linked_students_report_insert AFTER INSERT ON linked_students
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed_by_account();
CREATE TRIGGER linked_students_report_delete AFTER DELETE ON linked_students
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_changed_by_account();
CREATE TRIGGER linked_students_report_update AFTER UPDATE ON linked_students FOR EACH ROW
    WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id
    OR OLD.school_id IS DISTINCT FROM NEW.school_id)
    EXECUTE FUNCTION report_changed_row_by_account();
