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
//! - `HOMEROOM_PUBLIC_URL`: the console's external base URL; invitations
//!   carry a join link `<public URL>/join?code=…` (unset: they say to sign
//!   in with a one-time code instead)
//! - `HOMEROOM_SSO_PROVIDERS_FILE`: path of a JSON file listing the districts'
//!   OpenID Connect providers (ID-5); unset means no SSO. An array of
//!   `{ "id", "districtId", "kind": "google|microsoft|clever|classlink|oidc",
//!   "displayName", "issuer", "clientId", "clientSecret", "externalIdClaim"
//!   (optional: the ID-token claim holding the account's external id),
//!   "linkByVerifiedEmail" (default true; never for Clever), "scopes" (default
//!   `["openid","email","profile"]`) }`. The issuer must be https (http only on
//!   loopback); a file that cannot be read or is not valid stops the start with
//!   an error naming the provider and the problem.

use anyhow::Context;
use homeroom_platform::config::{Env, ServiceSettings, loopback};
use secrecy::SecretString;

use crate::domain::sso::{Provider, parse_providers};

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
    /// The districts' SSO providers (ID-5); none by default.
    pub sso: Vec<Provider>,
    /// The console's external base URL, for join links.
    pub public_url: Option<String>,
}

impl Config {
    /// Laptop defaults.
    pub fn defaults() -> Config {
        Config {
            service: ServiceSettings::defaults("identity", loopback(DEFAULT_PORT)),
            service_secret: None,
            messaging_url: "http://127.0.0.1:50053".into(),
            sso: Vec::new(),
            public_url: None,
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
            sso: sso_from_env(env)?,
            public_url: env
                .get("PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .filter(|u| !u.is_empty()),
        })
    }
}

/// The providers of `HOMEROOM_SSO_PROVIDERS_FILE` (none when unset).
pub fn sso_from_env(env: &Env) -> anyhow::Result<Vec<Provider>> {
    match env.get("SSO_PROVIDERS_FILE") {
        Some(path) => sso_providers(&path),
        None => Ok(Vec::new()),
    }
}

/// The providers file at `path`; errors name the variable, the file and the problem.
fn sso_providers(path: &str) -> anyhow::Result<Vec<Provider>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("HOMEROOM_SSO_PROVIDERS_FILE={path:?} cannot be read"))?;
    parse_providers(&text)
        .map_err(|e| anyhow::anyhow!("HOMEROOM_SSO_PROVIDERS_FILE={path:?} is not valid: {e}"))
}
