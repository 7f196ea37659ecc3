//! GW-2: SendGrid's signed event webhook: ECDSA P-256 / SHA-256 over the
//! timestamp header and the raw body, checked with the configured public key
//! and a 10-minute freshness window; its events (bounce, blocked, dropped,
//! spamreport, delivered) become messaging's `RecordEmailEvents`.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use base64::Engine;
use homeroom_proto::messaging::v1 as pb;
use p256::{
    ecdsa::{Signature, VerifyingKey, signature::Verifier},
    pkcs8::DecodePublicKey,
};
use serde_json::Value;

use super::refused;
use crate::{
    api::{caller::RequestId, error::ApiError},
    app::AppState,
};

/// The header carrying the base64 DER ECDSA signature.
pub const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
/// The header carrying the signed Unix timestamp.
pub const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";
/// How far a signed timestamp may be from now, in seconds (replays older
/// than this are refused).
pub const MAX_AGE_SECS: i64 = 10 * 60;
/// Most events messaging takes in one call.
const MAX_BATCH: usize = 1_000;

/// `POST /webhooks/email/sendgrid`: a signed JSON array of events; 204.
pub async fn events(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let configured = state
        .config
        .sendgrid_webhook_key
        .as_deref()
        .ok_or_else(|| {
            refused("SendGrid webhooks are not enabled: HOMEROOM_SENDGRID_WEBHOOK_KEY is not set")
        })?;
    let key = public_key(configured).ok_or_else(|| {
        tracing::error!("HOMEROOM_SENDGRID_WEBHOOK_KEY is not a base64 DER P-256 public key");
        refused("SendGrid webhooks are not enabled: the configured key is not a P-256 public key")
    })?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header(SIGNATURE_HEADER), header(TIMESTAMP_HEADER))
    else {
        tracing::warn!("sendgrid webhook without a signature refused");
        return Err(refused(
            "X-Twilio-Email-Event-Webhook-Signature and -Timestamp are required",
        ));
    };
    if !fresh(timestamp, chrono::Utc::now().timestamp()) {
        tracing::warn!("sendgrid webhook with a stale timestamp refused");
        return Err(refused(
            "X-Twilio-Email-Event-Webhook-Timestamp is more than 10 minutes from now",
        ));
    }
    if !verify(&key, timestamp, &body, signature) {
        tracing::warn!("sendgrid webhook signature mismatch refused");
        return Err(refused(
            "X-Twilio-Email-Event-Webhook-Signature does not match this request",
        ));
    }
    let events = email_events(&body)
        .map_err(|e| ApiError::bad_request(format!("not a SendGrid event array: {e}")))?;
    for batch in events.chunks(MAX_BATCH) {
        let request = pb::RecordEmailEventsRequest {
            provider: "sendgrid".into(),
            events: batch.to_vec(),
            request_id: id.id.clone(),
        };
        let answer = state
            .messaging()
            .record_email_events(id.as_gateway(&state, request).await?)
            .await?
            .into_inner();
        tracing::info!(
            accepted = answer.accepted,
            duplicates = answer.duplicates,
            unmatched = answer.unmatched,
            marked_bad = answer.addresses_marked_bad.len(),
            "sendgrid events recorded"
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The verification key SendGrid shows: base64 of a DER SubjectPublicKeyInfo
/// (PEM armour and line breaks are tolerated).
pub fn public_key(configured: &str) -> Option<VerifyingKey> {
    let b64: String = configured
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()
}

/// Whether `signature` (base64 DER) signs `timestamp` followed by `body`.
pub fn verify(key: &VerifyingKey, timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::from_der(&der) else {
        return false;
    };
    let mut signed = Vec::with_capacity(timestamp.len() + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.extend_from_slice(body);
    key.verify(&signed, &signature).is_ok()
}

/// Whether a signed Unix timestamp is within [`MAX_AGE_SECS`] of `now`.
pub fn fresh(timestamp: &str, now: i64) -> bool {
    timestamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|t| now.abs_diff(t) <= MAX_AGE_SECS.unsigned_abs())
}

/// SendGrid's event array as messaging's events; events that say nothing
/// about an address (processed, open, click, deferred …) are left out.
pub fn email_events(body: &[u8]) -> Result<Vec<pb::EmailEvent>, serde_json::Error> {
    let events: Vec<Value> = serde_json::from_slice(body)?;
    Ok(events.iter().filter_map(email_event).collect())
}

fn email_event(e: &Value) -> Option<pb::EmailEvent> {
    use pb::EmailEventType as T;
    let text = |key: &str| {
        e.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
    };
    let kind = match text("event") {
        "bounce" if text("type") == "blocked" => T::SoftBounce,
        "bounce" => T::HardBounce,
        "blocked" => T::SoftBounce,
        // Dropped: SendGrid suppressed the send. Only its address verdicts count.
        "dropped" => match text("reason") {
            "Bounced Address" | "Invalid" => T::HardBounce,
            "Spam Reporting Address" => T::Complaint,
            _ => return None,
        },
        "spamreport" => T::Complaint,
        "delivered" => T::Delivered,
        // Deferred is retried by SendGrid for up to 72 hours; counting each
        // attempt as a soft bounce would mark a slow mailbox bad. Only the
        // final bounce or block counts.
        _ => return None,
    };
    let why = [text("reason"), text("response")]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let reason = match text("bounce_classification") {
        "" => why.to_string(),
        class if why.is_empty() => class.to_string(),
        class => format!("{why} ({class})"),
    };
    Some(pb::EmailEvent {
        address: text("email").to_string(),
        r#type: kind as i32,
        reason,
        smtp_status: text("status").to_string(),
        provider_message_id: text("sg_message_id").to_string(),
        provider_event_id: text("sg_event_id").to_string(),
        delivery_id: delivery_id(text("delivery_id"), text("smtp-id")),
        occurred_at: e
            .get("timestamp")
            .and_then(Value::as_i64)
            .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
    })
}

/// Our delivery id: a `delivery_id` custom argument, else the Message-ID
/// messaging gives each email, `<{delivery_id}@homeroom>`, which SendGrid
/// reports as `smtp-id`.
fn delivery_id(custom_arg: &str, smtp_id: &str) -> String {
    if !custom_arg.is_empty() {
        return custom_arg.to_string();
    }
    smtp_id
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix("@homeroom>"))
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::{SigningKey, signature::Signer};
    use serde_json::json;

    use super::*;

    // SendGrid's own example (sendgrid-go's event webhook tests).
    const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
    const SENDGRID_TIMESTAMP: &str = "1588788367";
    const SENDGRID_SIGNATURE: &str = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
    const SENDGRID_BODY: &[u8] =
        br#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;

    fn signing_key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
        let signed = [timestamp.as_bytes(), body].concat();
        let signature: Signature = key.sign(&signed);
        base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes())
    }

    #[test]
    fn sendgrids_documented_example_verifies() {
        let key = public_key(SENDGRID_KEY).unwrap();
        assert!(verify(
            &key,
            SENDGRID_TIMESTAMP,
            SENDGRID_BODY,
            SENDGRID_SIGNATURE
        ));
        assert!(!verify(
            &key,
            "1588788368",
            SENDGRID_BODY,
            SENDGRID_SIGNATURE
        ));
        assert!(!verify(&key, SENDGRID_TIMESTAMP, b"[]", SENDGRID_SIGNATURE));
    }

    #[test]
    fn a_key_may_come_as_pem_and_junk_is_no_key() {
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
            &SENDGRID_KEY[..64],
            &SENDGRID_KEY[64..]
        );
        assert!(public_key(&pem).is_some());
        assert!(public_key("not a key").is_none());
        assert!(public_key(&SENDGRID_KEY[..40]).is_none());
    }

    #[test]
    fn a_signature_of_our_own_key_verifies_and_a_forged_or_missing_one_does_not() {
        let key = signing_key();
        let body = br#"[{"email":"a@b.org","event":"bounce"}]"#;
        let signature = sign(&key, "1700000000", body);
        assert!(verify(key.verifying_key(), "1700000000", body, &signature));

        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let forged = sign(&other, "1700000000", body);
        assert!(!verify(key.verifying_key(), "1700000000", body, &forged));
        assert!(!verify(key.verifying_key(), "1700000001", body, &signature));
        assert!(!verify(
            key.verifying_key(),
            "1700000000",
            b"[]",
            &signature
        ));
        assert!(!verify(key.verifying_key(), "1700000000", body, ""));
        assert!(!verify(
            key.verifying_key(),
            "1700000000",
            body,
            "bm90IGEgc2lnbmF0dXJl"
        ));
    }

    #[test]
    fn timestamps_older_than_ten_minutes_are_stale() {
        let now = 1_700_000_000;
        assert!(fresh("1700000000", now));
        assert!(fresh("1699999400", now));
        assert!(!fresh("1699999399", now));
        assert!(!fresh("1700000601", now), "far in the future");
        assert!(!fresh("", now));
        assert!(!fresh("yesterday", now));
    }

    #[test]
    fn sendgrid_events_map_to_messagings_kinds() {
        let body = json!([
            {"email": "Gone@Example.com", "timestamp": 1513299569, "smtp-id": "<d-1@homeroom>",
             "event": "bounce", "sg_event_id": "ev-1", "sg_message_id": "sg-1",
             "reason": "500 unknown recipient", "status": "5.0.0", "type": "bounce",
             "bounce_classification": "Invalid Address"},
            {"email": "full@example.com", "event": "bounce", "type": "blocked", "reason": "mailbox full"},
            {"email": "blocked@example.com", "event": "blocked"},
            {"email": "old@example.com", "event": "dropped", "reason": "Bounced Address"},
            {"email": "moved@example.com", "event": "dropped", "reason": "Unsubscribed Address"},
            {"email": "angry@example.com", "event": "spamreport", "delivery_id": "d-9"},
            {"email": "ok@example.com", "event": "delivered", "response": "250 OK"},
            {"email": "slow@example.com", "event": "deferred", "response": "400 try again"},
            {"email": "ok@example.com", "event": "open"},
            {"email": "ok@example.com", "event": "processed"}
        ]);
        let events = email_events(body.to_string().as_bytes()).unwrap();
        use pb::EmailEventType as T;
        let kinds: Vec<(&str, i32)> = events
            .iter()
            .map(|e| (e.address.as_str(), e.r#type))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("Gone@Example.com", T::HardBounce as i32),
                ("full@example.com", T::SoftBounce as i32),
                ("blocked@example.com", T::SoftBounce as i32),
                ("old@example.com", T::HardBounce as i32),
                ("angry@example.com", T::Complaint as i32),
                ("ok@example.com", T::Delivered as i32),
            ]
        );
        let bounce = &events[0];
        assert_eq!(bounce.reason, "500 unknown recipient (Invalid Address)");
        assert_eq!(bounce.smtp_status, "5.0.0");
        assert_eq!(
            (
                bounce.provider_message_id.as_str(),
                bounce.provider_event_id.as_str()
            ),
            ("sg-1", "ev-1")
        );
        assert_eq!(bounce.delivery_id, "d-1");
        assert_eq!(bounce.occurred_at.unwrap().seconds, 1513299569);
        assert_eq!(events[4].delivery_id, "d-9");
        assert_eq!(events[5].reason, "250 OK");
    }

    #[test]
    fn a_body_that_is_no_event_array_is_an_error() {
        assert!(email_events(b"{}").is_err());
        assert!(email_events(b"not json").is_err());
        assert_eq!(email_events(b"[]").unwrap(), vec![]);
    }
}
