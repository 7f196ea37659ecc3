//! RO-8: what the duplicate-guardian report reads — a district's active
//! guardians, active links and active students, and the kinds of its sources —
//! in four single-table queries of only the columns it needs.

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

/// The district's active guardians.
pub fn active_guardians(conn: &mut DbConn, district_id: &str) -> QueryResult<Vec<GuardianRow>> {
    people::table
        .filter(people::district_id.eq(district_id))
        .filter(people::kind.eq("guardian"))
        .filter(people::status.eq(ACTIVE))
        .select(GuardianRow::as_select())
        .load(conn)
}

/// The district's active guardian links: (guardian id, student id). The
/// student may be deactivated; [`active_students`] tells. (A join to `people`
/// here is planned badly on freshly loaded, unanalysed tables.)
pub fn active_links(conn: &mut DbConn, district_id: &str) -> QueryResult<Vec<(String, String)>> {
    guardian_links::table
        .filter(guardian_links::district_id.eq(district_id))
        .filter(guardian_links::status.eq(ACTIVE))
        .select((guardian_links::guardian_id, guardian_links::student_id))
        .load(conn)
}

/// The district's active students.
pub fn active_students(conn: &mut DbConn, district_id: &str) -> QueryResult<Vec<StudentRow>> {
    people::table
        .filter(people::district_id.eq(district_id))
        .filter(people::kind.eq("student"))
        .filter(people::status.eq(ACTIVE))
        .select(StudentRow::as_select())
        .load(conn)
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
