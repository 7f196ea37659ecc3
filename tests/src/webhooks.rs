//! Provider webhooks as the providers send them, signed: SendGrid's event
//! webhook (ECDSA P-256 over timestamp and body).

use base64::Engine as _;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_json::Value;

/// The private half of [`crate::SENDGRID_WEBHOOK_KEY`].
pub const SENDGRID_SIGNING_KEY: [u8; 32] = [
    0x6b, 0x0c, 0x5a, 0x2f, 0x9e, 0x3d, 0x4c, 0x7b, 0x8a, 0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79,
    0x80, 0x7f, 0x6e, 0x5d, 0x4c, 0x3b, 0x2a, 0x19, 0x08, 0xf7, 0xe6, 0xd5, 0xc4, 0xb3, 0xa2, 0x91,
];

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Posts SendGrid `events` to the gateway at `base`, signed by `key` at
/// `timestamp` (unsigned if `None`).
pub async fn sendgrid(
    http: &reqwest::Client,
    base: &str,
    events: &Value,
    signed: Option<(&SigningKey, i64)>,
) -> reqwest::Result<reqwest::Response> {
    let body = events.to_string();
    let mut request = http
        .post(format!("{base}/webhooks/email/sendgrid"))
        .header("content-type", "application/json");
    if let Some((key, timestamp)) = signed {
        let timestamp = timestamp.to_string();
        let signature: Signature = key.sign(format!("{timestamp}{body}").as_bytes());
        request = request
            .header("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
            .header(
                "X-Twilio-Email-Event-Webhook-Signature",
                base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes()),
            );
    }
    request.body(body).send().await
}

/// A signed hard bounce of `email` (SMTP 5.1.1, "Invalid Address").
pub async fn sendgrid_bounce(
    http: &reqwest::Client,
    base: &str,
    email: &str,
) -> reqwest::Result<reqwest::Response> {
    let key = SigningKey::from_slice(&SENDGRID_SIGNING_KEY)
        .unwrap_or_else(|e| panic!("the test key: {e}"));
    let now = unix_now();
    let bounce = serde_json::json!([{
        "email": email,
        "timestamp": now,
        "smtp-id": "<console-test@example.org>",
        "event": "bounce",
        "type": "bounce",
        "sg_event_id": format!("sg-event-{now}-{email}"),
        "sg_message_id": format!("sg-message-{now}"),
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "status": "5.1.1",
        "bounce_classification": "Invalid Address"
    }]);
    sendgrid(http, base, &bounce, Some((&key, now))).await
}
