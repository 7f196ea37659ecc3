//! The way out: email over SMTP (lettre) and SMS/voice through a
//! Twilio-compatible HTTP API. Providers report what happened as a
//! [`SendOutcome`], which the queue turns into delivery status (MS-4, MS-5, MS-6).

use futures::future::BoxFuture;

pub mod outbox;
pub mod rate_limit;
pub mod smtp;
pub mod twilio;

/// One email to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The delivery; also the provider's idempotency reference.
    pub delivery_id: String,
    /// Normalised address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// BCP 47 language of the body (`Content-Language`).
    pub language: String,
}

/// One SMS to one E.164 number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// The delivery; also the provider's idempotency reference.
    pub delivery_id: String,
    /// E.164 number.
    pub to: String,
    /// Text.
    pub body: String,
}

/// One voice call reading a text (TwiML `<Say>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingCall {
    /// The delivery; also the provider's idempotency reference.
    pub delivery_id: String,
    /// E.164 number.
    pub to: String,
    /// What to say.
    pub text: String,
    /// BCP 47 language to say it in.
    pub language: String,
}

/// What a provider did with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted; later status arrives by callback or bounce.
    Sent {
        /// The provider's id (Twilio SID, SMTP queue id or Message-ID).
        provider_message_id: String,
    },
    /// Try again later (SMTP 4xx, timeouts, HTTP 429/5xx).
    Transient {
        /// Why, for the delivery's last error.
        reason: String,
        /// The provider asked to wait this long (`Retry-After`), if it said.
        retry_after: Option<std::time::Duration>,
    },
    /// Never try this address again (SMTP 5xx, Twilio permanent errors) — MS-6.
    Permanent {
        /// Provider code, e.g. "550" or "21211".
        code: String,
        /// Why, shown as the address's bad reason.
        reason: String,
    },
    /// The number has opted out (Twilio 21610): recorded as opted out, not bad.
    OptedOut {
        /// Why.
        reason: String,
    },
}

/// Sends email.
pub trait EmailProvider: Send + Sync + 'static {
    /// Sends one email.
    fn send_email(&self, email: OutgoingEmail) -> BoxFuture<'_, SendOutcome>;
}

/// Sends SMS and places voice calls.
pub trait PhoneProvider: Send + Sync + 'static {
    /// Sends one SMS.
    fn send_sms(&self, sms: OutgoingSms) -> BoxFuture<'_, SendOutcome>;
    /// Places one call.
    fn place_call(&self, call: OutgoingCall) -> BoxFuture<'_, SendOutcome>;
}
