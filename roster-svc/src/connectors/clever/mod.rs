//! Clever Data API v3.0 with a district bearer token: paging by `limit` and
//! `starting_after` through `links` `rel=next`, the full read, and (in
//! [`events`]) the incremental one.

mod convert;
mod events;
mod full;
mod names;
mod wire;

use std::collections::HashSet;
use std::ops::ControlFlow;

use reqwest::Url;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::bundle::nullable;
use super::error::ConnectorError;
use super::http::Http;
use super::oauth::Auth;
use super::{Fetched, Incremental, RetryPolicy, outbound::OutboundPolicy};
use convert::Role;

/// A page limit no real district needs; past it the next links are looping.
const MAX_PAGES: usize = 100_000;

/// Where and how to read one Clever district.
#[derive(Debug, Clone)]
pub struct CleverConfig {
    /// The API's origin, [`CleverConfig::DEFAULT_BASE_URL`] in production
    /// (paths start at `/v3.0`).
    pub base_url: String,
    /// The district's bearer token.
    pub token: SecretString,
    /// Records per page (`limit`).
    pub page_size: u32,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Where requests may go (public https hosts unless the operator allows more).
    pub outbound: OutboundPolicy,
}

impl CleverConfig {
    /// Clever's production API.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.clever.com";

    /// A config with 1000 records a page and the default retry policy.
    pub fn new(base_url: impl Into<String>, token: SecretString) -> Self {
        CleverConfig {
            base_url: base_url.into(),
            token,
            page_size: 1000,
            retry: RetryPolicy::default(),
            outbound: OutboundPolicy::default(),
        }
    }
}

/// A Clever client for one district.
#[derive(Debug)]
pub struct CleverConnector {
    http: Http,
    auth: Auth,
    base: Url,
    /// `v3.0` or `v3.1`: the API version the base URL named.
    version: &'static str,
    page_size: u32,
}

/// A list page: `{"data":[{"data":{…}}], "links":[{"rel":"next","uri":"…"}]}`.
#[derive(serde::Deserialize)]
struct Page {
    data: Vec<Value>,
    #[serde(default, deserialize_with = "nullable")]
    links: Vec<wire::Link>,
}

impl CleverConnector {
    /// Checks the config and builds the HTTP client.
    pub fn new(config: CleverConfig) -> Result<Self, ConnectorError> {
        let mut base = super::http::base_url(&config.base_url)?;
        // `https://api.clever.com/v3.1` names the same API as its origin and
        // the version; without one, v3.0 (what Clever serves by default).
        let path = base.path().trim_end_matches('/').to_owned();
        let mut version = "v3.0";
        for v in ["v3.0", "v3.1"] {
            if let Some(origin) = path.strip_suffix(&format!("/{v}")) {
                version = v;
                base.set_path(origin);
            }
        }
        Ok(CleverConnector {
            http: Http::new(config.retry, &config.outbound)?,
            auth: Auth::Bearer(config.token),
            base,
            version,
            page_size: config.page_size.max(1),
        })
    }

    /// Reads the whole district; [`Fetched::cursor`] is the newest event id
    /// before the read began (`None` when the district has no event feed).
    #[tracing::instrument(skip_all, fields(host = self.base.host_str().unwrap_or_default()))]
    pub async fn full(&self) -> Result<Fetched, ConnectorError> {
        full::read(self).await
    }

    /// Reads the events after `since_event_id` (`None`: the whole retained
    /// feed) as a delta bundle, or says a full read is needed.
    #[tracing::instrument(skip_all, fields(host = self.base.host_str().unwrap_or_default()))]
    pub async fn incremental(
        &self,
        since_event_id: Option<&str>,
    ) -> Result<Incremental, ConnectorError> {
        events::read(self, since_event_id).await
    }

    /// `{base}/{version}/{path}?{query}`.
    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let prefix = self.base.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}/{}/{path}", self.version));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Every record of a list endpoint, read as `T`.
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, ConnectorError> {
        let limit = self.page_size.to_string();
        let mut full_query = vec![("limit", limit.as_str())];
        full_query.extend_from_slice(query);
        let mut out = Vec::new();
        self.pages(self.url(path, &full_query), |url, records| {
            for (at, record) in records.into_iter().enumerate() {
                out.push(record_of(url, at, record)?);
            }
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        Ok(out)
    }

    /// Calls `each` with every page's `data` items, following `rel=next` until
    /// a page is empty or has no next link, or `each` breaks.
    async fn pages(
        &self,
        first: Url,
        mut each: impl FnMut(&Url, Vec<Value>) -> Result<ControlFlow<()>, ConnectorError>,
    ) -> Result<(), ConnectorError> {
        let mut url = first;
        let mut seen = HashSet::new();
        loop {
            if !seen.insert(url.to_string()) || seen.len() > MAX_PAGES {
                return Err(ConnectorError::malformed(
                    &url,
                    "the next-page links lead back to a page already read",
                ));
            }
            let json = self.http.get(&url, &self.auth).await?.json(&url)?;
            let page: Page = serde_json::from_value(json).map_err(|e| {
                ConnectorError::malformed(&url, format!("the page is not a Clever list: {e}"))
            })?;
            let next = page
                .links
                .iter()
                .find(|l| l.rel.as_deref() == Some("next"))
                .and_then(|l| l.uri.clone());
            let empty = page.data.is_empty();
            if each(&url, page.data)?.is_break() {
                return Ok(());
            }
            match next {
                Some(uri) if !empty => url = self.resolve(&url, &uri)?,
                _ => return Ok(()),
            }
        }
    }

    /// A `next` URI: a path on this API (after the base's own path), or an
    /// absolute URL on the same origin; the token is never sent elsewhere.
    fn resolve(&self, page: &Url, uri: &str) -> Result<Url, ConnectorError> {
        let bad = |why: &str| ConnectorError::malformed(page, format!("the next link {why}"));
        let next = if uri.starts_with('/') {
            let base = self.base.as_str().trim_end_matches('/');
            Url::parse(&format!("{base}{uri}")).map_err(|_| bad("is not a URL"))?
        } else {
            Url::parse(uri).map_err(|_| bad("is not a URL"))?
        };
        if next.origin() != self.base.origin() {
            return Err(bad("points at another server"));
        }
        Ok(next)
    }
}

/// The record inside one `data` item (`{"data":{…}}`), read as `T`.
fn record_of<T: DeserializeOwned>(url: &Url, at: usize, item: Value) -> Result<T, ConnectorError> {
    let Value::Object(mut item) = item else {
        return Err(ConnectorError::malformed(
            url,
            format!("data[{at}] is not an object"),
        ));
    };
    let record = item.remove("data").unwrap_or(Value::Null);
    serde_json::from_value(record)
        .map_err(|e| ConnectorError::malformed(url, format!("data[{at}]: {e}")))
}

/// Reads a whole Clever district (see [`CleverConnector::full`]).
pub async fn clever_full(config: &CleverConfig) -> Result<Fetched, ConnectorError> {
    CleverConnector::new(config.clone())?.full().await
}

/// Reads the Clever events after `since_event_id` (see
/// [`CleverConnector::incremental`]).
pub async fn clever_incremental(
    config: &CleverConfig,
    since_event_id: Option<&str>,
) -> Result<Incremental, ConnectorError> {
    CleverConnector::new(config.clone())?
        .incremental(since_event_id)
        .await
}

/// Every user of one role.
async fn users(conn: &CleverConnector, role: Role) -> Result<Vec<wire::User>, ConnectorError> {
    conn.list("users", &[("role", role.as_query())]).await
}
