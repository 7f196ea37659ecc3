//! messaging-svc settings.
//!
//! Reads the variables every service reads (`HOMEROOM_LISTEN_ADDR`, default
//! `127.0.0.1:50053`; `DATABASE_URL`, default `data/messaging.db`;
//! `HOMEROOM_DB_POOL_SIZE`, `HOMEROOM_DRAIN_SECONDS`,
//! `HOMEROOM_MAX_CONNECTION_AGE_SECONDS`, `HOMEROOM_MIGRATE_ON_START`; see
//! `homeroom_platform::config`), and:
//! - `HOMEROOM_IDENTITY_URL` (default `http://127.0.0.1:50051`): identity-svc,
//!   whose JWKS verifies callers' tokens
//! - `HOMEROOM_ROSTER_URL` (default `http://127.0.0.1:50052`): roster-svc, which
//!   resolves students, classes and schools to accounts
//! - `HOMEROOM_SERVICE_SECRET`: presented to identity-svc for a service token
//!   (contact points, audit events); unset, communications cannot be planned
//!   and Reset Status audit events wait in the outbox
//! - `HOMEROOM_WORKERS` (default 2): delivery workers in this process
//! - `HOMEROOM_DELIVERY`: `outbox` lets a channel without a provider write to
//!   the outbox folder. Unset, `homeroom serve messaging` refuses to start
//!   unless both SMTP and Twilio are configured, so production never drops
//!   mail into a folder silently (the all-in-one `homeroom run` defaults to
//!   `outbox`)
//! - `HOMEROOM_OUTBOX_DIR` (default `data/outbox`): with the outbox chosen,
//!   email without SMTP is written there as `.eml` files (one per attempt);
//!   SMS and calls without Twilio go to `sms.jsonl`
//! - `HOMEROOM_EMAIL_FROM` (default `no-reply@homeroom.local`), `HOMEROOM_EMAIL_FROM_NAME` (default `Homeroom`)
//! - `HOMEROOM_SMTP_HOST` (enables SMTP), `HOMEROOM_SMTP_PORT`, `HOMEROOM_SMTP_TLS`
//!   (`none`, `starttls`, `tls`; default `starttls`), `HOMEROOM_SMTP_USERNAME`, `HOMEROOM_SMTP_PASSWORD`
//! - `HOMEROOM_TWILIO_ACCOUNT_SID` (enables Twilio), `HOMEROOM_TWILIO_AUTH_TOKEN`,
//!   `HOMEROOM_TWILIO_FROM` or `HOMEROOM_TWILIO_MESSAGING_SERVICE_SID`,
//!   `HOMEROOM_TWILIO_BASE_URL` (default `https://api.twilio.com`),
//!   `HOMEROOM_TWILIO_STATUS_CALLBACK`
//! - `HOMEROOM_SMTP_MAX_PER_SECOND`, `HOMEROOM_TWILIO_MAX_PER_SECOND` (default
//!   unset or 0: no limit): messages per second to the provider from this
//!   process, shared by all its workers (SMS and calls together for Twilio)

use std::{num::NonZeroU32, path::PathBuf};

use homeroom_platform::config::{Env, ServiceSettings, loopback, uri_or};
use secrecy::SecretString;

use crate::providers::{smtp::SmtpSettings, twilio::TwilioSettings};

/// Default port of messaging-svc.
pub const DEFAULT_PORT: u16 = 50053;

/// messaging-svc configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, drain.
    pub service: ServiceSettings,
    /// identity-svc's gRPC URL: its JWKS verifies callers' tokens.
    pub identity_url: String,
    /// roster-svc's gRPC URL.
    pub roster_url: String,
    /// Secret for identity's `IssueServiceToken`.
    pub service_secret: Option<SecretString>,
    /// Delivery workers to run.
    pub workers: usize,
    /// Where the embedded providers write.
    pub outbox_dir: PathBuf,
    /// Sender of emails.
    pub email_from: (String, String),
    /// SMTP, when configured.
    pub smtp: Option<SmtpSettings>,
    /// Twilio, when configured.
    pub twilio: Option<TwilioSettings>,
    /// Whether a channel without a provider may write to the outbox.
    pub delivery: Delivery,
}

/// What a channel without a configured provider does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It writes to the outbox folder (`HOMEROOM_DELIVERY=outbox`).
    Outbox,
    /// Every channel needs its provider; the service refuses to start without.
    ProvidersRequired,
}

impl std::str::FromStr for Delivery {
    type Err = String;

    fn from_str(s: &str) -> Result<Delivery, String> {
        match s {
            "outbox" => Ok(Delivery::Outbox),
            "providers" => Ok(Delivery::ProvidersRequired),
            other => Err(format!(
                "{other:?} is not a delivery mode: use outbox (files in HOMEROOM_OUTBOX_DIR) \
                 or providers (SMTP and Twilio required)"
            )),
        }
    }
}

impl Config {
    /// Laptop defaults: the outbox under `data/`.
    pub fn defaults() -> Config {
        Config {
            service: ServiceSettings::defaults("messaging", loopback(DEFAULT_PORT)),
            identity_url: "http://127.0.0.1:50051".into(),
            roster_url: "http://127.0.0.1:50052".into(),
            service_secret: None,
            workers: 2,
            outbox_dir: "data/outbox".into(),
            email_from: ("no-reply@homeroom.local".into(), "Homeroom".into()),
            smtp: None,
            twilio: None,
            delivery: Delivery::Outbox,
        }
    }

    /// Refuses a configuration whose channels would fall back to the outbox
    /// without the outbox having been chosen, naming what to set.
    pub fn check_delivery(&self) -> anyhow::Result<()> {
        if self.delivery == Delivery::Outbox {
            return Ok(());
        }
        let mut missing = Vec::new();
        if self.smtp.is_none() {
            missing.push("email has no SMTP server (set HOMEROOM_SMTP_HOST and its settings)");
        }
        if self.twilio.is_none() {
            missing.push(
                "SMS and voice have no Twilio account (set HOMEROOM_TWILIO_ACCOUNT_SID, \
                 HOMEROOM_TWILIO_AUTH_TOKEN and HOMEROOM_TWILIO_FROM)",
            );
        }
        anyhow::ensure!(
            missing.is_empty(),
            "messaging-svc will not start: {}. To write those messages to files in \
             HOMEROOM_OUTBOX_DIR instead (nothing is sent), set HOMEROOM_DELIVERY=outbox.",
            missing.join("; ")
        );
        Ok(())
    }

    /// Reads the environment over the defaults.
    pub fn from_env(env: &Env) -> anyhow::Result<Config> {
        let d = Config::defaults();
        let email_from = (
            env.get("EMAIL_FROM").unwrap_or(d.email_from.0),
            env.get("EMAIL_FROM_NAME").unwrap_or(d.email_from.1),
        );
        let smtp = match env.get("SMTP_HOST") {
            None => None,
            Some(host) => {
                let tls = env.parse_or("SMTP_TLS", crate::providers::smtp::SmtpTls::StartTls)?;
                Some(SmtpSettings {
                    host,
                    port: env.parse_or("SMTP_PORT", tls.default_port())?,
                    tls,
                    username: env.get("SMTP_USERNAME"),
                    password: env.get("SMTP_PASSWORD").map(SecretString::from),
                    from_address: email_from.0.clone(),
                    from_name: email_from.1.clone(),
                    timeout: SmtpSettings::DEFAULT_TIMEOUT,
                    max_connections: SmtpSettings::DEFAULT_MAX_CONNECTIONS,
                    max_per_second: per_second(env, "SMTP_MAX_PER_SECOND")?,
                })
            }
        };
        let twilio = match env.get("TWILIO_ACCOUNT_SID") {
            None => None,
            Some(sid) => {
                let token = env.get("TWILIO_AUTH_TOKEN").ok_or_else(|| {
                    anyhow::anyhow!(
                        "HOMEROOM_TWILIO_AUTH_TOKEN is required with HOMEROOM_TWILIO_ACCOUNT_SID"
                    )
                })?;
                let mut t = TwilioSettings::new(sid, SecretString::from(token));
                t.base_url = uri_or(env, "TWILIO_BASE_URL", &t.base_url)?;
                t.from = env.get("TWILIO_FROM");
                t.messaging_service_sid = env.get("TWILIO_MESSAGING_SERVICE_SID");
                t.status_callback = env.get("TWILIO_STATUS_CALLBACK");
                t.max_per_second = per_second(env, "TWILIO_MAX_PER_SECOND")?;
                Some(t)
            }
        };
        Ok(Config {
            service: ServiceSettings::from_env(env, "messaging", loopback(DEFAULT_PORT))?,
            identity_url: uri_or(env, "IDENTITY_URL", &d.identity_url)?,
            roster_url: uri_or(env, "ROSTER_URL", &d.roster_url)?,
            service_secret: env.get("SERVICE_SECRET").map(SecretString::from),
            workers: env.parse_or("WORKERS", d.workers)?,
            outbox_dir: env.get("OUTBOX_DIR").map_or(d.outbox_dir, PathBuf::from),
            email_from,
            smtp,
            twilio,
            delivery: env.parse_or("DELIVERY", Delivery::ProvidersRequired)?,
        })
    }
}

/// A provider's rate limit: unset or 0 is none.
fn per_second(env: &Env, name: &str) -> anyhow::Result<Option<NonZeroU32>> {
    Ok(NonZeroU32::new(env.parse_or(name, 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        Config::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn each_provider_reads_its_own_rate_limit_and_zero_or_unset_is_none() {
        let both = with(&[
            ("HOMEROOM_SMTP_HOST", "smtp.example"),
            ("HOMEROOM_SMTP_MAX_PER_SECOND", "50"),
            ("HOMEROOM_TWILIO_ACCOUNT_SID", "AC123"),
            ("HOMEROOM_TWILIO_AUTH_TOKEN", "token"),
            ("HOMEROOM_TWILIO_MAX_PER_SECOND", "0"),
        ])
        .unwrap();
        let smtp = both.smtp.unwrap();
        assert_eq!(smtp.max_per_second.map(NonZeroU32::get), Some(50));
        assert_eq!(both.twilio.unwrap().max_per_second, None);
        let unset = with(&[("HOMEROOM_SMTP_HOST", "smtp.example")]).unwrap();
        assert_eq!(unset.smtp.unwrap().max_per_second, None);
        let bad = with(&[
            ("HOMEROOM_SMTP_HOST", "smtp.example"),
            ("HOMEROOM_SMTP_MAX_PER_SECOND", "fast"),
        ]);
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("HOMEROOM_SMTP_MAX_PER_SECOND")
        );
    }
}
