//! RO-2: a source's connector settings. The plain part is JSON in
//! `sync_sources.config` ([`StoredConfig`]); the credentials are sealed with
//! the secrets key into `secret_ciphertext` ([`Secrets`]) and never leave the
//! service again except in the vendor's request headers.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{
    domain::error::RosterError,
    secrets::{SecretsError, SecretsKey},
    store::sync::SourceRow,
};

/// Records per page when a source sets none.
pub const DEFAULT_PAGE_SIZE: u32 = 1_000;
/// The largest page a source may ask for (Clever's limit).
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// The plain part of a source's settings, as stored in `config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConfig {
    /// ONEROSTER_CSV: the bundle's folder or zip file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    /// CLEVER: where and how to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clever: Option<CleverSettings>,
    /// ONEROSTER_REST: where and how to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oneroster_rest: Option<RestSettings>,
    /// Scheduled runs are due from this instant on: when the daily time was
    /// set or the source was unpaused (so that never starts a run at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_from: Option<DateTime<Utc>>,
}

impl StoredConfig {
    /// The stored JSON (an unreadable value reads as empty settings).
    pub fn parse(json: &str) -> StoredConfig {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// As stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// A Clever source's settings (the token is sealed apart).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleverSettings {
    /// Empty means Clever's production API.
    #[serde(default)]
    pub base_url: String,
    /// Sync from `/events` after the first full sync.
    #[serde(default)]
    pub use_events: bool,
    /// 0 means [`DEFAULT_PAGE_SIZE`].
    #[serde(default)]
    pub page_size: u32,
    /// The last event a completed run applied; the next run starts after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// How a OneRoster REST server is signed in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestAuthMethod {
    /// OAuth 2 client credentials.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2,
    /// OAuth 1.0a HMAC-SHA256 signatures.
    #[serde(rename = "oauth1_hmac_sha256")]
    OAuth1,
    /// A static bearer token (ClassLink's OneRoster proxy).
    #[serde(rename = "bearer_token")]
    Bearer,
}

/// A OneRoster REST source's settings (the secrets are sealed apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestSettings {
    /// The server; requests go to `<base_url>/ims/oneroster/v1p1/…`.
    pub base_url: String,
    /// OAuth 2 or OAuth 1.0a.
    pub auth_method: RestAuthMethod,
    /// OAuth 2 token endpoint; empty means `<base_url>/oauth/token`.
    #[serde(default)]
    pub token_url: String,
    /// OAuth 2 client id.
    #[serde(default)]
    pub client_id: String,
    /// OAuth 2 scope, if the server wants one.
    #[serde(default)]
    pub scope: String,
    /// OAuth 1.0a consumer key.
    #[serde(default)]
    pub oauth1_key: String,
    /// 0 means [`DEFAULT_PAGE_SIZE`].
    #[serde(default)]
    pub page_size: u32,
}

impl RestSettings {
    pub(super) fn blank(auth_method: RestAuthMethod) -> RestSettings {
        RestSettings {
            base_url: String::new(),
            auth_method,
            token_url: String::new(),
            client_id: String::new(),
            scope: String::new(),
            oauth1_key: String::new(),
            page_size: 0,
        }
    }

    /// The token endpoint to use.
    pub fn effective_token_url(&self) -> String {
        if self.token_url.trim().is_empty() {
            format!("{}/oauth/token", self.base_url.trim().trim_end_matches('/'))
        } else {
            self.token_url.trim().to_owned()
        }
    }
}

/// The page size to read with.
pub fn page_size(set: u32) -> u32 {
    if set == 0 { DEFAULT_PAGE_SIZE } else { set }
}

/// What a caller sends for a Clever source. A token left `None` keeps the
/// stored one.
#[derive(Debug, Clone, Default)]
pub struct CleverInput {
    /// Empty means Clever's production API.
    pub base_url: String,
    /// The district bearer token; `None` keeps the stored one.
    pub district_token: Option<SecretString>,
    /// Read `/events` after the first full sync.
    pub use_events: bool,
    /// 0 means [`DEFAULT_PAGE_SIZE`].
    pub page_size: u32,
}

/// What a caller sends for a OneRoster REST source. A secret left `None`
/// keeps the stored one.
#[derive(Debug, Clone, Default)]
pub struct RestInput {
    /// The server's base URL.
    pub base_url: String,
    /// `None`: not chosen (refused).
    pub auth_method: Option<RestAuthMethod>,
    /// OAuth 2 token endpoint; empty means `<base_url>/oauth/token`.
    pub token_url: String,
    /// OAuth 2 client id.
    pub client_id: String,
    /// OAuth 2 client secret; `None` keeps the stored one.
    pub client_secret: Option<SecretString>,
    /// OAuth 2 scope, if any.
    pub scope: String,
    /// OAuth 1.0a consumer key.
    pub oauth1_key: String,
    /// OAuth 1.0a consumer secret; `None` keeps the stored one.
    pub oauth1_secret: Option<SecretString>,
    /// Bearer token; `None` keeps the stored one.
    pub bearer_token: Option<SecretString>,
    /// 0 means [`DEFAULT_PAGE_SIZE`].
    pub page_size: u32,
}

/// A source's credentials, sealed together as one JSON object.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Clever's district bearer token.
    pub district_token: Option<SecretString>,
    /// OAuth 2 client secret.
    pub client_secret: Option<SecretString>,
    /// OAuth 1.0a consumer secret.
    pub oauth1_secret: Option<SecretString>,
    /// A OneRoster REST server's bearer token.
    pub bearer_token: Option<SecretString>,
}

/// The names of the secrets, as sealed and as the API's fields.
const NAMES: [&str; 4] = [
    "district_token",
    "client_secret",
    "oauth1_secret",
    "bearer_token",
];

impl Secrets {
    /// Opens a source's sealed credentials (none stored: empty).
    pub fn open(key: &SecretsKey, row: &SourceRow) -> Result<Secrets, SecretsError> {
        let Some(sealed) = row.secret_ciphertext.as_deref() else {
            return Ok(Secrets::default());
        };
        let json = key.open(&row.id, sealed)?;
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json.expose_secret()).map_err(|_| SecretsError::Format)?;
        let mut out = Secrets::default();
        for name in NAMES {
            let value = map
                .get(name)
                .and_then(|v| v.as_str())
                .map(SecretString::from);
            *out.slot(name) = value;
        }
        Ok(out)
    }

    /// Seals the credentials for the source `id`; `None` when there are none.
    pub(super) fn seal(
        &mut self,
        key: &SecretsKey,
        id: &str,
    ) -> Result<Option<String>, RosterError> {
        let mut map = serde_json::Map::new();
        for name in NAMES {
            if let Some(value) = self.slot(name) {
                map.insert(name.into(), value.expose_secret().into());
            }
        }
        if map.is_empty() {
            return Ok(None);
        }
        let json = serde_json::Value::Object(map).to_string();
        key.seal(id, &json)
            .map(Some)
            .map_err(|e| RosterError::Internal(e.into()))
    }

    pub(super) fn slot(&mut self, name: &str) -> &mut Option<SecretString> {
        match name {
            "district_token" => &mut self.district_token,
            "client_secret" => &mut self.client_secret,
            "bearer_token" => &mut self.bearer_token,
            _ => &mut self.oauth1_secret,
        }
    }
}

/// Whether the credentials of `name` are stored (for the `*_set` flags):
/// only the secrets the settings use are ever kept.
pub fn secret_set(row: &SourceRow, config: &StoredConfig, name: &str) -> bool {
    if row.secret_ciphertext.is_none() {
        return false;
    }
    match (name, &config.clever, &config.oneroster_rest) {
        ("district_token", Some(_), _) => true,
        ("client_secret", _, Some(r)) => r.auth_method == RestAuthMethod::OAuth2,
        ("oauth1_secret", _, Some(r)) => r.auth_method == RestAuthMethod::OAuth1,
        ("bearer_token", _, Some(r)) => r.auth_method == RestAuthMethod::Bearer,
        _ => false,
    }
}
