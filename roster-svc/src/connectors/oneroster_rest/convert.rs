//! OneRoster REST records as bundle records, judged by the CSV reader's rules:
//! a blank or `active` status is active, `tobedeleted` (or `inactive`) a
//! deletion; names and titles are needed on live records; roles and booleans
//! must be ones the standard knows. A record that breaks a rule is a row error.

use super::super::GuardianLink;
use super::wire;
use crate::oneroster::{
    AcademicSession, Class, Course, Enrollment, Org, OrgKind, Status, User, UserRole,
    enrollment_role, flag, status, user_role,
};

pub(super) fn org(o: wire::Org) -> Result<Org, String> {
    let status = status(o.status.as_deref())?;
    let kind = match o.kind.as_deref() {
        Some(k) if k.eq_ignore_ascii_case("district") => OrgKind::District,
        Some(k) if k.eq_ignore_ascii_case("school") => OrgKind::School,
        Some(k) => OrgKind::Other(k.to_owned()),
        None => return Err("type is blank".to_owned()),
    };
    Ok(Org {
        status,
        name: label(o.name, "name", status)?,
        kind,
        identifier: o.identifier,
        parent_source_id: o.parent,
        source_id: o.sourced_id,
    })
}

pub(super) fn session(s: wire::AcademicSession) -> Result<AcademicSession, String> {
    let status = status(s.status.as_deref())?;
    Ok(AcademicSession {
        status,
        title: label(s.title, "title", status)?,
        kind: label(s.kind, "type", status)?,
        start_date: s.start_date,
        end_date: s.end_date,
        parent_source_id: s.parent,
        school_year: s.school_year,
        source_id: s.sourced_id,
    })
}

pub(super) fn course(c: wire::Course) -> Result<Course, String> {
    let status = status(c.status.as_deref())?;
    Ok(Course {
        status,
        title: label(c.title, "title", status)?,
        course_code: c.course_code,
        org_source_id: c.org,
        school_year_source_id: c.school_year,
        source_id: c.sourced_id,
    })
}

pub(super) fn class(c: wire::Class) -> Result<Class, String> {
    let status = status(c.status.as_deref())?;
    Ok(Class {
        status,
        title: label(c.title, "title", status)?,
        class_code: c.class_code,
        class_type: c.class_type,
        course_source_id: c.course,
        school_source_id: c.school.ok_or("school is blank")?,
        term_source_ids: c.terms,
        grades: c.grades,
        source_id: c.sourced_id,
    })
}

pub(super) fn user(u: wire::User) -> Result<User, String> {
    let status = status(u.status.as_deref())?;
    let role = user_role(u.role.as_deref().ok_or("role is blank")?)?;
    Ok(User {
        status,
        enabled: flag(u.enabled_user.as_deref(), "enabledUser", true)?,
        role,
        org_source_ids: u.orgs,
        username: u.username,
        given_name: label(u.given_name, "givenName", status)?,
        family_name: label(u.family_name, "familyName", status)?,
        middle_name: u.middle_name,
        preferred_given_name: u.preferred_first_name,
        identifier: u.identifier,
        email: u.email,
        sms: u.sms,
        phone: u.phone,
        phone_not_mobile: false,
        agent_source_ids: u.agents,
        grades: u.grades,
        source_id: u.sourced_id,
    })
}

pub(super) fn enrollment(e: wire::Enrollment) -> Result<Enrollment, String> {
    let role = enrollment_role(e.role.as_deref().ok_or("role is blank")?)?;
    Ok(Enrollment {
        status: status(e.status.as_deref())?,
        class_source_id: e.class.ok_or("class is blank")?.into(),
        school_source_id: e.school.map(Into::into),
        user_source_id: e.user.ok_or("user is blank")?.into(),
        role,
        primary: flag(e.primary.as_deref(), "primary", false)?,
        source_id: e.sourced_id,
    })
}

/// Every guardian ↔ student edge the users' `agents` give, from either side,
/// once each; the relationship is the guardian's role.
pub(super) fn links(users: &[User]) -> Vec<GuardianLink> {
    let live = |id: &str| {
        users
            .iter()
            .find(|u| u.source_id == id && u.status == Status::Active)
    };
    let mut edges: Vec<GuardianLink> = Vec::new();
    for user in users.iter().filter(|u| u.status == Status::Active) {
        for agent in user.agent_source_ids.iter().filter_map(|a| live(a)) {
            let (guardian, student) = match (&user.role, &agent.role) {
                (UserRole::Student, UserRole::Guardian(_)) => (agent, user),
                (UserRole::Guardian(_), UserRole::Student) => (user, agent),
                _ => continue,
            };
            let UserRole::Guardian(relationship) = &guardian.role else {
                continue;
            };
            let link = GuardianLink {
                guardian_source_id: guardian.source_id.clone(),
                student_source_id: student.source_id.clone(),
                relationship: Some(relationship.clone()),
                contact_type: None,
            };
            if !edges.contains(&link) {
                edges.push(link);
            }
        }
    }
    edges.sort();
    edges
}

/// A name or title: needed on a live record, may be blank on a deletion.
fn label(value: Option<String>, name: &str, status: Status) -> Result<String, String> {
    match (value, status) {
        (Some(value), _) => Ok(value),
        (None, Status::ToBeDeleted) => Ok(String::new()),
        (None, Status::Active) => Err(format!("{name} is blank")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_user_reads_as_a_string_a_boolean_or_a_digit() {
        for (raw, expected) in [("true", true), ("FALSE", false), ("1", true), ("0", false)] {
            assert_eq!(flag(Some(raw), "enabledUser", true), Ok(expected));
        }
        assert_eq!(flag(None, "enabledUser", true), Ok(true));
        assert!(flag(Some("yes"), "enabledUser", true).is_err());
    }

    #[test]
    fn guardian_roles_keep_the_standard_spelling() {
        assert_eq!(user_role("Parent"), Ok(UserRole::Guardian("parent".into())));
        assert_eq!(
            user_role("relative"),
            Ok(UserRole::Guardian("relative".into()))
        );
        assert_eq!(
            user_role("siteadministrator"),
            Ok(UserRole::Staff("siteAdministrator".into()))
        );
        assert!(user_role("principle").is_err());
    }

    /// 1.2 names the preferred given name `preferredFirstName` over REST
    /// (`preferredGivenName` in CSV); 1.1 users have none.
    #[test]
    fn a_1_2_users_preferred_first_name_is_its_preferred_given_name() {
        let read = |json: &str| user(serde_json::from_str::<wire::User>(json).unwrap()).unwrap();
        let robert = read(
            r#"{"sourcedId":"s1","status":"active","role":"student","givenName":"Robert",
                "familyName":"Tables","preferredFirstName":" Bobby "}"#,
        );
        assert_eq!(robert.given_name, "Robert");
        assert_eq!(robert.preferred_given_name.as_deref(), Some("Bobby"));
        let plain =
            read(r#"{"sourcedId":"s2","role":"student","givenName":"Ann","familyName":"Lee"}"#);
        assert_eq!(plain.preferred_given_name, None);
    }
}
