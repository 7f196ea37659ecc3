//! ID-5 tables: SSO logins begun and not finished (`sso_pending_logins`), and
//! the (issuer, subject) links of accounts (`sso_links`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{db::DbConn, on_backend};

use super::{
    accounts::AccountRow,
    schema::{account_sources, accounts, sso_links, sso_pending_logins},
};
use crate::domain::accounts::AccountStatus;

/// A login begun: what its callback needs, found by the hash of its state.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_pending_logins)]
pub struct PendingLoginRow {
    pub state_hash: String,
    pub provider_id: String,
    pub nonce: String,
    pub code_verifier: String,
    pub redirect_uri: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Stores a login begun, forgetting the ones that expired.
pub fn insert_pending(conn: &mut DbConn, row: &PendingLoginRow) -> QueryResult<usize> {
    diesel::delete(
        sso_pending_logins::table.filter(sso_pending_logins::expires_at.le(row.created_at)),
    )
    .execute(conn)?;
    diesel::insert_into(sso_pending_logins::table)
        .values(row)
        .execute(conn)
}

/// Uses a login begun once: returns it if this call removed it and it had not
/// expired. Two concurrent callbacks cannot both get it.
pub fn take_pending(
    conn: &mut DbConn,
    state_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<PendingLoginRow>> {
    let Some(row) = sso_pending_logins::table
        .filter(sso_pending_logins::state_hash.eq(state_hash))
        .select(PendingLoginRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let removed = diesel::delete(
        sso_pending_logins::table.filter(sso_pending_logins::state_hash.eq(state_hash)),
    )
    .execute(conn)?;
    Ok(Some(row).filter(|r| removed == 1 && r.expires_at > now))
}

/// The account linked to (issuer, subject), if any.
pub fn linked_account(
    conn: &mut DbConn,
    issuer: &str,
    subject: &str,
) -> QueryResult<Option<AccountRow>> {
    sso_links::table
        .inner_join(accounts::table.on(accounts::id.eq(sso_links::account_id)))
        .filter(sso_links::issuer.eq(issuer))
        .filter(sso_links::subject.eq(subject))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// Links (issuer, subject) to an account unless it is linked already; returns
/// the account it is linked to now.
pub fn link(
    conn: &mut DbConn,
    issuer: &str,
    subject: &str,
    account_id: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    on_backend!(conn, c => diesel::insert_into(sso_links::table)
        .values((
            sso_links::issuer.eq(issuer),
            sso_links::subject.eq(subject),
            sso_links::account_id.eq(account_id),
            sso_links::created_at.eq(now),
        ))
        .on_conflict((sso_links::issuer, sso_links::subject))
        .do_nothing()
        .execute(c))?;
    sso_links::table
        .filter(sso_links::issuer.eq(issuer))
        .filter(sso_links::subject.eq(subject))
        .select(sso_links::account_id)
        .first(conn)
}

/// Accounts of a district, not deactivated, with `source_id` as an external
/// id from any source system.
pub fn accounts_by_external_id(
    conn: &mut DbConn,
    district_id: &str,
    source_id: &str,
) -> QueryResult<Vec<AccountRow>> {
    let mut rows: Vec<AccountRow> = account_sources::table
        .inner_join(accounts::table)
        .filter(account_sources::district_id.eq(district_id))
        .filter(account_sources::source_id.eq(source_id))
        .filter(accounts::district_id.eq(district_id))
        .filter(accounts::status.ne(AccountStatus::Deactivated.as_str()))
        .select(AccountRow::as_select())
        .order(accounts::id)
        .load(conn)?;
    rows.dedup_by(|a, b| a.id == b.id);
    Ok(rows)
}

/// An invitee signing in with SSO has joined: it becomes ACTIVE.
pub fn activate_invitee(
    conn: &mut DbConn,
    account_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        accounts::table
            .filter(accounts::id.eq(account_id))
            .filter(accounts::status.eq(AccountStatus::Invitee.as_str())),
    )
    .set((
        accounts::status.eq(AccountStatus::Active.as_str()),
        accounts::activated_at.eq(now),
        accounts::updated_at.eq(now),
    ))
    .execute(conn)
}
