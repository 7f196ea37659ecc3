//! roster-svc settings.
//!
//! Reads the variables every service reads (`HOMEROOM_LISTEN_ADDR`, default
//! `127.0.0.1:50052`; `DATABASE_URL`, default `data/roster.db`;
//! `HOMEROOM_DB_POOL_SIZE`, `HOMEROOM_DRAIN_SECONDS`,
//! `HOMEROOM_MAX_CONNECTION_AGE_SECONDS`, `HOMEROOM_MIGRATE_ON_START`; see
//! `homeroom_platform::config`), and:
//! - `HOMEROOM_IDENTITY_URL` (default `http://127.0.0.1:50051`): identity-svc,
//!   whose JWKS verifies callers' tokens and which holds the accounts a sync
//!   creates and updates;
//! - `HOMEROOM_MESSAGING_URL` (default `http://127.0.0.1:50053`): messaging-svc,
//!   for RO-6 contact-change notices;
//! - `HOMEROOM_SERVICE_SECRET`: presented to identity-svc for roster's service
//!   token (without it, syncs cannot reach identity);
//! - `HOMEROOM_SYNC_WORKERS` (default 1): sync runs this process works on at
//!   once (each source still runs one at a time);
//! - `HOMEROOM_SECRETS_KEY`: 32 random bytes in base64 (`openssl rand -base64
//!   32`) that encrypt the sources' connector credentials at rest. Unset, a
//!   key is derived from `HOMEROOM_SERVICE_SECRET` (SHA-256 with a fixed
//!   label), or from the label alone when that is unset too, so `cargo run`
//!   works; production sets it (every replica the same), since changing the
//!   service secret would otherwise lose every stored credential.
//! - `HOMEROOM_IMPORT_ROOT`: a folder on the host under which each district's
//!   OneRoster CSV sources may read bundles, from `<root>/<district id>/`
//!   only (unset: no host folder is reachable from a district's settings);
//! - `HOMEROOM_OUTBOUND_ALLOW`: comma-separated CIDRs, addresses or host names
//!   that district-set URLs (OneRoster REST, Clever, bundle URLs) may reach
//!   besides the public internet, over http too (unset: public https only).

use homeroom_platform::config::{Env, ServiceSettings, loopback, uri_or};
use secrecy::SecretString;

use crate::{
    connectors::{location::Boundary, outbound::OutboundPolicy},
    secrets::SecretsKey,
};

/// Default port of roster-svc.
pub const DEFAULT_PORT: u16 = 50052;

/// roster-svc configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, drain.
    pub service: ServiceSettings,
    /// identity-svc's gRPC URL.
    pub identity_url: String,
    /// messaging-svc's gRPC URL.
    pub messaging_url: String,
    /// The shared service secret.
    pub service_secret: Option<SecretString>,
    /// Concurrent sync runs in this process.
    pub sync_workers: usize,
    /// The key of stored connector credentials; `None` derives one (see
    /// [`Config::secrets_key`]).
    pub secrets_key: Option<SecretsKey>,
    /// What districts' settings may reach: host folders and the network.
    pub boundary: Boundary,
}

impl Config {
    /// Laptop defaults.
    pub fn defaults() -> Config {
        Config {
            service: ServiceSettings::defaults("roster", loopback(DEFAULT_PORT)),
            identity_url: "http://127.0.0.1:50051".into(),
            messaging_url: "http://127.0.0.1:50053".into(),
            service_secret: None,
            sync_workers: 1,
            secrets_key: None,
            boundary: Boundary::default(),
        }
    }

    /// Reads the environment over the defaults.
    pub fn from_env(env: &Env) -> anyhow::Result<Config> {
        let d = Config::defaults();
        Ok(Config {
            service: ServiceSettings::from_env(env, "roster", loopback(DEFAULT_PORT))?,
            identity_url: uri_or(env, "IDENTITY_URL", &d.identity_url)?,
            messaging_url: uri_or(env, "MESSAGING_URL", &d.messaging_url)?,
            service_secret: env.get("SERVICE_SECRET").map(SecretString::from),
            sync_workers: env.parse_or("SYNC_WORKERS", d.sync_workers)?,
            secrets_key: env
                .get("SECRETS_KEY")
                .map(|k| SecretsKey::from_base64(&k))
                .transpose()?,
            boundary: Boundary {
                import_root: env.get("IMPORT_ROOT").map(std::path::PathBuf::from),
                outbound: OutboundPolicy::parse(&env.get("OUTBOUND_ALLOW").unwrap_or_default())
                    .map_err(|e| anyhow::anyhow!("HOMEROOM_OUTBOUND_ALLOW: {e}"))?,
            },
        })
    }

    /// The configured secrets key, else one derived from the service secret.
    pub fn secrets_key(&self) -> SecretsKey {
        self.secrets_key
            .clone()
            .unwrap_or_else(|| SecretsKey::derived(self.service_secret.as_ref()))
    }
}
