//! Gateway settings.
//!
//! - `HOMEROOM_LISTEN_ADDR`: HTTP address (default `127.0.0.1:8080`)
//! - `HOMEROOM_IDENTITY_URL`, `HOMEROOM_ROSTER_URL`, `HOMEROOM_MESSAGING_URL`:
//!   upstream gRPC services (defaults `http://127.0.0.1:50051`, `…:50052`, `…:50053`)
//! - `HOMEROOM_DRAIN_SECONDS`: bounded drain after SIGTERM (default 10)
//! - `HOMEROOM_UPSTREAM_TIMEOUT_MS`: how long a readiness probe waits per upstream (default 1000)
//! - `HOMEROOM_SERVICE_SECRET`: the gateway's secret for identity's
//!   `IssueServiceToken` (service-only RPCs such as provider webhooks)
//! - `HOMEROOM_PUBLIC_URL`: the external base URL providers call (Twilio signs
//!   the full URL); unset means the request's `Host`, over http
//! - `HOMEROOM_TWILIO_AUTH_TOKEN`: verifies `X-Twilio-Signature`; unset refuses
//!   Twilio webhooks
//! - `HOMEROOM_SENDGRID_WEBHOOK_KEY`: SendGrid's signed-event-webhook public key
//!   (base64 DER, P-256); unset refuses email event webhooks
//! - `HOMEROOM_CORS_ORIGINS`: comma-separated browser origins allowed to call the
//!   API (default none)
//! - `HOMEROOM_RATE_PER_IP`, `HOMEROOM_RATE_PER_ACCOUNT`: requests per minute per
//!   client address and per signed-in account (defaults 600 and 300)
//! - `HOMEROOM_MAX_BODY_BYTES`: largest request body (default 1 MiB)
//! - `HOMEROOM_REQUEST_TIMEOUT_SECS`: longest a request may take (default 30)
//! - `HOMEROOM_TRUSTED_PROXIES`: comma-separated CIDRs of the proxies in front
//!   of the gateway (default none: every caller is its TCP peer)
//! - `HOMEROOM_FORWARDED_HEADER`: the header those proxies write,
//!   `x-forwarded-for` (default) or `forwarded`

use std::{net::SocketAddr, time::Duration};

use homeroom_platform::config::{Env, loopback, uri_or};
use secrecy::SecretString;

/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8080;

/// Gateway configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP listen address.
    pub listen_addr: SocketAddr,
    /// Where Prometheus scrapes `/metrics` (`HOMEROOM_METRICS_ADDR`; unset: off).
    pub metrics_addr: Option<SocketAddr>,
    /// identity-svc gRPC URL.
    pub identity_url: String,
    /// roster-svc gRPC URL.
    pub roster_url: String,
    /// messaging-svc gRPC URL.
    pub messaging_url: String,
    /// Bounded drain after SIGTERM.
    pub drain_timeout: Duration,
    /// Per-upstream timeout of readiness probes.
    pub upstream_timeout: Duration,
    /// The gateway's service secret (service tokens for service-only RPCs).
    pub service_secret: Option<SecretString>,
    /// External base URL providers call, e.g. `https://homeroom.example.org`.
    pub public_url: Option<String>,
    /// Twilio auth token (verifies `X-Twilio-Signature`).
    pub twilio_auth_token: Option<SecretString>,
    /// SendGrid signed-event-webhook public key (base64 DER).
    pub sendgrid_webhook_key: Option<String>,
    /// Browser origins allowed by CORS.
    pub cors_origins: Vec<String>,
    /// Requests per minute per client address.
    pub rate_per_ip: u32,
    /// Requests per minute per signed-in account.
    pub rate_per_account: u32,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Longest a guardian upload may take to arrive and be stored.
    pub upload_timeout: Duration,
    /// Proxies whose forwarding header names the caller.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
}

impl Config {
    /// Laptop defaults.
    pub fn defaults() -> Config {
        Config {
            listen_addr: loopback(DEFAULT_PORT),
            metrics_addr: None,
            identity_url: "http://127.0.0.1:50051".into(),
            roster_url: "http://127.0.0.1:50052".into(),
            messaging_url: "http://127.0.0.1:50053".into(),
            drain_timeout: Duration::from_secs(10),
            upstream_timeout: Duration::from_millis(1000),
            service_secret: None,
            public_url: None,
            twilio_auth_token: None,
            sendgrid_webhook_key: None,
            cors_origins: Vec::new(),
            rate_per_ip: 600,
            rate_per_account: 300,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(600),
            trusted_proxies: crate::client_ip::TrustedProxies::default(),
        }
    }

    /// Reads the environment over the defaults.
    pub fn from_env(env: &Env) -> anyhow::Result<Config> {
        let d = Config::defaults();
        Ok(Config {
            listen_addr: env.parse_or("LISTEN_ADDR", d.listen_addr)?,
            metrics_addr: homeroom_platform::config::metrics_addr(env)?,
            identity_url: uri_or(env, "IDENTITY_URL", &d.identity_url)?,
            roster_url: uri_or(env, "ROSTER_URL", &d.roster_url)?,
            messaging_url: uri_or(env, "MESSAGING_URL", &d.messaging_url)?,
            drain_timeout: env.seconds_or("DRAIN_SECONDS", d.drain_timeout)?,
            upstream_timeout: env
                .parse_or("UPSTREAM_TIMEOUT_MS", d.upstream_timeout.as_millis() as u64)
                .map(Duration::from_millis)?,
            service_secret: env.get("SERVICE_SECRET").map(SecretString::from),
            public_url: env
                .get("PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string()),
            twilio_auth_token: env.get("TWILIO_AUTH_TOKEN").map(SecretString::from),
            sendgrid_webhook_key: env.get("SENDGRID_WEBHOOK_KEY"),
            cors_origins: env
                .get("CORS_ORIGINS")
                .map(|o| {
                    o.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            rate_per_ip: env.parse_or("RATE_PER_IP", d.rate_per_ip)?,
            rate_per_account: env.parse_or("RATE_PER_ACCOUNT", d.rate_per_account)?,
            max_body_bytes: env.parse_or("MAX_BODY_BYTES", d.max_body_bytes)?,
            request_timeout: env.seconds_or("REQUEST_TIMEOUT_SECS", d.request_timeout)?,
            upload_timeout: env.seconds_or("UPLOAD_TIMEOUT_SECS", d.upload_timeout)?,
            trusted_proxies: trusted_proxies(env)?,
        })
    }
}

fn trusted_proxies(env: &Env) -> anyhow::Result<crate::client_ip::TrustedProxies> {
    let header = env
        .get("FORWARDED_HEADER")
        .map(|h| h.parse())
        .transpose()
        .map_err(|e: String| anyhow::anyhow!("HOMEROOM_FORWARDED_HEADER: {e}"))?
        .unwrap_or(crate::client_ip::ForwardedHeader::XForwardedFor);
    crate::client_ip::TrustedProxies::parse(&env.get("TRUSTED_PROXIES").unwrap_or_default(), header)
        .map_err(|e| anyhow::anyhow!("HOMEROOM_TRUSTED_PROXIES: {e}"))
}
