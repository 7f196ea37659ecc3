//! identity-svc settings.
//!
//! Reads the variables every service reads (`HOMEROOM_LISTEN_ADDR`, default
//! `127.0.0.1:50051`; `DATABASE_URL`, default `data/identity.db`;
//! `HOMEROOM_DB_POOL_SIZE`, `HOMEROOM_DRAIN_SECONDS`,
//! `HOMEROOM_MAX_CONNECTION_AGE_SECONDS`, `HOMEROOM_MIGRATE_ON_START`; see
//! `homeroom_platform::config`), and:
//! - `HOMEROOM_MESSAGING_URL`: messaging-svc, for codes and invitations
//!   (default `http://127.0.0.1:50053`)
//! - `HOMEROOM_SERVICE_SECRET`: the secret roster, messaging and the gateway
//!   present to `IssueServiceToken`; unset disables service tokens.

use homeroom_platform::config::{Env, ServiceSettings, loopback};
use secrecy::SecretString;

/// Default port of identity-svc.
pub const DEFAULT_PORT: u16 = 50051;

/// identity-svc configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, drain.
    pub service: ServiceSettings,
    /// Shared secret of the service clients.
    pub service_secret: Option<SecretString>,
    /// messaging-svc's gRPC URL.
    pub messaging_url: String,
}

impl Config {
    /// Laptop defaults.
    pub fn defaults() -> Config {
        Config {
            service: ServiceSettings::defaults("identity", loopback(DEFAULT_PORT)),
            service_secret: None,
            messaging_url: "http://127.0.0.1:50053".into(),
        }
    }

    /// Reads the environment over the defaults.
    pub fn from_env(env: &Env) -> anyhow::Result<Config> {
        Ok(Config {
            service: ServiceSettings::from_env(env, "identity", loopback(DEFAULT_PORT))?,
            service_secret: env.get("SERVICE_SECRET").map(SecretString::from),
            messaging_url: homeroom_platform::config::uri_or(
                env,
                "MESSAGING_URL",
                "http://127.0.0.1:50053",
            )?,
        })
    }
}
