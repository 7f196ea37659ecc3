//! MS-1 / MS-2: the rostered people behind an audience — students of classes,
//! schools or the district, their guardians, teachers and staff — as accounts.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::{classes, enrollments, guardian_links, people};

const ACTIVE: &str = "active";
const CHUNK: usize = 1_000;

/// Ids of active students of the district among `ids`.
pub fn students_among(
    conn: &mut DbConn,
    district_id: &str,
    ids: &[String],
) -> QueryResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<String> = people::table
            .filter(people::district_id.eq(district_id))
            .filter(people::kind.eq("student"))
            .filter(people::status.eq(ACTIVE))
            .filter(people::id.eq_any(chunk))
            .select(people::id)
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// Ids of active classes of the district among `ids`, with their schools.
pub fn classes_among(
    conn: &mut DbConn,
    district_id: &str,
    ids: &[String],
) -> QueryResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<(String, String)> = classes::table
            .filter(classes::district_id.eq(district_id))
            .filter(classes::status.eq(ACTIVE))
            .filter(classes::id.eq_any(chunk))
            .select((classes::id, classes::school_id))
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// Active people of a kind in the district, optionally only in `schools`
/// (their primary school), optionally of one role (`teacher`) or all but it.
pub fn people_of(
    conn: &mut DbConn,
    district_id: &str,
    kind: &str,
    schools: Option<&[String]>,
) -> QueryResult<Vec<(String, String, Option<String>)>> {
    let mut q = people::table
        .filter(people::district_id.eq(district_id))
        .filter(people::kind.eq(kind))
        .filter(people::status.eq(ACTIVE))
        .select((people::id, people::role, people::account_id))
        .into_boxed();
    if let Some(schools) = schools {
        q = q.filter(people::school_id.eq_any(schools.to_vec()));
    }
    q.load(conn)
}

/// People enrolled (actively) in `class_ids` with `role`.
pub fn enrolled(
    conn: &mut DbConn,
    class_ids: &[String],
    role: &str,
) -> QueryResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for chunk in class_ids.chunks(CHUNK) {
        let found: Vec<String> = enrollments::table
            .filter(enrollments::class_id.eq_any(chunk))
            .filter(enrollments::role.eq(role))
            .filter(enrollments::status.eq(ACTIVE))
            .select(enrollments::person_id)
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// An active guardian link with what the source says about it.
#[derive(Debug, Clone, Queryable)]
pub struct GuardianLink {
    pub guardian_id: String,
    pub student_id: String,
    /// Clever contact type (`Emergency` …); empty for OneRoster.
    pub contact_type: String,
    pub is_primary: bool,
}

/// Active guardian links of `students`.
pub fn guardians_of(conn: &mut DbConn, students: &[String]) -> QueryResult<Vec<GuardianLink>> {
    let mut out = Vec::new();
    for chunk in students.chunks(CHUNK) {
        let found: Vec<GuardianLink> = guardian_links::table
            .filter(guardian_links::student_id.eq_any(chunk))
            .filter(guardian_links::status.eq(ACTIVE))
            .select((
                guardian_links::guardian_id,
                guardian_links::student_id,
                guardian_links::contact_type,
                guardian_links::is_primary,
            ))
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// Accounts of active people among `ids`: person id → account id; people
/// without an account are left out.
pub fn accounts_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<(String, Option<String>)> = people::table
            .filter(people::id.eq_any(chunk))
            .filter(people::status.eq(ACTIVE))
            .select((people::id, people::account_id))
            .load(conn)?;
        out.extend(found.into_iter().filter_map(|(p, a)| a.map(|a| (p, a))));
    }
    Ok(out)
}

/// The active classes a teacher (by account) teaches.
pub fn classes_taught(conn: &mut DbConn, account_id: &str) -> QueryResult<BTreeSet<String>> {
    let persons: Vec<String> = people::table
        .filter(people::account_id.eq(account_id))
        .filter(people::status.eq(ACTIVE))
        .select(people::id)
        .load(conn)?;
    let found: Vec<String> = enrollments::table
        .filter(enrollments::person_id.eq_any(persons))
        .filter(enrollments::role.eq("teacher"))
        .filter(enrollments::status.eq(ACTIVE))
        .select(enrollments::class_id)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// Active classes of the given schools.
pub fn classes_of_schools(conn: &mut DbConn, schools: &[String]) -> QueryResult<Vec<String>> {
    classes::table
        .filter(classes::school_id.eq_any(schools.to_vec()))
        .filter(classes::status.eq(ACTIVE))
        .select(classes::id)
        .load(conn)
}
