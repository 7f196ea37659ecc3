//! Email through lettre: [`SmtpProvider`] hands each message to an SMTP relay
//! over a pooled connection (rustls with ring when encrypted), at most
//! `max_per_second` a second, and turns the relay's answer into a [`SendOutcome`]; [`FileProvider`] writes `.eml` files,
//! the embedded default on a laptop.

use std::error::Error as _;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use futures::future::BoxFuture;
use homeroom_platform::telemetry::mask_address;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::{self, PoolConfig, authentication::Credentials};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use tracing::{debug, warn};

use super::{EmailProvider, OutgoingEmail, SendOutcome, rate_limit::RateLimiter};
use crate::domain::masking::redact;

/// Header carrying the delivery id, so bounces and retries can be traced back.
pub const DELIVERY_HEADER: &str = "X-Homeroom-Delivery";

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: a relay on the same host or a test sink only.
    None,
    /// Plain connect, then a required `STARTTLS` upgrade (submission, port 587).
    StartTls,
    /// TLS from the first byte (submissions, port 465).
    Tls,
}

impl SmtpTls {
    /// The port this mode is usually served on.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

impl FromStr for SmtpTls {
    type Err = anyhow::Error;

    /// Parses `none`, `starttls` or `tls` (any case).
    fn from_str(s: &str) -> anyhow::Result<SmtpTls> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            other => anyhow::bail!("SMTP TLS mode must be none, starttls or tls, not {other:?}"),
        }
    }
}

/// Where and how to send email over SMTP.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Relay host name (also the name its TLS certificate must carry).
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// Connection protection.
    pub tls: SmtpTls,
    /// Login, if the relay wants one; goes with `password`.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<SecretString>,
    /// Envelope sender and `From:` address.
    pub from_address: String,
    /// `From:` display name; empty for none.
    pub from_name: String,
    /// Limit for one message: connecting and the whole SMTP dialogue.
    pub timeout: Duration,
    /// Idle connections kept open to the relay.
    pub max_connections: u32,
    /// Messages per second to the relay; `None` = unlimited.
    pub max_per_second: Option<NonZeroU32>,
}

impl SmtpSettings {
    /// A sensible [`SmtpSettings::timeout`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// A sensible [`SmtpSettings::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
}

/// Sends email through an SMTP relay with a pooled lettre transport. A sent
/// message reports its `Message-ID`, `<{delivery_id}@homeroom>`, as the
/// provider message id.
pub struct SmtpProvider {
    settings: SmtpSettings,
    composer: Composer,
    limiter: Option<RateLimiter>,
    // Replaced after a timeout: the abandoned connection may sit mid-dialogue
    // and must never be handed to the next message.
    transport: Mutex<AsyncSmtpTransport<Tokio1Executor>>,
}

impl SmtpProvider {
    /// Checks the settings and prepares the pool; connects on the first send.
    pub fn new(settings: SmtpSettings) -> anyhow::Result<SmtpProvider> {
        let composer = Composer::new(&settings.from_address, &settings.from_name)?;
        let transport = build_transport(&settings)?;
        Ok(SmtpProvider {
            limiter: settings.max_per_second.map(RateLimiter::per_second),
            settings,
            composer,
            transport: Mutex::new(transport),
        })
    }

    fn transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        self.transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn reset_pool(&self) {
        match build_transport(&self.settings) {
            Ok(fresh) => {
                let mut transport = self
                    .transport
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                *transport = fresh;
            }
            Err(error) => warn!(%error, "could not rebuild the smtp pool"),
        }
    }

    #[tracing::instrument(skip_all, fields(delivery_id = %email.delivery_id, to = %mask_address(&email.to)))]
    async fn send(&self, email: OutgoingEmail) -> SendOutcome {
        let (message, message_id) = match self.composer.compose(&email) {
            Ok(composed) => composed,
            Err(outcome) => return outcome,
        };
        // The wait for a slot is not part of the send's timeout.
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        let transport = self.transport();
        match tokio::time::timeout(self.settings.timeout, transport.send(message)).await {
            Ok(Ok(response)) => {
                debug!(code = %response.code(), "smtp relay accepted the message");
                SendOutcome::Sent {
                    provider_message_id: message_id,
                }
            }
            Ok(Err(error)) => classify(&error, &email.to),
            Err(_elapsed) => {
                self.reset_pool();
                let reason = format!("smtp send timed out after {:?}", self.settings.timeout);
                warn!(timeout = ?self.settings.timeout, "smtp send timed out");
                SendOutcome::Transient {
                    reason,
                    retry_after: None,
                }
            }
        }
    }
}

impl EmailProvider for SmtpProvider {
    fn send_email(&self, email: OutgoingEmail) -> BoxFuture<'_, SendOutcome> {
        Box::pin(self.send(email))
    }
}

fn build_transport(settings: &SmtpSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    type Transport = AsyncSmtpTransport<Tokio1Executor>;
    let host = settings.host.as_str();
    let builder = match settings.tls {
        SmtpTls::None => Transport::builder_dangerous(host),
        SmtpTls::StartTls => Transport::starttls_relay(host).context("SMTP STARTTLS setup")?,
        SmtpTls::Tls => Transport::relay(host).context("SMTP TLS setup")?,
    };
    let builder = builder
        .port(settings.port)
        .timeout(Some(settings.timeout))
        .pool_config(PoolConfig::new().max_size(settings.max_connections));
    let builder = match (&settings.username, &settings.password) {
        (Some(user), Some(password)) => builder.credentials(Credentials::new(
            user.clone(),
            password.expose_secret().to_owned(),
        )),
        (None, None) => builder,
        _ => anyhow::bail!("SMTP username and password must be set together"),
    };
    Ok(builder.build())
}

/// 5xx is a bounce (MS-6); 4xx, timeouts, refused connections, TLS trouble and
/// anything else are retried (MS-4) — none of those is the address's fault.
fn classify(error: &smtp::Error, to: &str) -> SendOutcome {
    // The server's reply, its code once (lettre's text may start with it).
    let reply = |code: String| {
        let text = error.source().map(ToString::to_string).unwrap_or_default();
        let text = text.trim();
        if text.starts_with(&code) {
            text.to_owned()
        } else {
            format!("{code} {text}").trim_end().to_owned()
        }
    };
    match error.status() {
        Some(code) if error.is_permanent() => {
            let code = code.to_string();
            let reason = reply(code.clone());
            warn!(%code, reason = %redact(&reason, to), "smtp relay refused the message");
            SendOutcome::Permanent { code, reason }
        }
        Some(code) => {
            let reason = reply(code.to_string());
            warn!(reason = %redact(&reason, to), "smtp relay deferred the message");
            SendOutcome::Transient {
                reason,
                retry_after: None,
            }
        }
        None => {
            let reason = error.to_string();
            warn!(%reason, timeout = error.is_timeout(), "smtp send failed");
            SendOutcome::Transient {
                reason,
                retry_after: None,
            }
        }
    }
}

/// Writes each message to `<dir>/<delivery_id>.eml` instead of sending it
/// (a second attempt of the same delivery to `<delivery_id>.2.eml`, and so on).
pub struct FileProvider {
    dir: PathBuf,
    composer: Composer,
}

impl FileProvider {
    /// Creates `dir` if needed.
    pub fn new(
        dir: impl Into<PathBuf>,
        from_address: &str,
        from_name: &str,
    ) -> anyhow::Result<FileProvider> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let composer = Composer::new(from_address, from_name)?;
        Ok(FileProvider { dir, composer })
    }

    /// Where the `.eml` files go.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a delivery is written to.
    pub fn path_for(&self, delivery_id: &str) -> PathBuf {
        let stem: String = delivery_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{stem}.eml"))
    }

    #[tracing::instrument(skip_all, fields(delivery_id = %email.delivery_id, to = %mask_address(&email.to)))]
    async fn write(&self, email: OutgoingEmail) -> SendOutcome {
        let (message, message_id) = match self.composer.compose(&email) {
            Ok(composed) => composed,
            Err(outcome) => return outcome,
        };
        let path = self.path_for(&email.delivery_id);
        let written = tokio::task::spawn_blocking(move || {
            // Write, then link under the final name, so a reader never sees
            // half a message; one file per attempt: a message sent again
            // (after a crash mid-call) lands beside the first as
            // `<delivery>.2.eml`, never over it.
            let partial = path.with_extension(format!("{}.partial", uuid::Uuid::new_v4().simple()));
            std::fs::write(&partial, message.formatted())?;
            let mut target = path.clone();
            let mut attempt = 1;
            let linked = loop {
                match std::fs::hard_link(&partial, &target) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => {
                        attempt += 1;
                        target = path.with_extension(format!("{attempt}.eml"));
                    }
                    other => break other,
                }
            };
            std::fs::remove_file(&partial)?;
            linked
        })
        .await;
        match written {
            Ok(Ok(())) => SendOutcome::Sent {
                provider_message_id: message_id,
            },
            Ok(Err(error)) => transient(format!("writing the .eml file failed: {error}")),
            Err(error) => transient(format!("writing the .eml file failed: {error}")),
        }
    }
}

impl EmailProvider for FileProvider {
    fn send_email(&self, email: OutgoingEmail) -> BoxFuture<'_, SendOutcome> {
        Box::pin(self.write(email))
    }
}

fn transient(reason: String) -> SendOutcome {
    warn!(%reason, "email not sent");
    SendOutcome::Transient {
        reason,
        retry_after: None,
    }
}

/// Turns an [`OutgoingEmail`] into a lettre [`Message`]; shared by both providers.
struct Composer {
    from: Mailbox,
}

impl Composer {
    fn new(from_address: &str, from_name: &str) -> anyhow::Result<Composer> {
        let address: Address = from_address
            .parse()
            .with_context(|| format!("sender address {from_address:?}"))?;
        let name = (!from_name.trim().is_empty()).then(|| from_name.trim().to_owned());
        Ok(Composer {
            from: Mailbox::new(name, address),
        })
    }

    /// The message and its `Message-ID`, or the outcome to report instead.
    fn compose(&self, email: &OutgoingEmail) -> Result<(Message, String), SendOutcome> {
        let to: Address = email.to.parse().map_err(|error| {
            // Addresses are validated before they are queued; one lettre cannot
            // parse would be refused by every relay, so it bounces like a 553.
            warn!(%error, "recipient address does not parse");
            SendOutcome::Permanent {
                code: "553".into(),
                reason: format!("5.1.3 recipient address does not parse: {error}"),
            }
        })?;
        // Stable across retries, so a duplicate is recognisable downstream.
        let message_id = format!("<{}@homeroom>", email.delivery_id);
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(email.subject.as_str())
            .message_id(Some(message_id.clone()))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                content_language(&email.language),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(DELIVERY_HEADER),
                email.delivery_id.clone(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map(|message| (message, message_id))
            .map_err(|error| transient(format!("composing the message failed: {error}")))
    }
}

/// The body's language tag; empty (or not a tag) means English.
fn content_language(language: &str) -> String {
    let tag = language.trim();
    let valid = !tag.is_empty() && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        tag.to_owned()
    } else {
        "en".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_malformed_language_is_english() {
        assert_eq!(content_language(""), "en");
        assert_eq!(content_language("es\r\nBcc: x"), "en");
        assert_eq!(content_language(" es-MX "), "es-MX");
    }

    #[test]
    fn tls_modes_parse_in_any_case() {
        assert_eq!("STARTTLS".parse::<SmtpTls>().unwrap(), SmtpTls::StartTls);
        assert_eq!("none".parse::<SmtpTls>().unwrap(), SmtpTls::None);
        assert!("ssl".parse::<SmtpTls>().is_err());
    }

    #[test]
    fn delivery_ids_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileProvider::new(dir.path(), "office@school.example", "").unwrap();
        assert_eq!(files.path_for("../x/y"), dir.path().join("___x_y.eml"));
    }
}
