//! Email events (GW-2): hard and soft bounces and complaints count against an
//! address through the MS-6 rules, and bounce or confirm their delivery (MS-5);
//! each provider event applies once.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use homeroom_platform::{
    db::{Db, DbConn},
    telemetry::mask_address,
};

use super::{DeliveryStatus, is_bad};
use crate::{
    domain::{address_rules::Bounce, error::MessagingError, plan::Channel},
    queue::worker::bounce,
    store::events::{self as store, DeliveryRef, NewEvent, StatusChange},
};

/// Kinds of email events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailEventKind {
    /// Permanent failure: the address is bad.
    HardBounce,
    /// Temporary failure: counted (3 within 7 days make the address bad).
    SoftBounce,
    /// Spam complaint: the address is bad.
    Complaint,
    /// Delivered.
    Delivered,
}

impl EmailEventKind {
    /// In words.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailEventKind::HardBounce => "hard bounce",
            EmailEventKind::SoftBounce => "soft bounce",
            EmailEventKind::Complaint => "complaint",
            EmailEventKind::Delivered => "delivered",
        }
    }
}

/// One email event, normalised by the gateway and validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailEvent {
    /// What happened.
    pub kind: EmailEventKind,
    /// The recipient it is about (case-folded), if given.
    pub address: Option<String>,
    /// Why, in words (status code and diagnostic).
    pub reason: String,
    /// The provider's message id.
    pub provider_message_id: Option<String>,
    /// The provider's event id: the same one is applied once.
    pub provider_event_id: Option<String>,
    /// Our delivery id, when the provider echoed it.
    pub delivery_id: Option<String>,
    /// When it happened (never later than now).
    pub occurred_at: Option<NaiveDateTime>,
}

/// What a batch of email events changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailOutcome {
    /// Events applied (unmatched ones included: they still count against the address).
    pub accepted: u32,
    /// Events seen before (same provider event id), ignored.
    pub duplicates: u32,
    /// Applied events with no delivery of ours.
    pub unmatched: u32,
    /// Addresses this batch turned bad.
    pub addresses_marked_bad: Vec<String>,
}

/// GW-2 / MS-5 / MS-6: applies a batch of email events from one provider in
/// one transaction: each once (by provider event id), bounces through the
/// MS-6 rules, delivery status forward only.
pub async fn email_events(
    db: &Db,
    provider: String,
    events: Vec<EmailEvent>,
) -> Result<EmailOutcome, MessagingError> {
    db.transaction(move |c| {
        let now = chrono::Utc::now().naive_utc();
        let found = email_deliveries(c, &events)?;
        let mut outcome = EmailOutcome::default();
        for e in &events {
            let d = e
                .delivery_id
                .as_ref()
                .and_then(|id| found.by_id.get(id))
                .or_else(|| {
                    e.provider_message_id
                        .as_ref()
                        .and_then(|p| found.by_provider.get(p))
                });
            let Some(address) = e.address.clone().or_else(|| d.map(|d| d.address.clone())) else {
                outcome.unmatched += 1;
                continue;
            };
            let at = e.occurred_at.map_or(now, |t| t.min(now));
            if let Some(event_id) = &e.provider_event_id {
                let marker = NewEvent {
                    id: &format!("email:{provider}:{event_id}"),
                    channel: Channel::Email,
                    address: &address,
                    kind: "provider_event",
                    reason: &format!("{provider} {}", e.kind.as_str()),
                    delivery_id: d.map(|d| d.id.as_str()),
                    actor_id: None,
                    at,
                };
                if !store::record_once(c, &marker)? {
                    outcome.duplicates += 1;
                    continue;
                }
            }
            if apply_email_event(c, e, &address, d, at)?
                && !outcome.addresses_marked_bad.contains(&address)
            {
                outcome.addresses_marked_bad.push(address);
            }
            outcome.accepted += 1;
            outcome.unmatched += u32::from(d.is_none());
        }
        Ok(outcome)
    })
    .await
}

/// Applies one email event; returns whether it turned the address bad.
fn apply_email_event(
    c: &mut DbConn,
    e: &EmailEvent,
    address: &str,
    d: Option<&DeliveryRef>,
    at: NaiveDateTime,
) -> Result<bool, MessagingError> {
    let bounced = match e.kind {
        EmailEventKind::HardBounce => Some(Bounce::Hard),
        EmailEventKind::SoftBounce => Some(Bounce::Soft),
        EmailEventKind::Complaint => Some(Bounce::Complaint),
        EmailEventKind::Delivered => None,
    };
    let mut turned_bad = false;
    let mut now_bad = false;
    if let Some(kind) = bounced {
        let was_bad = is_bad(c, Channel::Email, address)?;
        // An unmatched event names no delivery.
        bounce(
            c,
            Channel::Email,
            address,
            kind,
            &e.reason,
            d.map(|d| d.id.as_str()),
            at,
        )?;
        now_bad = is_bad(c, Channel::Email, address)?;
        turned_bad = !was_bad && now_bad;
        tracing::info!(address = %mask_address(address), kind = e.kind.as_str(), bad = now_bad, "email bounce recorded");
    }
    let Some(d) = d else {
        return Ok(turned_bad);
    };
    let (status, error) = match e.kind {
        EmailEventKind::HardBounce => (DeliveryStatus::Bounced, Some(e.reason.as_str())),
        EmailEventKind::SoftBounce if now_bad => (DeliveryStatus::Bounced, Some(e.reason.as_str())),
        EmailEventKind::SoftBounce => (DeliveryStatus::Failed, Some(e.reason.as_str())),
        // A complaint means it arrived; the address is bad all the same.
        EmailEventKind::Complaint | EmailEventKind::Delivered => (DeliveryStatus::Delivered, None),
    };
    let change = StatusChange {
        status: status.as_str(),
        last_error: error,
        skip_reason: None,
        updated_at: at,
        delivered_at: (status == DeliveryStatus::Delivered).then_some(at),
    };
    store::advance(c, &d.id, &status.earlier(), &change)?;
    Ok(turned_bad)
}

/// The email deliveries a batch names, by delivery id and by provider id.
struct Found {
    by_id: HashMap<String, DeliveryRef>,
    by_provider: HashMap<String, DeliveryRef>,
}

fn email_deliveries(c: &mut DbConn, events: &[EmailEvent]) -> Result<Found, MessagingError> {
    let ids: Vec<String> = events
        .iter()
        .filter_map(|e| e.delivery_id.clone())
        .collect();
    let provider_ids: Vec<String> = events
        .iter()
        .filter_map(|e| e.provider_message_id.clone())
        .collect();
    let email = |d: &DeliveryRef| d.channel == Channel::Email.as_str();
    let by_id = store::deliveries_by_id(c, &ids)?
        .into_iter()
        .filter(email)
        .map(|d| (d.id.clone(), d))
        .collect();
    let by_provider = store::deliveries_by_provider_id(c, &provider_ids)?
        .into_iter()
        .filter(email)
        .filter_map(|d| Some((d.provider_message_id.clone()?, d)))
        .collect();
    Ok(Found { by_id, by_provider })
}
