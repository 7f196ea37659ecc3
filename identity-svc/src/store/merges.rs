//! Merging duplicate guardians (RO-8): the merge records, and the writes a
//! merge and its undo make to credentials, SSO links, role grants, source
//! records and linked students.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::{
    account_credentials, account_merges, account_sources, accounts, addresses, linked_students,
    merged_links, role_grants, sso_links,
};

/// A row of `account_merges`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = account_merges, treat_none_as_default_value = false)]
pub struct MergeRow {
    pub id: String,
    pub district_id: String,
    pub survivor_id: String,
    /// Space-separated.
    pub merged_ids: String,
    /// JSON of what to put back.
    pub undo: String,
    pub actor_id: String,
    pub created_at: NaiveDateTime,
    pub undone_at: Option<NaiveDateTime>,
}

impl MergeRow {
    /// The merged accounts' ids.
    pub fn merged(&self) -> Vec<String> {
        self.merged_ids.split(' ').map(String::from).collect()
    }
}

/// One credential as stored: (account id, kind, address id, value,
/// confirmed at).
pub type Credential = (String, String, String, String, Option<NaiveDateTime>);

/// The credentials of accounts.
pub fn credentials(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Credential>> {
    account_credentials::table
        .inner_join(addresses::table)
        .filter(account_credentials::account_id.eq_any(ids))
        .select((
            account_credentials::account_id,
            account_credentials::kind,
            addresses::id,
            addresses::value,
            account_credentials::confirmed_at,
        ))
        .load(conn)
}

/// Sets (or, with `None`, removes) an account's credential of `kind`.
pub fn set_credential(
    conn: &mut DbConn,
    account_id: &str,
    kind: &str,
    address: Option<(&str, Option<NaiveDateTime>)>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(
        account_credentials::table
            .filter(account_credentials::account_id.eq(account_id))
            .filter(account_credentials::kind.eq(kind)),
    )
    .execute(conn)?;
    if let Some((address_id, confirmed_at)) = address {
        diesel::insert_into(account_credentials::table)
            .values((
                account_credentials::account_id.eq(account_id),
                account_credentials::kind.eq(kind),
                account_credentials::address_id.eq(address_id),
                account_credentials::confirmed_at.eq(confirmed_at),
                account_credentials::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// SSO identities linked to accounts: (issuer, subject, account id).
pub fn sso_links_of(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    sso_links::table
        .filter(sso_links::account_id.eq_any(ids))
        .select((sso_links::issuer, sso_links::subject, sso_links::account_id))
        .load(conn)
}

/// Points an SSO identity at an account.
pub fn move_sso_link(
    conn: &mut DbConn,
    issuer: &str,
    subject: &str,
    to: &str,
) -> QueryResult<usize> {
    diesel::update(sso_links::table.find((issuer, subject)))
        .set(sso_links::account_id.eq(to))
        .execute(conn)
}

/// A role grant: (role, school id, source system).
pub type Grant = (String, String, String);

/// An account's role grants.
pub fn grants_of(conn: &mut DbConn, id: &str) -> QueryResult<Vec<Grant>> {
    role_grants::table
        .filter(role_grants::account_id.eq(id))
        .select((
            role_grants::role,
            role_grants::school_id,
            role_grants::source_system,
        ))
        .load(conn)
}

/// Adds role grants to an account.
pub fn add_grants(
    conn: &mut DbConn,
    id: &str,
    grants: &[Grant],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    // Row by row: a merge adds a handful, and one statement per row works
    // alike on both backends.
    let mut added = 0;
    for (role, school, system) in grants {
        added += diesel::insert_into(role_grants::table)
            .values((
                role_grants::account_id.eq(id),
                role_grants::role.eq(role),
                role_grants::school_id.eq(school),
                role_grants::source_system.eq(system),
                role_grants::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(added)
}

/// Removes role grants from an account.
pub fn remove_grants(conn: &mut DbConn, id: &str, grants: &[Grant]) -> QueryResult<usize> {
    let mut removed = 0;
    for (role, school, system) in grants {
        removed +=
            diesel::delete(role_grants::table.find((id, role, school, system))).execute(conn)?;
    }
    Ok(removed)
}

/// Moves every source record of `from` to `to`, remembering where it came
/// from; the records moved: (source system, source id).
pub fn move_sources(conn: &mut DbConn, from: &str, to: &str) -> QueryResult<Vec<(String, String)>> {
    let moved: Vec<(String, String)> = account_sources::table
        .filter(account_sources::account_id.eq(from))
        .select((account_sources::source_system, account_sources::source_id))
        .load(conn)?;
    diesel::update(account_sources::table.filter(account_sources::account_id.eq(from)))
        .set((
            account_sources::account_id.eq(to),
            account_sources::merged_from.eq(from),
        ))
        .execute(conn)?;
    Ok(moved)
}

/// Puts the source records merged from `from` back on it.
pub fn return_sources(conn: &mut DbConn, from: &str) -> QueryResult<usize> {
    diesel::update(account_sources::table.filter(account_sources::merged_from.eq(from)))
        .set((
            account_sources::account_id.eq(from),
            account_sources::merged_from.eq(None::<String>),
        ))
        .execute(conn)
}

/// Source key → (account id, the account it was merged from), for the
/// given keys of one source.
pub fn merged_from(
    conn: &mut DbConn,
    district_id: &str,
    source_system: &str,
    source_ids: &[&str],
) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<(String, Option<String>)> = account_sources::table
        .filter(account_sources::district_id.eq(district_id))
        .filter(account_sources::source_system.eq(source_system))
        .filter(account_sources::source_id.eq_any(source_ids))
        .filter(account_sources::merged_from.is_not_null())
        .select((account_sources::source_id, account_sources::merged_from))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, m)| m.map(|m| (s, m)))
        .collect())
}

/// A linked student of one bucket: (student id, display name, school id).
pub type Linked = (String, String, String);

/// The buckets of linked students of merged survivors among `ids`:
/// (account id, bucket) → students.
pub fn buckets(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<(String, String), Vec<Linked>>> {
    let rows: Vec<(String, String, String, String, String)> = merged_links::table
        .filter(merged_links::account_id.eq_any(ids))
        .select((
            merged_links::account_id,
            merged_links::bucket,
            merged_links::student_id,
            merged_links::display_name,
            merged_links::school_id,
        ))
        .load(conn)?;
    let mut out: std::collections::HashMap<(String, String), Vec<Linked>> =
        std::collections::HashMap::new();
    for (account, bucket, student, name, school) in rows {
        out.entry((account, bucket))
            .or_default()
            .push((student, name, school));
    }
    Ok(out)
}

/// An account's own linked students (as `linked_students` holds them).
pub fn linked_of(conn: &mut DbConn, id: &str) -> QueryResult<Vec<Linked>> {
    linked_students::table
        .filter(linked_students::account_id.eq(id))
        .select((
            linked_students::student_id,
            linked_students::display_name,
            linked_students::school_id,
        ))
        .load(conn)
}

/// Replaces one bucket of an account's linked students and makes
/// `linked_students` their union again.
pub fn set_bucket(
    conn: &mut DbConn,
    id: &str,
    bucket: &str,
    students: &[Linked],
) -> QueryResult<()> {
    diesel::delete(
        merged_links::table
            .filter(merged_links::account_id.eq(id))
            .filter(merged_links::bucket.eq(bucket)),
    )
    .execute(conn)?;
    for (student, name, school) in students {
        diesel::insert_into(merged_links::table)
            .values((
                merged_links::account_id.eq(id),
                merged_links::bucket.eq(bucket),
                merged_links::student_id.eq(student),
                merged_links::display_name.eq(name),
                merged_links::school_id.eq(school),
            ))
            .execute(conn)?;
    }
    rebuild_linked(conn, id)
}

/// Drops a bucket; when only the account's own is left, the account is an
/// ordinary one again (no buckets).
pub fn drop_bucket(conn: &mut DbConn, id: &str, bucket: &str) -> QueryResult<()> {
    diesel::delete(
        merged_links::table
            .filter(merged_links::account_id.eq(id))
            .filter(merged_links::bucket.eq(bucket)),
    )
    .execute(conn)?;
    rebuild_linked(conn, id)?;
    let others: i64 = merged_links::table
        .filter(merged_links::account_id.eq(id))
        .filter(merged_links::bucket.ne(""))
        .count()
        .get_result(conn)?;
    if others == 0 {
        diesel::delete(merged_links::table.filter(merged_links::account_id.eq(id)))
            .execute(conn)?;
    }
    Ok(())
}

/// `linked_students` of an account as the union of its buckets (the first
/// name and school seen for a student win).
fn rebuild_linked(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    let rows: Vec<Linked> = merged_links::table
        .filter(merged_links::account_id.eq(id))
        .order((merged_links::bucket, merged_links::student_id))
        .select((
            merged_links::student_id,
            merged_links::display_name,
            merged_links::school_id,
        ))
        .load(conn)?;
    diesel::delete(linked_students::table.filter(linked_students::account_id.eq(id)))
        .execute(conn)?;
    let mut seen = std::collections::HashSet::new();
    for (student, name, school) in rows.iter().filter(|r| seen.insert(r.0.clone())) {
        diesel::insert_into(linked_students::table)
            .values((
                linked_students::account_id.eq(id),
                linked_students::student_id.eq(student),
                linked_students::display_name.eq(name),
                linked_students::school_id.eq(school),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Sets an account's status and its activation and deactivation times.
pub fn set_status(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    activated_at: Option<NaiveDateTime>,
    deactivated_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::status.eq(status),
            accounts::activated_at.eq(activated_at),
            accounts::deactivated_at.eq(deactivated_at),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Copies one account's password hash to another (or clears it).
pub fn copy_password(conn: &mut DbConn, from: Option<&str>, to: &str) -> QueryResult<usize> {
    let hash: Option<String> = match from {
        Some(from) => accounts::table
            .find(from)
            .select(accounts::password_hash)
            .first(conn)?,
        None => None,
    };
    diesel::update(accounts::table.find(to))
        .set(accounts::password_hash.eq(hash))
        .execute(conn)
}

/// Stores a merge.
pub fn insert(conn: &mut DbConn, row: &MergeRow) -> QueryResult<usize> {
    diesel::insert_into(account_merges::table)
        .values(row)
        .execute(conn)
}

/// A merge by id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<MergeRow>> {
    account_merges::table
        .find(id)
        .select(MergeRow::as_select())
        .first(conn)
        .optional()
}

/// The merges into an account that were not undone, oldest first.
pub fn into_account(conn: &mut DbConn, survivor: &str) -> QueryResult<Vec<MergeRow>> {
    account_merges::table
        .filter(account_merges::survivor_id.eq(survivor))
        .filter(account_merges::undone_at.is_null())
        .order(account_merges::created_at)
        .select(MergeRow::as_select())
        .load(conn)
}

/// The accounts merged into each of `survivors` (merges not undone).
pub fn merged_into(
    conn: &mut DbConn,
    survivors: &[String],
) -> QueryResult<std::collections::HashMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = account_merges::table
        .filter(account_merges::survivor_id.eq_any(survivors))
        .filter(account_merges::undone_at.is_null())
        .select((account_merges::survivor_id, account_merges::merged_ids))
        .load(conn)?;
    let mut out: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for (survivor, merged) in rows {
        out.entry(survivor)
            .or_default()
            .extend(merged.split(' ').map(String::from));
    }
    Ok(out)
}

/// Marks a merge undone.
pub fn mark_undone(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(account_merges::table.find(id))
        .set(account_merges::undone_at.eq(now))
        .execute(conn)
}
