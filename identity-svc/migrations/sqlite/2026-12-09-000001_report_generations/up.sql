-- The generation of each district's reports (the shared-credential report, ID-9): triggers
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

CREATE TRIGGER accounts_report_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER accounts_report_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER accounts_report_update AFTER UPDATE ON accounts
WHEN old.status IS NOT new.status
    OR old.district_id IS NOT new.district_id
BEGIN
    INSERT INTO report_generations (district_id, folded) VALUES (old.district_id, 1), (new.district_id, 1)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;

CREATE TRIGGER account_credentials_report_insert AFTER INSERT ON account_credentials BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id = new.account_id
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER account_credentials_report_delete AFTER DELETE ON account_credentials BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id = old.account_id
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER account_credentials_report_update AFTER UPDATE ON account_credentials
WHEN old.account_id IS NOT new.account_id
    OR old.kind IS NOT new.kind
    OR old.address_id IS NOT new.address_id
BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id IN (old.account_id, new.account_id)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;

CREATE TRIGGER role_grants_report_insert AFTER INSERT ON role_grants BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id = new.account_id
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER role_grants_report_delete AFTER DELETE ON role_grants BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id = old.account_id
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER role_grants_report_update AFTER UPDATE ON role_grants
WHEN old.account_id IS NOT new.account_id
    OR old.school_id IS NOT new.school_id
BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id IN (old.account_id, new.account_id)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;

CREATE TRIGGER linked_students_report_insert AFTER INSERT ON linked_students BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id = new.account_id
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER linked_students_report_delete AFTER DELETE ON linked_students BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id = old.account_id
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
CREATE TRIGGER linked_students_report_update AFTER UPDATE ON linked_students
WHEN old.account_id IS NOT new.account_id
    OR old.school_id IS NOT new.school_id
BEGIN
    INSERT INTO report_generations (district_id, folded)
    SELECT district_id, 1 FROM accounts WHERE id IN (old.account_id, new.account_id)
    ON CONFLICT (district_id) DO UPDATE SET folded = folded + 1;
END;
