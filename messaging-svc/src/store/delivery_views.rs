//! A communication's deliveries as ListDeliveries shows them (MS-5): in the
//! order they were planned, filtered by status and channel, paged by id, with
//! the accounts each one serves.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::{deliveries, delivery_recipients};

/// One delivery with everything a listing shows.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRecord {
    pub id: String,
    pub communication_id: String,
    pub channel: String,
    pub address: String,
    pub language: String,
    pub status: String,
    pub skip_reason: Option<String>,
    pub attempts: i32,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Which deliveries of a communication.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// The communication.
    pub communication_id: String,
    /// Only these stored statuses; empty means any.
    pub statuses: Vec<&'static str>,
    /// Only this channel.
    pub channel: Option<&'static str>,
}

type Boxed<'a> =
    deliveries::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend, deliveries::SqlType>;

fn filtered(f: &DeliveryFilter) -> Boxed<'_> {
    let mut q = deliveries::table
        .filter(deliveries::communication_id.eq(&f.communication_id))
        .into_boxed();
    if !f.statuses.is_empty() {
        q = q.filter(deliveries::status.eq_any(&f.statuses));
    }
    if let Some(channel) = f.channel {
        q = q.filter(deliveries::channel.eq(channel));
    }
    q
}

/// Up to `limit` deliveries matching `f` with ids above `after_id`, by id.
pub fn page(
    conn: &mut DbConn,
    f: &DeliveryFilter,
    after_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRecord>> {
    let mut q = filtered(f);
    if let Some(after) = after_id {
        q = q.filter(deliveries::id.gt(after));
    }
    q.select(DeliveryRecord::as_select())
        .order(deliveries::id.asc())
        .limit(limit)
        .load(conn)
}

/// How many deliveries match `f` (all pages).
pub fn count(conn: &mut DbConn, f: &DeliveryFilter) -> QueryResult<i64> {
    filtered(f).count().get_result(conn)
}

/// (delivery, account) pairs of the given deliveries.
pub fn recipients_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    delivery_recipients::table
        .filter(delivery_recipients::delivery_id.eq_any(ids))
        .select((
            delivery_recipients::delivery_id,
            delivery_recipients::account_id,
        ))
        .order((
            delivery_recipients::delivery_id,
            delivery_recipients::account_id,
        ))
        .load(conn)
}
