//! RO-8: guardian records pointed at the survivor of a merge, and back.

use std::collections::BTreeMap;

use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::{guardian_merges, people};

/// A guardian record and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct GuardianRecord {
    /// Roster person id.
    pub guardian_id: String,
    /// The source (or upload) that supplies it.
    pub source_system: String,
    /// Its id there.
    pub source_id: String,
}

/// Points the district's guardian records of `merged` accounts at `survivor`,
/// remembering each record's account under `merge_id` (once: a retried merge
/// finds them pointed already).
pub fn point_at(
    conn: &mut DbConn,
    district_id: &str,
    merge_id: &str,
    merged: &[String],
    survivor: &str,
) -> QueryResult<usize> {
    let records: Vec<(String, Option<String>)> = people::table
        .filter(people::district_id.eq(district_id))
        .filter(people::kind.eq("guardian"))
        .filter(people::account_id.eq_any(merged))
        .select((people::id, people::account_id))
        .load(conn)?;
    for (person, account) in &records {
        let Some(account) = account else { continue };
        diesel::insert_into(guardian_merges::table)
            .values((
                guardian_merges::merge_id.eq(merge_id),
                guardian_merges::person_id.eq(person),
                guardian_merges::previous_account_id.eq(account),
            ))
            .execute(conn)?;
    }
    let ids: Vec<&String> = records.iter().map(|(p, _)| p).collect();
    diesel::update(people::table.filter(people::id.eq_any(ids)))
        .set(people::account_id.eq(survivor))
        .execute(conn)
}

/// Gives the records of a merge their own accounts back.
pub fn point_back(conn: &mut DbConn, merge_id: &str) -> QueryResult<usize> {
    let rows: Vec<(String, String)> = guardian_merges::table
        .filter(guardian_merges::merge_id.eq(merge_id))
        .select((
            guardian_merges::person_id,
            guardian_merges::previous_account_id,
        ))
        .load(conn)?;
    for (person, account) in &rows {
        diesel::update(people::table.find(person))
            .set(people::account_id.eq(account))
            .execute(conn)?;
    }
    diesel::delete(guardian_merges::table.filter(guardian_merges::merge_id.eq(merge_id)))
        .execute(conn)
}

/// The guardian records of accounts: account id → records.
pub fn records_of(
    conn: &mut DbConn,
    accounts: &[String],
) -> QueryResult<BTreeMap<String, Vec<GuardianRecord>>> {
    let rows: Vec<(Option<String>, String, String, String)> = people::table
        .filter(people::kind.eq("guardian"))
        .filter(people::account_id.eq_any(accounts))
        .order((people::source_system, people::source_id))
        .select((
            people::account_id,
            people::id,
            people::source_system,
            people::source_id,
        ))
        .load(conn)?;
    let mut out: BTreeMap<String, Vec<GuardianRecord>> = BTreeMap::new();
    for (account, guardian_id, source_system, source_id) in rows {
        if let Some(account) = account {
            out.entry(account).or_default().push(GuardianRecord {
                guardian_id,
                source_system,
                source_id,
            });
        }
    }
    Ok(out)
}
