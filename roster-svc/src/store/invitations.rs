//! Invitations a run owes identity-svc: stored with the run's records, sent
//! after the run completes, and retried with backoff until identity takes
//! them, so a crash or an identity outage loses none.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{bulk_insert, db::DbConn};

use super::schema::pending_invitations;

/// One owed invitation.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_invitations, treat_none_as_default_value = false)]
pub struct PendingInvitation {
    pub run_id: String,
    pub account_id: String,
    pub district_id: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Records the invitations a run owes; the sweeper leaves them to the run
/// until `first_sweep`.
pub fn owe(
    conn: &mut DbConn,
    run_id: &str,
    district_id: &str,
    account_ids: &[String],
    now: NaiveDateTime,
    first_sweep: NaiveDateTime,
) -> QueryResult<usize> {
    let rows: Vec<PendingInvitation> = account_ids
        .iter()
        .map(|a| PendingInvitation {
            run_id: run_id.into(),
            account_id: a.clone(),
            district_id: district_id.into(),
            attempts: 0,
            next_attempt_at: first_sweep,
            created_at: now,
        })
        .collect();
    bulk_insert!(conn, pending_invitations::table, &rows, 1_000)
}

/// Up to `limit` owed invitations: a run's (whenever due), or any run's that
/// are due by `now` — oldest first.
pub fn owed(
    conn: &mut DbConn,
    run_id: Option<&str>,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<PendingInvitation>> {
    let mut q = pending_invitations::table.into_boxed();
    q = match run_id {
        Some(r) => q.filter(pending_invitations::run_id.eq(r)),
        None => q.filter(pending_invitations::next_attempt_at.le(now)),
    };
    q.order((pending_invitations::run_id, pending_invitations::account_id))
        .limit(limit)
        .select(PendingInvitation::as_select())
        .load(conn)
}

/// Holds a run's invitations for `until` while one process sends them.
pub fn hold(
    conn: &mut DbConn,
    run_id: &str,
    account_ids: &[String],
    until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        pending_invitations::table
            .filter(pending_invitations::run_id.eq(run_id))
            .filter(pending_invitations::account_id.eq_any(account_ids)),
    )
    .set(pending_invitations::next_attempt_at.eq(until))
    .execute(conn)
}

/// Forgets invitations identity took.
pub fn sent(conn: &mut DbConn, run_id: &str, account_ids: &[String]) -> QueryResult<usize> {
    diesel::delete(
        pending_invitations::table
            .filter(pending_invitations::run_id.eq(run_id))
            .filter(pending_invitations::account_id.eq_any(account_ids)),
    )
    .execute(conn)
}

/// Puts invitations identity did not take back for `retry_at`.
pub fn failed(
    conn: &mut DbConn,
    run_id: &str,
    account_ids: &[String],
    retry_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        pending_invitations::table
            .filter(pending_invitations::run_id.eq(run_id))
            .filter(pending_invitations::account_id.eq_any(account_ids)),
    )
    .set((
        pending_invitations::attempts.eq(pending_invitations::attempts + 1),
        pending_invitations::next_attempt_at.eq(retry_at),
    ))
    .execute(conn)
}
