//! The full Clever read: the newest event id first (so the next incremental
//! read misses nothing that changed during this one), then every list, then a
//! bulk bundle.

use std::collections::HashMap;
use std::ops::ControlFlow;

use super::super::bundle::{empty, first_of_each, row_error};
use super::super::error::ConnectorError;
use super::super::{Fetched, GuardianLink};
use super::convert::{self, Role};
use super::{CleverConnector, users, wire};
use crate::oneroster::{Bundle, FileMode, Status};

/// The roles read, in the order a user holding several is read as.
const ROLES: [Role; 4] = [Role::Student, Role::Teacher, Role::Staff, Role::Contact];

pub(super) async fn read(conn: &CleverConnector) -> Result<Fetched, ConnectorError> {
    let (cursor, cursor_warning) = match latest_event(conn).await {
        Ok(cursor) => (cursor, None),
        Err(error @ ConnectorError::Unavailable { .. }) => return Err(error),
        Err(error) => (None, Some(error)),
    };
    let districts: Vec<wire::District> = conn.list("districts", &[]).await?;
    let schools: Vec<wire::School> = conn.list("schools", &[]).await?;
    let terms: Vec<wire::Term> = conn.list("terms", &[]).await?;
    let courses: Vec<wire::Course> = conn.list("courses", &[]).await?;
    let sections: Vec<wire::Section> = conn.list("sections", &[]).await?;
    let mut bundle = empty(FileMode::Bulk, "Clever", &conn.base);
    if let Some(error) = cursor_warning {
        bundle.warnings.push(format!(
            "Clever events are not available ({error}); the next sync will be a full one"
        ));
    }
    let active = Status::Active;
    let orgs = districts.iter().map(|d| convert::district(d, active));
    bundle.orgs = orgs
        .chain(schools.iter().map(|s| convert::school(s, active)))
        .collect();
    bundle.academic_sessions = terms.iter().map(|t| convert::term(t, active)).collect();
    bundle.courses = courses.iter().map(|c| convert::course(c, active)).collect();
    add_sections(&mut bundle, &sections);
    let mut links = Vec::new();
    let mut read_as: HashMap<String, Role> = HashMap::new();
    for role in ROLES {
        let found = users(conn, role).await?;
        add_users(&mut bundle, &mut links, &mut read_as, role, &found);
    }
    dedupe(&mut bundle);
    tracing::debug!(
        users = bundle.users.len(),
        enrollments = bundle.enrollments.len(),
        row_errors = bundle.row_errors.len(),
        "clever district read"
    );
    Ok(Fetched {
        bundle,
        links,
        cursor,
    })
}

/// The id of the newest event (`ending_before=last&limit=1`); `None` when the
/// feed is empty.
async fn latest_event(conn: &CleverConnector) -> Result<Option<String>, ConnectorError> {
    let url = conn.url("events", &[("ending_before", "last"), ("limit", "1")]);
    let mut newest = None;
    conn.pages(url, |url, records| {
        if let Some(record) = records.into_iter().last() {
            let event: wire::Event = super::record_of(url, 0, record)?;
            newest = Some(event.id);
        }
        // One page is enough: its last event is the newest.
        Ok(ControlFlow::Break(()))
    })
    .await?;
    Ok(newest)
}

fn add_sections(bundle: &mut Bundle, sections: &[wire::Section]) {
    for (at, section) in sections.iter().enumerate() {
        match convert::class(section, Status::Active) {
            Ok(class) => {
                bundle.classes.push(class);
                let enrollments = convert::enrollments(section, Status::Active);
                bundle.enrollments.extend(enrollments);
            }
            Err(message) => {
                let error = row_error("sections", at, Some(&section.id), message);
                bundle.row_errors.push(error);
            }
        }
    }
}

/// Adds the users of one role. A user already read under another role keeps
/// that one: the bundle gives each person one role.
fn add_users(
    bundle: &mut Bundle,
    links: &mut Vec<GuardianLink>,
    read_as: &mut HashMap<String, Role>,
    role: Role,
    found: &[wire::User],
) {
    let file = format!("users?role={}", role.as_query());
    for (at, user) in found.iter().enumerate() {
        if let Some(first) = read_as.get(&user.id) {
            if *first == role {
                let message = format!("{} was already read; the repeat was left out", user.id);
                bundle
                    .row_errors
                    .push(row_error(&file, at, Some(&user.id), message));
                continue;
            }
            bundle.warnings.push(format!(
                "Clever user {} is both a {} and a {}; Homeroom reads them as a {}",
                user.id,
                first.as_query(),
                role.as_query(),
                first.as_query()
            ));
            continue;
        }
        match convert::user(user, role, Status::Active) {
            Ok((person, theirs)) => {
                read_as.insert(user.id.clone(), role);
                bundle.users.push(person);
                links.extend(theirs);
            }
            Err(message) => {
                let error = row_error(&file, at, Some(&user.id), message);
                bundle.row_errors.push(error);
            }
        }
    }
}

fn dedupe(bundle: &mut Bundle) {
    let errors = &mut bundle.row_errors;
    bundle.orgs = first_of_each(
        "orgs",
        std::mem::take(&mut bundle.orgs),
        |o| &o.source_id,
        errors,
    );
    bundle.academic_sessions = first_of_each(
        "terms",
        std::mem::take(&mut bundle.academic_sessions),
        |s| &s.source_id,
        errors,
    );
    bundle.courses = first_of_each(
        "courses",
        std::mem::take(&mut bundle.courses),
        |c| &c.source_id,
        errors,
    );
    bundle.classes = first_of_each(
        "sections",
        std::mem::take(&mut bundle.classes),
        |c| &c.source_id,
        errors,
    );
    bundle.enrollments = first_of_each(
        "sections",
        std::mem::take(&mut bundle.enrollments),
        |e| &e.source_id,
        errors,
    );
}
