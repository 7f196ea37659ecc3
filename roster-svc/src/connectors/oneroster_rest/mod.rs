//! OneRoster REST 1.1 (ClassLink roster servers and others): the six rostering
//! collections under `/ims/oneroster/v1p1`, paged by `limit` and `offset`.
//! Paging follows a `Link` `rel="next"` when the server sends one, stops at
//! `X-Total-Count` when it sends that, and otherwise at an empty or short page.

mod convert;
mod wire;

use std::collections::HashSet;

use reqwest::Url;
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Mutex;

use super::bundle::{empty, first_of_each, row_error};
use super::error::ConnectorError;
use super::http::{Http, base_url};
use super::oauth::{Auth, OAuth2};
use super::{Fetched, RetryPolicy, outbound::OutboundPolicy};
use crate::oneroster::{Bundle, FileMode, RowError};

/// The 1.1 REST binding's root, after the server's base URL.
const ROOT: &str = "/ims/oneroster/v1p1";

/// A page limit no real district needs; past it the paging is looping.
const MAX_PAGES: usize = 100_000;

/// How a OneRoster REST server is signed in to.
#[derive(Debug, Clone)]
pub enum RestAuth {
    /// OAuth 2 client credentials: a token from `token_url` (HTTP Basic
    /// client id and secret), cached until it expires.
    OAuth2 {
        /// The token endpoint.
        token_url: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// The `scope` to ask for, if the server wants one.
        scope: Option<String>,
    },
    /// OAuth 1.0a HMAC-SHA256 signatures, as ClassLink district servers check them.
    OAuth1 {
        /// The consumer key (ClassLink's client id).
        consumer_key: String,
        /// The consumer secret.
        consumer_secret: SecretString,
    },
    /// A static bearer token (ClassLink's OAuth 2 proxy).
    Bearer {
        /// The token.
        token: SecretString,
    },
}

/// Where and how to read one OneRoster REST server.
#[derive(Debug, Clone)]
pub struct OneRosterRestConfig {
    /// The server's base URL; `/ims/oneroster/v1p1/…` is added to it (a base
    /// that already ends in `/ims/oneroster/v1p1` is taken as is).
    pub base_url: String,
    /// The credentials.
    pub auth: RestAuth,
    /// Records per page (`limit`).
    pub page_size: u32,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Where requests may go (public https hosts unless the operator allows more).
    pub outbound: OutboundPolicy,
}

impl OneRosterRestConfig {
    /// A config with 100 records a page (the binding's default) and the
    /// default retry policy.
    pub fn new(base_url: impl Into<String>, auth: RestAuth) -> Self {
        OneRosterRestConfig {
            base_url: base_url.into(),
            auth,
            page_size: 100,
            retry: RetryPolicy::default(),
            outbound: OutboundPolicy::default(),
        }
    }
}

/// A OneRoster REST client for one server; an OAuth 2 token is kept between reads.
#[derive(Debug)]
pub struct OneRosterRestConnector {
    http: Http,
    auth: Auth,
    base: Url,
    root: Url,
    page_size: u32,
}

impl OneRosterRestConnector {
    /// Checks the config and builds the HTTP client.
    pub fn new(config: OneRosterRestConfig) -> Result<Self, ConnectorError> {
        let base = base_url(&config.base_url)?;
        let mut root = base.clone();
        let path = base.path().trim_end_matches('/');
        if !path.ends_with(ROOT) {
            root.set_path(&format!("{path}{ROOT}"));
        }
        let auth = match config.auth {
            RestAuth::OAuth2 {
                token_url,
                client_id,
                client_secret,
                scope,
            } => Auth::OAuth2(OAuth2 {
                token_url: base_url(&token_url)?,
                client_id,
                client_secret,
                scope,
                cached: Mutex::new(None),
            }),
            RestAuth::OAuth1 {
                consumer_key,
                consumer_secret,
            } => Auth::OAuth1 {
                consumer_key,
                consumer_secret,
            },
            RestAuth::Bearer { token } => Auth::Bearer(token),
        };
        Ok(OneRosterRestConnector {
            http: Http::new(config.retry, &config.outbound)?,
            auth,
            base,
            root,
            page_size: config.page_size.max(1),
        })
    }

    /// Reads every org, session, course, class, user and enrollment as a bulk
    /// bundle. Any page that cannot be used fails the whole read.
    #[tracing::instrument(skip_all, fields(host = self.base.host_str().unwrap_or_default()))]
    pub async fn read(&self) -> Result<Fetched, ConnectorError> {
        let mut bundle = empty(FileMode::Bulk, "OneRoster REST", &self.base);
        let errors = &mut bundle.row_errors;
        bundle.orgs = self.collection("orgs", convert::org, errors).await?;
        bundle.academic_sessions = self
            .collection("academicSessions", convert::session, errors)
            .await?;
        bundle.courses = self.collection("courses", convert::course, errors).await?;
        bundle.classes = self.collection("classes", convert::class, errors).await?;
        bundle.users = self.collection("users", convert::user, errors).await?;
        bundle.enrollments = self
            .collection("enrollments", convert::enrollment, errors)
            .await?;
        dedupe(&mut bundle);
        tracing::debug!(
            users = bundle.users.len(),
            enrollments = bundle.enrollments.len(),
            row_errors = bundle.row_errors.len(),
            "oneroster rest read"
        );
        Ok(Fetched {
            links: convert::links(&bundle.users),
            bundle,
            cursor: None,
        })
    }

    /// Every record of one collection, converted; records the converter
    /// refuses become row errors.
    async fn collection<W: DeserializeOwned, T>(
        &self,
        name: &str,
        convert: impl Fn(W) -> Result<T, String>,
        row_errors: &mut Vec<RowError>,
    ) -> Result<Vec<T>, ConnectorError> {
        let mut out = Vec::new();
        let mut position = 0_usize;
        let mut url = self.page_url(name, 0);
        let mut seen = HashSet::new();
        loop {
            if !seen.insert(url.to_string()) || seen.len() > MAX_PAGES {
                return Err(ConnectorError::malformed(
                    &url,
                    "the paging leads back to a page already read",
                ));
            }
            let answer = self.http.get(&url, &self.auth).await?;
            let records = records(&url, name, answer.json(&url)?)?;
            let count = records.len();
            for (at, record) in records.into_iter().enumerate() {
                let id = record.get("sourcedId").cloned();
                let typed: W = serde_json::from_value(record)
                    .map_err(|e| ConnectorError::malformed(&url, format!("{name}[{at}]: {e}")))?;
                match convert(typed) {
                    Ok(value) => out.push(value),
                    Err(message) => {
                        let id = id.as_ref().and_then(Value::as_str);
                        row_errors.push(row_error(name, position, id, message));
                    }
                }
                position += 1;
            }
            match self.next_page(&url, name, &answer.headers, count, position)? {
                Some(next) => url = next,
                None => return Ok(out),
            }
        }
    }

    /// `{root}/{name}?limit=…&offset=…`.
    fn page_url(&self, name: &str, offset: usize) -> Url {
        let mut url = self.root.clone();
        let path = format!("{}/{name}", self.root.path().trim_end_matches('/'));
        url.set_path(&path);
        url.query_pairs_mut()
            .append_pair("limit", &self.page_size.to_string())
            .append_pair("offset", &offset.to_string());
        url
    }

    /// The page after one of `count` records, `read` read so far in all.
    fn next_page(
        &self,
        url: &Url,
        name: &str,
        headers: &HeaderMap,
        count: usize,
        read: usize,
    ) -> Result<Option<Url>, ConnectorError> {
        if count == 0 {
            return Ok(None);
        }
        let links: Vec<&str> = headers
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if !links.is_empty() {
            let next = next_link(&links.join(","));
            return match next {
                None => Ok(None),
                Some(next) => {
                    let next = url.join(&next).map_err(|_| {
                        ConnectorError::malformed(url, "the Link header's next is not a URL")
                    })?;
                    if next.origin() != self.base.origin() {
                        return Err(ConnectorError::malformed(
                            url,
                            "the Link header's next points at another server",
                        ));
                    }
                    Ok(Some(next))
                }
            };
        }
        let total = headers
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        let done = match total {
            Some(total) => read >= total,
            None => count < self.page_size as usize,
        };
        Ok((!done).then(|| self.page_url(name, read)))
    }
}

/// The collection's array in a page (`{"users":[…]}`).
fn records(url: &Url, name: &str, page: Value) -> Result<Vec<Value>, ConnectorError> {
    match page {
        Value::Object(mut map) => match map.remove(name) {
            Some(Value::Array(items)) => Ok(items),
            Some(Value::Null) => Ok(Vec::new()),
            _ => Err(ConnectorError::malformed(
                url,
                format!("the page has no \"{name}\" list"),
            )),
        },
        _ => Err(ConnectorError::malformed(
            url,
            "the page is not a JSON object",
        )),
    }
}

/// The `rel="next"` target of an RFC 8288 `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        is_next.then(|| target.to_owned())
    })
}

fn dedupe(bundle: &mut Bundle) {
    let errors = &mut bundle.row_errors;
    let orgs = std::mem::take(&mut bundle.orgs);
    bundle.orgs = first_of_each("orgs", orgs, |r| &r.source_id, errors);
    let sessions = std::mem::take(&mut bundle.academic_sessions);
    bundle.academic_sessions =
        first_of_each("academicSessions", sessions, |r| &r.source_id, errors);
    let courses = std::mem::take(&mut bundle.courses);
    bundle.courses = first_of_each("courses", courses, |r| &r.source_id, errors);
    let classes = std::mem::take(&mut bundle.classes);
    bundle.classes = first_of_each("classes", classes, |r| &r.source_id, errors);
    let users = std::mem::take(&mut bundle.users);
    bundle.users = first_of_each("users", users, |r| &r.source_id, errors);
    let enrollments = std::mem::take(&mut bundle.enrollments);
    bundle.enrollments = first_of_each("enrollments", enrollments, |r| &r.source_id, errors);
}

/// Reads a whole OneRoster REST server (see [`OneRosterRestConnector::read`]).
pub async fn oneroster_rest(config: &OneRosterRestConfig) -> Result<Fetched, ConnectorError> {
    OneRosterRestConnector::new(config.clone())?.read().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_others() {
        let header = "<https://x/users?offset=0&limit=2>; rel=\"first\", \
                      <https://x/users?offset=4&limit=2>; rel=\"next\"";
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://x/users?offset=4&limit=2")
        );
        assert_eq!(next_link("<https://x/users>; rel=\"last\""), None);
        assert_eq!(next_link("garbage"), None);
    }
}
