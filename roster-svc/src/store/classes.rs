//! RO-1 reads of classes and enrollments: one class, filtered pages, and
//! the batches a class view needs (courses, terms, student counts, teachers).

use std::collections::HashMap;

use diesel::{dsl::count_star, prelude::*, sql_types::Bool};
use homeroom_platform::db::DbConn;

use super::{
    query::{Backend, CHUNK, Visible, containing, has_word, lower},
    records::{ClassRow, CourseRow, EnrollmentRow},
    schema::{academic_sessions, classes, courses, enrollments, people},
};

const ACTIVE: &str = "active";

type ClassCond = Box<dyn BoxableExpression<classes::table, Backend, SqlType = Bool>>;
type EnrollmentCond = Box<dyn BoxableExpression<enrollments::table, Backend, SqlType = Bool>>;

/// One class.
pub fn class(conn: &mut DbConn, id: &str) -> QueryResult<Option<ClassRow>> {
    classes::table
        .find(id)
        .select(ClassRow::as_select())
        .first(conn)
        .optional()
}

/// Classes by id, in no order.
pub fn by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<ClassRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            classes::table
                .filter(classes::id.eq_any(chunk))
                .select(ClassRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Ids of every class of these schools, any status.
pub fn ids_at_schools(conn: &mut DbConn, schools: &[String]) -> QueryResult<Vec<String>> {
    if schools.is_empty() {
        return Ok(vec![]);
    }
    classes::table
        .filter(classes::school_id.eq_any(schools))
        .select(classes::id)
        .load(conn)
}

/// Classes these people are actively enrolled in; with `students` only as
/// students, else in any other role.
pub fn classes_of(
    conn: &mut DbConn,
    person_ids: &[String],
    students: bool,
) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in person_ids.chunks(CHUNK) {
        let mut q = enrollments::table
            .filter(enrollments::person_id.eq_any(chunk))
            .filter(enrollments::status.eq(ACTIVE))
            .into_boxed();
        q = if students {
            q.filter(enrollments::role.eq("student"))
        } else {
            q.filter(enrollments::role.ne("student"))
        };
        out.extend(q.select(enrollments::class_id).load::<String>(conn)?);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The classes people with this identity account are actively enrolled in.
pub fn classes_of_account(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<String>> {
    let persons: Vec<String> = people::table
        .filter(people::account_id.eq(account_id))
        .select(people::id)
        .load(conn)?;
    let mut out: Vec<String> = enrollments::table
        .filter(enrollments::person_id.eq_any(persons))
        .filter(enrollments::status.eq(ACTIVE))
        .select(enrollments::class_id)
        .load(conn)?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Which classes a list asks for.
#[derive(Debug, Clone)]
pub struct ClassFilter {
    /// The district.
    pub district_id: String,
    /// What the caller may see.
    pub visible: Visible,
    /// Classes of this school.
    pub school_id: Option<String>,
    /// Only these classes (a person's).
    pub ids: Option<Vec<String>>,
    /// Classes of this session: its source and source id.
    pub session: Option<(String, String)>,
    /// Free text over title and class code.
    pub query: Option<String>,
    /// Stored statuses.
    pub statuses: Vec<&'static str>,
}

/// A page of classes by title and id, after a (title, id) key.
pub fn page(
    conn: &mut DbConn,
    f: &ClassFilter,
    after: Option<&[String; 2]>,
    limit: i64,
) -> QueryResult<Vec<ClassRow>> {
    if f.visible.is_nothing() {
        return Ok(vec![]);
    }
    let mut q = classes::table
        .filter(classes::district_id.eq(f.district_id.clone()))
        .filter(classes::status.eq_any(f.statuses.clone()))
        .into_boxed();
    if let Visible::Some { schools, ids } = &f.visible {
        let at_school: ClassCond = Box::new(classes::school_id.eq_any(schools.clone()));
        q = q.filter(at_school.or(classes::id.eq_any(ids.clone())));
    }
    if let Some(school) = &f.school_id {
        q = q.filter(classes::school_id.eq(school.clone()));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(classes::id.eq_any(ids.clone()));
    }
    if let Some((source, term)) = &f.session {
        q = q
            .filter(classes::source_system.eq(source.clone()))
            .filter(has_word!(classes::term_source_ids, term));
    }
    if let Some(text) = &f.query {
        let pattern = containing(text);
        q = q.filter(
            lower(classes::title)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(classes::class_code.assume_not_null())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    if let Some([title, id]) = after {
        q = q.filter(
            classes::title.gt(title.clone()).or(classes::title
                .eq(title.clone())
                .and(classes::id.gt(id.clone()))),
        );
    }
    q.order((classes::title, classes::id))
        .limit(limit)
        .select(ClassRow::as_select())
        .load(conn)
}

/// Courses of a district by (source, source id).
pub fn courses_of(
    conn: &mut DbConn,
    district_id: &str,
    source_ids: &[String],
) -> QueryResult<HashMap<(String, String), CourseRow>> {
    let mut out = HashMap::new();
    for chunk in source_ids.chunks(CHUNK) {
        let rows: Vec<CourseRow> = courses::table
            .filter(courses::district_id.eq(district_id))
            .filter(courses::source_id.eq_any(chunk))
            .select(CourseRow::as_select())
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .map(|r| ((r.source_system.clone(), r.source_id.clone()), r)),
        );
    }
    Ok(out)
}

/// Academic sessions of a district by (source, source id).
pub fn sessions_of(
    conn: &mut DbConn,
    district_id: &str,
    source_ids: &[String],
) -> QueryResult<HashMap<(String, String), String>> {
    let mut out = HashMap::new();
    for chunk in source_ids.chunks(CHUNK) {
        let rows: Vec<(String, String, String)> = academic_sessions::table
            .filter(academic_sessions::district_id.eq(district_id))
            .filter(academic_sessions::source_id.eq_any(chunk))
            .select((
                academic_sessions::source_system,
                academic_sessions::source_id,
                academic_sessions::id,
            ))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .map(|(system, sid, id)| ((system, sid), id)),
        );
    }
    Ok(out)
}

/// Active student enrollments per class.
pub fn student_counts(
    conn: &mut DbConn,
    class_ids: &[String],
) -> QueryResult<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in class_ids.chunks(CHUNK) {
        let rows: Vec<(String, i64)> = enrollments::table
            .filter(enrollments::class_id.eq_any(chunk))
            .filter(enrollments::role.eq("student"))
            .filter(enrollments::status.eq(ACTIVE))
            .group_by(enrollments::class_id)
            .select((enrollments::class_id, count_star()))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Active teacher enrollments of these classes: (class id, person id, primary).
pub fn teachers_of(
    conn: &mut DbConn,
    class_ids: &[String],
) -> QueryResult<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    for chunk in class_ids.chunks(CHUNK) {
        out.extend(
            enrollments::table
                .filter(enrollments::class_id.eq_any(chunk))
                .filter(enrollments::role.eq("teacher"))
                .filter(enrollments::status.eq(ACTIVE))
                .select((
                    enrollments::class_id,
                    enrollments::person_id,
                    enrollments::is_primary,
                ))
                .load::<(String, String, bool)>(conn)?,
        );
    }
    Ok(out)
}

/// Which enrollments a list may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollmentsVisible {
    /// All of the district's.
    All,
    /// Every enrollment of `classes`; of `limited`, the staff and `students`.
    Some {
        /// Classes seen whole.
        classes: Vec<String>,
        /// Classes seen through some of their students.
        limited: Vec<String>,
        /// Those students.
        students: Vec<String>,
    },
}

/// Which enrollments a list asks for.
#[derive(Debug, Clone)]
pub struct EnrollmentFilter {
    /// The district.
    pub district_id: String,
    /// What the caller may see.
    pub visible: EnrollmentsVisible,
    /// Enrollments in this class.
    pub class_id: Option<String>,
    /// Enrollments of this person.
    pub person_id: Option<String>,
    /// Stored roles; empty for any.
    pub roles: Vec<&'static str>,
    /// Stored statuses.
    pub statuses: Vec<&'static str>,
}

/// A page of enrollments by id, after an id.
pub fn enrollments_page(
    conn: &mut DbConn,
    f: &EnrollmentFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<EnrollmentRow>> {
    let mut q = enrollments::table
        .filter(enrollments::district_id.eq(f.district_id.clone()))
        .filter(enrollments::status.eq_any(f.statuses.clone()))
        .into_boxed();
    if let EnrollmentsVisible::Some {
        classes,
        limited,
        students,
    } = &f.visible
    {
        if classes.is_empty() && limited.is_empty() {
            return Ok(vec![]);
        }
        let whole: EnrollmentCond = Box::new(enrollments::class_id.eq_any(classes.clone()));
        let some = enrollments::class_id.eq_any(limited.clone()).and(
            enrollments::role
                .ne("student")
                .or(enrollments::person_id.eq_any(students.clone())),
        );
        q = q.filter(whole.or(some));
    }
    if let Some(class) = &f.class_id {
        q = q.filter(enrollments::class_id.eq(class.clone()));
    }
    if let Some(person) = &f.person_id {
        q = q.filter(enrollments::person_id.eq(person.clone()));
    }
    if !f.roles.is_empty() {
        q = q.filter(enrollments::role.eq_any(f.roles.clone()));
    }
    if let Some(id) = after {
        q = q.filter(enrollments::id.gt(id.to_string()));
    }
    q.order(enrollments::id)
        .limit(limit)
        .select(EnrollmentRow::as_select())
        .load(conn)
}
