//! Conversions and caller checks for provider events (GW-2) and address status
//! (MS-6, MS-7): proto requests to validated commands with normalised
//! addresses, operation results back to proto.

use homeroom_platform::auth::Principal;
use homeroom_proto::messaging::v1 as pb;

use super::convert::{channel, channel_to_pb, status_to_pb, time_to_pb};
use crate::{
    domain::{error::MessagingError, plan::Channel},
    ops::{
        events::{
            CallbackOutcome, EmailEvent, EmailEventKind, EmailOutcome, InboundAction, InboundSms,
            Sid, TwilioCallback,
        },
        status::{AddressView, BadAddresses, BadCause, ResetOutcome, ResetRequest, ResetTarget},
    },
};

/// GW-2: provider events come only from the gateway, which verified the
/// provider's signature; anyone else is PERMISSION_DENIED.
pub fn gateway_only(caller: &Principal) -> Result<(), MessagingError> {
    if caller.is_service(&["gateway"]) {
        Ok(())
    } else {
        Err(MessagingError::PermissionDenied(
            "provider events are accepted from the gateway only".into(),
        ))
    }
}

fn invalid(message: impl Into<String>) -> MessagingError {
    MessagingError::InvalidArgument(message.into())
}

fn non_empty(s: String) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A phone number as E.164. Twilio sends `+15017122661`; separators are
/// dropped, and 11 to 15 bare digits are read as a `+` lost to form decoding
/// (where `+` means a space). Anything else is refused.
pub fn e164(raw: &str) -> Option<String> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    let len_ok = if plus { 8..=15 } else { 11..=15 };
    (len_ok.contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0'))
    .then(|| format!("+{digits}"))
}

/// An address as stored: email case-folded, phones E.164.
fn address(channel: Channel, raw: &str, field: &str) -> Result<String, MessagingError> {
    let found = match channel {
        Channel::Email => Some(raw.trim().to_lowercase()).filter(|a| a.contains('@')),
        Channel::Sms | Channel::Voice => e164(raw),
    };
    found.ok_or_else(|| invalid(format!("{field}: not a valid {} address", channel.as_str())))
}

/// A Twilio status callback: a MessageSid or a CallSid is required.
pub fn twilio_callback(
    r: pb::RecordTwilioStatusCallbackRequest,
) -> Result<TwilioCallback, MessagingError> {
    let sid = match (non_empty(r.message_sid), non_empty(r.call_sid)) {
        (Some(sid), _) => Sid::Message(sid),
        (None, Some(sid)) => Sid::Call(sid),
        (None, None) => return Err(invalid("message_sid or call_sid: required")),
    };
    Ok(TwilioCallback {
        sid,
        status: r.status.trim().to_ascii_lowercase(),
        // Non-numeric codes say nothing we act on.
        error_code: r.error_code.trim().parse().ok(),
        answered_by: r.answered_by.trim().to_ascii_lowercase(),
        delivery_id: non_empty(r.delivery_id),
    })
}

/// What a callback changed, on the wire.
pub fn twilio_answer(o: CallbackOutcome) -> pb::RecordTwilioStatusCallbackResponse {
    pb::RecordTwilioStatusCallbackResponse {
        matched: o.delivery_id.is_some(),
        delivery_id: o.delivery_id.unwrap_or_default(),
        status: o
            .status
            .map_or(pb::DeliveryStatus::Unspecified, status_to_pb) as i32,
        address_marked_bad: o.address_marked_bad,
    }
}

/// An inbound SMS: From must be a phone number.
pub fn inbound_sms(r: pb::RecordInboundSmsRequest) -> Result<InboundSms, MessagingError> {
    Ok(InboundSms {
        message_sid: r.message_sid.trim().to_string(),
        from: e164(&r.from).ok_or_else(|| invalid("from: an E.164 phone number is required"))?,
        body: r.body,
    })
}

/// What an inbound SMS did, on the wire.
pub fn inbound_answer((action, reply): (InboundAction, String)) -> pb::RecordInboundSmsResponse {
    let action = match action {
        InboundAction::OptedOut => pb::InboundSmsAction::OptedOut,
        InboundAction::OptedIn => pb::InboundSmsAction::OptedIn,
        InboundAction::Help => pb::InboundSmsAction::Help,
        InboundAction::Nothing => pb::InboundSmsAction::None,
    };
    pb::RecordInboundSmsResponse {
        action: action as i32,
        reply_body: reply,
    }
}

/// Most events one call may carry.
const MAX_EMAIL_EVENTS: usize = 1_000;

/// A batch of email events: the provider and its events. Events of an unset
/// type are dropped (the proto says they are ignored); an address that is no
/// email address is treated as absent (the delivery's is used).
pub fn email_events(
    r: pb::RecordEmailEventsRequest,
) -> Result<(String, Vec<EmailEvent>), MessagingError> {
    let provider = non_empty(r.provider).ok_or_else(|| invalid("provider: required"))?;
    if r.events.len() > MAX_EMAIL_EVENTS {
        return Err(invalid(format!("events: at most {MAX_EMAIL_EVENTS}")));
    }
    let events = r
        .events
        .into_iter()
        .filter_map(|e| {
            let kind = match pb::EmailEventType::try_from(e.r#type).ok()? {
                pb::EmailEventType::HardBounce => EmailEventKind::HardBounce,
                pb::EmailEventType::SoftBounce => EmailEventKind::SoftBounce,
                pb::EmailEventType::Complaint => EmailEventKind::Complaint,
                pb::EmailEventType::Delivered => EmailEventKind::Delivered,
                pb::EmailEventType::Unspecified => return None,
            };
            let reason = [e.smtp_status.trim(), e.reason.trim()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let occurred_at = e.occurred_at.and_then(|t| {
                chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
            });
            Some(EmailEvent {
                kind,
                address: address(Channel::Email, &e.address, "address").ok(),
                reason: if reason.is_empty() {
                    format!("{provider} {}", kind.as_str())
                } else {
                    reason
                },
                provider_message_id: non_empty(e.provider_message_id),
                provider_event_id: non_empty(e.provider_event_id),
                delivery_id: non_empty(e.delivery_id),
                occurred_at: occurred_at.map(|t| t.naive_utc()),
            })
        })
        .collect();
    Ok((provider, events))
}

/// What a batch changed, on the wire.
pub fn email_answer(o: EmailOutcome) -> pb::RecordEmailEventsResponse {
    pb::RecordEmailEventsResponse {
        accepted: o.accepted,
        duplicates: o.duplicates,
        unmatched: o.unmatched,
        addresses_marked_bad: o.addresses_marked_bad,
    }
}

/// Most addresses one GetAddressStatus may ask about.
const MAX_ADDRESSES: usize = 1_000;

/// The district and the addresses of a GetAddressStatus, normalised.
pub fn address_refs(
    r: pb::GetAddressStatusRequest,
) -> Result<(String, Vec<(Channel, String)>), MessagingError> {
    let district_id = non_empty(r.district_id).ok_or_else(|| invalid("district_id: required"))?;
    if r.addresses.len() > MAX_ADDRESSES {
        return Err(invalid(format!("addresses: at most {MAX_ADDRESSES}")));
    }
    let refs = r
        .addresses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let channel = channel(a.channel, &format!("addresses[{i}].channel"))?;
            Ok((
                channel,
                address(channel, &a.address, &format!("addresses[{i}].address"))?,
            ))
        })
        .collect::<Result<_, MessagingError>>()?;
    Ok((district_id, refs))
}

fn cause_to_pb(cause: BadCause) -> pb::BadAddressCause {
    match cause {
        BadCause::HardBounce => pb::BadAddressCause::HardBounce,
        BadCause::RepeatedSoftBounces => pb::BadAddressCause::RepeatedSoftBounces,
        BadCause::Complaint => pb::BadAddressCause::Complaint,
        BadCause::InvalidNumber => pb::BadAddressCause::InvalidNumber,
        BadCause::NotSmsCapable => pb::BadAddressCause::NotSmsCapable,
        BadCause::Unreachable => pb::BadAddressCause::Unreachable,
    }
}

/// The district's bad addresses on the wire.
pub fn bad_addresses(bad: BadAddresses) -> pb::ListBadAddressesResponse {
    pb::ListBadAddressesResponse {
        addresses: bad
            .addresses
            .into_iter()
            .map(|(channel, address)| pb::AddressRef {
                channel: channel_to_pb(channel) as i32,
                address,
            })
            .collect(),
        truncated: bad.truncated,
    }
}

/// One address status on the wire (the latest delivery is not reported yet).
pub fn address_status(v: AddressView) -> pb::AddressStatus {
    let state = if v.bad {
        pb::AddressState::Bad
    } else {
        pb::AddressState::Ok
    };
    pb::AddressStatus {
        channel: channel_to_pb(v.channel) as i32,
        address: v.address,
        state: state as i32,
        cause: v
            .cause
            .map_or(pb::BadAddressCause::Unspecified, cause_to_pb) as i32,
        reason: v.reason.unwrap_or_default(),
        provider_error_code: v.provider_error_code.unwrap_or_default(),
        bad_since: v.bad_since.map(time_to_pb),
        soft_bounce_count: v.soft_bounces,
        opted_out: v.opted_out,
        opted_out_at: v.opted_out_at.map(time_to_pb),
        last_reset_at: v.last_reset_at.map(time_to_pb),
        last_reset_by_account_id: v.last_reset_by.unwrap_or_default(),
        last_delivery_status: pb::DeliveryStatus::Unspecified as i32,
        last_delivery_at: None,
    }
}

/// A Reset Status request: a district and one target.
pub fn reset_request(r: pb::ResetAddressStatusRequest) -> Result<ResetRequest, MessagingError> {
    use pb::reset_address_status_request::Target;
    let district_id = non_empty(r.district_id).ok_or_else(|| invalid("district_id: required"))?;
    let target = match r.target {
        Some(Target::Address(a)) => {
            let channel = channel(a.channel, "address.channel")?;
            ResetTarget::Address(channel, address(channel, &a.address, "address.address")?)
        }
        Some(Target::AccountChannel(a)) => ResetTarget::AccountChannel(
            non_empty(a.account_id)
                .ok_or_else(|| invalid("account_channel.account_id: required"))?,
            channel(a.channel, "account_channel.channel")?,
        ),
        None => {
            return Err(invalid(
                "target: an address or an account and channel is required",
            ));
        }
    };
    homeroom_platform::text::within("note", r.note.trim(), homeroom_platform::text::SHORT)
        .map_err(MessagingError::InvalidArgument)?;
    Ok(ResetRequest {
        district_id,
        target,
        note: r.note.trim().to_string(),
        request_id: r.request_id,
        ip_address: r.ip_address,
    })
}

/// What a reset cleared, on the wire.
pub fn reset_answer(o: ResetOutcome) -> pb::ResetAddressStatusResponse {
    pb::ResetAddressStatusResponse {
        cleared: Some(address_status(o.cleared)),
        current: Some(address_status(o.current)),
    }
}

#[cfg(test)]
mod tests {
    use homeroom_platform::auth::{Role, RoleGrant};

    use super::*;

    #[test]
    fn provider_events_are_for_the_gateway_only() {
        assert!(
            gateway_only(&Principal::Service {
                name: "gateway".into()
            })
            .is_ok()
        );
        for caller in [
            Principal::Service {
                name: "identity".into(),
            },
            Principal::Account {
                account_id: "a".into(),
                district_id: "d".into(),
                roles: vec![RoleGrant {
                    role: Role::DistrictAdmin,
                    school_id: None,
                }],
            },
        ] {
            assert!(matches!(
                gateway_only(&caller),
                Err(MessagingError::PermissionDenied(_))
            ));
        }
    }

    #[test]
    fn phone_numbers_are_read_as_twilio_sends_them() {
        assert_eq!(e164("+19876543210").as_deref(), Some("+19876543210"));
        assert_eq!(e164(" 19876543210").as_deref(), Some("+19876543210"));
        assert_eq!(e164("+1 (987) 654-3210").as_deref(), Some("+19876543210"));
        assert_eq!(e164("9876543210"), None, "no country code");
        assert_eq!(e164("+1987abc3210"), None);
        assert_eq!(e164(""), None);
    }

    #[test]
    fn a_callback_needs_a_sid_and_keeps_only_numeric_error_codes() {
        let r = pb::RecordTwilioStatusCallbackRequest {
            call_sid: "CA1".into(),
            status: "No-Answer".into(),
            error_code: "n/a".into(),
            ..Default::default()
        };
        let cb = twilio_callback(r).unwrap();
        assert_eq!(
            (cb.sid, cb.status.as_str(), cb.error_code),
            (Sid::Call("CA1".into()), "no-answer", None)
        );
        assert!(twilio_callback(pb::RecordTwilioStatusCallbackRequest::default()).is_err());
    }

    #[test]
    fn email_events_of_unset_type_are_dropped_and_reasons_joined() {
        let event = |t: pb::EmailEventType| pb::EmailEvent {
            address: " Parent@Mail.com ".into(),
            r#type: t as i32,
            reason: "user unknown".into(),
            smtp_status: "5.1.1".into(),
            ..Default::default()
        };
        let (_, events) = email_events(pb::RecordEmailEventsRequest {
            provider: "ses".into(),
            events: vec![
                event(pb::EmailEventType::Unspecified),
                event(pb::EmailEventType::HardBounce),
            ],
            request_id: String::new(),
        })
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].address.as_deref(), Some("parent@mail.com"));
        assert_eq!(events[0].reason, "5.1.1 user unknown");
    }
}
