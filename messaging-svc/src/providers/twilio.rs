//! SMS and voice through Twilio's REST API, or anything that speaks it (the
//! tests' mock): `Messages.json`, `Calls.json` with TwiML `<Say>` in the
//! recipient's language, an optional messages-per-second limit, and the
//! mapping of Twilio's answers onto [`SendOutcome`] (MS-4, MS-6).
//!
//! Every request carries `I-Twilio-Idempotency-Token: <delivery id>`, so a
//! delivery retried after a lost answer is not sent twice.
//!
//! | Twilio answer                                         | Outcome                      | Why                                   |
//! |-------------------------------------------------------|------------------------------|---------------------------------------|
//! | 2xx with a `sid`                                      | `Sent { sid }`               |                                       |
//! | code 21610                                            | `OptedOut`                   | the number replied STOP; not bad      |
//! | codes in [`PERMANENT_CODES`] (21211, 21614, 30006 …)  | `Permanent { code, message }`| the number cannot take it: bad (MS-6) |
//! | HTTP 401/403 (20003)                                  | `Transient`, logged once     | our credentials, not the address      |
//! | HTTP 429 (20429), 5xx                                 | `Transient` + `Retry-After`  | Twilio is busy or down                |
//! | any other 4xx, unknown code or unreadable body        | `Transient`                  | not the address's fault; the queue's attempt limit ends it |
//! | timeout, connection error                             | `Transient`                  |                                       |
//! | 2xx without a readable `sid`                          | `Transient`                  | safe: the retry reuses the token      |

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{OutgoingCall, OutgoingSms, PhoneProvider, SendOutcome, rate_limit::RateLimiter};

/// The header Twilio deduplicates requests by.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// Twilio's "recipient replied STOP" error.
pub const OPTED_OUT_CODE: u32 = 21610;

/// Twilio errors that mean the number itself cannot receive: invalid (21211,
/// 21217, 21401), unreachable (21214, 21612, 30003, 30005), region not enabled
/// (21408), not SMS-capable or landline (21614, 21635, 30006).
pub const PERMANENT_CODES: &[u32] = &[
    21211, 21214, 21217, 21401, 21408, 21612, 21614, 21635, 30003, 30005, 30006,
];

/// How to reach Twilio.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// API root, default `https://api.twilio.com`; tests point it at the mock.
    pub base_url: String,
    /// `AC…`; the basic-auth user and part of every path.
    pub account_sid: String,
    /// The basic-auth password.
    pub auth_token: SecretString,
    /// E.164 caller id; required for calls, used for SMS without a messaging service.
    pub from: Option<String>,
    /// `MG…`; when set, SMS go through this messaging service instead of `from`.
    pub messaging_service_sid: Option<String>,
    /// Where Twilio posts status callbacks (the gateway's public URL).
    pub status_callback: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Requests per second, SMS and calls together; `None` = unlimited.
    pub max_per_second: Option<NonZeroU32>,
}

impl TwilioSettings {
    /// Settings for the real API with a 10 s timeout and no rate limit.
    pub fn new(account_sid: impl Into<String>, auth_token: SecretString) -> TwilioSettings {
        TwilioSettings {
            base_url: "https://api.twilio.com".into(),
            account_sid: account_sid.into(),
            auth_token,
            from: None,
            messaging_service_sid: None,
            status_callback: None,
            timeout: Duration::from_secs(10),
            max_per_second: None,
        }
    }
}

/// [`PhoneProvider`] over Twilio's REST API.
pub struct TwilioProvider {
    client: reqwest::Client,
    settings: TwilioSettings,
    messages_url: String,
    calls_url: String,
    limiter: Option<RateLimiter>,
    credentials_error_logged: AtomicBool,
}

impl TwilioProvider {
    /// Builds the HTTP client (rustls with ring) for `settings`.
    pub fn new(settings: TwilioSettings) -> anyhow::Result<TwilioProvider> {
        let sid = &settings.account_sid;
        anyhow::ensure!(
            !sid.is_empty() && sid.chars().all(|c| c.is_ascii_alphanumeric()),
            "twilio account sid must be alphanumeric"
        );
        anyhow::ensure!(
            settings.from.is_some() || settings.messaging_service_sid.is_some(),
            "twilio needs a from number or a messaging service sid"
        );
        // The project's one TLS stack; reqwest is built without a provider of
        // its own. An error only means a provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("homeroom-messaging/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let account = format!(
            "{}/2010-04-01/Accounts/{sid}",
            settings.base_url.trim_end_matches('/')
        );
        Ok(TwilioProvider {
            client,
            messages_url: format!("{account}/Messages.json"),
            calls_url: format!("{account}/Calls.json"),
            limiter: settings.max_per_second.map(RateLimiter::per_second),
            settings,
            credentials_error_logged: AtomicBool::new(false),
        })
    }

    async fn sms(&self, sms: OutgoingSms) -> SendOutcome {
        let mut form = vec![("To", sms.to.as_str())];
        match (&self.settings.messaging_service_sid, &self.settings.from) {
            (Some(service), _) => form.push(("MessagingServiceSid", service.as_str())),
            (None, Some(from)) => form.push(("From", from.as_str())),
            (None, None) => return no_sender("sms"),
        }
        form.push(("Body", sms.body.as_str()));
        self.post(&self.messages_url, &sms.delivery_id, form).await
    }

    async fn call(&self, call: OutgoingCall) -> SendOutcome {
        let Some(from) = &self.settings.from else {
            return no_sender("calls");
        };
        let twiml = say_twiml(&call.text, &call.language);
        let form = vec![
            ("To", call.to.as_str()),
            ("From", from.as_str()),
            ("Twiml", twiml.as_str()),
        ];
        self.post(&self.calls_url, &call.delivery_id, form).await
    }

    async fn post(&self, url: &str, delivery_id: &str, mut form: Vec<(&str, &str)>) -> SendOutcome {
        if let Some(callback) = &self.settings.status_callback {
            form.push(("StatusCallback", callback.as_str()));
        }
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        let sent = self
            .client
            .post(url)
            .basic_auth(
                &self.settings.account_sid,
                Some(self.settings.auth_token.expose_secret()),
            )
            .header(IDEMPOTENCY_HEADER, delivery_id)
            .form(&form)
            .send()
            .await;
        match sent {
            Ok(response) => self.read_answer(response).await,
            Err(error) => transient(request_failure(error), None),
        }
    }

    async fn read_answer(&self, response: reqwest::Response) -> SendOutcome {
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return transient(request_failure(error), None),
        };
        if status.is_success() {
            return match serde_json::from_slice::<Created>(&body) {
                Ok(created) => SendOutcome::Sent {
                    provider_message_id: created.sid,
                },
                Err(_) => transient(format!("twilio answered {status} without a sid"), None),
            };
        }
        let error = serde_json::from_slice::<ApiError>(&body).unwrap_or_default();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            if !self.credentials_error_logged.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    status = status.as_u16(),
                    code = error.code,
                    "twilio rejected the account credentials"
                );
            }
            return transient(
                format!("twilio rejected our credentials ({status})"),
                retry_after,
            );
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return transient(format!("twilio answered {status}"), retry_after);
        }
        match error.code {
            Some(code) => classify_error_code(code, error.message.as_deref().unwrap_or("")),
            None => transient(format!("twilio answered {status}"), retry_after),
        }
    }
}

impl PhoneProvider for TwilioProvider {
    fn send_sms(&self, sms: OutgoingSms) -> BoxFuture<'_, SendOutcome> {
        self.sms(sms).boxed()
    }

    fn place_call(&self, call: OutgoingCall) -> BoxFuture<'_, SendOutcome> {
        self.call(call).boxed()
    }
}

/// What a Twilio error code means for the address; also fits the `ErrorCode`
/// of a status callback.
pub fn classify_error_code(code: u32, message: &str) -> SendOutcome {
    let reason = if message.is_empty() {
        format!("twilio error {code}")
    } else {
        message.to_owned()
    };
    if code == OPTED_OUT_CODE {
        SendOutcome::OptedOut { reason }
    } else if PERMANENT_CODES.contains(&code) {
        SendOutcome::Permanent {
            code: code.to_string(),
            reason,
        }
    } else {
        transient(format!("twilio error {code}: {reason}"), None)
    }
}

/// `<Response><Say language="…">text</Say></Response>` with the text XML-escaped.
pub fn say_twiml(text: &str, language: &str) -> String {
    format!(
        r#"<Response><Say language="{}">{}</Say></Response>"#,
        say_language(language),
        xml_escape(text)
    )
}

/// Twilio `<Say>` locales we speak; the first of a language is its default.
const SAY_LOCALES: &[&str] = &[
    "en-US", "en-GB", "en-AU", "en-CA", "en-IN", "es-MX", "es-US", "es-ES", "fr-FR", "fr-CA",
    "pt-BR", "pt-PT", "zh-CN", "zh-TW", "zh-HK", "de-DE", "it-IT", "ja-JP", "ko-KR", "ru-RU",
    "pl-PL", "nl-NL", "sv-SE", "da-DK", "nb-NO", "fi-FI", "ca-ES", "vi-VN", "hi-IN", "tr-TR",
];

/// Maps a BCP 47 tag to a Twilio `<Say>` locale: an exact language-region
/// match, else the language's default (`es` → `es-MX`, `zh-Hant` → `zh-TW`),
/// else `en-US` (Twilio's own default) for languages it cannot speak.
pub fn say_language(tag: &str) -> &'static str {
    let mut subtags = tag.split(['-', '_']);
    let language = subtags.next().unwrap_or("").to_ascii_lowercase();
    let mut region = None;
    let mut traditional = false;
    for subtag in subtags {
        match subtag.len() {
            4 => traditional = subtag.eq_ignore_ascii_case("hant"),
            2 => region = Some(format!("{language}-{}", subtag.to_ascii_uppercase())),
            _ => {}
        }
    }
    if let Some(exact) = region.and_then(|r| SAY_LOCALES.iter().find(|l| **l == r)) {
        return exact;
    }
    match language.as_str() {
        "zh" if traditional => "zh-TW",
        "yue" => "zh-HK",
        "no" => "nb-NO",
        "ar" => "arb",
        _ => SAY_LOCALES
            .iter()
            .find(|l| l.split('-').next() == Some(language.as_str()))
            .map_or("en-US", |l| l),
    }
}

/// Escapes text for XML content and attributes; drops characters XML 1.0 forbids.
pub fn xml_escape(text: &str) -> String {
    homeroom_platform::xml::escape(text)
}

/// The part of Twilio's 201 answer we keep.
#[derive(Deserialize)]
struct Created {
    sid: String,
}

/// Twilio's error body: `{"code":21211,"message":"…","more_info":"…","status":400}`.
#[derive(Deserialize, Default)]
struct ApiError {
    code: Option<u32>,
    message: Option<String>,
}

fn transient(reason: String, retry_after: Option<Duration>) -> SendOutcome {
    SendOutcome::Transient {
        reason,
        retry_after,
    }
}

fn no_sender(what: &str) -> SendOutcome {
    tracing::error!("twilio {what} need a from number, none is configured");
    transient(format!("no twilio sender configured for {what}"), None)
}

fn request_failure(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "twilio request timed out".into()
    } else if error.is_connect() {
        format!("could not connect to twilio: {}", error.without_url())
    } else {
        format!("twilio request failed: {}", error.without_url())
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}
