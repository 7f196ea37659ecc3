//! The one HTTP client the connectors share: GET a page with credentials,
//! retry 429/5xx and network failures per [`RetryPolicy`] at the same URL, and
//! turn every other failure into a [`ConnectorError`].

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use super::RetryPolicy;
use super::error::ConnectorError;
use super::oauth::Auth;
use super::outbound::OutboundPolicy;

/// The longest server message kept in an error.
const MESSAGE_CHARS: usize = 200;

/// A successful (2xx) answer.
#[derive(Debug)]
pub(super) struct Answer {
    pub body: Vec<u8>,
    pub headers: HeaderMap,
}

impl Answer {
    /// The body as JSON; anything else is a malformed page.
    pub fn json(&self, url: &Url) -> Result<serde_json::Value, ConnectorError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ConnectorError::malformed(url, format!("the page is not JSON: {e}")))
    }
}

/// What one attempt came to.
enum Outcome {
    Done(Answer),
    /// The outbound policy refused where the host resolved to: not retried.
    Blocked(String),
    Denied(u16),
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Refused {
        status: u16,
        message: String,
    },
}

/// A reqwest client (rustls with ring), the retry policy and the outbound
/// policy every URL is checked against.
#[derive(Debug)]
pub(super) struct Http {
    client: reqwest::Client,
    retry: RetryPolicy,
    outbound: OutboundPolicy,
}

impl Http {
    pub fn new(retry: RetryPolicy, outbound: &OutboundPolicy) -> Result<Http, ConnectorError> {
        Ok(Http {
            client: client(
                retry.request_timeout,
                // Credentials must never follow a redirect to another host.
                reqwest::redirect::Policy::none(),
                outbound,
            )?,
            retry,
            outbound: outbound.clone(),
        })
    }

    /// Refuses a URL the outbound policy does not allow, before any request.
    fn check(&self, url: &Url) -> Result<(), ConnectorError> {
        self.outbound
            .check(url)
            .map_err(|e| ConnectorError::InvalidConfig(e.to_string()))
    }

    /// GETs `url` with `auth`. A 401/403 with a cached OAuth 2 token drops the
    /// token and tries once more with a new one.
    pub async fn get(&self, url: &Url, auth: &Auth) -> Result<Answer, ConnectorError> {
        self.check(url)?;
        let mut tries = Tries::new(&self.retry);
        let mut renewed = false;
        loop {
            let mut request = self
                .client
                .get(url.clone())
                .header(ACCEPT, "application/json");
            if let Some(value) = auth.header(self, url).await? {
                request = request.header(AUTHORIZATION, value);
            }
            match attempt(request).await {
                Outcome::Done(answer) => return Ok(answer),
                Outcome::Denied(_) if !renewed && auth.forget_token().await => renewed = true,
                Outcome::Denied(status) => {
                    return Err(ConnectorError::CredentialsRejected {
                        url: url.to_string(),
                        status,
                    });
                }
                Outcome::Blocked(why) => return Err(ConnectorError::InvalidConfig(why)),
                Outcome::Refused { status, message } => {
                    return Err(ConnectorError::Rejected {
                        url: url.to_string(),
                        status,
                        message: auth.redact(message),
                    });
                }
                Outcome::Retry { reason, after } => {
                    tries.wait(url, auth.redact(reason), after).await?;
                }
            }
        }
    }

    /// POSTs a form with HTTP Basic credentials (an OAuth 2 token request).
    /// Errors are scrubbed of `secret`.
    pub async fn post_form(
        &self,
        url: &Url,
        user: &str,
        secret: &SecretString,
        form: &[(&str, &str)],
    ) -> Result<Answer, ConnectorError> {
        self.check(url)?;
        let scrub = |text: String| redact(text, &[secret.expose_secret()]);
        let mut tries = Tries::new(&self.retry);
        loop {
            let request = self
                .client
                .post(url.clone())
                .header(ACCEPT, "application/json")
                .basic_auth(user, Some(secret.expose_secret()))
                .form(form);
            match attempt(request).await {
                Outcome::Done(answer) => return Ok(answer),
                Outcome::Denied(status) => {
                    return Err(ConnectorError::CredentialsRejected {
                        url: url.to_string(),
                        status,
                    });
                }
                Outcome::Blocked(why) => return Err(ConnectorError::InvalidConfig(why)),
                Outcome::Refused { status, message } => {
                    return Err(ConnectorError::Rejected {
                        url: url.to_string(),
                        status,
                        message: scrub(message),
                    });
                }
                Outcome::Retry { reason, after } => tries.wait(url, scrub(reason), after).await?,
            }
        }
    }
}

/// A source's base URL: http(s), no query, no credentials in it.
/// An HTTP client whose every connection goes only where `outbound` allows
/// (its resolver drops refused addresses; no system proxy, which would
/// resolve names where the policy cannot see them).
pub(crate) fn client(
    timeout: Duration,
    redirects: reqwest::redirect::Policy,
    outbound: &OutboundPolicy,
) -> Result<reqwest::Client, ConnectorError> {
    // The project's one TLS stack; reqwest is built without a provider of
    // its own. An error only means a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(redirects)
        .no_proxy()
        .dns_resolver(outbound.resolver())
        .user_agent(concat!("homeroom-roster/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConnectorError::InvalidConfig(format!("cannot build an HTTP client: {e}")))
}

pub(super) fn base_url(raw: &str) -> Result<Url, ConnectorError> {
    let invalid = |why: &str| ConnectorError::InvalidConfig(format!("the base URL {why}"));
    let url = Url::parse(raw.trim()).map_err(|_| invalid("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("must start with https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not hold a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    Ok(url)
}

/// Counts attempts and waits between them.
struct Tries<'p> {
    policy: &'p RetryPolicy,
    failed: u32,
}

impl<'p> Tries<'p> {
    fn new(policy: &'p RetryPolicy) -> Self {
        Tries { policy, failed: 0 }
    }

    /// Waits before the next attempt, or gives up when none is left.
    async fn wait(
        &mut self,
        url: &Url,
        reason: String,
        after: Option<Duration>,
    ) -> Result<(), ConnectorError> {
        self.failed += 1;
        if self.failed >= self.policy.max_attempts.max(1) {
            return Err(ConnectorError::Unavailable {
                url: url.to_string(),
                reason: format!("{reason}; gave up after {} attempts", self.failed),
            });
        }
        let doubling = 2_u32.saturating_pow(self.failed.saturating_sub(1));
        let backoff = self.policy.initial_delay.saturating_mul(doubling);
        let delay = after.unwrap_or(backoff).min(self.policy.max_delay);
        tracing::warn!(
            attempt = self.failed,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            path = url.path(),
            %reason,
            "roster api request failed, retrying"
        );
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

async fn attempt(request: RequestBuilder) -> Outcome {
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            if let Some(refused) = super::outbound::refused_in(&error) {
                return Outcome::Blocked(refused.to_string());
            }
            return Outcome::Retry {
                reason: transport(error),
                after: None,
            };
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(body) => body.to_vec(),
        Err(error) => {
            return Outcome::Retry {
                reason: transport(error),
                after: None,
            };
        }
    };
    if status.is_success() {
        return Outcome::Done(Answer { body, headers });
    }
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Outcome::Denied(status.as_u16()),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => Outcome::Retry {
            reason: format!("HTTP {}", status.as_u16()),
            after: retry_after(&headers),
        },
        s if s.is_server_error() => Outcome::Retry {
            reason: format!("HTTP {}", s.as_u16()),
            after: retry_after(&headers),
        },
        s => Outcome::Refused {
            status: s.as_u16(),
            message: server_message(&body),
        },
    }
}

fn transport(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "the request timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        format!("the request failed: {}", error.without_url())
    }
}

/// `Retry-After` in delay-seconds; an HTTP date falls back to the backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

/// The message of an error body: `message` (Clever), `error_description` /
/// `error` (OAuth 2), `imsx_description` / `description` (OneRoster), else the
/// text itself; shortened.
fn server_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|json| {
            let field = |key: &str| json.get(key)?.as_str().map(str::to_owned);
            if let (Some(code), Some(description)) = (field("error"), field("error_description")) {
                return Some(format!("{code}: {description}"));
            }
            ["message", "error", "imsx_description", "description"]
                .iter()
                .find_map(|key| field(key))
        });
    let message = from_json.unwrap_or_else(|| text.trim().to_owned());
    if message.is_empty() {
        return "no message".to_owned();
    }
    shorten(&message)
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `text` with every secret (of 4 characters or more) replaced.
pub(super) fn redact(mut text: String, secrets: &[&str]) -> String {
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if text.contains(secret) {
            text = text.replace(secret, "[redacted]");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_come_from_the_usual_fields_and_are_shortened() {
        assert_eq!(server_message(br#"{"message":"bad id"}"#), "bad id");
        assert_eq!(
            server_message(br#"{"error":"invalid_client"}"#),
            "invalid_client"
        );
        assert_eq!(
            server_message(br#"{"error":"invalid_client","error_description":"no such client"}"#),
            "invalid_client: no such client"
        );
        assert_eq!(server_message(b"  plain text "), "plain text");
        assert_eq!(server_message(b""), "no message");
        let long = "é".repeat(300);
        assert_eq!(server_message(long.as_bytes()).chars().count(), 201);
    }

    #[test]
    fn secrets_are_redacted_from_text() {
        let text = "token s3cr3t-token was rejected".to_owned();
        assert_eq!(
            redact(text, &["s3cr3t-token", "", "abc"]),
            "token [redacted] was rejected"
        );
    }

    #[test]
    fn retry_after_takes_delay_seconds_only() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
