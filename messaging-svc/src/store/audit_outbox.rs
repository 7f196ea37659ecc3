//! The audit outbox (MS-7, ID-10): events for identity's audit log, stored
//! with what they record and claimed by forwarders under a lease (the claim
//! moves `next_attempt_at` past it), so any number of replicas forward each
//! event once unless identity's answer is lost.

use chrono::NaiveDateTime;
use diesel::{
    prelude::*,
    sql_types::{BigInt, Integer, Text, Timestamp},
};
use homeroom_platform::{db::DbConn, on_backend};

use super::schema::audit_outbox;

/// Adds an event (its JSON) to the outbox, due now.
pub fn enqueue(conn: &mut DbConn, id: &str, event: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(audit_outbox::table)
        .values((
            audit_outbox::id.eq(id),
            audit_outbox::event.eq(event),
            audit_outbox::attempts.eq(0),
            audit_outbox::next_attempt_at.eq(now),
            audit_outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// An event a forwarder has claimed.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    /// Its id.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// The event's JSON.
    #[diesel(sql_type = Text)]
    pub event: String,
    /// Tries so far, this one included.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

const CLAIM_SQL: &str = "UPDATE audit_outbox SET next_attempt_at = $1, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM audit_outbox WHERE next_attempt_at <= $2 \
                  ORDER BY next_attempt_at, id LIMIT $3{lock}) \
     RETURNING id, event, attempts";

/// Claims up to `limit` due events until `lease_until`.
pub fn claim(
    conn: &mut DbConn,
    lease_until: NaiveDateTime,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let query = diesel::sql_query(CLAIM_SQL.replace("{lock}", super::skip_locked(conn)))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit);
    on_backend!(conn, c => query.load(c))
}

/// Drops events identity has taken.
pub fn remove(conn: &mut DbConn, ids: &[String]) -> QueryResult<usize> {
    diesel::delete(audit_outbox::table.filter(audit_outbox::id.eq_any(ids))).execute(conn)
}

/// Schedules events identity did not take for another try at `at`.
pub fn retry_at(
    conn: &mut DbConn,
    ids: &[String],
    at: NaiveDateTime,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(audit_outbox::table.filter(audit_outbox::id.eq_any(ids)))
        .set((
            audit_outbox::next_attempt_at.eq(at),
            audit_outbox::last_error.eq(error),
        ))
        .execute(conn)
}

/// Events waiting: (id, attempts, last error), oldest first (tests, operators).
pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<(String, i32, Option<String>)>> {
    audit_outbox::table
        .order((audit_outbox::created_at, audit_outbox::id))
        .select((
            audit_outbox::id,
            audit_outbox::attempts,
            audit_outbox::last_error,
        ))
        .load(conn)
}
