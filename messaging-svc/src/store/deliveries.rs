//! Communications and the delivery queue (MS-2, MS-4): deliveries are rows,
//! unique per (communication, channel, address); workers claim them under a
//! lease — `FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's single writer —
//! and a crashed worker's claims come back when the lease runs out.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::{
    prelude::*,
    sql_types::{BigInt, Integer, Nullable, Text, Timestamp},
};
use homeroom_platform::{bulk_insert, db::DbConn, on_backend};

use super::schema::{
    communication_recipients, communications, deliveries, delivery_recipients, delivery_workers,
};
use crate::domain::plan::{Plan, PlannedDelivery};

/// A communication row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = communications, treat_none_as_default_value = false)]
pub struct CommunicationRow {
    pub id: String,
    pub district_id: String,
    pub kind: String,
    pub sender_account_id: String,
    pub idempotency_key: String,
    pub request_fingerprint: String,
    pub subject: String,
    pub body: String,
    pub variants: String,
    pub channels: String,
    pub emergency: bool,
    pub status: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deliveries, treat_none_as_default_value = false)]
struct NewDelivery<'a> {
    id: String,
    communication_id: &'a str,
    channel: &'a str,
    address: &'a str,
    language: &'a str,
    subject: Option<&'a str>,
    body: Option<&'a str>,
    status: &'a str,
    skip_reason: Option<&'a str>,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    lease_owner: Option<&'a str>,
    lease_expires_at: Option<NaiveDateTime>,
    provider_message_id: Option<&'a str>,
    last_error: Option<&'a str>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = communication_recipients, treat_none_as_default_value = false)]
struct RecipientRow<'a> {
    communication_id: &'a str,
    account_id: &'a str,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = delivery_recipients, treat_none_as_default_value = false)]
struct DeliveryRecipientRow<'a> {
    delivery_id: &'a str,
    account_id: &'a str,
}

/// Rendered text carried by a system message's single delivery.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Email subject.
    pub subject: Option<String>,
    /// Text.
    pub body: Option<String>,
}

/// A communication to insert with its recipients and planned deliveries.
#[derive(Debug, Clone)]
pub struct PlannedCommunication {
    /// The communication.
    pub row: CommunicationRow,
    /// Its recipients (deduplicated).
    pub recipients: Vec<String>,
    /// Its planned deliveries.
    pub plan: Plan,
    /// The text every delivery of it carries.
    pub rendered: Rendered,
}

/// Inserts a communication, its recipients and its planned deliveries;
/// returns the delivery ids in plan order.
pub fn insert_planned(
    conn: &mut DbConn,
    communication: &CommunicationRow,
    recipients: &[String],
    plan: &Plan,
    rendered: &Rendered,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let one = PlannedCommunication {
        row: communication.clone(),
        recipients: recipients.to_vec(),
        plan: plan.clone(),
        rendered: rendered.clone(),
    };
    Ok(insert_many_planned(conn, std::slice::from_ref(&one), now)?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// Inserts communications with their recipients and planned deliveries, each
/// table in bulk; returns each communication's delivery ids in plan order.
pub fn insert_many_planned(
    conn: &mut DbConn,
    items: &[PlannedCommunication],
    now: NaiveDateTime,
) -> QueryResult<Vec<Vec<String>>> {
    let rows: Vec<CommunicationRow> = items.iter().map(|i| i.row.clone()).collect();
    bulk_insert!(&mut *conn, communications::table, &rows, 500)?;
    // Recipients arrive deduplicated (the audience is a set of accounts).
    let recipient_rows: Vec<RecipientRow<'_>> = items
        .iter()
        .flat_map(|i| {
            i.recipients.iter().map(|account_id| RecipientRow {
                communication_id: &i.row.id,
                account_id,
            })
        })
        .collect();
    bulk_insert!(
        &mut *conn,
        communication_recipients::table,
        &recipient_rows,
        1_000
    )?;
    let ids: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            i.plan
                .deliveries
                .iter()
                .map(|_| uuid::Uuid::now_v7().to_string())
                .collect()
        })
        .collect();
    let delivery_rows: Vec<NewDelivery<'_>> = items
        .iter()
        .zip(&ids)
        .flat_map(|(i, ids)| {
            i.plan
                .deliveries
                .iter()
                .zip(ids)
                .map(|(d, id)| new_delivery(id.clone(), &i.row.id, d, &i.rendered, now))
        })
        .collect();
    bulk_insert!(&mut *conn, deliveries::table, &delivery_rows, 200)?;
    let links: Vec<DeliveryRecipientRow<'_>> = items
        .iter()
        .zip(&ids)
        .flat_map(|(i, ids)| {
            i.plan.deliveries.iter().zip(ids).flat_map(|(d, id)| {
                d.recipients.iter().map(move |a| DeliveryRecipientRow {
                    delivery_id: id,
                    account_id: a,
                })
            })
        })
        .collect();
    bulk_insert!(&mut *conn, delivery_recipients::table, &links, 1_000)?;
    Ok(ids)
}

fn new_delivery<'a>(
    id: String,
    communication_id: &'a str,
    d: &'a PlannedDelivery,
    rendered: &'a Rendered,
    now: NaiveDateTime,
) -> NewDelivery<'a> {
    NewDelivery {
        id,
        communication_id,
        channel: d.channel.as_str(),
        address: &d.address,
        language: &d.language,
        subject: rendered.subject.as_deref(),
        body: rendered.body.as_deref(),
        status: if d.skip.is_some() {
            "skipped"
        } else {
            "queued"
        },
        skip_reason: d.skip.map(|s| s.as_str()),
        attempts: 0,
        next_attempt_at: now,
        lease_owner: None,
        lease_expires_at: None,
        provider_message_id: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    }
}

/// A delivery a worker has claimed.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    /// The delivery.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Its communication.
    #[diesel(sql_type = Text)]
    pub communication_id: String,
    /// email | sms | voice.
    #[diesel(sql_type = Text)]
    pub channel: String,
    /// Address.
    #[diesel(sql_type = Text)]
    pub address: String,
    /// Language.
    #[diesel(sql_type = Text)]
    pub language: String,
    /// Rendered subject (system messages).
    #[diesel(sql_type = Nullable<Text>)]
    pub subject: Option<String>,
    /// Rendered body (system messages).
    #[diesel(sql_type = Nullable<Text>)]
    pub body: Option<String>,
    /// Tries so far, this one included.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// When an earlier try's provider call started, if that try never
    /// recorded its outcome (its worker died mid-call): this try may send
    /// the message a second time.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub sending_since: Option<NaiveDateTime>,
}

const CLAIM_SQL: &str = "UPDATE deliveries SET status = 'sending', lease_owner = $1, lease_expires_at = $2, \
     attempts = attempts + 1, updated_at = $3 \
     WHERE id IN (SELECT id FROM deliveries \
                  WHERE (status = 'queued' AND next_attempt_at <= $3) \
                     OR (status = 'sending' AND (lease_expires_at < $3 \
                         OR lease_owner NOT IN (SELECT owner FROM delivery_workers \
                                                WHERE heartbeat_at >= $4))) \
                  ORDER BY next_attempt_at LIMIT $5{lock}) \
     RETURNING id, communication_id, channel, address, language, subject, body, attempts, sending_since";

/// (SQLite numbers `$n` parameters by first appearance: they appear in order.)
/// Claims up to `limit` due deliveries for `owner` until `lease_until`:
/// queued and due, or claimed by a worker whose lease ran out or whose last
/// heartbeat is older than `alive_since` (it died: its claims return at once).
pub fn claim(
    conn: &mut DbConn,
    owner: &str,
    lease_until: NaiveDateTime,
    now: NaiveDateTime,
    alive_since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let query = diesel::sql_query(CLAIM_SQL.replace("{lock}", super::skip_locked(conn)))
        .bind::<Text, _>(owner)
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(alive_since)
        .bind::<BigInt, _>(limit);
    on_backend!(conn, c => query.load(c))
}

/// Records that `owner` is alive at `now` (its claims stay its own).
pub fn heartbeat(conn: &mut DbConn, owner: &str, now: NaiveDateTime) -> QueryResult<()> {
    on_backend!(conn, c => diesel::insert_into(delivery_workers::table)
        .values((
            delivery_workers::owner.eq(owner),
            delivery_workers::heartbeat_at.eq(now),
        ))
        .on_conflict(delivery_workers::owner)
        .do_update()
        .set(delivery_workers::heartbeat_at.eq(now))
        .execute(c))?;
    Ok(())
}

/// A worker stopping cleanly: whatever it still holds returns to the queue at once.
pub fn retire(conn: &mut DbConn, owner: &str) -> QueryResult<()> {
    diesel::delete(delivery_workers::table.filter(delivery_workers::owner.eq(owner)))
        .execute(conn)?;
    Ok(())
}

/// Marks a claimed delivery's provider call as started, if `owner` still
/// holds it; false means another worker took it over and it must not be sent.
pub fn mark_sending(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::status.eq("sending"))
            .filter(deliveries::lease_owner.eq(owner)),
    )
    .set(deliveries::sending_since.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// How a claimed delivery ended (this try).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Handed to the provider.
    Sent {
        /// Provider's id.
        provider_message_id: String,
    },
    /// Try again at `at`.
    Retry {
        /// When.
        at: NaiveDateTime,
        /// Why.
        error: String,
    },
    /// Gave up or bounced: final status (`failed`, `bounced`, `skipped`) and why.
    Final {
        /// Status.
        status: &'static str,
        /// Why.
        error: String,
        /// For `skipped`: the stored skip reason (`opted_out`).
        skip_reason: Option<&'static str>,
    },
}

/// Records the end of a try — only if `owner` still holds the lease, so a
/// worker that lost its lease cannot overwrite the one that took over.
/// Returns whether it was recorded.
pub fn complete(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    completion: &Completion,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let mine = deliveries::table
        .filter(deliveries::id.eq(id))
        .filter(deliveries::status.eq("sending"))
        .filter(deliveries::lease_owner.eq(owner));
    let released = (
        deliveries::lease_owner.eq(None::<String>),
        deliveries::lease_expires_at.eq(None::<NaiveDateTime>),
        deliveries::sending_since.eq(None::<NaiveDateTime>),
        deliveries::updated_at.eq(now),
    );
    let n = match completion {
        Completion::Sent {
            provider_message_id,
        } => diesel::update(mine)
            .set((
                deliveries::status.eq("sent"),
                deliveries::provider_message_id.eq(provider_message_id),
                deliveries::sent_at.eq(now),
                released,
            ))
            .execute(conn)?,
        Completion::Retry { at, error } => diesel::update(mine)
            .set((
                deliveries::status.eq("queued"),
                deliveries::next_attempt_at.eq(at),
                deliveries::last_error.eq(error),
                released,
            ))
            .execute(conn)?,
        Completion::Final {
            status,
            error,
            skip_reason,
        } => diesel::update(mine)
            .set((
                deliveries::status.eq(*status),
                deliveries::last_error.eq(error),
                deliveries::skip_reason.eq(skip_reason),
                released,
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// How many deliveries are due now (queued, their time come) and since when
/// the oldest of them has been due.
pub fn due_backlog(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    deliveries::table
        .filter(deliveries::status.eq("queued"))
        .filter(deliveries::next_attempt_at.le(now))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(deliveries::next_attempt_at),
        ))
        .first(conn)
}

/// Deliveries of a communication by status (for tests and listings).
pub fn count_by_status(
    conn: &mut DbConn,
    communication_id: &str,
) -> QueryResult<Vec<(String, i64)>> {
    deliveries::table
        .filter(deliveries::communication_id.eq(communication_id))
        .group_by(deliveries::status)
        .select((deliveries::status, diesel::dsl::count_star()))
        .load(conn)
}

/// Where an earlier system message with the same key is.
#[derive(Debug, Clone)]
pub enum Replay {
    /// Stored: its delivery and skip reason.
    Stored(String, Option<crate::domain::plan::SkipReason>),
    /// Earlier in the same batch: its index among the new communications.
    InBatch(usize),
}

/// An earlier system message with the same key, and its fingerprint.
#[derive(Debug, Clone)]
pub struct Earlier {
    /// The earlier request's fingerprint.
    pub fingerprint: String,
    /// Its delivery.
    pub delivery: Replay,
}

/// The stored system messages of these (district, idempotency key) pairs.
pub fn system_replays(
    conn: &mut DbConn,
    keys: &[(String, String)],
) -> QueryResult<HashMap<(String, String), Earlier>> {
    use crate::domain::plan::SkipReason;
    let mut out = HashMap::new();
    // By district, so the (district_id, idempotency_key) index answers.
    let mut by_district: HashMap<&str, Vec<&str>> = HashMap::new();
    for (district, key) in keys {
        by_district.entry(district).or_default().push(key);
    }
    let chunks: Vec<(&str, Vec<&str>)> = by_district
        .into_iter()
        .flat_map(|(d, mut ks)| {
            ks.sort_unstable();
            ks.dedup();
            ks.chunks(1_000)
                .map(|c| (d, c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    for (district, chunk) in chunks {
        let found: Vec<(String, String, String, String)> = communications::table
            .filter(communications::district_id.eq(district))
            .filter(communications::idempotency_key.eq_any(&chunk))
            .select((
                communications::id,
                communications::district_id,
                communications::idempotency_key,
                communications::request_fingerprint,
            ))
            .load(conn)?;
        let ids: Vec<&str> = found.iter().map(|(id, ..)| id.as_str()).collect();
        let deliveries: HashMap<String, (String, Option<String>)> = deliveries::table
            .filter(deliveries::communication_id.eq_any(&ids))
            .select((
                deliveries::communication_id,
                deliveries::id,
                deliveries::skip_reason,
            ))
            .load::<(String, String, Option<String>)>(conn)?
            .into_iter()
            .map(|(c, id, skip)| (c, (id, skip)))
            .collect();
        for (id, district, key, fingerprint) in found {
            if let Some((delivery, skip)) = deliveries.get(&id) {
                out.insert(
                    (district, key),
                    Earlier {
                        fingerprint,
                        delivery: Replay::Stored(
                            delivery.clone(),
                            skip.as_deref().and_then(SkipReason::parse),
                        ),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The communication sent under an idempotency key: its id and request fingerprint.
pub fn communication_by_key(
    conn: &mut DbConn,
    district_id: &str,
    key: &str,
) -> QueryResult<Option<(String, String)>> {
    communications::table
        .filter(communications::district_id.eq(district_id))
        .filter(communications::idempotency_key.eq(key))
        .select((communications::id, communications::request_fingerprint))
        .first(conn)
        .optional()
}
