//! How a request proves who sends it: a static bearer (Clever's district token,
//! ClassLink's proxy), an OAuth 2 client-credentials token (fetched, cached until
//! it expires, fetched again), or an OAuth 1.0a HMAC-SHA256 signature.

use reqwest::Url;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::{Duration, Instant};

use super::error::ConnectorError;
use super::http::{Http, redact};
use super::oauth1;

/// A token is fetched again this long before it expires (at most half its life).
const EARLY_REFRESH: Duration = Duration::from_secs(30);

/// The credentials of one source.
#[derive(Debug)]
pub(super) enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
    /// OAuth 2 client credentials.
    OAuth2(OAuth2),
    /// OAuth 1.0a, one-legged, HMAC-SHA256.
    OAuth1 {
        consumer_key: String,
        consumer_secret: SecretString,
    },
}

/// OAuth 2 client credentials and the token in use.
#[derive(Debug)]
pub(super) struct OAuth2 {
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scope: Option<String>,
    pub cached: Mutex<Option<Token>>,
}

/// An access token and when to stop using it (`None`: until the server says no).
#[derive(Debug)]
pub(super) struct Token {
    value: SecretString,
    use_until: Option<Instant>,
}

/// A token endpoint's answer.
#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl Auth {
    /// The `Authorization` header for a GET of `url`, marked sensitive.
    pub async fn header(
        &self,
        http: &Http,
        url: &Url,
    ) -> Result<Option<HeaderValue>, ConnectorError> {
        let value = match self {
            Auth::Bearer(token) => format!("Bearer {}", token.expose_secret()),
            Auth::OAuth2(oauth) => format!("Bearer {}", oauth.token(http).await?.expose_secret()),
            Auth::OAuth1 {
                consumer_key,
                consumer_secret,
            } => oauth1::authorization("GET", url, consumer_key, consumer_secret),
        };
        let mut header = HeaderValue::from_str(&value).map_err(|_| {
            ConnectorError::InvalidConfig(
                "the token or key holds characters that cannot be sent in an HTTP header"
                    .to_owned(),
            )
        })?;
        header.set_sensitive(true);
        Ok(Some(header))
    }

    /// Drops a cached OAuth 2 token after the server refused it; `true` when
    /// there was one, so a new one is worth a try.
    pub async fn forget_token(&self) -> bool {
        match self {
            Auth::OAuth2(oauth) => oauth.cached.lock().await.take().is_some(),
            Auth::Bearer(_) | Auth::OAuth1 { .. } => false,
        }
    }

    /// `text` without any secret this source holds.
    pub fn redact(&self, text: String) -> String {
        match self {
            Auth::Bearer(token) => redact(text, &[token.expose_secret()]),
            Auth::OAuth1 {
                consumer_secret, ..
            } => redact(text, &[consumer_secret.expose_secret()]),
            Auth::OAuth2(oauth) => {
                let cached = oauth.cached.try_lock();
                let token = cached
                    .as_ref()
                    .ok()
                    .and_then(|c| c.as_ref().map(|t| t.value.expose_secret().to_owned()))
                    .unwrap_or_default();
                redact(text, &[oauth.client_secret.expose_secret(), &token])
            }
        }
    }
}

impl OAuth2 {
    /// The cached token while it is fresh, else a new one from the token URL.
    async fn token(&self, http: &Http) -> Result<SecretString, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && token.use_until.is_none_or(|until| Instant::now() < until)
        {
            return Ok(token.value.clone());
        }
        let token = self.fetch(http).await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    #[tracing::instrument(skip_all, fields(token_host = self.token_url.host_str().unwrap_or_default()))]
    async fn fetch(&self, http: &Http) -> Result<Token, ConnectorError> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = self.scope.as_deref().filter(|s| !s.is_empty()) {
            form.push(("scope", scope));
        }
        let fetched_at = Instant::now();
        let answer = http
            .post_form(&self.token_url, &self.client_id, &self.client_secret, &form)
            .await
            .map_err(|error| self.refused_client(error))?;
        let parsed: TokenAnswer = serde_json::from_slice(&answer.body).map_err(|e| {
            ConnectorError::malformed(
                &self.token_url,
                format!("the token answer has no access_token: {e}"),
            )
        })?;
        let lifetime = parsed
            .expires_in
            .as_ref()
            .and_then(seconds)
            .map(Duration::from_secs);
        tracing::debug!(
            expires_in = lifetime.map(|l| l.as_secs()),
            "oauth2 token fetched"
        );
        Ok(Token {
            value: SecretString::from(parsed.access_token),
            use_until: lifetime.map(|life| fetched_at + life - EARLY_REFRESH.min(life / 2)),
        })
    }

    /// RFC 6749 §5.2: a 400 `invalid_client` (or a 401) means wrong credentials.
    fn refused_client(&self, error: ConnectorError) -> ConnectorError {
        match error {
            ConnectorError::Rejected {
                url,
                status,
                message,
            } if status == 400
                && ["invalid_client", "unauthorized_client", "invalid_grant"]
                    .iter()
                    .any(|code| message.contains(code)) =>
            {
                ConnectorError::CredentialsRejected { url, status }
            }
            other => other,
        }
    }
}

/// `expires_in` as a number or a numeric string.
fn seconds(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
