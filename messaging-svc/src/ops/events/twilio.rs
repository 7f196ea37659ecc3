//! Twilio (GW-2): status callbacks move SMS and call deliveries forward and
//! mark numbers bad (permanent errors) or opted out (21610) (MS-5, MS-6);
//! inbound STOP-type keywords opt a number out, START/UNSTOP back in (MS-3).

use homeroom_platform::{
    db::{Db, DbConn},
    telemetry::mask_address,
};

use super::{DeliveryStatus, is_bad};
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
        SendOutcome::Permanent { code, reason } => {
            Effect::Bounce(format!("Twilio {code}: {reason}"))
        }
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
pub async fn twilio_status(db: &Db, cb: TwilioCallback) -> Result<CallbackOutcome, MessagingError> {
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
            Effect::OptedOut(why) => (
                DeliveryStatus::Skipped,
                Some(why.as_str()),
                Some("opted_out"),
            ),
        };
        let change = StatusChange {
            status: status.as_str(),
            last_error: error,
            skip_reason: skip,
            updated_at: now,
            delivered_at: (status == DeliveryStatus::Delivered).then_some(now),
        };
        if !store::advance(c, &d.id, &status.earlier(), &change)? {
            return Ok(outcome);
        }
        outcome.status = Some(status);
        match effect {
            Effect::Status(..) => {}
            Effect::Bounce(why) => {
                let was_bad = is_bad(c, channel, &d.address)?;
                bounce(c, channel, &d.address, Bounce::Hard, &why, Some(&d.id), now)?;
                outcome.address_marked_bad = !was_bad && is_bad(c, channel, &d.address)?;
            }
            Effect::OptedOut(why) => {
                addresses::set_opted_out(c, &d.address, true, now)?;
                addresses::record_event(
                    c,
                    channel,
                    &d.address,
                    "stop",
                    &why,
                    Some(&d.id),
                    None,
                    now,
                )?;
            }
        }
        tracing::info!(delivery_id = %d.id, status = status.as_str(), "twilio callback applied");
        Ok(outcome)
    })
    .await
}

/// The delivery a callback is about: by its sid, else by the delivery id the
/// callback URL carried (then the sid is recorded on it, if it had none).
fn callback_delivery(
    c: &mut DbConn,
    cb: &TwilioCallback,
) -> Result<Option<DeliveryRef>, MessagingError> {
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
pub async fn inbound_sms(
    db: &Db,
    sms: InboundSms,
) -> Result<(InboundAction, String), MessagingError> {
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
        let now_opted_out = state
            .get(&(Channel::Sms, sms.from.clone()))
            .is_some_and(|s| s.opted_out);
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
    fn twilio_statuses_and_error_codes_map_to_effects() {
        assert_eq!(
            effect(&sms("delivered", None)),
            Some(Effect::Status(DeliveryStatus::Delivered, None))
        );
        assert_eq!(effect(&sms("received", None)), None);
        assert_eq!(
            effect(&sms("undelivered", Some(30006))),
            Some(Effect::Bounce(
                "Twilio 30006: landline or not SMS-capable".into()
            ))
        );
        assert!(matches!(
            effect(&sms("failed", Some(21610))),
            Some(Effect::OptedOut(_))
        ));
        assert!(matches!(
            effect(&sms("undelivered", Some(30008))),
            Some(Effect::Status(DeliveryStatus::Failed, Some(_)))
        ));
        let mut call = sms("completed", None);
        call.sid = Sid::Call("CA1".into());
        assert_eq!(
            effect(&call),
            Some(Effect::Status(DeliveryStatus::Delivered, None))
        );
        call.status = "no-answer".into();
        assert!(matches!(
            effect(&call),
            Some(Effect::Status(DeliveryStatus::Failed, _))
        ));
    }

    #[test]
    fn help_and_info_are_keywords_too() {
        assert!(is_help(" help "));
        assert!(is_help("INFO."));
        assert!(!is_help("help me"));
    }
}
