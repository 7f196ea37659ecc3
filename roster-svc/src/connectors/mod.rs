//! RO-2 (API half): connectors that read a district's roster from a vendor API
//! over HTTP and hand back the same [`Bundle`] the OneRoster CSV reader makes.
//!
//! - Clever Data API v3.0 with a district bearer token: [`clever_full`] reads
//!   every district, school, term, course, section and user (students,
//!   teachers, staff, contacts); [`clever_incremental`] replays `/events` from
//!   the last event id and answers [`Incremental::NeedsFull`] when the feed
//!   cannot serve it (events off, or the id is older than the 30-day window).
//! - OneRoster REST 1.1 (ClassLink and others): [`oneroster_rest`] reads
//!   `orgs`, `academicSessions`, `courses`, `classes`, `users` and
//!   `enrollments`, signed with OAuth 1.0a HMAC-SHA256, an OAuth 2 client
//!   credentials token, or a static bearer (ClassLink's proxy).
//!
//! A full read is all or nothing: a page that cannot be used fails the whole
//! read with [`ConnectorError::Malformed`], so a partial bulk roster (which would
//! delete everyone missing from it) is never returned. Single records the
//! bundle cannot use (an unknown role, a blank name) are left out and listed in
//! [`Bundle::row_errors`], as the CSV reader does. HTTP 429 and 5xx are retried
//! per [`RetryPolicy`] at the same page; 401/403 is
//! [`ConnectorError::CredentialsRejected`].
//!
//! The bundle cannot hold a guardian link's relationship ("Grandparent") or
//! Clever contact type ("Emergency"), so [`Fetched::links`] carries every link
//! with them; the bundle's `agent_source_ids` carry the same edges.
//!
//! Secrets live in [`secrecy::SecretString`]; they are sent only in headers and
//! are never logged, formatted by `Debug`, or put in an error (a server message
//! that quotes one is redacted).
//!
//! ```text
//! clever_full(&CleverConfig) -> Result<Fetched, ConnectorError>
//! clever_incremental(&CleverConfig, since_event_id: Option<&str>) -> Result<Incremental, ConnectorError>
//! oneroster_rest(&OneRosterRestConfig) -> Result<Fetched, ConnectorError>
//! CleverConnector::new(CleverConfig)?.full() / .incremental(since)   (one HTTP client for many reads)
//! OneRosterRestConnector::new(OneRosterRestConfig)?.read()           (keeps its OAuth 2 token between reads)
//! ```
//!
//! How the vendors' records land in the bundle:
//! - Clever: districts and schools are orgs (a school's parent is its district),
//!   terms are `term` sessions, courses keep their district as org, sections are
//!   `scheduled` classes with one enrollment per teacher (the section's
//!   `teacher` primary) and student, ids `<section>:<user>`. Students, teachers
//!   and staff (`administrator`) take their schools as orgs; contacts are
//!   guardians (`parent` when their first relationship is Parent, `relative`
//!   for Grandparent, Aunt/Uncle and Sibling, else `guardian`) with the
//!   district as org, the students of `student_relationships` as agents, and a
//!   `Cell` phone as `sms`, any other phone as `phone`. Grades become CEDS codes.
//! - OneRoster REST: as the CSV binding, with the REST field names; booleans
//!   may be strings, JSON booleans or 0/1; references may be objects or ids.

mod bundle;
mod clever;
mod error;
mod http;
pub mod location;
mod oauth;
mod oauth1;
mod oneroster_rest;
pub mod outbound;

use std::time::Duration;

use crate::oneroster::{Bundle, LinkDetail};

pub use clever::{CleverConfig, CleverConnector, clever_full, clever_incremental};
pub use error::ConnectorError;
pub use oneroster_rest::{OneRosterRestConfig, OneRosterRestConnector, RestAuth, oneroster_rest};

/// How failed requests are retried. Waits double from `initial_delay` up to
/// `max_delay`; a `Retry-After` in seconds is honoured, but never beyond
/// `max_delay`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// The wait after the first failure.
    pub initial_delay: Duration,
    /// The longest wait, whatever the server asks for.
    pub max_delay: Duration,
    /// How long one request may take.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A guardian ↔ student link with what the source says about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuardianLink {
    /// The guardian's source id.
    pub guardian_source_id: String,
    /// The student's source id.
    pub student_source_id: String,
    /// Clever `relationship` ("Parent", "Grandparent" …); for OneRoster the
    /// guardian's role (`parent`, `guardian`, `relative`).
    pub relationship: Option<String>,
    /// Clever contact `type` ("Parent/Guardian", "Emergency" …); OneRoster has none.
    pub contact_type: Option<String>,
}

/// What a read produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The roster, shaped as a OneRoster bundle (bulk for a full read, delta for
    /// an incremental one).
    pub bundle: Bundle,
    /// Every guardian link in the bundle, with its relationship and type.
    pub links: Vec<GuardianLink>,
    /// Where the next incremental read starts: for Clever the id of the newest
    /// event (taken before a full read began, so nothing is missed); `None`
    /// when the source has no event feed.
    pub cursor: Option<String>,
}

impl Fetched {
    /// The bundle, carrying what the source says about each guardian link
    /// (its relationship and contact type) for planning.
    pub fn into_bundle(self) -> Bundle {
        let mut bundle = self.bundle;
        for link in self.links {
            bundle.link_details.insert(
                (link.guardian_source_id, link.student_source_id),
                LinkDetail {
                    relationship: link.relationship,
                    contact_type: link.contact_type,
                },
            );
        }
        bundle
    }
}

/// What an incremental read produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incremental {
    /// The changes since the cursor, as a delta bundle; `cursor` is the last
    /// event read (the old one when there was nothing new).
    Changes(Box<Fetched>),
    /// The feed cannot serve this cursor; run a full read instead.
    NeedsFull {
        /// Why, for the sync report.
        reason: String,
    },
}
