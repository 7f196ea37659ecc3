//! ID-5 over HTTP: the providers' discovery documents (cached), their signing
//! keys (cached by `kid`, refetched on an unknown one) and the code exchange at
//! their token endpoints.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::sync::{Mutex, OnceCell};

use crate::domain::{error::IdentityError, sso::Provider};

/// How long a discovery document is kept.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// How long a JWKS is kept when no unknown `kid` forces a refetch.
const KEYS_TTL: Duration = Duration::from_secs(24 * 3600);
/// Shortest pause between two JWKS fetches caused by unknown `kid`s.
const KEYS_REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// Longest wait for a provider's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

const PROVIDER_UNAVAILABLE: &str = "the sign-in provider cannot be reached; try again shortly";

/// The parts of a provider's discovery document a login uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// Must equal the configured issuer.
    pub issuer: String,
    /// Where the browser is sent.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The provider's signing keys.
    pub jwks_uri: String,
    /// How the client may authenticate at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

impl Discovery {
    /// `client_secret_post` only when the provider does not take `_basic`
    /// (the default of RFC 8414 when the list is absent).
    fn posts_secret(&self) -> bool {
        let methods = &self.token_endpoint_auth_methods_supported;
        !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post")
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Default)]
struct KeyCache {
    keys: Vec<Jwk>,
    fetched_at: Option<Instant>,
}

/// The HTTP side of SSO, shared by every login.
pub struct OidcClient {
    http: OnceCell<reqwest::Client>,
    discovery: Mutex<HashMap<String, (Arc<Discovery>, Instant)>>,
    keys: Mutex<HashMap<String, KeyCache>>,
    keys_refetch_interval: Duration,
}

impl Default for OidcClient {
    fn default() -> Self {
        OidcClient::new(KEYS_REFETCH_INTERVAL)
    }
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient").finish_non_exhaustive()
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> IdentityError {
    tracing::warn!(error = %e, "{what}");
    IdentityError::Unavailable(PROVIDER_UNAVAILABLE.into())
}

impl OidcClient {
    /// A client that refetches a JWKS for an unknown `kid` at most once per
    /// `keys_refetch_interval` (a forged `kid` must not make us hammer the
    /// provider).
    pub fn new(keys_refetch_interval: Duration) -> OidcClient {
        OidcClient {
            http: OnceCell::new(),
            discovery: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
            keys_refetch_interval,
        }
    }

    async fn http(&self) -> Result<&reqwest::Client, IdentityError> {
        self.http
            .get_or_try_init(|| async {
                // The project's one TLS stack; an error only means it is installed.
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::builder()
                    .timeout(REQUEST_TIMEOUT)
                    // A provider's answer never sends us elsewhere (SSRF).
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("homeroom-identity/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| IdentityError::Internal(e.into()))
            })
            .await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, IdentityError> {
        let answer = self
            .http()
            .await?
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable("sso provider request failed", e))?;
        if !answer.status().is_success() {
            return Err(unavailable(
                "sso provider answered an error",
                answer.status(),
            ));
        }
        answer
            .json()
            .await
            .map_err(|e| unavailable("sso provider answer is not the expected JSON", e))
    }

    /// The provider's discovery document, cached for an hour.
    pub async fn discover(&self, provider: &Provider) -> Result<Arc<Discovery>, IdentityError> {
        let mut cache = self.discovery.lock().await;
        if let Some((doc, at)) = cache.get(&provider.issuer)
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(doc.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", provider.issuer);
        let doc: Discovery = self.get_json(&url).await?;
        if doc.issuer.trim_end_matches('/') != provider.issuer {
            tracing::warn!(provider = %provider.id, "the discovery document names another issuer");
            return Err(IdentityError::Unavailable(PROVIDER_UNAVAILABLE.into()));
        }
        let doc = Arc::new(doc);
        cache.insert(provider.issuer.clone(), (doc.clone(), Instant::now()));
        Ok(doc)
    }

    /// The signing key with `kid` (or the only signing key when the token
    /// names none); refetches the JWKS when the key is unknown.
    pub async fn key(
        &self,
        jwks_uri: &str,
        kid: Option<&str>,
    ) -> Result<Option<Jwk>, IdentityError> {
        let mut cache = self.keys.lock().await;
        let entry = cache.entry(jwks_uri.to_string()).or_default();
        let stale = entry.fetched_at.is_none_or(|t| t.elapsed() >= KEYS_TTL);
        let found = pick(&entry.keys, kid);
        let may_refetch = entry
            .fetched_at
            .is_none_or(|t| t.elapsed() >= self.keys_refetch_interval);
        if (found.is_none() && may_refetch) || stale {
            entry.keys = self.fetch_keys(jwks_uri).await?;
            entry.fetched_at = Some(Instant::now());
            return Ok(pick(&entry.keys, kid));
        }
        Ok(found)
    }

    async fn fetch_keys(&self, jwks_uri: &str) -> Result<Vec<Jwk>, IdentityError> {
        #[derive(Deserialize)]
        struct Set {
            keys: Vec<serde_json::Value>,
        }
        let set: Set = self.get_json(jwks_uri).await?;
        // Keys this service cannot verify signatures with are skipped, not fatal.
        Ok(set
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
            .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
            .filter(|k| {
                !matches!(
                    k.algorithm,
                    AlgorithmParameters::OctetKey(_) | AlgorithmParameters::Other(_)
                )
            })
            .collect())
    }

    /// Exchanges the code (with the PKCE verifier) for the ID token.
    pub async fn exchange(
        &self,
        provider: &Provider,
        discovery: &Discovery,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<String, IdentityError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        let secret = provider.client_secret.expose_secret();
        let mut request = self.http().await?.post(&discovery.token_endpoint);
        if discovery.posts_secret() {
            form.extend([
                ("client_id", provider.client_id.as_str()),
                ("client_secret", secret),
            ]);
        } else {
            // RFC 6749 §2.3.1: both halves form-encoded before Basic encoding.
            let encode =
                |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(&provider.client_id), Some(encode(secret)));
        }
        let answer = request
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| unavailable("sso token request failed", e))?;
        let status = answer.status();
        if status.is_client_error() {
            // invalid_grant and the like: a spent, foreign or forged code.
            tracing::warn!(provider = %provider.id, %status, "sso code exchange refused");
            return Err(IdentityError::Unauthenticated(super::sso::SSO_FAILED));
        }
        if !status.is_success() {
            return Err(unavailable("sso token endpoint failed", status));
        }
        let tokens: TokenAnswer = answer
            .json()
            .await
            .map_err(|e| unavailable("sso token answer is not JSON", e))?;
        tokens.id_token.ok_or_else(|| {
            tracing::warn!(provider = %provider.id, "sso token answer has no id_token");
            IdentityError::Unauthenticated(super::sso::SSO_FAILED)
        })
    }
}

fn pick(keys: &[Jwk], kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid))
            .cloned(),
        None => match keys {
            [only] => Some(only.clone()),
            _ => None,
        },
    }
}
