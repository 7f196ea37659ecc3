//! Address status per (channel, address) and its event history (MS-3, MS-6, MS-7).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{db::DbConn, on_backend};

use super::schema::{address_events, address_status};
use crate::domain::plan::{AddressState, Channel};

/// The stored status of one address on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = address_status)]
pub struct StatusRow {
    pub channel: String,
    pub address: String,
    pub bad: bool,
    pub bad_reason: Option<String>,
    pub bad_since: Option<NaiveDateTime>,
    pub opted_out: bool,
    pub opted_out_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// States of the given addresses (unknown ones are fine: absent).
pub fn states(
    conn: &mut DbConn,
    addresses: &[String],
) -> QueryResult<HashMap<(Channel, String), AddressState>> {
    let mut out = HashMap::new();
    for chunk in addresses.chunks(1_000) {
        let rows: Vec<StatusRow> = address_status::table
            .filter(address_status::address.eq_any(chunk))
            .select(StatusRow::as_select())
            .load(conn)?;
        for row in rows {
            if let Some(channel) = Channel::parse(&row.channel) {
                out.insert(
                    (channel, row.address),
                    AddressState {
                        bad: row.bad,
                        opted_out: row.opted_out,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Status rows of the given addresses, any channel.
pub fn rows(conn: &mut DbConn, addresses: &[String]) -> QueryResult<Vec<StatusRow>> {
    address_status::table
        .filter(address_status::address.eq_any(addresses))
        .order((address_status::address, address_status::channel))
        .select(StatusRow::as_select())
        .load(conn)
}

/// Every address marked bad, any channel, as (channel, address), by address
/// then channel.
pub fn bad(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    address_status::table
        .filter(address_status::bad.eq(true))
        .order((address_status::address, address_status::channel))
        .select((address_status::channel, address_status::address))
        .load(conn)
}

fn ensure(
    conn: &mut DbConn,
    channel: Channel,
    address: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    on_backend!(conn, c => diesel::insert_into(address_status::table)
        .values((
            address_status::channel.eq(channel.as_str()),
            address_status::address.eq(address),
            address_status::bad.eq(false),
            address_status::opted_out.eq(false),
            address_status::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Marks an address bad on a channel with its reason (kept until a reset).
pub fn mark_bad(
    conn: &mut DbConn,
    channel: Channel,
    address: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    ensure(conn, channel, address, now)?;
    diesel::update(
        address_status::table
            .filter(address_status::channel.eq(channel.as_str()))
            .filter(address_status::address.eq(address)),
    )
    .set((
        address_status::bad.eq(true),
        address_status::bad_reason.eq(reason),
        address_status::bad_since.eq(now),
        address_status::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

/// Sets or clears the SMS opt-out of a number (STOP / START).
pub fn set_opted_out(
    conn: &mut DbConn,
    address: &str,
    opted_out: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    ensure(conn, Channel::Sms, address, now)?;
    diesel::update(
        address_status::table
            .filter(address_status::channel.eq(Channel::Sms.as_str()))
            .filter(address_status::address.eq(address)),
    )
    .set((
        address_status::opted_out.eq(opted_out),
        address_status::opted_out_at.eq(opted_out.then_some(now)),
        address_status::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

/// MS-7: clears the bad status and reason of an address on the given channels;
/// never touches an opt-out. Returns how many rows were bad.
pub fn reset(
    conn: &mut DbConn,
    channels: &[Channel],
    address: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let names: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
    diesel::update(
        address_status::table
            .filter(address_status::channel.eq_any(names))
            .filter(address_status::address.eq(address))
            .filter(address_status::bad.eq(true)),
    )
    .set((
        address_status::bad.eq(false),
        address_status::bad_reason.eq(None::<String>),
        address_status::bad_since.eq(None::<NaiveDateTime>),
        address_status::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Appends to an address's event history.
#[allow(clippy::too_many_arguments)]
pub fn record_event(
    conn: &mut DbConn,
    channel: Channel,
    address: &str,
    kind: &str,
    reason: &str,
    delivery_id: Option<&str>,
    actor_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(address_events::table)
        .values((
            address_events::id.eq(uuid::Uuid::now_v7().to_string()),
            address_events::channel.eq(channel.as_str()),
            address_events::address.eq(address),
            address_events::kind.eq(kind),
            address_events::reason.eq(reason),
            address_events::delivery_id.eq(delivery_id),
            address_events::actor_id.eq(actor_id),
            address_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Times of soft bounces of an address on a channel since `since`, counting only
/// those after its last Reset Status (a reset starts the count again).
pub fn soft_bounces_since(
    conn: &mut DbConn,
    channel: Channel,
    address: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    let events = address_events::table
        .filter(address_events::channel.eq(channel.as_str()))
        .filter(address_events::address.eq(address));
    let last_reset: Option<NaiveDateTime> = events
        .filter(address_events::kind.eq("reset"))
        .select(diesel::dsl::max(address_events::created_at))
        .first(conn)?;
    let since = last_reset.map_or(since, |r| r.max(since));
    events
        .filter(address_events::kind.eq("soft_bounce"))
        .filter(address_events::created_at.gt(since))
        .select(address_events::created_at)
        .load(conn)
}
