//! Queries behind the identity reports: addresses shared within a district and
//! their holders (ID-9), and the audit log read by page and written in batches
//! (ID-10).

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::{
    dsl::{count, max},
    prelude::*,
};
use homeroom_platform::{bulk_insert, db::DbConn};

use super::{
    audit::AuditRow,
    schema::{
        account_credentials, accounts, addresses, audit_events, linked_students, role_grants,
    },
};
use crate::domain::accounts::AccountStatus;

/// Ids per `IN (…)` list: well under either backend's bound-parameter limit.
const CHUNK: usize = 500;

/// An address that two or more counted accounts of a district hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedAddress {
    /// `addresses.id`.
    pub address_id: String,
    /// Normalised value.
    pub value: String,
    /// The greatest credential kind it is held as: `email`, or for a phone
    /// `mobile_phone` when any counted holder has it as their mobile, else `home_phone`.
    pub credential_kind: String,
    /// Distinct counted holders (2 or more).
    pub holders: i64,
}

/// Addresses held, as one of `kinds`, by two or more accounts of the district
/// that are not deactivated. One aggregate over the district's credentials
/// (`GROUP BY address HAVING COUNT(DISTINCT account) > 1`); unordered.
pub fn shared_addresses(
    conn: &mut DbConn,
    district_id: &str,
    kinds: &[&str],
) -> QueryResult<Vec<SharedAddress>> {
    let holders = || count(account_credentials::account_id).aggregate_distinct();
    let rows: Vec<(String, String, Option<String>, i64)> = account_credentials::table
        .inner_join(accounts::table)
        .inner_join(addresses::table)
        .filter(accounts::district_id.eq(district_id))
        .filter(accounts::status.ne(AccountStatus::Deactivated.as_str()))
        .filter(account_credentials::kind.eq_any(kinds))
        .group_by((addresses::id, addresses::value))
        .having(holders().gt(1))
        // 'mobile_phone' sorts after 'home_phone', so MAX says whether anyone
        // holds the phone as a mobile.
        .select((
            addresses::id,
            addresses::value,
            max(account_credentials::kind),
            holders(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(address_id, value, kind, holders)| SharedAddress {
            address_id,
            value,
            credential_kind: kind.unwrap_or_default(),
            holders,
        })
        .collect())
}

/// Addresses that an account of the school holds as one of `kinds` (accounts not
/// deactivated). An account is in the school when it has a role scoped to the
/// school or a linked student there.
pub fn addresses_in_school(
    conn: &mut DbConn,
    district_id: &str,
    school_id: &str,
    kinds: &[&str],
) -> QueryResult<HashSet<String>> {
    let by_role = role_grants::table
        .filter(role_grants::school_id.eq(school_id))
        .select(role_grants::account_id);
    let by_student = linked_students::table
        .filter(linked_students::school_id.eq(school_id))
        .select(linked_students::account_id);
    let ids: Vec<String> = account_credentials::table
        .inner_join(accounts::table)
        .filter(accounts::district_id.eq(district_id))
        .filter(accounts::status.ne(AccountStatus::Deactivated.as_str()))
        .filter(account_credentials::kind.eq_any(kinds))
        .filter(
            account_credentials::account_id
                .eq_any(by_role)
                .or(account_credentials::account_id.eq_any(by_student)),
        )
        .select(account_credentials::address_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().collect())
}

/// One account holding one address (as one credential kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderRow {
    /// The address.
    pub address_id: String,
    /// `email`, `mobile_phone` or `home_phone`.
    pub credential_kind: String,
    /// ID-7.
    pub confirmed: bool,
    /// The account.
    pub account_id: String,
    /// Its kind.
    pub account_kind: String,
    /// Its status.
    pub status: String,
    /// Given name.
    pub given_name: String,
    /// Middle name.
    pub middle_name: String,
    /// Family name.
    pub family_name: String,
}

/// Every account of the district (deactivated ones too) holding one of the
/// addresses as one of `kinds`.
pub fn holders(
    conn: &mut DbConn,
    district_id: &str,
    address_ids: &[String],
    kinds: &[&str],
) -> QueryResult<Vec<HolderRow>> {
    type Row = (
        String,
        String,
        Option<NaiveDateTime>,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let mut out = Vec::new();
    for chunk in address_ids.chunks(CHUNK) {
        // By address only (its index); an address has few holders, so the
        // district is checked on the rows.
        let rows: Vec<Row> = account_credentials::table
            .inner_join(accounts::table)
            .filter(account_credentials::address_id.eq_any(chunk))
            .filter(account_credentials::kind.eq_any(kinds))
            .select((
                account_credentials::address_id,
                account_credentials::kind,
                account_credentials::confirmed_at,
                accounts::id,
                accounts::district_id,
                accounts::kind,
                accounts::status,
                accounts::given_name,
                accounts::middle_name,
                accounts::family_name,
            ))
            .load(conn)?;
        out.extend(rows.into_iter().filter(|r| r.4 == district_id).map(
            |(
                address_id,
                kind,
                confirmed_at,
                account_id,
                _,
                account_kind,
                status,
                given,
                middle,
                family,
            )| {
                HolderRow {
                    address_id,
                    credential_kind: kind,
                    confirmed: confirmed_at.is_some(),
                    account_id,
                    account_kind,
                    status,
                    given_name: given,
                    middle_name: middle,
                    family_name: family,
                }
            },
        ));
    }
    Ok(out)
}

/// `(account_id, role, school_id, source_system)` of every grant of the accounts.
pub fn grants_of(
    conn: &mut DbConn,
    account_ids: &[String],
) -> QueryResult<Vec<(String, String, String, String)>> {
    let mut out = Vec::new();
    for chunk in account_ids.chunks(CHUNK) {
        out.extend(
            role_grants::table
                .filter(role_grants::account_id.eq_any(chunk))
                .select((
                    role_grants::account_id,
                    role_grants::role,
                    role_grants::school_id,
                    role_grants::source_system,
                ))
                .load::<(String, String, String, String)>(conn)?,
        );
    }
    Ok(out)
}

/// `(account_id, student_id, display_name, school_id)` of the accounts' linked students.
pub fn students_of(
    conn: &mut DbConn,
    account_ids: &[String],
) -> QueryResult<Vec<(String, String, String, String)>> {
    let mut out = Vec::new();
    for chunk in account_ids.chunks(CHUNK) {
        out.extend(
            linked_students::table
                .filter(linked_students::account_id.eq_any(chunk))
                .select((
                    linked_students::account_id,
                    linked_students::student_id,
                    linked_students::display_name,
                    linked_students::school_id,
                ))
                .load::<(String, String, String, String)>(conn)?,
        );
    }
    Ok(out)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
struct NewAuditRow<'a> {
    id: &'a str,
    district_id: &'a str,
    kind: &'a str,
    actor_id: Option<&'a str>,
    subject_account_id: Option<&'a str>,
    client_address: Option<&'a str>,
    detail: &'a str,
    created_at: NaiveDateTime,
}

/// Appends audit rows in bulk (a batch from another service).
pub fn insert_audit_rows(conn: &mut DbConn, rows: &[AuditRow]) -> QueryResult<usize> {
    let rows: Vec<NewAuditRow<'_>> = rows
        .iter()
        .map(|r| NewAuditRow {
            id: &r.id,
            district_id: &r.district_id,
            kind: &r.kind,
            actor_id: r.actor_id.as_deref(),
            subject_account_id: r.subject_account_id.as_deref(),
            client_address: r.client_address.as_deref(),
            detail: &r.detail,
            created_at: r.created_at,
        })
        .collect();
    bulk_insert!(conn, audit_events::table, &rows, 200)
}

/// Which audit rows of a district to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The district.
    pub district_id: String,
    /// Stored kinds; empty means any.
    pub kinds: Vec<String>,
    /// Rows this account acted in or is the subject of.
    pub account_id: Option<String>,
    /// At or after.
    pub since: Option<NaiveDateTime>,
    /// Before.
    pub until: Option<NaiveDateTime>,
    /// Rows strictly older than this `(created_at, id)` (the previous page's last).
    pub before: Option<(NaiveDateTime, String)>,
}

/// Up to `limit` rows matching the filter, newest first.
pub fn audit_page(
    conn: &mut DbConn,
    filter: &AuditFilter,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_events::table
        .filter(audit_events::district_id.eq(&filter.district_id))
        .into_boxed();
    if !filter.kinds.is_empty() {
        q = q.filter(audit_events::kind.eq_any(&filter.kinds));
    }
    if let Some(account) = &filter.account_id {
        q = q.filter(
            audit_events::actor_id
                .eq(account)
                .or(audit_events::subject_account_id.eq(account)),
        );
    }
    if let Some(since) = filter.since {
        q = q.filter(audit_events::created_at.ge(since));
    }
    if let Some(until) = filter.until {
        q = q.filter(audit_events::created_at.lt(until));
    }
    if let Some((at, id)) = &filter.before {
        q = q.filter(
            audit_events::created_at.lt(*at).or(audit_events::created_at
                .eq(*at)
                .and(audit_events::id.lt(id))),
        );
    }
    q.order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}
