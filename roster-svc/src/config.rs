//! roster-svc settings.
//!
//! Reads the variables every service reads (`HOMEROOM_LISTEN_ADDR`, default
//! `127.0.0.1:50052`; `DATABASE_URL`, default `data/roster.db`;
//! `HOMEROOM_DB_POOL_SIZE`, `HOMEROOM_DRAIN_SECONDS`,
//! `HOMEROOM_MAX_CONNECTION_AGE_SECONDS`, `HOMEROOM_MIGRATE_ON_START`; see
//! `homeroom_platform::config`), and `HOMEROOM_IDENTITY_URL` (default
//! `http://127.0.0.1:50051`): identity-svc, whose JWKS verifies callers' tokens.

use homeroom_platform::config::{Env, ServiceSettings, loopback};

/// Default port of roster-svc.
pub const DEFAULT_PORT: u16 = 50052;

/// roster-svc configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, drain.
    pub service: ServiceSettings,
    /// identity-svc's gRPC URL: its JWKS verifies callers' tokens.
    pub identity_url: String,
}

impl Config {
    /// Laptop defaults.
    pub fn defaults() -> Config {
        Config {
            service: ServiceSettings::defaults("roster", loopback(DEFAULT_PORT)),
            identity_url: "http://127.0.0.1:50051".into(),
        }
    }

    /// Reads the environment over the defaults.
    pub fn from_env(env: &Env) -> anyhow::Result<Config> {
        Ok(Config {
            service: ServiceSettings::from_env(env, "roster", loopback(DEFAULT_PORT))?,
            identity_url: homeroom_platform::config::uri_or(
                env,
                "IDENTITY_URL",
                "http://127.0.0.1:50051",
            )?,
        })
    }
}
