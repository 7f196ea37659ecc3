//! Provider events and address status reads (MS-5, MS-6, MS-7): deliveries by
//! id or provider id, forward-only status changes, once-only event rows, the
//! district an address was sent for, and an address's event history.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{db::DbConn, on_backend};

use super::schema::{address_events, communications, deliveries, delivery_recipients};
use crate::domain::plan::Channel;

/// What provider events need of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRef {
    /// The delivery.
    pub id: String,
    /// email | sms | voice.
    pub channel: String,
    /// Normalised address.
    pub address: String,
    /// Current status.
    pub status: String,
    /// Twilio SID or email Message-ID, once sent.
    pub provider_message_id: Option<String>,
}

/// Deliveries with the given ids.
pub fn deliveries_by_id(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<DeliveryRef>> {
    deliveries::table
        .filter(deliveries::id.eq_any(ids))
        .select(DeliveryRef::as_select())
        .load(conn)
}

/// Deliveries with the given provider message ids.
pub fn deliveries_by_provider_id(
    conn: &mut DbConn,
    provider_ids: &[String],
) -> QueryResult<Vec<DeliveryRef>> {
    deliveries::table
        .filter(deliveries::provider_message_id.eq_any(provider_ids))
        .select(DeliveryRef::as_select())
        .load(conn)
}

/// Fields a status change writes besides the status (`None` leaves a column as is).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = deliveries)]
pub struct StatusChange<'a> {
    /// The new status.
    pub status: &'a str,
    /// Why it failed, bounced or was skipped.
    pub last_error: Option<&'a str>,
    /// For `skipped`.
    pub skip_reason: Option<&'a str>,
    /// When.
    pub updated_at: NaiveDateTime,
    /// When the provider confirmed delivery (for `delivered`).
    pub delivered_at: Option<NaiveDateTime>,
}

/// Moves a delivery to `change.status` only while its status is one of `from`
/// (the statuses it may advance from), so a late or repeated event never moves
/// it backwards, even when two arrive at once. Returns whether it moved.
pub fn advance(
    conn: &mut DbConn,
    id: &str,
    from: &[&str],
    change: &StatusChange<'_>,
) -> QueryResult<bool> {
    if from.is_empty() {
        return Ok(false);
    }
    let n = diesel::update(
        deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::status.eq_any(from)),
    )
    .set(change)
    .execute(conn)?;
    Ok(n == 1)
}

/// Records the provider's id on a delivery that has none yet (a callback that
/// beat the worker's own record of the send).
pub fn set_provider_id_if_missing(
    conn: &mut DbConn,
    id: &str,
    provider_message_id: &str,
) -> QueryResult<()> {
    diesel::update(
        deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::provider_message_id.is_null()),
    )
    .set(deliveries::provider_message_id.eq(provider_message_id))
    .execute(conn)?;
    Ok(())
}

/// One row of an address's history.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// Its id: derived from the provider's event id when there is one, so the
    /// same event stored twice is stored once.
    pub id: &'a str,
    /// Channel.
    pub channel: Channel,
    /// Address.
    pub address: &'a str,
    /// `hard_bounce`, `soft_bounce`, `complaint`, `reset`, `stop`, `start`, `provider_event`.
    pub kind: &'a str,
    /// Why, in words.
    pub reason: &'a str,
    /// The delivery it is about, if any.
    pub delivery_id: Option<&'a str>,
    /// The account that did it (resets).
    pub actor_id: Option<&'a str>,
    /// When.
    pub at: NaiveDateTime,
}

/// Appends an event unless one with the same id exists; returns whether it was new.
pub fn record_once(conn: &mut DbConn, e: &NewEvent<'_>) -> QueryResult<bool> {
    let n = on_backend!(conn, c => diesel::insert_into(address_events::table)
        .values((
            address_events::id.eq(e.id),
            address_events::channel.eq(e.channel.as_str()),
            address_events::address.eq(e.address),
            address_events::kind.eq(e.kind),
            address_events::reason.eq(e.reason),
            address_events::delivery_id.eq(e.delivery_id),
            address_events::actor_id.eq(e.actor_id),
            address_events::created_at.eq(e.at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Whether the district ever sent to `address` (on any channel): Reset Status
/// acts only on addresses of the caller's district.
pub fn district_sent_to(conn: &mut DbConn, district_id: &str, address: &str) -> QueryResult<bool> {
    let of_district = communications::table
        .filter(communications::district_id.eq(district_id))
        .select(communications::id);
    let found: Option<String> = deliveries::table
        .filter(deliveries::address.eq(address))
        .filter(deliveries::communication_id.eq_any(of_district))
        .select(deliveries::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The address an account was last sent on one of `channels` in the district.
pub fn account_address(
    conn: &mut DbConn,
    district_id: &str,
    account_id: &str,
    channels: &[Channel],
) -> QueryResult<Option<String>> {
    let names: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
    let of_district = communications::table
        .filter(communications::district_id.eq(district_id))
        .select(communications::id);
    let of_account = delivery_recipients::table
        .filter(delivery_recipients::account_id.eq(account_id))
        .select(delivery_recipients::delivery_id);
    deliveries::table
        .filter(deliveries::id.eq_any(of_account))
        .filter(deliveries::channel.eq_any(names))
        .filter(deliveries::communication_id.eq_any(of_district))
        .order(deliveries::created_at.desc())
        .select(deliveries::address)
        .first(conn)
        .optional()
}

/// Which of `addresses` an account was ever sent to (its own addresses).
pub fn addresses_of_account(
    conn: &mut DbConn,
    account_id: &str,
    addresses: &[String],
) -> QueryResult<HashSet<String>> {
    let of_account = delivery_recipients::table
        .filter(delivery_recipients::account_id.eq(account_id))
        .select(delivery_recipients::delivery_id);
    let found: Vec<String> = deliveries::table
        .filter(deliveries::id.eq_any(of_account))
        .filter(deliveries::address.eq_any(addresses))
        .select(deliveries::address)
        .distinct()
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// One stored event of an address.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = address_events)]
pub struct EventRow {
    /// Channel.
    pub channel: String,
    /// Address.
    pub address: String,
    /// Kind.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// Who (resets).
    pub actor_id: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Events of the given kinds of `addresses` (any channel) after `since`, oldest first.
pub fn events_of(
    conn: &mut DbConn,
    addresses: &[String],
    kinds: &[&str],
    since: Option<NaiveDateTime>,
) -> QueryResult<Vec<EventRow>> {
    // Every channel named, so the (channel, address, created_at) index serves.
    let channels = [Channel::Email, Channel::Sms, Channel::Voice].map(Channel::as_str);
    let mut query = address_events::table
        .filter(address_events::channel.eq_any(channels))
        .filter(address_events::address.eq_any(addresses))
        .filter(address_events::kind.eq_any(kinds))
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(address_events::created_at.gt(since));
    }
    query
        .order((address_events::created_at, address_events::id))
        .select(EventRow::as_select())
        .load(conn)
}
