//! Clever records as bundle records: districts and schools are orgs, terms are
//! sessions, sections are classes with one enrollment per student and teacher,
//! and contacts are guardians linked to their students.

use super::super::GuardianLink;
use super::super::bundle::{push_unique, text};
use super::names::contact_name;
use super::wire;
use crate::oneroster::{
    AcademicSession, Class, Course, Enrollment, Org, OrgKind, Status, User, UserRole,
};

/// Which of a Clever user's roles the record is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Student,
    Teacher,
    Staff,
    Contact,
}

impl Role {
    /// The `role` query value.
    pub fn as_query(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::Contact => "contact",
        }
    }

    /// The role a user is read as when nothing says which: student, teacher,
    /// staff, then contact; `None` for district admins and role-less records.
    pub fn of(user: &wire::User) -> Option<Role> {
        let r = &user.roles;
        [
            (r.student.is_some(), Role::Student),
            (r.teacher.is_some(), Role::Teacher),
            (r.staff.is_some(), Role::Staff),
            (r.contact.is_some(), Role::Contact),
        ]
        .into_iter()
        .find_map(|(has, role)| has.then_some(role))
    }
}

pub(super) fn district(d: &wire::District, status: Status) -> Org {
    Org {
        source_id: d.id.clone(),
        status,
        name: text(d.name.as_deref()).unwrap_or_default(),
        kind: OrgKind::District,
        identifier: None,
        parent_source_id: None,
    }
}

pub(super) fn school(s: &wire::School, status: Status) -> Org {
    Org {
        source_id: s.id.clone(),
        status,
        name: text(s.name.as_deref()).unwrap_or_default(),
        kind: OrgKind::School,
        identifier: text(s.school_number.as_deref()),
        parent_source_id: text(s.district.as_deref()),
    }
}

/// A term; Clever names are optional, so a nameless term is titled by its id.
pub(super) fn term(t: &wire::Term, status: Status) -> AcademicSession {
    AcademicSession {
        source_id: t.id.clone(),
        status,
        title: text(t.name.as_deref()).unwrap_or_else(|| t.id.clone()),
        kind: "term".to_owned(),
        start_date: text(t.start_date.as_deref()),
        end_date: text(t.end_date.as_deref()),
        parent_source_id: None,
        school_year: None,
    }
}

pub(super) fn course(c: &wire::Course, status: Status) -> Course {
    Course {
        source_id: c.id.clone(),
        status,
        title: text(c.name.as_deref())
            .or_else(|| text(c.number.as_deref()))
            .unwrap_or_else(|| c.id.clone()),
        course_code: text(c.number.as_deref()),
        org_source_id: text(c.district.as_deref()),
        school_year_source_id: None,
    }
}

/// A section as a class; it needs its school.
pub(super) fn class(s: &wire::Section, status: Status) -> Result<Class, String> {
    let school = text(s.school.as_deref()).ok_or("the section has no school")?;
    let title = match (text(s.name.as_deref()), status) {
        (Some(name), _) => name,
        (None, Status::ToBeDeleted) => String::new(),
        (None, Status::Active) => return Err("the section has no name".to_owned()),
    };
    Ok(Class {
        source_id: s.id.clone(),
        status,
        title,
        class_code: text(s.section_number.as_deref()),
        class_type: Some("scheduled".to_owned()),
        course_source_id: text(s.course.as_deref()),
        school_source_id: school,
        term_source_ids: text(s.term_id.as_deref()).into_iter().collect(),
        grades: s.grade.as_deref().and_then(grade).into_iter().collect(),
    })
}

/// The id Homeroom gives the enrollment of `user` in `section` (Clever has none).
pub(super) fn enrollment_id(section: &str, user: &str) -> String {
    format!("{section}:{user}")
}

/// One enrollment per teacher (the section's `teacher` is the primary one)
/// and per student, all with `status`.
pub(super) fn enrollments(s: &wire::Section, status: Status) -> Vec<Enrollment> {
    let mut teachers = Vec::new();
    for t in s.teacher.iter().chain(&s.teachers) {
        push_unique(&mut teachers, t);
    }
    let primary = text(s.teacher.as_deref());
    let teachers = teachers.into_iter().map(|t| {
        let is_primary = primary.as_deref() == Some(t.as_str());
        (t, "teacher", is_primary)
    });
    let mut students = Vec::new();
    for st in &s.students {
        push_unique(&mut students, st);
    }
    let students = students.into_iter().map(|st| (st, "student", false));
    teachers
        .chain(students)
        .map(|(user, role, primary)| Enrollment {
            source_id: enrollment_id(&s.id, &user),
            status,
            class_source_id: s.id.as_str().into(),
            school_source_id: text(s.school.as_deref()).map(Into::into),
            user_source_id: user.into(),
            role,
            primary,
        })
        .collect()
}

/// A Clever user read as `role`, with the guardian links a contact brings.
pub(super) fn user(
    u: &wire::User,
    role: Role,
    status: Status,
) -> Result<(User, Vec<GuardianLink>), String> {
    let first = text(u.name.first.as_deref());
    let last = text(u.name.last.as_deref());
    let mut user = User {
        source_id: u.id.clone(),
        status,
        enabled: true,
        role: UserRole::Student,
        org_source_ids: Vec::new(),
        username: None,
        given_name: first.clone().unwrap_or_default(),
        family_name: last.clone().unwrap_or_default(),
        middle_name: text(u.name.middle.as_deref()),
        preferred_given_name: None,
        identifier: None,
        email: text(u.email.as_deref()),
        sms: None,
        phone: None,
        phone_not_mobile: false,
        agent_source_ids: Vec::new(),
        grades: Vec::new(),
    };
    let mut links = Vec::new();
    let r = &u.roles;
    let missing = || format!("the user has no {} role", role.as_query());
    match role {
        Role::Student => {
            let s = r.student.as_ref().ok_or_else(missing)?;
            user.org_source_ids = schools(s.school.as_deref(), &s.schools);
            user.username = text(s.credentials.district_username.as_deref());
            user.identifier =
                text(s.student_number.as_deref()).or_else(|| text(s.sis_id.as_deref()));
            user.grades = s.grade.as_deref().and_then(grade).into_iter().collect();
            user.preferred_given_name = s.preferred_name.as_ref().and_then(preferred_first);
        }
        Role::Teacher => {
            let t = r.teacher.as_ref().ok_or_else(missing)?;
            user.role = UserRole::Teacher;
            user.org_source_ids = schools(t.school.as_deref(), &t.schools);
            user.username = text(t.credentials.district_username.as_deref());
            user.identifier =
                text(t.teacher_number.as_deref()).or_else(|| text(t.sis_id.as_deref()));
        }
        Role::Staff => {
            let s = r.staff.as_ref().ok_or_else(missing)?;
            user.role = UserRole::Staff("administrator".to_owned());
            user.org_source_ids = schools(None, &s.schools);
            user.username = text(s.credentials.district_username.as_deref());
            user.identifier = text(s.staff_id.as_deref());
        }
        Role::Contact => {
            let c = r.contact.as_ref().ok_or_else(missing)?;
            (user.given_name, user.family_name) = contact_name(first.as_deref(), last.as_deref());
            user.org_source_ids = text(u.district.as_deref()).into_iter().collect();
            user.identifier = text(c.sis_id.as_deref());
            // Only a Cell phone is the mobile (SMS) credential; Home, Work,
            // Other or no type is a record-only phone.
            let phone = text(c.phone.as_deref());
            match c.phone_type.as_deref().map(str::trim) {
                Some(t) if t.eq_ignore_ascii_case("cell") => user.sms = phone,
                _ => {
                    user.phone = phone;
                    user.phone_not_mobile = true;
                }
            }
            links = contact_links(&u.id, &c.student_relationships);
            user.role = UserRole::Guardian(guardian_role(&links).to_owned());
            for link in &links {
                push_unique(&mut user.agent_source_ids, &link.student_source_id);
            }
        }
    }
    if status == Status::Active && user.given_name.is_empty() && user.family_name.is_empty() {
        return Err("the user has no name".to_owned());
    }
    Ok((user, links))
}

/// Clever v3.1's `preferred_name`: its first name, whether it comes as a
/// string or as a name object.
fn preferred_first(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => text(Some(s)),
        serde_json::Value::Object(o) => text(o.get("first").and_then(|f| f.as_str())),
        _ => None,
    }
}

/// The primary school first, then the others, each once.
fn schools(primary: Option<&str>, all: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for school in primary.into_iter().chain(all.iter().map(String::as_str)) {
        push_unique(&mut out, school.trim());
    }
    out
}

fn contact_links(contact: &str, relationships: &[wire::StudentRelationship]) -> Vec<GuardianLink> {
    let mut links: Vec<GuardianLink> = Vec::new();
    for rel in relationships {
        let Some(student) = text(rel.student.as_deref()) else {
            continue;
        };
        if links.iter().any(|l| l.student_source_id == student) {
            continue;
        }
        links.push(GuardianLink {
            guardian_source_id: contact.to_owned(),
            student_source_id: student,
            relationship: text(rel.relationship.as_deref()),
            contact_type: text(rel.kind.as_deref()),
        });
    }
    links
}

/// The OneRoster role for a contact, from its first relationship: a parent is
/// `parent`; a grandparent, aunt/uncle or sibling a `relative`; anyone else a
/// `guardian`.
fn guardian_role(links: &[GuardianLink]) -> &'static str {
    match links.first().and_then(|l| l.relationship.as_deref()) {
        Some("Parent") => "parent",
        Some("Grandparent" | "Aunt/Uncle" | "Sibling") => "relative",
        _ => "guardian",
    }
}

/// A Clever grade as a CEDS grade code (`Kindergarten` → `KG`, `3` → `03`).
pub(super) fn grade(value: &str) -> Option<String> {
    let value = value.trim();
    let code = match value {
        "" => return None,
        "InfantToddler" => "IT",
        "Preschool" => "PR",
        "PreKindergarten" => "PK",
        "TransitionalKindergarten" => "TK",
        "Kindergarten" => "KG",
        "PostGraduate" => "PS",
        "Ungraded" => "UG",
        "Other" => "Other",
        number => {
            return Some(match number.parse::<u8>() {
                Ok(n) if (1..=13).contains(&n) => format!("{n:02}"),
                _ => number.to_owned(),
            });
        }
    };
    Some(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clever_grades_become_ceds_codes() {
        assert_eq!(grade("Kindergarten").as_deref(), Some("KG"));
        assert_eq!(grade("3").as_deref(), Some("03"));
        assert_eq!(grade("12").as_deref(), Some("12"));
        assert_eq!(grade("Ungraded").as_deref(), Some("UG"));
        assert_eq!(grade(""), None);
    }
}
