//! The incremental Clever read: `/v3.0/events` after the last event id, folded
//! into a delta bundle. Each event carries the whole record, so the last event
//! of a record is its state; replaying events already applied changes nothing.
//! When the feed cannot start at the cursor (events off, or older than
//! Clever's 30 days) the answer is [`Incremental::NeedsFull`].

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::super::bundle::{empty, row_error};
use super::super::error::ConnectorError;
use super::super::{Fetched, GuardianLink, Incremental};
use super::convert::{self, Role};
use super::{CleverConnector, record_of, wire};
use crate::oneroster::{
    AcademicSession, Class, Course, Enrollment, FileMode, Org, RowError, Status, User,
};

pub(super) async fn read(
    conn: &CleverConnector,
    since: Option<&str>,
) -> Result<Incremental, ConnectorError> {
    let limit = conn.page_size.to_string();
    let mut query = vec![("limit", limit.as_str())];
    if let Some(since) = since {
        query.push(("starting_after", since));
    }
    let mut changes = Changes::default();
    let mut last = since.map(str::to_owned);
    let mut at = 0_usize;
    let outcome = conn
        .pages(conn.url("events", &query), |url, records| {
            for record in records {
                let event: wire::Event = record_of(url, at, record)?;
                changes.apply(url, at, &event)?;
                last = Some(event.id);
                at += 1;
            }
            Ok(ControlFlow::Continue(()))
        })
        .await;
    match outcome {
        Ok(()) => {
            tracing::debug!(events = at, "clever events read");
            Ok(Incremental::Changes(Box::new(
                changes.into_fetched(conn, last),
            )))
        }
        Err(ConnectorError::Rejected {
            status, message, ..
        }) if feed_cannot_serve(status, &message) => Ok(Incremental::NeedsFull {
            reason: format!(
                "Clever cannot list events after {} (HTTP {status}: {message}); \
                 a full sync is needed",
                since.unwrap_or("the start")
            ),
        }),
        Err(other) => Err(other),
    }
}

/// 404 and 410, or a 400 saying the event id is unknown or too old.
fn feed_cannot_serve(status: u16, message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    let about_age = ["too old", "expired", "no longer", "not found", "older than"]
        .iter()
        .any(|hint| message.contains(hint));
    matches!(status, 404 | 410) || (status == 400 && about_age)
}

/// The latest state of every record the events touched.
#[derive(Default)]
struct Changes {
    orgs: BTreeMap<String, Org>,
    sessions: BTreeMap<String, AcademicSession>,
    courses: BTreeMap<String, Course>,
    classes: BTreeMap<String, Class>,
    enrollments: BTreeMap<String, Enrollment>,
    users: BTreeMap<String, User>,
    links: BTreeMap<String, Vec<GuardianLink>>,
    row_errors: Vec<RowError>,
    ignored: BTreeMap<String, usize>,
}

impl Changes {
    /// Folds one event in. A record that is not what Clever promises (no
    /// `id`) fails the whole read; one the roster cannot use is a row error.
    fn apply(&mut self, url: &Url, at: usize, event: &wire::Event) -> Result<(), ConnectorError> {
        let (record, action) = event.kind.split_once('.').unwrap_or((&event.kind, ""));
        let status = match action {
            "created" | "updated" => Status::Active,
            "deleted" => Status::ToBeDeleted,
            _ => {
                self.ignore(&event.kind);
                return Ok(());
            }
        };
        let object = || -> Result<Value, ConnectorError> {
            event.data.object.clone().ok_or_else(|| {
                ConnectorError::malformed(url, format!("event {} has no data.object", event.id))
            })
        };
        match record {
            "districts" => {
                let d: wire::District = parse(url, event, object()?)?;
                self.orgs
                    .insert(d.id.clone(), convert::district(&d, status));
            }
            "schools" => {
                let s: wire::School = parse(url, event, object()?)?;
                self.orgs.insert(s.id.clone(), convert::school(&s, status));
            }
            "terms" => {
                let t: wire::Term = parse(url, event, object()?)?;
                self.sessions
                    .insert(t.id.clone(), convert::term(&t, status));
            }
            "courses" => {
                let c: wire::Course = parse(url, event, object()?)?;
                self.courses
                    .insert(c.id.clone(), convert::course(&c, status));
            }
            "sections" => {
                let s: wire::Section = parse(url, event, object()?)?;
                let previous = event
                    .previous_attributes
                    .as_ref()
                    .or(event.data.previous_attributes.as_ref());
                self.section(at, &s, status, previous);
            }
            "users" => {
                let u: wire::User = parse(url, event, object()?)?;
                self.user(at, &u, status);
            }
            _ => self.ignore(&event.kind),
        }
        Ok(())
    }

    fn ignore(&mut self, kind: &str) {
        *self.ignored.entry(kind.to_owned()).or_default() += 1;
    }

    /// The class, its current enrollments, and (from `previous_attributes`)
    /// the enrollments of students and teachers who left it.
    fn section(&mut self, at: usize, s: &wire::Section, status: Status, previous: Option<&Value>) {
        match convert::class(s, status) {
            Ok(class) => {
                self.classes.insert(class.source_id.clone(), class);
            }
            Err(message) => {
                let error = row_error("events", at, Some(&s.id), message);
                self.row_errors.push(error);
                return;
            }
        }
        let current = convert::enrollments(s, status);
        for gone in left(s, previous, &current) {
            self.enrollments.insert(gone.source_id.clone(), gone);
        }
        for enrollment in current {
            self.enrollments
                .insert(enrollment.source_id.clone(), enrollment);
        }
    }

    fn user(&mut self, at: usize, u: &wire::User, status: Status) {
        let Some(role) = Role::of(u) else {
            return self.ignore("users without a student, teacher, staff or contact role");
        };
        match convert::user(u, role, status) {
            Ok((user, links)) => {
                self.users.insert(user.source_id.clone(), user);
                if role == Role::Contact && status == Status::Active {
                    self.links.insert(u.id.clone(), links);
                } else {
                    self.links.remove(&u.id);
                }
            }
            Err(message) => self
                .row_errors
                .push(row_error("events", at, Some(&u.id), message)),
        }
    }

    fn into_fetched(self, conn: &CleverConnector, cursor: Option<String>) -> Fetched {
        let mut bundle = empty(FileMode::Delta, "Clever", &conn.base);
        bundle.orgs = self.orgs.into_values().collect();
        bundle.academic_sessions = self.sessions.into_values().collect();
        bundle.courses = self.courses.into_values().collect();
        bundle.classes = self.classes.into_values().collect();
        bundle.enrollments = self.enrollments.into_values().collect();
        bundle.users = self.users.into_values().collect();
        bundle.row_errors = self.row_errors;
        bundle.warnings = self
            .ignored
            .into_iter()
            .map(|(kind, n)| format!("{n} Clever event(s) of type {kind} were ignored"))
            .collect();
        Fetched {
            bundle,
            links: self.links.into_values().flatten().collect(),
            cursor,
        }
    }
}

fn parse<T: DeserializeOwned>(
    url: &Url,
    event: &wire::Event,
    object: Value,
) -> Result<T, ConnectorError> {
    serde_json::from_value(object).map_err(|e| {
        ConnectorError::malformed(url, format!("event {} ({}): {e}", event.id, event.kind))
    })
}

/// Enrollments of the people `previous_attributes` lists on the section and
/// the section no longer has, as deletions.
fn left(s: &wire::Section, previous: Option<&Value>, current: &[Enrollment]) -> Vec<Enrollment> {
    let Some(previous) = previous else {
        return Vec::new();
    };
    let ids = |key: &str| -> Vec<String> {
        match previous.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        }
    };
    let was =
        |role: &'static str, users: Vec<String>| users.into_iter().map(move |user| (role, user));
    let before = was("student", ids("students"))
        .chain(was("teacher", ids("teachers")))
        .chain(was("teacher", ids("teacher")));
    let mut gone: BTreeMap<String, Enrollment> = BTreeMap::new();
    for (role, user) in before {
        let id = convert::enrollment_id(&s.id, &user);
        if current.iter().any(|e| e.source_id == id) {
            continue;
        }
        gone.entry(id.clone()).or_insert_with(|| Enrollment {
            source_id: id,
            status: Status::ToBeDeleted,
            class_source_id: s.id.as_str().into(),
            school_source_id: s.school.as_deref().map(Into::into),
            user_source_id: user.into(),
            role,
            primary: false,
        });
    }
    gone.into_values().collect()
}
