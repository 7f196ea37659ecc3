//! Provider events passed in by the gateway (GW-2): Twilio status callbacks
//! move deliveries forward and mark numbers bad or opted out (MS-5, MS-6),
//! inbound SMS keywords opt numbers out and in (MS-3), and email events
//! bounce, complain or confirm delivery (MS-5, MS-6). Bounces go through the
//! queue's one `bounce()` rule; statuses never move backwards.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use homeroom_platform::{
    db::{Db, DbConn},
    telemetry::mask_address,
};

use crate::{
    domain::{
        address_rules::{self, Bounce, Keyword},
        error::MessagingError,
        plan::Channel,
    },
    ops::status::BadCause,
    providers::{SendOutcome, twilio::classify_error_code},
    queue::worker::bounce,
    store::{
        addresses,
        events::{self as store, DeliveryRef, NewEvent, StatusChange},
    },
};

/// MS-5: where a delivery stands. Ordered: an event moves a delivery only to a
/// later status (callbacks arrive out of order; SES sends Delivery then Bounce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryStatus {
    /// Waiting in the queue.
    Queued,
    /// Claimed by a worker.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// The provider confirmed delivery.
    Delivered,
    /// Failed for good, not the address's fault.
    Failed,
    /// Bounced: the address is (or was) bad.
    Bounced,
    /// Never attempted (bad, opted out, no preference); final.
    Skipped,
}

const ALL: [DeliveryStatus; 7] = [
    DeliveryStatus::Queued,
    DeliveryStatus::Sending,
    DeliveryStatus::Sent,
    DeliveryStatus::Delivered,
    DeliveryStatus::Failed,
    DeliveryStatus::Bounced,
    DeliveryStatus::Skipped,
];

impl DeliveryStatus {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Bounced => "bounced",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// The statuses a delivery may move to this one from.
    fn earlier(self) -> Vec<&'static str> {
        ALL.into_iter()
            .filter(|s| *s < self)
            .map(DeliveryStatus::as_str)
            .collect()
    }
}

/// Which Twilio resource a callback is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sid {
    /// `MessageSid` (SMS).
    Message(String),
    /// `CallSid` (voice).
    Call(String),
}

/// A verified Twilio status callback, validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioCallback {
    /// The message or call.
    pub sid: Sid,
    /// `MessageStatus` / `CallStatus`, lowercased.
    pub status: String,
    /// `ErrorCode`, when it is a number.
    pub error_code: Option<u32>,
    /// `AnsweredBy` (voice with answering-machine detection), lowercased.
    pub answered_by: String,
    /// Our delivery id, when the callback URL carried it.
    pub delivery_id: Option<String>,
}

/// What a callback changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackOutcome {
    /// The delivery, when one matched.
    pub delivery_id: Option<String>,
    /// Its status after the callback.
    pub status: Option<DeliveryStatus>,
    /// The callback turned the address bad.
    pub address_marked_bad: bool,
}

/// What a Twilio status means for a delivery, besides its new status.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    /// Only the status (and why, for failures).
    Status(DeliveryStatus, Option<String>),
    /// A permanent error: bounced, the address bad on this channel.
    Bounce(String),
    /// 21610: the number replied STOP.
    OptedOut(String),
}

/// Maps `MessageStatus` / `CallStatus` (and `ErrorCode`) to its effect; `None`
/// for statuses that say nothing about an outgoing message (`receiving`, unknown).
fn effect(cb: &TwilioCallback) -> Option<Effect> {
    let status = match cb.status.as_str() {
        "accepted" | "queued" | "scheduled" | "initiated" => DeliveryStatus::Queued,
        "sending" => DeliveryStatus::Sending,
        "sent" | "ringing" | "in-progress" => DeliveryStatus::Sent,
        "delivered" | "read" | "partially_delivered" => DeliveryStatus::Delivered,
        // A call is delivered when completed, unless a fax machine took it.
        "completed" if cb.answered_by == "fax" => DeliveryStatus::Failed,
        "completed" => DeliveryStatus::Delivered,
        "undelivered" | "failed" | "busy" | "no-answer" | "canceled" => DeliveryStatus::Failed,
        _ => return None,
    };
    if status != DeliveryStatus::Failed {
        return Some(Effect::Status(status, None));
    }
    let Some(code) = cb.error_code else {
        return Some(Effect::Status(
            status,
            Some(format!("twilio status {}", cb.status)),
        ));
    };
    let words = BadCause::of_twilio_code(code).map_or("permanent error", BadCause::describe);
    Some(match classify_error_code(code, words) {
        SendOutcome::Permanent { code, reason } => Effect::Bounce(format!("Twilio {code}: {reason}")),
        SendOutcome::OptedOut { .. } if matches!(cb.sid, Sid::Message(_)) => {
            Effect::OptedOut(format!("Twilio {code}: the number replied STOP"))
        }
        SendOutcome::OptedOut { reason } | SendOutcome::Transient { reason, .. } => {
            Effect::Status(status, Some(reason))
        }
        SendOutcome::Sent { .. } => Effect::Status(status, None),
    })
}

/// GW-2 / MS-5 / MS-6: applies a Twilio status callback. Unknown sids are
/// answered and ignored; a repeated or late callback changes nothing.
pub async fn twilio_status(
    db: &Db,
    cb: TwilioCallback,
) -> Result<CallbackOutcome, MessagingError> {
    db.transaction(move |c| {
        let Some(d) = callback_delivery(c, &cb)? else {
            tracing::debug!(status = %cb.status, "twilio callback for an unknown sid ignored");
            return Ok(CallbackOutcome::default());
        };
        let current = DeliveryStatus::parse(&d.status);
        let mut outcome = CallbackOutcome {
            delivery_id: Some(d.id.clone()),
            status: current,
            address_marked_bad: false,
        };
        let (Some(effect), Some(channel)) = (effect(&cb), Channel::parse(&d.channel)) else {
            return Ok(outcome);
        };
        let now = chrono::Utc::now().naive_utc();
        let (status, error, skip) = match &effect {
            Effect::Status(s, why) => (*s, why.as_deref(), None),
            Effect::Bounce(why) => (DeliveryStatus::Bounced, Some(why.as_str()), None),
            Effect::OptedOut(why) => (DeliveryStatus::Skipped, Some(why.as_str()), Some("opted_out")),
        };
        let change = StatusChange {
            status: status.as_str(),
            last_error: error,
            skip_reason: skip,
            updated_at: now,
        };
        if !store::advance(c, &d.id, &status.earlier(), &change)? {
            return Ok(outcome);
        }
        outcome.status = Some(status);
        match effect {
            Effect::Status(..) => {}
            Effect::Bounce(why) => {
                let was_bad = is_bad(c, channel, &d.address)?;
                bounce(c, channel, &d.address, Bounce::Hard, &why, &d.id, now)?;
                outcome.address_marked_bad = !was_bad && is_bad(c, channel, &d.address)?;
            }
            Effect::OptedOut(why) => {
                addresses::set_opted_out(c, &d.address, true, now)?;
                addresses::record_event(c, channel, &d.address, "stop", &why, Some(&d.id), None, now)?;
            }
        }
        tracing::info!(delivery_id = %d.id, status = status.as_str(), "twilio callback applied");
        Ok(outcome)
    })
    .await
}

/// The delivery a callback is about: by its sid, else by the delivery id the
/// callback URL carried (then the sid is recorded on it, if it had none).
fn callback_delivery(c: &mut DbConn, cb: &TwilioCallback) -> Result<Option<DeliveryRef>, MessagingError> {
    let sid = match &cb.sid {
        Sid::Message(s) | Sid::Call(s) => s.clone(),
    };
    if let Some(d) = store::deliveries_by_provider_id(c, std::slice::from_ref(&sid))?.pop() {
        return Ok(Some(d));
    }
    let Some(id) = &cb.delivery_id else {
        return Ok(None);
    };
    let Some(d) = store::deliveries_by_id(c, std::slice::from_ref(id))?.pop() else {
        return Ok(None);
    };
    if d.provider_message_id.as_deref().is_some_and(|p| p != sid) {
        tracing::debug!(delivery_id = %d.id, "twilio callback sid differs from the delivery's; ignored");
        return Ok(None);
    }
    store::set_provider_id_if_missing(c, &d.id, &sid)?;
    Ok(Some(d))
}

fn is_bad(c: &mut DbConn, channel: Channel, address: &str) -> Result<bool, MessagingError> {
    let key = (channel, address.to_string());
    Ok(addresses::states(c, &[key.1.clone()])?
        .get(&key)
        .is_some_and(|s| s.bad))
}

/// A verified inbound SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// Its `MessageSid` (retries of the webhook carry the same one); may be empty.
    pub message_sid: String,
    /// The sender, E.164.
    pub from: String,
    /// The text.
    pub body: String,
}

/// MS-3: what an inbound SMS did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundAction {
    /// STOP and friends: no more SMS to the number.
    OptedOut,
    /// START / UNSTOP: SMS again.
    OptedIn,
    /// HELP / INFO: answered with a help text.
    Help,
    /// Anything else: answered, nothing stored.
    Nothing,
}

/// The help text sent back to HELP / INFO.
pub const HELP_REPLY: &str = "Homeroom: messages from your school district. \
     Reply STOP to stop text messages, START to get them again.";

/// MS-3: applies an inbound SMS: STOP-type keywords opt the number out, START
/// and UNSTOP back in (each once per message, with an address event); other
/// text is answered and stored nowhere. Returns the action and the reply text.
pub async fn inbound_sms(db: &Db, sms: InboundSms) -> Result<(InboundAction, String), MessagingError> {
    let (action, opted_out, kind) = match address_rules::keyword(&sms.body) {
        Some(Keyword::OptOut) => (InboundAction::OptedOut, true, "stop"),
        Some(Keyword::OptIn) => (InboundAction::OptedIn, false, "start"),
        None if is_help(&sms.body) => return Ok((InboundAction::Help, HELP_REPLY.to_string())),
        None => return Ok((InboundAction::Nothing, String::new())),
    };
    let masked = mask_address(&sms.from);
    db.transaction(move |c| {
        let now = chrono::Utc::now().naive_utc();
        let id = if sms.message_sid.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            format!("twilio-inbound:{}", sms.message_sid)
        };
        let event = NewEvent {
            id: &id,
            channel: Channel::Sms,
            address: &sms.from,
            kind,
            reason: &format!("the number replied {}", sms.body.trim().to_uppercase()),
            delivery_id: None,
            actor_id: None,
            at: now,
        };
        if !store::record_once(c, &event)? {
            return Ok(());
        }
        let state = addresses::states(c, std::slice::from_ref(&sms.from))?;
        let now_opted_out = state.get(&(Channel::Sms, sms.from.clone())).is_some_and(|s| s.opted_out);
        // A second STOP keeps the time of the first.
        if now_opted_out != opted_out {
            addresses::set_opted_out(c, &sms.from, opted_out, now)?;
        }
        Ok::<_, MessagingError>(())
    })
    .await?;
    tracing::info!(from = %masked, ?action, "inbound sms keyword applied");
    Ok((action, String::new()))
}

/// HELP or INFO, read like the other keywords (whole message, any case).
fn is_help(body: &str) -> bool {
    let word = body.trim().trim_end_matches(['.', '!', '?']);
    word.eq_ignore_ascii_case("help") || word.eq_ignore_ascii_case("info")
}

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
    fn as_str(self) -> &'static str {
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
                .or_else(|| e.provider_message_id.as_ref().and_then(|p| found.by_provider.get(p)));
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
            if apply_email_event(c, e, &address, d, at)? && !outcome.addresses_marked_bad.contains(&address) {
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
        // `bounce()` names a delivery; an unmatched event has none.
        bounce(c, Channel::Email, address, kind, &e.reason, d.map_or("", |d| d.id.as_str()), at)?;
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
    let ids: Vec<String> = events.iter().filter_map(|e| e.delivery_id.clone()).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(status: &str, code: Option<u32>) -> TwilioCallback {
        TwilioCallback {
            sid: Sid::Message("SM1".into()),
            status: status.into(),
            error_code: code,
            answered_by: String::new(),
            delivery_id: None,
        }
    }

    #[test]
    fn statuses_are_ordered_so_a_late_sent_cannot_follow_delivered() {
        assert!(!DeliveryStatus::Sent.earlier().contains(&"delivered"));
        assert!(DeliveryStatus::Delivered.earlier().contains(&"sent"));
        assert!(DeliveryStatus::Bounced.earlier().contains(&"delivered"));
        assert!(DeliveryStatus::Bounced.earlier().iter().all(|s| *s != "skipped"));
        assert_eq!(DeliveryStatus::parse("bounced"), Some(DeliveryStatus::Bounced));
    }

    #[test]
    fn twilio_statuses_and_error_codes_map_to_effects() {
        assert_eq!(effect(&sms("delivered", None)), Some(Effect::Status(DeliveryStatus::Delivered, None)));
        assert_eq!(effect(&sms("received", None)), None);
        assert_eq!(
            effect(&sms("undelivered", Some(30006))),
            Some(Effect::Bounce("Twilio 30006: landline or not SMS-capable".into()))
        );
        assert!(matches!(effect(&sms("failed", Some(21610))), Some(Effect::OptedOut(_))));
        assert!(matches!(
            effect(&sms("undelivered", Some(30008))),
            Some(Effect::Status(DeliveryStatus::Failed, Some(_)))
        ));
        let mut call = sms("completed", None);
        call.sid = Sid::Call("CA1".into());
        assert_eq!(effect(&call), Some(Effect::Status(DeliveryStatus::Delivered, None)));
        call.status = "no-answer".into();
        assert!(matches!(effect(&call), Some(Effect::Status(DeliveryStatus::Failed, _))));
    }

    #[test]
    fn help_and_info_are_keywords_too() {
        assert!(is_help(" help "));
        assert!(is_help("INFO."));
        assert!(!is_help("help me"));
    }
}
