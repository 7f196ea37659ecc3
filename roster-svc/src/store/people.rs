//! RO-1 / RO-8 reads of students, staff and guardians and their links: one
//! record, filtered pages by name, and the batches a view needs.

use std::collections::BTreeSet;

use diesel::{prelude::*, sql_types::Bool};
use homeroom_platform::db::DbConn;

use super::{
    query::{Backend, CHUNK, Visible, containing, has_word, lower},
    records::{LinkRow, PersonRow},
    schema::{guardian_links, people},
};

const ACTIVE: &str = "active";

type Cond = Box<dyn BoxableExpression<people::table, Backend, SqlType = Bool>>;

/// One person of a kind (`student`, `staff`, `guardian`).
pub fn person(conn: &mut DbConn, id: &str, kind: &str) -> QueryResult<Option<PersonRow>> {
    people::table
        .find(id)
        .filter(people::kind.eq(kind))
        .select(PersonRow::as_select())
        .first(conn)
        .optional()
}

/// The records of a kind that carry an identity account (every status).
pub fn by_account(conn: &mut DbConn, account_id: &str, kind: &str) -> QueryResult<Vec<PersonRow>> {
    people::table
        .filter(people::account_id.eq(account_id))
        .filter(people::kind.eq(kind))
        .select(PersonRow::as_select())
        .load(conn)
}

/// People by id, any kind and status, in no order.
pub fn by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<PersonRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            people::table
                .filter(people::id.eq_any(chunk))
                .select(PersonRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Links of these students; deactivated ones too when `inactive_too`.
pub fn links_of_students(
    conn: &mut DbConn,
    student_ids: &[String],
    inactive_too: bool,
) -> QueryResult<Vec<LinkRow>> {
    let mut out = Vec::new();
    for chunk in student_ids.chunks(CHUNK) {
        let mut q = guardian_links::table
            .filter(guardian_links::student_id.eq_any(chunk))
            .into_boxed();
        if !inactive_too {
            q = q.filter(guardian_links::status.eq(ACTIVE));
        }
        out.extend(q.select(LinkRow::as_select()).load(conn)?);
    }
    Ok(out)
}

/// Links of these guardian records; deactivated ones too when `inactive_too`.
pub fn links_of_guardians(
    conn: &mut DbConn,
    guardian_ids: &[String],
    inactive_too: bool,
) -> QueryResult<Vec<LinkRow>> {
    let mut out = Vec::new();
    for chunk in guardian_ids.chunks(CHUNK) {
        let mut q = guardian_links::table
            .filter(guardian_links::guardian_id.eq_any(chunk))
            .into_boxed();
        if !inactive_too {
            q = q.filter(guardian_links::status.eq(ACTIVE));
        }
        out.extend(q.select(LinkRow::as_select()).load(conn)?);
    }
    Ok(out)
}

/// The students an account is (an active record) or guards (an active
/// guardian record with an active link).
pub fn own_students(conn: &mut DbConn, account_id: &str) -> QueryResult<BTreeSet<String>> {
    let records: Vec<(String, String)> = people::table
        .filter(people::account_id.eq(account_id))
        .filter(people::kind.eq_any(["student", "guardian"]))
        .filter(people::status.eq(ACTIVE))
        .select((people::id, people::kind))
        .load(conn)?;
    let (guardians, students): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|(_, kind)| kind == "guardian");
    let mut out: BTreeSet<String> = students.into_iter().map(|(id, _)| id).collect();
    let guardians: Vec<String> = guardians.into_iter().map(|(id, _)| id).collect();
    out.extend(
        links_of_guardians(conn, &guardians, false)?
            .into_iter()
            .map(|l| l.student_id),
    );
    Ok(out)
}

/// Which people a list asks for.
#[derive(Debug, Clone)]
pub struct PeopleFilter {
    /// The district.
    pub district_id: String,
    /// `student` or `staff`.
    pub kind: &'static str,
    /// What the caller may see.
    pub visible: Visible,
    /// People of this school (primary or any).
    pub school_id: Option<String>,
    /// Only these people (e.g. a class's students).
    pub ids: Option<Vec<String>>,
    /// Students of this grade.
    pub grade: Option<String>,
    /// Students with these codes.
    pub codes: Vec<String>,
    /// Staff with these roles, and with any role outside `named` when set.
    pub roles: Option<(Vec<&'static str>, Option<Vec<&'static str>>)>,
    /// Free text: names, and the student code (students) or email (staff).
    pub query: Option<String>,
    /// Stored statuses.
    pub statuses: Vec<&'static str>,
}

/// A page key: family name, given name, id.
pub type NameKey = [String; 3];

fn at_school(school: &str) -> Cond {
    Box::new(
        people::school_id
            .assume_not_null()
            .eq(school.to_string())
            .or(has_word!(people::school_ids, school)),
    )
}

fn any_of(conds: Vec<Cond>) -> Option<Cond> {
    conds.into_iter().reduce(|a, b| Box::new(a.or(b)))
}

fn filtered(f: &PeopleFilter, sqlite: bool) -> people::BoxedQuery<'static, Backend> {
    // A search on SQLite starts from the few people its index finds (the
    // district's term kept off the index with `+`), then checks them with
    // the LIKE below; words shorter than a trigram have no index.
    let indexed: Vec<String> = match &f.query {
        Some(text) if sqlite => text
            .split_whitespace()
            .filter(|w| w.chars().count() >= 3)
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect(),
        _ => Vec::new(),
    };
    let mut q = if indexed.is_empty() {
        people::table
            .filter(people::district_id.eq(f.district_id.clone()))
            .into_boxed()
    } else {
        people::table
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("+people.district_id = ")
                    .bind::<diesel::sql_types::Text, _>(f.district_id.clone()),
            )
            .into_boxed()
    };
    for phrase in indexed {
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "people.rowid IN (SELECT rowid FROM people_search WHERE people_search MATCH ",
            )
            .bind::<diesel::sql_types::Text, _>(phrase)
            .sql(")"),
        );
    }
    let mut q = q
        .filter(people::kind.eq(f.kind))
        .filter(people::status.eq_any(f.statuses.clone()));
    if let Visible::Some { schools, ids } = &f.visible {
        let mut conds: Vec<Cond> = schools.iter().map(|s| at_school(s)).collect();
        if !ids.is_empty() {
            conds.push(Box::new(people::id.eq_any(ids.clone())));
        }
        if let Some(cond) = any_of(conds) {
            q = q.filter(cond);
        }
    }
    if let Some(school) = &f.school_id {
        q = q.filter(at_school(school));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(people::id.eq_any(ids.clone()));
    }
    if let Some(grade) = &f.grade {
        q = q.filter(has_word!(people::grades, grade));
    }
    if !f.codes.is_empty() {
        q = q.filter(people::identifier.eq_any(f.codes.clone()));
    }
    if let Some((named, others)) = &f.roles {
        let mut conds: Vec<Cond> = vec![Box::new(people::role.eq_any(named.clone()))];
        if let Some(all) = others {
            conds.push(Box::new(people::role.ne_all(all.clone())));
        }
        if let Some(cond) = any_of(conds) {
            q = q.filter(cond);
        }
    }
    if let Some(text) = &f.query {
        let pattern = containing(text);
        let name = lower(people::given_name.concat(" ").concat(people::family_name))
            .like(pattern.clone())
            .escape('\\');
        let other: Cond = if f.kind == "student" {
            Box::new(
                lower(people::identifier.assume_not_null())
                    .like(pattern)
                    .escape('\\'),
            )
        } else {
            Box::new(
                lower(people::email.assume_not_null())
                    .like(pattern)
                    .escape('\\'),
            )
        };
        q = q.filter(name.or(other));
    }
    q
}

/// A page of people by family name, given name and id, after a key.
pub fn page(
    conn: &mut DbConn,
    f: &PeopleFilter,
    after: Option<&NameKey>,
    limit: i64,
) -> QueryResult<Vec<PersonRow>> {
    if f.visible.is_nothing() {
        return Ok(vec![]);
    }
    let mut q = filtered(f, conn.backend() == homeroom_platform::db::Backend::Sqlite);
    if let Some([family, given, id]) = after {
        q = q.filter(
            people::family_name
                .gt(family.clone())
                .or(people::family_name
                    .eq(family.clone())
                    .and(people::given_name.gt(given.clone())))
                .or(people::family_name
                    .eq(family.clone())
                    .and(people::given_name.eq(given.clone()))
                    .and(people::id.gt(id.clone()))),
        );
    }
    q.order((people::family_name, people::given_name, people::id))
        .limit(limit)
        .select(PersonRow::as_select())
        .load(conn)
}

/// How many people match.
pub fn count(conn: &mut DbConn, f: &PeopleFilter) -> QueryResult<i64> {
    if f.visible.is_nothing() {
        return Ok(0);
    }
    filtered(f, conn.backend() == homeroom_platform::db::Backend::Sqlite)
        .count()
        .get_result(conn)
}
