//! Rows of orgs, academicSessions, courses, classes and enrollments.

use super::model::{AcademicSession, Class, Course, Enrollment, FileMode, Org, OrgKind};
use super::reader::BundleError;
use super::table::{Report, Table};

/// enrollments.csv `role` values.
const ENROLLMENT_ROLES: &[&str] = &["student", "teacher", "administrator", "proctor"];

pub(super) fn orgs(
    table: Table<'_>,
    mode: FileMode,
    report: &mut Report,
) -> Result<Vec<Org>, BundleError> {
    let c = |name| table.header.col(name);
    let (id, status, name, kind) = (c("sourcedId"), c("status"), c("name"), c("type"));
    let (identifier, parent) = (c("identifier"), c("parentSourcedId"));
    table.rows(mode, report, |row| {
        let status = row.status(status)?;
        Ok(Org {
            source_id: row.required(id, "sourcedId")?.to_owned(),
            status,
            name: row.label(name, "name", status)?,
            kind: org_kind(row.required(kind, "type")?),
            identifier: row.text(identifier),
            parent_source_id: row.text(parent),
        })
    })
}

pub(super) fn academic_sessions(
    table: Table<'_>,
    mode: FileMode,
    report: &mut Report,
) -> Result<Vec<AcademicSession>, BundleError> {
    let c = |name| table.header.col(name);
    let (id, status, title, kind) = (c("sourcedId"), c("status"), c("title"), c("type"));
    let (start, end, parent, year) = (
        c("startDate"),
        c("endDate"),
        c("parentSourcedId"),
        c("schoolYear"),
    );
    table.rows(mode, report, |row| {
        let status = row.status(status)?;
        Ok(AcademicSession {
            source_id: row.required(id, "sourcedId")?.to_owned(),
            status,
            title: row.label(title, "title", status)?,
            kind: row.label(kind, "type", status)?,
            start_date: row.text(start),
            end_date: row.text(end),
            parent_source_id: row.text(parent),
            school_year: row.text(year),
        })
    })
}

pub(super) fn courses(
    table: Table<'_>,
    mode: FileMode,
    report: &mut Report,
) -> Result<Vec<Course>, BundleError> {
    let c = |name| table.header.col(name);
    let (id, status, title, code) = (c("sourcedId"), c("status"), c("title"), c("courseCode"));
    let (org, year) = (c("orgSourcedId"), c("schoolYearSourcedId"));
    table.rows(mode, report, |row| {
        let status = row.status(status)?;
        Ok(Course {
            source_id: row.required(id, "sourcedId")?.to_owned(),
            status,
            title: row.label(title, "title", status)?,
            course_code: row.text(code),
            org_source_id: row.text(org),
            school_year_source_id: row.text(year),
        })
    })
}

pub(super) fn classes(
    table: Table<'_>,
    mode: FileMode,
    report: &mut Report,
) -> Result<Vec<Class>, BundleError> {
    let c = |name| table.header.col(name);
    let (id, status, title, code) = (c("sourcedId"), c("status"), c("title"), c("classCode"));
    let (kind, course, school) = (c("classType"), c("courseSourcedId"), c("schoolSourcedId"));
    let (terms, grades) = (c("termSourcedIds"), c("grades"));
    table.rows(mode, report, |row| {
        let status = row.status(status)?;
        Ok(Class {
            source_id: row.required(id, "sourcedId")?.to_owned(),
            status,
            title: row.label(title, "title", status)?,
            class_code: row.text(code),
            class_type: row.text(kind),
            course_source_id: row.text(course),
            school_source_id: row.required(school, "schoolSourcedId")?.to_owned(),
            term_source_ids: row.list(terms),
            grades: row.list(grades),
        })
    })
}

pub(super) fn enrollments(
    table: Table<'_>,
    mode: FileMode,
    report: &mut Report,
) -> Result<Vec<Enrollment>, BundleError> {
    let c = |name| table.header.col(name);
    let (id, status, class, school) = (
        c("sourcedId"),
        c("status"),
        c("classSourcedId"),
        c("schoolSourcedId"),
    );
    let (user, role, primary) = (c("userSourcedId"), c("role"), c("primary"));
    let mut ids = crate::domain::Interner::default();
    table.rows(mode, report, |row| {
        Ok(Enrollment {
            source_id: row.required(id, "sourcedId")?.to_owned(),
            status: row.status(status)?,
            class_source_id: ids.get(row.required(class, "classSourcedId")?),
            school_source_id: row.text(school).map(|s| ids.get(&s)),
            user_source_id: ids.get(row.required(user, "userSourcedId")?),
            role: enrollment_role(row.required(role, "role")?)?,
            primary: row.flag(primary, "primary", false)?,
        })
    })
}

fn org_kind(value: &str) -> OrgKind {
    if value.eq_ignore_ascii_case("district") {
        OrgKind::District
    } else if value.eq_ignore_ascii_case("school") {
        OrgKind::School
    } else {
        OrgKind::Other(value.to_owned())
    }
}

/// An enrollment role the standard knows, in its spelling.
pub(crate) fn enrollment_role(value: &str) -> Result<&'static str, String> {
    ENROLLMENT_ROLES
        .iter()
        .find(|r| r.eq_ignore_ascii_case(value))
        .copied()
        .ok_or_else(|| {
            format!(
                "role \"{value}\" is not an enrollment role ({})",
                ENROLLMENT_ROLES.join(", ")
            )
        })
}
