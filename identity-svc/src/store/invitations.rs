//! `invitation_links`: join links by the hash of their token.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::invitation_links;

/// Stores a new link of `account_id`.
pub fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    account_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(invitation_links::table)
        .values((
            invitation_links::token_hash.eq(token_hash),
            invitation_links::account_id.eq(account_id),
            invitation_links::created_at.eq(now),
            invitation_links::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// The account of a link that is neither spent nor expired at `now`.
pub fn live_account(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    invitation_links::table
        .filter(invitation_links::token_hash.eq(token_hash))
        .filter(invitation_links::consumed_at.is_null())
        .filter(invitation_links::expires_at.gt(now))
        .select(invitation_links::account_id)
        .first(conn)
        .optional()
}

/// Ends every link of an account (it joined).
pub fn consume_all(conn: &mut DbConn, account_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        invitation_links::table
            .filter(invitation_links::account_id.eq(account_id))
            .filter(invitation_links::consumed_at.is_null()),
    )
    .set(invitation_links::consumed_at.eq(now))
    .execute(conn)
}
