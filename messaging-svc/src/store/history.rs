//! An account's history (MS-5, ID-11): every delivery that stood for it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::{communications, deliveries, delivery_recipients};

/// One history row.
#[derive(Debug, Clone, Queryable)]
pub struct HistoryRow {
    pub delivery_id: String,
    pub communication_id: String,
    pub kind: String,
    pub subject: String,
    pub sender_account_id: String,
    pub emergency: bool,
    pub channel: String,
    pub address: String,
    pub status: String,
    pub skip_reason: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Newest first (delivery ids are time-ordered UUIDv7), after `before` if given.
pub fn page(
    conn: &mut DbConn,
    account_ids: &[String],
    channel: Option<&str>,
    include_system: bool,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<HistoryRow>> {
    let mut q = delivery_recipients::table
        .inner_join(deliveries::table.inner_join(communications::table))
        .filter(delivery_recipients::account_id.eq_any(account_ids))
        // A delivery that served two of the accounts is one entry.
        .distinct()
        .select((
            deliveries::id,
            deliveries::communication_id,
            communications::kind,
            communications::subject,
            communications::sender_account_id,
            communications::emergency,
            deliveries::channel,
            deliveries::address,
            deliveries::status,
            deliveries::skip_reason,
            deliveries::last_error,
            deliveries::created_at,
            deliveries::updated_at,
        ))
        .order(deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(channel) = channel {
        q = q.filter(deliveries::channel.eq(channel));
    }
    if !include_system {
        q = q.filter(communications::kind.ne("system"));
    }
    if let Some(before) = before {
        q = q.filter(deliveries::id.lt(before));
    }
    q.load(conn)
}
