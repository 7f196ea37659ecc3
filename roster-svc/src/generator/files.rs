//! Writes the generated district as OneRoster 1.1 bulk CSV files: the spec's
//! headers in the spec's order, `status` and `dateLastModified` blank, lists
//! comma-joined in one quoted cell, CRLF line ends, no BOM.

use std::io::{self, Write};

use super::{Generated, Sink, district::SESSIONS};

pub(super) const MANIFEST_HEADER: [&str; 2] = ["propertyName", "value"];
#[rustfmt::skip]
pub(super) const ORGS_HEADER: [&str; 7] = [
    "sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId",
];
#[rustfmt::skip]
pub(super) const SESSIONS_HEADER: [&str; 9] = [
    "sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
    "parentSourcedId", "schoolYear",
];
#[rustfmt::skip]
pub(super) const COURSES_HEADER: [&str; 10] = [
    "sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
    "grades", "orgSourcedId", "subjects", "subjectCodes",
];
#[rustfmt::skip]
pub(super) const CLASSES_HEADER: [&str; 14] = [
    "sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
    "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes",
    "periods",
];
#[rustfmt::skip]
pub(super) const USERS_HEADER: [&str; 18] = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
    "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
    "agentSourcedIds", "grades", "password",
];
#[rustfmt::skip]
pub(super) const ENROLLMENTS_HEADER: [&str; 10] = [
    "sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
    "userSourcedId", "role", "primary", "beginDate", "endDate",
];

/// The 1.1 data files and how the manifest lists them.
pub(super) const MANIFEST_FILES: [(&str, &str); 13] = [
    ("academicSessions", "bulk"),
    ("categories", "absent"),
    ("classes", "bulk"),
    ("classResources", "absent"),
    ("courses", "bulk"),
    ("courseResources", "absent"),
    ("demographics", "absent"),
    ("enrollments", "bulk"),
    ("lineItems", "absent"),
    ("orgs", "bulk"),
    ("resources", "absent"),
    ("results", "absent"),
    ("users", "bulk"),
];

/// Writes manifest.csv and the six bulk files.
pub(super) fn write_all(g: &Generated, sink: &mut dyn Sink) -> io::Result<()> {
    csv_file(sink, "manifest.csv", &MANIFEST_HEADER, |w| {
        w.write_record(["manifest.version", "1.0"])?;
        w.write_record(["oneroster.version", "1.1"])?;
        for (stem, mode) in MANIFEST_FILES {
            w.write_record([format!("file.{stem}").as_str(), mode])?;
        }
        w.write_record(["source.systemName", "Homeroom roster generator"])?;
        w.write_record(["source.systemCode", "homeroom-generate-roster"])
    })?;
    let d = &g.district;
    csv_file(sink, "orgs.csv", &ORGS_HEADER, |w| {
        w.write_record([d.id.as_str(), "", "", &d.name, "district", "", ""])?;
        for s in &d.schools {
            w.write_record([
                s.id.as_str(),
                "",
                "",
                &s.name,
                "school",
                &s.identifier,
                &d.id,
            ])?;
        }
        Ok(())
    })?;
    csv_file(sink, "academicSessions.csv", &SESSIONS_HEADER, |w| {
        for (i, (id, title, kind, start, end)) in SESSIONS.into_iter().enumerate() {
            let parent = if i == 0 { "" } else { SESSIONS[0].0 };
            w.write_record([id, "", "", title, kind, start, end, parent, "2026"])?;
        }
        Ok(())
    })?;
    csv_file(sink, "courses.csv", &COURSES_HEADER, |w| {
        for c in &d.courses {
            let org = &d.schools[c.school].id;
            let year = SESSIONS[0].0;
            w.write_record([
                c.id.as_str(),
                "",
                "",
                year,
                &c.title,
                &c.code,
                c.grade,
                org,
                "",
                "",
            ])?;
        }
        Ok(())
    })?;
    csv_file(sink, "classes.csv", &CLASSES_HEADER, |w| {
        for c in &d.classes {
            let (kind, periods) = match (c.homeroom, c.period) {
                (true, _) => ("homeroom", String::new()),
                (false, 0) => ("scheduled", String::new()),
                (false, p) => ("scheduled", p.to_string()),
            };
            let course = &d.courses[c.course].id;
            let room = format!("Room {}", c.room);
            let school = &d.schools[c.school].id;
            w.write_record([
                c.id.as_str(),
                "",
                "",
                &c.title,
                c.grade,
                course,
                &c.code,
                kind,
                &room,
                school,
                c.term,
                "",
                "",
                &periods,
            ])?;
        }
        Ok(())
    })?;
    csv_file(sink, "users.csv", &USERS_HEADER, |w| {
        for u in &g.users {
            let agents = u.agents.join(",");
            w.write_record([
                u.id.as_str(),
                "",
                "",
                "true",
                &u.orgs,
                u.role,
                &u.username,
                &u.user_ids,
                u.given,
                u.family,
                u.middle,
                &u.identifier,
                &u.email,
                &u.sms,
                &u.phone,
                &agents,
                u.grades,
                "",
            ])?;
        }
        Ok(())
    })?;
    csv_file(sink, "enrollments.csv", &ENROLLMENTS_HEADER, |w| {
        let mut n = 0usize;
        for c in &d.classes {
            let school = &d.schools[c.school].id;
            let rows = c
                .teachers
                .iter()
                .enumerate()
                .map(|(i, &t)| (t, "teacher", i == 0));
            let rows = rows.chain(c.students.iter().map(|&s| (s, "student", false)));
            for (user, role, primary) in rows {
                n += 1;
                let user = g.users.get(user as usize).map_or("", |u| u.id.as_str());
                let primary = if primary { "true" } else { "false" };
                let id = format!("enr-{n:07}");
                w.write_record([
                    id.as_str(),
                    "",
                    "",
                    &c.id,
                    school,
                    user,
                    role,
                    primary,
                    "",
                    "",
                ])?;
            }
        }
        Ok(())
    })
}

/// One file: the header, then `rows`.
fn csv_file(
    sink: &mut dyn Sink,
    name: &str,
    header: &[&str],
    rows: impl FnOnce(&mut csv::Writer<Box<dyn Write + '_>>) -> csv::Result<()>,
) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(sink.file(name)?);
    w.write_record(header)?;
    rows(&mut w)?;
    w.flush()
}
