//! Accounts, their source keys, addresses, credentials, roles and linked students.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{bulk_insert, db::DbConn, on_backend};

use super::schema::{
    account_credentials, account_sources, accounts, addresses, linked_students, role_grants,
};
use crate::domain::{
    accounts::{
        AccountKind, AccountSnapshot, AccountStatus, Contacts, CredentialKind, LinkedStudent,
        Names, ScopedRole, parse_role, role_str,
    },
    upsert::{Changes, Incoming},
};

/// A row of `accounts`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts, treat_none_as_default_value = false)]
pub struct AccountRow {
    pub id: String,
    pub district_id: String,
    pub kind: String,
    pub status: String,
    pub given_name: String,
    pub middle_name: String,
    pub family_name: String,
    pub preferred_language: String,
    pub contact_managed_by_sync: bool,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    pub deactivated_at: Option<NaiveDateTime>,
    pub last_login_at: Option<NaiveDateTime>,
    pub invited_at: Option<NaiveDateTime>,
    pub sign_in_disabled: bool,
}

impl AccountRow {
    /// Kind, status and names as domain values.
    pub fn kind(&self) -> AccountKind {
        self.kind.parse().unwrap_or(AccountKind::Guardian)
    }

    /// The stored status.
    pub fn status(&self) -> AccountStatus {
        self.status.parse().unwrap_or(AccountStatus::Invitee)
    }

    /// The names.
    pub fn names(&self) -> Names {
        Names {
            given: self.given_name.clone(),
            middle: self.middle_name.clone(),
            family: self.family_name.clone(),
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = account_sources, treat_none_as_default_value = false)]
struct SourceRow<'a> {
    district_id: &'a str,
    source_system: &'a str,
    source_id: &'a str,
    account_id: &'a str,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = addresses, treat_none_as_default_value = false)]
struct AddressRow<'a> {
    id: String,
    kind: &'a str,
    value: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = account_credentials, treat_none_as_default_value = false)]
struct CredentialRow<'a> {
    account_id: &'a str,
    kind: &'a str,
    address_id: &'a str,
    confirmed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = role_grants, treat_none_as_default_value = false)]
struct RoleRow<'a> {
    account_id: &'a str,
    role: &'a str,
    school_id: &'a str,
    source_system: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = linked_students, treat_none_as_default_value = false)]
struct LinkedStudentRow<'a> {
    account_id: &'a str,
    student_id: &'a str,
    display_name: &'a str,
    school_id: &'a str,
}

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters.
const CHUNK: usize = 500;

/// Source key → account id, for the given keys of one source.
pub fn accounts_by_source(
    conn: &mut DbConn,
    district_id: &str,
    source_system: &str,
    source_ids: &[&str],
) -> QueryResult<HashMap<String, String>> {
    let mut found = HashMap::with_capacity(source_ids.len());
    for chunk in source_ids.chunks(CHUNK) {
        let rows: Vec<(String, String)> = account_sources::table
            .filter(account_sources::district_id.eq(district_id))
            .filter(account_sources::source_system.eq(source_system))
            .filter(account_sources::source_id.eq_any(chunk))
            .select((account_sources::source_id, account_sources::account_id))
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Snapshots of the given accounts of a district, with the roles `source_system` granted.
pub fn snapshots(
    conn: &mut DbConn,
    district_id: &str,
    source_system: &str,
    ids: &[String],
) -> QueryResult<HashMap<String, AccountSnapshot>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        // By primary key only: with a district filter SQLite may walk the
        // district index instead; the district is checked on the rows.
        let mut rows: Vec<AccountRow> = accounts::table
            .filter(accounts::id.eq_any(chunk))
            .select(AccountRow::as_select())
            .load(conn)?;
        rows.retain(|r| r.district_id == district_id);
        let contacts = contacts_of(conn, chunk)?;
        let roles: Vec<(String, String, String)> = role_grants::table
            .filter(role_grants::account_id.eq_any(chunk))
            .filter(role_grants::source_system.eq(source_system))
            .select((
                role_grants::account_id,
                role_grants::role,
                role_grants::school_id,
            ))
            .load(conn)?;
        let mut roles_by: HashMap<String, BTreeSet<ScopedRole>> = HashMap::new();
        for (account_id, role, school_id) in roles {
            if let Ok(role) = parse_role(&role) {
                roles_by
                    .entry(account_id)
                    .or_default()
                    .insert(ScopedRole { role, school_id });
            }
        }
        let students: Vec<(String, String, String, String)> = linked_students::table
            .filter(linked_students::account_id.eq_any(chunk))
            .select((
                linked_students::account_id,
                linked_students::student_id,
                linked_students::display_name,
                linked_students::school_id,
            ))
            .load(conn)?;
        let mut students_by: HashMap<String, Vec<LinkedStudent>> = HashMap::new();
        for (account_id, student_id, display_name, school_id) in students {
            students_by
                .entry(account_id)
                .or_default()
                .push(LinkedStudent {
                    student_id,
                    display_name,
                    school_id,
                });
        }
        for row in rows {
            let snapshot = AccountSnapshot {
                kind: row.kind(),
                status: row.status(),
                names: row.names(),
                language: row.preferred_language.clone(),
                contact_managed_by_sync: row.contact_managed_by_sync,
                sign_in_disabled: row.sign_in_disabled,
                ever_activated: row.activated_at.is_some(),
                contacts: contacts.get(&row.id).cloned().unwrap_or_default(),
                source_roles: roles_by.remove(&row.id).unwrap_or_default(),
                linked_students: students_by.remove(&row.id).unwrap_or_default(),
                id: row.id,
            };
            out.insert(snapshot.id.clone(), snapshot);
        }
    }
    Ok(out)
}

/// Contacts of the given accounts. Two indexed lookups rather than a join: the
/// planner would otherwise hash the whole address table for a batch.
pub fn contacts_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, Contacts>> {
    let rows: Vec<(String, String, String)> = account_credentials::table
        .filter(account_credentials::account_id.eq_any(ids))
        .select((
            account_credentials::account_id,
            account_credentials::kind,
            account_credentials::address_id,
        ))
        .load(conn)?;
    let mut address_ids: Vec<&str> = rows.iter().map(|(_, _, a)| a.as_str()).collect();
    address_ids.sort_unstable();
    address_ids.dedup();
    let values: HashMap<String, String> = addresses::table
        .filter(addresses::id.eq_any(&address_ids))
        .select((addresses::id, addresses::value))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut out: HashMap<String, Contacts> = HashMap::new();
    for (account_id, kind, address_id) in rows {
        if let (Ok(kind), Some(value)) = (kind.parse::<CredentialKind>(), values.get(&address_id)) {
            out.entry(account_id)
                .or_default()
                .set(kind, Some(value.clone()));
        }
    }
    Ok(out)
}

/// Address ids for `(address kind, value)` pairs, inserting the missing ones.
fn ensure_addresses(
    conn: &mut DbConn,
    wanted: &BTreeSet<(&'static str, String)>,
    now: NaiveDateTime,
) -> QueryResult<HashMap<(String, String), String>> {
    let wanted: Vec<&(&'static str, String)> = wanted.iter().collect();
    let mut ids = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(CHUNK) {
        let rows: Vec<AddressRow<'_>> = chunk
            .iter()
            .map(|(kind, value)| AddressRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind,
                value,
                created_at: now,
            })
            .collect();
        match conn {
            DbConn::Pg(c) => diesel::insert_into(addresses::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_or_ignore_into(addresses::table)
                .values(&rows)
                .execute(c)?,
        };
        let values: Vec<&str> = chunk.iter().map(|(_, v)| v.as_str()).collect();
        let found: Vec<(String, String, String)> = addresses::table
            .filter(addresses::value.eq_any(&values))
            .select((addresses::kind, addresses::value, addresses::id))
            .load(conn)?;
        ids.extend(found.into_iter().map(|(k, v, id)| ((k, v), id)));
    }
    Ok(ids)
}

/// One item of an applied batch.
#[derive(Debug)]
pub enum Write<'a> {
    /// Create the account `id` from `incoming`.
    Create {
        /// The new id.
        id: String,
        /// What the source supplied.
        incoming: &'a Incoming,
    },
    /// Change an existing account.
    Update {
        /// The account.
        id: String,
        /// The changes.
        changes: &'a Changes,
    },
    /// Attach the source key to an existing account (matched by the caller).
    AttachKey {
        /// The account.
        id: String,
        /// The source key.
        source_id: &'a str,
    },
}

/// Applies a planned batch in the caller's transaction.
pub fn apply(
    conn: &mut DbConn,
    district_id: &str,
    source_system: &str,
    writes: &[Write<'_>],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let mut wanted = BTreeSet::new();
    for write in writes {
        match write {
            Write::Create { incoming, .. } => {
                for kind in CredentialKind::ALL {
                    if let Some(Some(v)) = incoming_contact(incoming, kind) {
                        wanted.insert((kind.address_kind(), v.clone()));
                    }
                }
            }
            Write::Update { changes, .. } => {
                for (kind, value) in &changes.contacts {
                    if let Some(v) = value {
                        wanted.insert((kind.address_kind(), v.clone()));
                    }
                }
            }
            Write::AttachKey { .. } => {}
        }
    }
    let address_ids = ensure_addresses(conn, &wanted, now)?;
    let address_id = |kind: CredentialKind, value: &str| {
        address_ids
            .get(&(kind.address_kind().to_string(), value.to_string()))
            .cloned()
            .ok_or(diesel::result::Error::NotFound)
    };

    let mut new_accounts = Vec::new();
    let mut new_sources = Vec::new();
    let mut new_roles = Vec::new();
    let mut new_students = Vec::new();
    let mut credential_address_ids = Vec::new();
    for write in writes {
        match write {
            Write::Create { id, incoming } => {
                new_accounts.push(AccountRow {
                    id: id.clone(),
                    district_id: district_id.to_string(),
                    kind: incoming.kind.as_str().to_string(),
                    status: AccountStatus::Invitee.as_str().to_string(),
                    given_name: incoming.names.given.clone(),
                    middle_name: incoming.names.middle.clone(),
                    family_name: incoming.names.family.clone(),
                    preferred_language: incoming.language.clone().unwrap_or_default(),
                    contact_managed_by_sync: incoming.contact_managed_by_sync,
                    sign_in_disabled: incoming.sign_in_disabled,
                    password_hash: None,
                    created_at: now,
                    updated_at: now,
                    activated_at: None,
                    deactivated_at: None,
                    last_login_at: None,
                    invited_at: None,
                });
                new_sources.push(SourceRow {
                    district_id,
                    source_system,
                    source_id: &incoming.source_id,
                    account_id: id,
                });
                for kind in CredentialKind::ALL {
                    if let Some(Some(v)) = incoming_contact(incoming, kind) {
                        credential_address_ids.push((id.as_str(), kind, address_id(kind, v)?));
                    }
                }
                for r in &incoming.roles {
                    new_roles.push((id.as_str(), r));
                }
                for s in incoming.linked_students.iter().flatten() {
                    new_students.push(LinkedStudentRow {
                        account_id: id,
                        student_id: &s.student_id,
                        display_name: &s.display_name,
                        school_id: &s.school_id,
                    });
                }
            }
            Write::Update { id, changes } => {
                update_account(conn, id, changes, now)?;
                for (kind, value) in &changes.contacts {
                    diesel::delete(
                        account_credentials::table
                            .filter(account_credentials::account_id.eq(id))
                            .filter(account_credentials::kind.eq(kind.as_str())),
                    )
                    .execute(conn)?;
                    if let Some(v) = value {
                        credential_address_ids.push((id.as_str(), *kind, address_id(*kind, v)?));
                    }
                }
                if let Some(roles) = &changes.roles {
                    diesel::delete(
                        role_grants::table
                            .filter(role_grants::account_id.eq(id))
                            .filter(role_grants::source_system.eq(source_system)),
                    )
                    .execute(conn)?;
                    for r in roles {
                        new_roles.push((id.as_str(), r));
                    }
                }
                if let Some(students) = &changes.linked_students {
                    diesel::delete(
                        linked_students::table.filter(linked_students::account_id.eq(id)),
                    )
                    .execute(conn)?;
                    for s in students {
                        new_students.push(LinkedStudentRow {
                            account_id: id,
                            student_id: &s.student_id,
                            display_name: &s.display_name,
                            school_id: &s.school_id,
                        });
                    }
                }
            }
            Write::AttachKey { id, source_id } => new_sources.push(SourceRow {
                district_id,
                source_system,
                source_id,
                account_id: id,
            }),
        }
    }
    let new_credentials: Vec<CredentialRow<'_>> = credential_address_ids
        .iter()
        .map(|(account_id, kind, address_id)| CredentialRow {
            account_id,
            kind: kind.as_str(),
            address_id,
            confirmed_at: None,
            created_at: now,
        })
        .collect();
    let role_rows: Vec<RoleRow<'_>> = new_roles
        .iter()
        .map(|(account_id, r)| RoleRow {
            account_id,
            role: role_str(r.role),
            school_id: &r.school_id,
            source_system,
            created_at: now,
        })
        .collect();
    bulk_insert!(conn, accounts::table, &new_accounts, 200)?;
    bulk_insert!(conn, account_sources::table, &new_sources, 500)?;
    bulk_insert!(conn, account_credentials::table, &new_credentials, 500)?;
    bulk_insert!(conn, role_grants::table, &role_rows, 500)?;
    bulk_insert!(conn, linked_students::table, &new_students, 500)?;
    Ok(())
}

fn incoming_contact(incoming: &Incoming, kind: CredentialKind) -> Option<&Option<String>> {
    match kind {
        CredentialKind::Email => incoming.email.as_ref(),
        CredentialKind::MobilePhone => incoming.mobile_phone.as_ref(),
        CredentialKind::HomePhone => incoming.home_phone.as_ref(),
    }
}

fn update_account(
    conn: &mut DbConn,
    id: &str,
    changes: &Changes,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = accounts::table.filter(accounts::id.eq(id));
    diesel::update(target)
        .set(accounts::updated_at.eq(now))
        .execute(conn)?;
    if let Some(names) = &changes.names {
        diesel::update(target)
            .set((
                accounts::given_name.eq(&names.given),
                accounts::middle_name.eq(&names.middle),
                accounts::family_name.eq(&names.family),
            ))
            .execute(conn)?;
    }
    if let Some(language) = &changes.language {
        diesel::update(target)
            .set(accounts::preferred_language.eq(language))
            .execute(conn)?;
    }
    if let Some(flag) = changes.contact_managed_by_sync {
        diesel::update(target)
            .set(accounts::contact_managed_by_sync.eq(flag))
            .execute(conn)?;
    }
    if let Some(disabled) = changes.sign_in_disabled {
        diesel::update(target)
            .set(accounts::sign_in_disabled.eq(disabled))
            .execute(conn)?;
    }
    if let Some(status) = changes.status {
        diesel::update(target)
            .set((
                accounts::status.eq(status.as_str()),
                accounts::deactivated_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One account row by id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::id.eq(id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// Accounts by id (missing ids are left out).
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<AccountRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        out.extend(
            accounts::table
                .filter(accounts::id.eq_any(chunk))
                .select(AccountRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// How many non-deactivated accounts of each district hold each of the
/// given address ids: (address id, district id) → count. A shared count is
/// read within the account's own district, so it never tells one district
/// about another's families.
pub fn holders(
    conn: &mut DbConn,
    address_ids: &[String],
) -> QueryResult<HashMap<(String, String), i64>> {
    let rows: Vec<(String, String, String)> = account_credentials::table
        .inner_join(accounts::table)
        .filter(account_credentials::address_id.eq_any(address_ids))
        .filter(accounts::status.ne(AccountStatus::Deactivated.as_str()))
        .select((
            account_credentials::address_id,
            accounts::district_id,
            account_credentials::account_id,
        ))
        .distinct()
        .load(conn)?;
    let mut counts = HashMap::new();
    for (address_id, district_id, _) in rows {
        *counts.entry((address_id, district_id)).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Keeps the latest names of districts and schools (for account choices).
pub fn save_org_labels(conn: &mut DbConn, labels: &[(String, String)]) -> QueryResult<()> {
    use super::schema::org_labels;
    for (org_id, name) in labels {
        on_backend!(conn, c => diesel::insert_into(org_labels::table)
            .values((org_labels::org_id.eq(org_id), org_labels::name.eq(name)))
            .on_conflict(org_labels::org_id)
            .do_update()
            .set(org_labels::name.eq(name))
            .execute(c))?;
    }
    Ok(())
}

/// Sets a password hash and makes the account ACTIVE (joining, ID-4).
pub fn activate_with_password(
    conn: &mut DbConn,
    id: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(accounts::table.filter(accounts::id.eq(id)))
        .set((
            accounts::password_hash.eq(password_hash),
            accounts::status.eq(AccountStatus::Active.as_str()),
            accounts::activated_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Sets a new password hash on an account that has joined.
pub fn set_password(
    conn: &mut DbConn,
    id: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(accounts::table.filter(accounts::id.eq(id)))
        .set((
            accounts::password_hash.eq(password_hash),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Accounts (not deactivated, sign-in not disabled by their source) that log
/// in with the address: it is their email or mobile phone. Optionally only
/// those of one district.
pub fn login_holders(
    conn: &mut DbConn,
    address_kind: &str,
    value: &str,
    district_id: Option<&str>,
) -> QueryResult<Vec<AccountRow>> {
    // Not boxed, so the statement is prepared once; an address has few holders,
    // so the district is checked on the rows.
    let mut rows: Vec<AccountRow> = accounts::table
        .inner_join(account_credentials::table.inner_join(addresses::table))
        .filter(addresses::value.eq(value))
        .filter(addresses::kind.eq(address_kind))
        .filter(account_credentials::kind.ne(CredentialKind::HomePhone.as_str()))
        .filter(accounts::status.ne(AccountStatus::Deactivated.as_str()))
        .filter(accounts::sign_in_disabled.eq(false))
        .select(AccountRow::as_select())
        .order(accounts::id)
        .load(conn)?;
    rows.retain(|a| district_id.is_none_or(|d| a.district_id == d));
    rows.dedup_by(|a, b| a.id == b.id);
    Ok(rows)
}

/// Every role of an account, whatever granted it.
pub fn roles_of(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<ScopedRole>> {
    let rows: Vec<(String, String)> = role_grants::table
        .filter(role_grants::account_id.eq(account_id))
        .select((role_grants::role, role_grants::school_id))
        .load(conn)?;
    let set: BTreeSet<ScopedRole> = rows
        .into_iter()
        .filter_map(|(role, school_id)| {
            Some(ScopedRole {
                role: parse_role(&role).ok()?,
                school_id,
            })
        })
        .collect();
    Ok(set.into_iter().collect())
}

/// Every role of each of the given accounts.
pub fn roles_of_many(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<HashMap<String, Vec<ScopedRole>>> {
    let rows: Vec<(String, String, String)> = role_grants::table
        .filter(role_grants::account_id.eq_any(ids))
        .select((
            role_grants::account_id,
            role_grants::role,
            role_grants::school_id,
        ))
        .load(conn)?;
    let mut sets: HashMap<String, BTreeSet<ScopedRole>> = HashMap::new();
    for (account_id, role, school_id) in rows {
        if let Ok(role) = parse_role(&role) {
            sets.entry(account_id)
                .or_default()
                .insert(ScopedRole { role, school_id });
        }
    }
    Ok(sets
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect())
}

/// Each account with every role it holds.
pub fn with_roles(
    conn: &mut DbConn,
    accounts: Vec<AccountRow>,
) -> QueryResult<Vec<(AccountRow, Vec<ScopedRole>)>> {
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let mut roles = roles_of_many(conn, &ids)?;
    Ok(accounts
        .into_iter()
        .map(|a| {
            let r = roles.remove(&a.id).unwrap_or_default();
            (a, r)
        })
        .collect())
}

/// Records a successful login.
pub fn touch_login(conn: &mut DbConn, account_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(accounts::table.filter(accounts::id.eq(account_id)))
        .set(accounts::last_login_at.eq(now))
        .execute(conn)
}

/// Names of districts and schools by id.
pub fn org_names(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, String>> {
    use super::schema::org_labels;
    Ok(org_labels::table
        .filter(org_labels::org_id.eq_any(ids))
        .select((org_labels::org_id, org_labels::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The id of an address row, if the address is known.
pub fn address_id(conn: &mut DbConn, kind: &str, value: &str) -> QueryResult<Option<String>> {
    addresses::table
        .filter(addresses::value.eq(value))
        .filter(addresses::kind.eq(kind))
        .select(addresses::id)
        .first(conn)
        .optional()
}

/// An account's credential of `kind`: (address id, value).
pub fn credential_of(
    conn: &mut DbConn,
    account_id: &str,
    kind: CredentialKind,
) -> QueryResult<Option<(String, String)>> {
    account_credentials::table
        .inner_join(addresses::table)
        .filter(account_credentials::account_id.eq(account_id))
        .filter(account_credentials::kind.eq(kind.as_str()))
        .select((addresses::id, addresses::value))
        .first(conn)
        .optional()
}

/// ID-7: marks an account's credential confirmed.
pub fn confirm_credential(
    conn: &mut DbConn,
    account_id: &str,
    kind: CredentialKind,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        account_credentials::table
            .filter(account_credentials::account_id.eq(account_id))
            .filter(account_credentials::kind.eq(kind.as_str())),
    )
    .set(account_credentials::confirmed_at.eq(now))
    .execute(conn)
}

/// Marks accounts invited now.
pub fn mark_invited(conn: &mut DbConn, ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(accounts::table.filter(accounts::id.eq_any(ids)))
        .set(accounts::invited_at.eq(now))
        .execute(conn)
}

/// How many non-deactivated accounts hold each address value (any kind).
pub fn holder_counts_by_value(
    conn: &mut DbConn,
    values: &[String],
) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, String)> = addresses::table
        .inner_join(account_credentials::table.inner_join(accounts::table))
        .filter(addresses::value.eq_any(values))
        .filter(accounts::status.ne(AccountStatus::Deactivated.as_str()))
        .select((addresses::value, account_credentials::account_id))
        .distinct()
        .load(conn)?;
    let mut counts = HashMap::new();
    for (value, _) in rows {
        *counts.entry(value).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Source keys of an account in sources other than `source_system`.
pub fn other_sources(conn: &mut DbConn, account_id: &str, source_system: &str) -> QueryResult<i64> {
    account_sources::table
        .filter(account_sources::account_id.eq(account_id))
        .filter(account_sources::source_system.ne(source_system))
        .count()
        .get_result(conn)
}

/// Deactivates accounts (kept with their history) and revokes their sessions.
pub fn deactivate(conn: &mut DbConn, ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    use super::schema::refresh_tokens;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::account_id.eq_any(ids))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(accounts::table.filter(accounts::id.eq_any(ids)))
        .set((
            accounts::status.eq(AccountStatus::Deactivated.as_str()),
            accounts::deactivated_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// RO-6: sets `contact_managed_by_sync` on every account a source supplies.
pub fn set_contact_managed_by_sync(
    conn: &mut DbConn,
    district_id: &str,
    source_system: &str,
    managed: bool,
) -> QueryResult<usize> {
    let ids = account_sources::table
        .filter(account_sources::district_id.eq(district_id))
        .filter(account_sources::source_system.eq(source_system))
        .select(account_sources::account_id);
    diesel::update(
        accounts::table
            .filter(accounts::id.eq_any(ids))
            .filter(accounts::contact_managed_by_sync.ne(managed)),
    )
    .set(accounts::contact_managed_by_sync.eq(managed))
    .execute(conn)
}

/// Adds and removes administrator-assigned roles (source '').
pub fn assign_roles(
    conn: &mut DbConn,
    account_id: &str,
    grant: &[ScopedRole],
    revoke: &[ScopedRole],
    now: NaiveDateTime,
) -> QueryResult<()> {
    for r in revoke {
        diesel::delete(
            role_grants::table
                .filter(role_grants::account_id.eq(account_id))
                .filter(role_grants::role.eq(role_str(r.role)))
                .filter(role_grants::school_id.eq(&r.school_id))
                .filter(role_grants::source_system.eq("")),
        )
        .execute(conn)?;
    }
    for r in grant {
        on_backend!(conn, c => diesel::insert_into(role_grants::table)
            .values(RoleRow {
                account_id,
                role: role_str(r.role),
                school_id: &r.school_id,
                source_system: "",
                created_at: now,
            })
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// MS-6: those of `values` (normalised addresses) an account of the district
/// holds, any status and credential kind, sorted.
pub fn held_addresses(
    conn: &mut DbConn,
    district_id: &str,
    values: &[String],
) -> QueryResult<Vec<String>> {
    let mut held = Vec::new();
    for chunk in values.chunks(1_000) {
        held.extend(
            account_credentials::table
                .inner_join(accounts::table)
                .inner_join(addresses::table)
                .filter(addresses::value.eq_any(chunk))
                // From the addresses asked (their unique index), not from
                // every account of the district.
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(super::search::district_term(
                        conn.backend(),
                    ))
                    .bind::<diesel::sql_types::Text, _>(district_id),
                )
                .select(addresses::value)
                .distinct()
                .load::<String>(conn)?,
        );
    }
    held.sort_unstable();
    held.dedup();
    Ok(held)
}
