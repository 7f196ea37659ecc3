//! Reading communications (MS-1, MS-5): one by id, a district's page newest
//! first, what planning knew (audience, accounts reached and skipped), and
//! live delivery counts per channel, status and skip reason.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;
use serde::{Deserialize, Serialize};

use super::schema::{communication_recipients, communications, deliveries};

diesel::define_sql_function! {
    /// SQL `lower(text)`, on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Delivery statuses still waiting for a worker or a provider answer.
pub const IN_FLIGHT: [&str; 2] = ["queued", "sending"];

/// A communication as listings show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = communications)]
pub struct CommunicationRecord {
    pub id: String,
    pub district_id: String,
    pub sender_account_id: String,
    pub subject: String,
    pub body: String,
    /// JSON: `[[language, subject, body], …]`.
    pub variants: String,
    /// Comma-separated channel names.
    pub channels: String,
    pub emergency: bool,
    /// JSON of the audience as requested.
    pub audience: String,
    /// JSON of [`PlannedCounts`].
    pub planned_counts: String,
    pub created_at: NaiveDateTime,
}

/// What planning knew of one channel and the deliveries cannot say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlannedChannel {
    /// Accounts reached on the channel through some address.
    pub recipients: u64,
    /// Accounts skipped, by stored skip reason (`no_preference`, `no_address`).
    pub account_skips: BTreeMap<String, u64>,
}

/// What planning counted; stored as JSON on the communication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlannedCounts {
    /// Accounts in the audience (`None` on rows planned before it was stored).
    pub recipients: Option<u64>,
    /// Per channel name.
    pub channels: BTreeMap<String, PlannedChannel>,
}

/// Stores the audience and planned counts of a communication just inserted.
pub fn set_plan_details(
    conn: &mut DbConn,
    id: &str,
    audience: &str,
    planned_counts: &str,
) -> QueryResult<()> {
    diesel::update(communications::table.find(id))
        .set((
            communications::audience.eq(audience),
            communications::planned_counts.eq(planned_counts),
        ))
        .execute(conn)?;
    Ok(())
}

/// A communication (not a system message) by id.
pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<CommunicationRecord>> {
    communications::table
        .find(id)
        .filter(communications::kind.eq("communication"))
        .select(CommunicationRecord::as_select())
        .first(conn)
        .optional()
}

/// Which communications of a district to list.
#[derive(Debug, Clone, Default)]
pub struct CommunicationFilter {
    /// District.
    pub district_id: String,
    /// Only this sender's.
    pub sender_account_id: Option<String>,
    /// `Some(true)`: only those with deliveries in flight; `Some(false)`: only
    /// those without.
    pub in_flight: Option<bool>,
    /// Only emergencies.
    pub emergency_only: bool,
    /// Created at or after.
    pub since: Option<NaiveDateTime>,
    /// Created before.
    pub until: Option<NaiveDateTime>,
    /// Lower-case text the subject contains.
    pub subject_contains: Option<String>,
    /// Ids below this one (the previous page's last).
    pub before_id: Option<String>,
}

/// Up to `limit` communications matching `f`, newest first (ids are UUIDv7).
pub fn page(
    conn: &mut DbConn,
    f: &CommunicationFilter,
    limit: i64,
) -> QueryResult<Vec<CommunicationRecord>> {
    let mut q = communications::table
        .filter(communications::district_id.eq(&f.district_id))
        .filter(communications::kind.eq("communication"))
        .select(CommunicationRecord::as_select())
        .order(communications::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(sender) = &f.sender_account_id {
        q = q.filter(communications::sender_account_id.eq(sender));
    }
    let in_flight = deliveries::table
        .filter(deliveries::status.eq_any(IN_FLIGHT))
        .select(deliveries::communication_id);
    match f.in_flight {
        Some(true) => q = q.filter(communications::id.eq_any(in_flight)),
        Some(false) => q = q.filter(diesel::dsl::not(communications::id.eq_any(in_flight))),
        None => {}
    }
    if f.emergency_only {
        q = q.filter(communications::emergency.eq(true));
    }
    if let Some(since) = f.since {
        q = q.filter(communications::created_at.ge(since));
    }
    if let Some(until) = f.until {
        q = q.filter(communications::created_at.lt(until));
    }
    if let Some(text) = &f.subject_contains {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q = q.filter(
            lower(communications::subject)
                .like(format!("%{escaped}%"))
                .escape('\\'),
        );
    }
    if let Some(before) = &f.before_id {
        q = q.filter(communications::id.lt(before));
    }
    q.load(conn)
}

/// Deliveries of some communications grouped by channel, status and skip reason.
#[derive(Debug, Clone, Queryable)]
pub struct CountRow {
    pub communication_id: String,
    pub channel: String,
    pub status: String,
    pub skip_reason: Option<String>,
    pub count: i64,
    /// The latest change among them.
    pub last_change: Option<NaiveDateTime>,
}

/// Live delivery counts of the given communications.
pub fn delivery_counts(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<CountRow>> {
    deliveries::table
        .filter(deliveries::communication_id.eq_any(ids))
        .group_by((
            deliveries::communication_id,
            deliveries::channel,
            deliveries::status,
            deliveries::skip_reason,
        ))
        .select((
            deliveries::communication_id,
            deliveries::channel,
            deliveries::status,
            deliveries::skip_reason,
            diesel::dsl::count_star(),
            diesel::dsl::max(deliveries::updated_at),
        ))
        .load(conn)
}

/// Accounts each of the given communications was for (rows planned before
/// [`PlannedCounts::recipients`] was stored).
pub fn recipient_counts(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, i64)>> {
    communication_recipients::table
        .filter(communication_recipients::communication_id.eq_any(ids))
        .group_by(communication_recipients::communication_id)
        .select((
            communication_recipients::communication_id,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}
