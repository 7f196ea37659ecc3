//! RO-8: what the duplicate-guardian report reads — the names of a district's
//! guardians, then only the guardians whose name recurs with their active
//! links and students, and the kinds of its sources — in single-table queries
//! of only the columns it needs.

use std::collections::HashMap;

use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::{guardian_links, people, sync_sources};

const ACTIVE: &str = "active";

/// The columns of a guardian the report compares or shows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = people)]
pub struct GuardianRow {
    /// Roster person id.
    pub id: String,
    /// identity account, once created.
    pub account_id: Option<String>,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Email.
    pub email: Option<String>,
    /// Mobile phone.
    pub phone: Option<String>,
    /// The sync source that supplies it.
    pub source_system: String,
    /// Its id in that source (the SIS sourcedId).
    pub source_id: String,
}

/// The columns of a student the report shows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = people)]
pub struct StudentRow {
    /// Roster person id.
    pub id: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Student number.
    pub identifier: Option<String>,
    /// Its id in its source.
    pub source_id: String,
    /// Primary school.
    pub school_id: Option<String>,
    /// Every school, space-separated.
    pub school_ids: String,
}

/// Ids per `IN (…)` list: well under either backend's bound-parameter limit.
const CHUNK: usize = 500;

/// Every guardian of the district (any status) as (id, given name, family
/// name): one scan of the `people_name` index, which holds these columns,
/// to find the few names worth reading in full.
pub fn guardian_names(
    conn: &mut DbConn,
    district_id: &str,
) -> QueryResult<Vec<(String, String, String)>> {
    people::table
        .filter(people::district_id.eq(district_id))
        .filter(people::kind.eq("guardian"))
        .select((people::id, people::given_name, people::family_name))
        .load(conn)
}

/// Those of `ids` that are active guardians.
pub fn active_guardians(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<GuardianRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        rows.extend(
            people::table
                .filter(people::id.eq_any(chunk))
                .filter(people::kind.eq("guardian"))
                .filter(people::status.eq(ACTIVE))
                .select(GuardianRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// The active links of these guardians: (guardian id, student id). The student
/// may be deactivated; [`active_students`] tells.
pub fn active_links(
    conn: &mut DbConn,
    guardian_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let mut links = Vec::new();
    for chunk in guardian_ids.chunks(CHUNK) {
        links.extend(
            guardian_links::table
                .filter(guardian_links::guardian_id.eq_any(chunk))
                .filter(guardian_links::status.eq(ACTIVE))
                .select((guardian_links::guardian_id, guardian_links::student_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(links)
}

/// Those of `ids` that are active students.
pub fn active_students(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<StudentRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        rows.extend(
            people::table
                .filter(people::id.eq_any(chunk))
                .filter(people::kind.eq("student"))
                .filter(people::status.eq(ACTIVE))
                .select(StudentRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// Kinds of the district's sources (deleted ones too: their records remain),
/// by source id.
pub fn source_kinds(conn: &mut DbConn, district_id: &str) -> QueryResult<HashMap<String, String>> {
    Ok(sync_sources::table
        .filter(sync_sources::district_id.eq(district_id))
        .select((sync_sources::id, sync_sources::kind))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
