//! Gateway settings.
//!
//! - `HOMEROOM_LISTEN_ADDR`: HTTP address (default `127.0.0.1:8080`)
//! - `HOMEROOM_IDENTITY_URL`, `HOMEROOM_ROSTER_URL`, `HOMEROOM_MESSAGING_URL`:
//!   upstream gRPC services (defaults `http://127.0.0.1:50051`, `…:50052`, `…:50053`)
//! - `HOMEROOM_DRAIN_SECONDS`: bounded drain after SIGTERM (default 10)
//! - `HOMEROOM_UPSTREAM_TIMEOUT_MS`: how long a readiness probe waits per upstream (default 1000)

use std::{net::SocketAddr, time::Duration};

use homeroom_platform::config::{Env, loopback, uri_or};

/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8080;

/// Gateway configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP listen address.
    pub listen_addr: SocketAddr,
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
}

impl Config {
    /// Laptop defaults.
    pub fn defaults() -> Config {
        Config {
            listen_addr: loopback(DEFAULT_PORT),
            identity_url: "http://127.0.0.1:50051".into(),
            roster_url: "http://127.0.0.1:50052".into(),
            messaging_url: "http://127.0.0.1:50053".into(),
            drain_timeout: Duration::from_secs(10),
            upstream_timeout: Duration::from_millis(1000),
        }
    }

    /// Reads the environment over the defaults.
    pub fn from_env(env: &Env) -> anyhow::Result<Config> {
        let d = Config::defaults();
        Ok(Config {
            listen_addr: env.parse_or("LISTEN_ADDR", d.listen_addr)?,
            identity_url: uri_or(env, "IDENTITY_URL", &d.identity_url)?,
            roster_url: uri_or(env, "ROSTER_URL", &d.roster_url)?,
            messaging_url: uri_or(env, "MESSAGING_URL", &d.messaging_url)?,
            drain_timeout: env.seconds_or("DRAIN_SECONDS", d.drain_timeout)?,
            upstream_timeout: env
                .parse_or("UPSTREAM_TIMEOUT_MS", d.upstream_timeout.as_millis() as u64)
                .map(Duration::from_millis)?,
        })
    }
}
