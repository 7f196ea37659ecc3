//! RO-1 reads of schools and academic sessions.

use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::{
    query::{CHUNK, containing, lower},
    records::{SchoolRow, SessionRow},
    schema::{academic_sessions, schools},
};

/// One school.
pub fn school(conn: &mut DbConn, id: &str) -> QueryResult<Option<SchoolRow>> {
    schools::table
        .find(id)
        .select(SchoolRow::as_select())
        .first(conn)
        .optional()
}

/// Schools by id, in no order.
pub fn schools_by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<SchoolRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            schools::table
                .filter(schools::id.eq_any(chunk))
                .select(SchoolRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Which schools a list asks for.
#[derive(Debug, Clone)]
pub struct SchoolFilter {
    /// The district.
    pub district_id: String,
    /// Only these schools (the caller's), or all.
    pub only: Option<Vec<String>>,
    /// Free text over name and school number.
    pub query: Option<String>,
    /// Stored statuses.
    pub statuses: Vec<&'static str>,
}

/// A page of schools by name and id, after a (name, id) key.
pub fn schools_page(
    conn: &mut DbConn,
    f: &SchoolFilter,
    after: Option<&[String; 2]>,
    limit: i64,
) -> QueryResult<Vec<SchoolRow>> {
    let mut q = schools::table
        .filter(schools::district_id.eq(f.district_id.clone()))
        .filter(schools::status.eq_any(f.statuses.clone()))
        .into_boxed();
    if let Some(only) = &f.only {
        q = q.filter(schools::id.eq_any(only.clone()));
    }
    if let Some(text) = &f.query {
        let pattern = containing(text);
        q = q.filter(
            lower(schools::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(schools::identifier.assume_not_null())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    if let Some([name, id]) = after {
        q = q.filter(
            schools::name.gt(name.clone()).or(schools::name
                .eq(name.clone())
                .and(schools::id.gt(id.clone()))),
        );
    }
    q.order((schools::name, schools::id))
        .limit(limit)
        .select(SchoolRow::as_select())
        .load(conn)
}

/// One academic session.
pub fn session(conn: &mut DbConn, id: &str) -> QueryResult<Option<SessionRow>> {
    academic_sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Every academic session of a district, any status (a district has tens
/// of them: the caller filters, sorts and pages).
pub fn sessions(conn: &mut DbConn, district_id: &str) -> QueryResult<Vec<SessionRow>> {
    academic_sessions::table
        .filter(academic_sessions::district_id.eq(district_id))
        .select(SessionRow::as_select())
        .load(conn)
}
