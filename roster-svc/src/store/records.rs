//! RO-1 / RO-3: the rostered records of one source — loading what it supplied
//! before, and writing a plan (bulk inserts, updates, deactivations).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{bulk_insert_each, db::DbConn};

use super::schema::{
    academic_sessions, classes, courses, enrollments, guardian_links, people, schools,
};
use crate::domain::{
    Interner, Map,
    plan::{Change, LinkChange, Op, Plan, State, StoredEnrollments},
    records::{
        ClassData, CourseData, EnrollmentData, Existing, ExistingPerson, LinkData, PersonData,
        PersonKind, SchoolData, SessionData,
    },
};

/// Tables a sync bulk-writes (analysed as they grow).
pub const BULK_TABLES: &[&str] = &[
    "people",
    "enrollments",
    "guardian_links",
    "classes",
    "sync_report_rows",
];

const ACTIVE: &str = "active";
const DEACTIVATED: &str = "deactivated";
const ARCHIVED: &str = "archived";

/// Rows of one source a load reads at a time: a district's 300,000
/// enrollments never sit in one result set (and one `Vec`) beside the map
/// they are loaded into.
const LOAD_PAGE: i64 = 10_000;

/// Sets `$status` (deactivated, or archived for classes) on the rows of
/// `$table` that `$changes` deactivates, 500 ids to a statement; the number
/// of rows written.
macro_rules! deactivate {
    ($conn:expr, $table:ident, $changes:expr, $status:expr, $now:expr) => {{
        let mut written = 0;
        for ids in deactivations($changes).chunks(500) {
            written += diesel::update($table::table.filter($table::id.eq_any(ids)))
                .set(($table::status.eq($status), $table::updated_at.eq($now)))
                .execute($conn)?;
        }
        written
    }};
}

/// How many rows of `$table` the source has (to size the map up front).
macro_rules! count_of {
    ($conn:expr, $table:ident, $district_id:expr, $source:expr) => {{
        let n: i64 = $table::table
            .filter($table::district_id.eq($district_id))
            .filter($table::source_system.eq($source))
            .count()
            .get_result($conn)?;
        usize::try_from(n).unwrap_or(0)
    }};
}

/// Runs `$each` for every `$row` of the source in `$table`, [`LOAD_PAGE`]
/// at a time in source-id order (the unique index's).
macro_rules! for_each_page {
    ($conn:expr, $table:ident, $district_id:expr, $source:expr, |$r:ident: $row:ty| $each:block) => {{
        let mut after = String::new();
        loop {
            let page: Vec<$row> = $table::table
                .filter($table::district_id.eq($district_id))
                .filter($table::source_system.eq($source))
                .filter($table::source_id.gt(&after))
                .order($table::source_id)
                .limit(LOAD_PAGE)
                .select(<$row>::as_select())
                .load($conn)?;
            let last = page.len() < LOAD_PAGE as usize;
            if let Some(r) = page.last() {
                after.clone_from(&r.source_id);
            }
            for $r in page $each
            if last {
                break;
            }
        }
    }};
}

/// Loads everything the source supplied before but its people and
/// enrollments (see [`load_people`], [`load_enrollments`]).
pub fn load_state(conn: &mut DbConn, district_id: &str, source: &str) -> QueryResult<State> {
    let mut state = State::default();
    let rows: Vec<(String, String, String, Option<String>, String)> = schools::table
        .filter(schools::district_id.eq(district_id))
        .select((
            schools::id,
            schools::source_system,
            schools::source_id,
            schools::identifier,
            schools::name,
        ))
        .load(conn)?;
    let statuses: HashMap<String, String> = schools::table
        .filter(schools::district_id.eq(district_id))
        .select((schools::id, schools::status))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    for (id, system, sid, identifier, name) in rows {
        if system == source {
            let active = statuses.get(&id).is_some_and(|s| s == ACTIVE);
            state.schools.insert(
                sid,
                Existing {
                    id,
                    active,
                    data: SchoolData { name, identifier },
                },
            );
        } else {
            state.district_schools.insert(sid, id);
        }
    }

    let sessions: Vec<SessionRow> = academic_sessions::table
        .filter(academic_sessions::district_id.eq(district_id))
        .filter(academic_sessions::source_system.eq(source))
        .select(SessionRow::as_select())
        .load(conn)?;
    for r in sessions {
        state.sessions.insert(
            r.source_id,
            Existing {
                id: r.id,
                active: r.status == ACTIVE,
                data: SessionData {
                    title: r.title,
                    kind: r.kind,
                    start_date: r.start_date,
                    end_date: r.end_date,
                    parent_source_id: r.parent_source_id,
                    school_year: r.school_year,
                },
            },
        );
    }

    let course_rows: Vec<CourseRow> = courses::table
        .filter(courses::district_id.eq(district_id))
        .filter(courses::source_system.eq(source))
        .select(CourseRow::as_select())
        .load(conn)?;
    for r in course_rows {
        state.courses.insert(
            r.source_id,
            Existing {
                id: r.id,
                active: r.status == ACTIVE,
                data: CourseData {
                    title: r.title,
                    course_code: r.course_code,
                    org_source_id: r.org_source_id,
                },
            },
        );
    }

    let class_rows: Vec<ClassRow> = classes::table
        .filter(classes::district_id.eq(district_id))
        .filter(classes::source_system.eq(source))
        .select(ClassRow::as_select())
        .load(conn)?;
    for r in class_rows {
        state.classes.insert(
            r.source_id,
            Existing {
                id: r.id,
                active: r.status == ACTIVE,
                data: ClassData {
                    school_id: r.school_id,
                    title: r.title,
                    class_code: r.class_code,
                    class_type: r.class_type,
                    course_source_id: r.course_source_id,
                    term_source_ids: r.term_source_ids,
                    grades: r.grades,
                },
            },
        );
    }

    let link_rows: Vec<LinkRow> = guardian_links::table
        .filter(guardian_links::district_id.eq(district_id))
        .filter(guardian_links::source_system.eq(source))
        .select(LinkRow::as_select())
        .load(conn)?;
    for r in link_rows {
        state.links.insert(
            (r.guardian_id, r.student_id),
            Existing {
                id: String::new(),
                active: r.status == ACTIVE,
                data: LinkData {
                    relationship: r.relationship,
                    contact_type: r.contact_type,
                    is_primary: r.is_primary,
                },
            },
        );
    }
    Ok(state)
}

/// The people the source supplied before, by source id (loaded on a
/// connection of their own while [`load_state`] loads the rest).
pub fn load_people(
    conn: &mut DbConn,
    district_id: &str,
    source: &str,
) -> QueryResult<Map<String, ExistingPerson>> {
    let mut people = Map::with_capacity_and_hasher(
        count_of!(conn, people, district_id, source),
        Default::default(),
    );
    for_each_page!(conn, people, district_id, source, |r: PersonState| {
        let Some(kind) = PersonKind::parse(&r.kind) else {
            continue;
        };
        people.insert(
            r.source_id,
            ExistingPerson {
                record: Existing {
                    id: r.id,
                    active: r.status == ACTIVE,
                    data: std::sync::Arc::new(PersonData {
                        kind,
                        role: r.role,
                        given_name: r.given_name,
                        middle_name: r.middle_name,
                        family_name: r.family_name,
                        preferred_given_name: r.preferred_given_name,
                        identifier: r.identifier,
                        grades: r.grades,
                        school_id: r.school_id,
                        school_ids: r.school_ids,
                        email: r.email,
                        phone: r.phone,
                        home_phone: r.home_phone,
                        preferred_language: r.preferred_language,
                        sign_in_disabled: r.sign_in_disabled,
                        source_hash: r.source_hash.unwrap_or_default(),
                    }),
                },
                account_id: r.account_id,
            },
        );
    });
    Ok(people)
}

/// The enrollments the source supplied before, by source id.
pub fn load_enrollments(
    conn: &mut DbConn,
    district_id: &str,
    source: &str,
) -> QueryResult<StoredEnrollments> {
    let mut enrollments = Map::with_capacity_and_hasher(
        count_of!(conn, enrollments, district_id, source),
        Default::default(),
    );
    // Class and person ids repeat across enrollments: each is kept once.
    let mut ids = Interner::default();
    for_each_page!(
        conn,
        enrollments,
        district_id,
        source,
        |r: EnrollmentState| {
            enrollments.insert(
                r.source_id,
                Existing {
                    id: r.id,
                    active: r.status == ACTIVE,
                    data: EnrollmentData {
                        class_id: ids.get(&r.class_id),
                        person_id: ids.get(&r.person_id),
                        role: r.role,
                        is_primary: r.is_primary,
                    },
                },
            );
        }
    );
    Ok(enrollments)
}

/// Active students, staff and guardians of a district (every source).
pub fn active_people(conn: &mut DbConn, district_id: &str) -> QueryResult<u64> {
    let n: i64 = people::table
        .filter(people::district_id.eq(district_id))
        .filter(people::status.eq(ACTIVE))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Rows per table: what a dry run must leave as it was.
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(&'static str, i64)>> {
    Ok(vec![
        ("schools", schools::table.count().get_result(conn)?),
        (
            "academic_sessions",
            academic_sessions::table.count().get_result(conn)?,
        ),
        ("courses", courses::table.count().get_result(conn)?),
        ("classes", classes::table.count().get_result(conn)?),
        ("people", people::table.count().get_result(conn)?),
        ("enrollments", enrollments::table.count().get_result(conn)?),
        (
            "guardian_links",
            guardian_links::table.count().get_result(conn)?,
        ),
    ])
}

/// Writes a plan. `accounts` maps person ids to the accounts identity-svc
/// made or confirmed for them.
pub fn apply(
    conn: &mut DbConn,
    district_id: &str,
    source: &str,
    plan: &Plan,
    accounts: &HashMap<String, String>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut written = 0;
    written += bulk_insert_each!(
        conn,
        schools::table,
        creates(&plan.schools).map(|(c, d)| SchoolRow {
            id: c.id.clone(),
            district_id: district_id.into(),
            source_system: source.into(),
            source_id: c.source_id.clone(),
            name: d.name.clone(),
            identifier: d.identifier.clone(),
            status: ACTIVE.into(),
            created_at: now,
            updated_at: now,
        }),
        1_000
    )?;
    for (c, d) in updates(&plan.schools) {
        written += diesel::update(schools::table.find(&c.id))
            .set((
                schools::name.eq(&d.name),
                schools::identifier.eq(&d.identifier),
                schools::status.eq(ACTIVE),
                schools::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    written += deactivate!(conn, schools, &plan.schools, DEACTIVATED, now);

    written += bulk_insert_each!(
        conn,
        academic_sessions::table,
        creates(&plan.sessions).map(|(c, d)| SessionRow {
            id: c.id.clone(),
            district_id: district_id.into(),
            source_system: source.into(),
            source_id: c.source_id.clone(),
            title: d.title.clone(),
            kind: d.kind.clone(),
            start_date: d.start_date.clone(),
            end_date: d.end_date.clone(),
            parent_source_id: d.parent_source_id.clone(),
            school_year: d.school_year.clone(),
            status: ACTIVE.into(),
            created_at: now,
            updated_at: now,
        }),
        500
    )?;
    for (c, d) in updates(&plan.sessions) {
        written += diesel::update(academic_sessions::table.find(&c.id))
            .set((
                academic_sessions::title.eq(&d.title),
                academic_sessions::kind.eq(&d.kind),
                academic_sessions::start_date.eq(&d.start_date),
                academic_sessions::end_date.eq(&d.end_date),
                academic_sessions::parent_source_id.eq(&d.parent_source_id),
                academic_sessions::school_year.eq(&d.school_year),
                academic_sessions::status.eq(ACTIVE),
                academic_sessions::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    written += deactivate!(conn, academic_sessions, &plan.sessions, DEACTIVATED, now);

    written += bulk_insert_each!(
        conn,
        courses::table,
        creates(&plan.courses).map(|(c, d)| CourseRow {
            id: c.id.clone(),
            district_id: district_id.into(),
            source_system: source.into(),
            source_id: c.source_id.clone(),
            title: d.title.clone(),
            course_code: d.course_code.clone(),
            org_source_id: d.org_source_id.clone(),
            status: ACTIVE.into(),
            created_at: now,
            updated_at: now,
        }),
        1_000
    )?;
    for (c, d) in updates(&plan.courses) {
        written += diesel::update(courses::table.find(&c.id))
            .set((
                courses::title.eq(&d.title),
                courses::course_code.eq(&d.course_code),
                courses::org_source_id.eq(&d.org_source_id),
                courses::status.eq(ACTIVE),
                courses::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    written += deactivate!(conn, courses, &plan.courses, DEACTIVATED, now);

    written += bulk_insert_each!(
        conn,
        classes::table,
        creates(&plan.classes).map(|(c, d)| ClassRow {
            id: c.id.clone(),
            district_id: district_id.into(),
            school_id: d.school_id.clone(),
            source_system: source.into(),
            source_id: c.source_id.clone(),
            title: d.title.clone(),
            class_code: d.class_code.clone(),
            class_type: d.class_type.clone(),
            course_source_id: d.course_source_id.clone(),
            term_source_ids: d.term_source_ids.clone(),
            grades: d.grades.clone(),
            status: ACTIVE.into(),
            created_at: now,
            updated_at: now,
        }),
        500
    )?;
    for (c, d) in updates(&plan.classes) {
        written += diesel::update(classes::table.find(&c.id))
            .set((
                classes::school_id.eq(&d.school_id),
                classes::title.eq(&d.title),
                classes::class_code.eq(&d.class_code),
                classes::class_type.eq(&d.class_type),
                classes::course_source_id.eq(&d.course_source_id),
                classes::term_source_ids.eq(&d.term_source_ids),
                classes::grades.eq(&d.grades),
                classes::status.eq(ACTIVE),
                classes::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    written += deactivate!(conn, classes, &plan.classes, ARCHIVED, now);

    written += bulk_insert_each!(
        conn,
        people::table,
        creates(&plan.people).map(|(c, d)| PersonRow {
            id: c.id.clone(),
            district_id: district_id.into(),
            kind: d.kind.as_str().into(),
            role: d.role.clone(),
            source_system: source.into(),
            source_id: c.source_id.clone(),
            account_id: accounts.get(&c.id).cloned(),
            given_name: d.given_name.clone(),
            middle_name: d.middle_name.clone(),
            family_name: d.family_name.clone(),
            preferred_given_name: d.preferred_given_name.clone(),
            identifier: d.identifier.clone(),
            grades: d.grades.clone(),
            school_id: d.school_id.clone(),
            school_ids: d.school_ids.clone(),
            email: d.email.clone(),
            phone: d.phone.clone(),
            home_phone: d.home_phone.clone(),
            preferred_language: d.preferred_language.clone(),
            source_hash: Some(d.source_hash.clone()),
            status: ACTIVE.into(),
            created_at: now,
            updated_at: now,
            sign_in_disabled: d.sign_in_disabled,
        }),
        100
    )?;
    for (c, d) in updates(&plan.people) {
        written += diesel::update(people::table.find(&c.id))
            .set((
                people::kind.eq(d.kind.as_str()),
                people::role.eq(&d.role),
                people::given_name.eq(&d.given_name),
                people::middle_name.eq(&d.middle_name),
                people::family_name.eq(&d.family_name),
                people::preferred_given_name.eq(&d.preferred_given_name),
                people::identifier.eq(&d.identifier),
                people::grades.eq(&d.grades),
                people::school_id.eq(&d.school_id),
                people::school_ids.eq(&d.school_ids),
                people::email.eq(&d.email),
                people::phone.eq(&d.phone),
                people::home_phone.eq(&d.home_phone),
                people::preferred_language.eq(&d.preferred_language),
                people::sign_in_disabled.eq(d.sign_in_disabled),
                people::source_hash.eq(&d.source_hash),
                people::status.eq(ACTIVE),
                people::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    written += deactivate!(conn, people, &plan.people, DEACTIVATED, now);
    // Not counted as written: the people are unchanged.
    for (id, fingerprint) in &plan.fingerprints {
        diesel::update(people::table.find(id))
            .set(people::source_hash.eq(fingerprint))
            .execute(conn)?;
    }
    // Accounts identity made for people created earlier without one.
    let created: std::collections::HashSet<&str> =
        creates(&plan.people).map(|(c, _)| c.id.as_str()).collect();
    for (person, account) in accounts {
        if created.contains(person.as_str()) {
            continue;
        }
        let known = plan
            .people_after
            .get(person)
            .and_then(|p| p.account_id.as_deref());
        if known != Some(account.as_str()) {
            written += diesel::update(people::table.find(person))
                .set(people::account_id.eq(account))
                .execute(conn)?;
        }
    }

    written += bulk_insert_each!(
        conn,
        guardian_links::table,
        plan.links
            .iter()
            .filter(|l| l.op == Op::Create)
            .filter_map(|l| {
                let d = l.data.as_ref()?;
                Some(LinkRow {
                    guardian_id: l.guardian_id.clone(),
                    student_id: l.student_id.clone(),
                    district_id: district_id.into(),
                    source_system: source.into(),
                    relationship: d.relationship.clone(),
                    is_primary: d.is_primary,
                    contact_type: d.contact_type.clone(),
                    status: ACTIVE.into(),
                    created_at: now,
                    updated_at: now,
                })
            }),
        1_000
    )?;
    for l in plan.links.iter().filter(|l| l.op != Op::Create) {
        written += update_link(conn, l, now)?;
    }

    written += bulk_insert_each!(
        conn,
        enrollments::table,
        creates(&plan.enrollments).map(|(c, d)| EnrollmentRow {
            id: c.id.clone(),
            district_id: district_id.into(),
            source_system: source.into(),
            source_id: c.source_id.clone(),
            class_id: d.class_id.to_string(),
            person_id: d.person_id.to_string(),
            role: d.role.clone(),
            is_primary: d.is_primary,
            status: ACTIVE.into(),
            created_at: now,
            updated_at: now,
        }),
        1_000
    )?;
    for (c, d) in updates(&plan.enrollments) {
        written += diesel::update(enrollments::table.find(&c.id))
            .set((
                enrollments::class_id.eq(&*d.class_id),
                enrollments::person_id.eq(&*d.person_id),
                enrollments::role.eq(&d.role),
                enrollments::is_primary.eq(d.is_primary),
                enrollments::status.eq(ACTIVE),
                enrollments::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    written += deactivate!(conn, enrollments, &plan.enrollments, DEACTIVATED, now);
    Ok(written)
}

fn update_link(conn: &mut DbConn, l: &LinkChange, now: NaiveDateTime) -> QueryResult<usize> {
    let target = guardian_links::table.find((&l.guardian_id, &l.student_id));
    match (&l.op, &l.data) {
        (Op::Deactivate, _) | (_, None) => diesel::update(target)
            .set((
                guardian_links::status.eq(DEACTIVATED),
                guardian_links::updated_at.eq(now),
            ))
            .execute(conn),
        (_, Some(d)) => diesel::update(target)
            .set((
                guardian_links::relationship.eq(&d.relationship),
                guardian_links::is_primary.eq(d.is_primary),
                guardian_links::contact_type.eq(&d.contact_type),
                guardian_links::status.eq(ACTIVE),
                guardian_links::updated_at.eq(now),
            ))
            .execute(conn),
    }
}

fn creates<D>(changes: &[Change<D>]) -> impl Iterator<Item = (&Change<D>, &D)> {
    changes
        .iter()
        .filter(|c| c.op == Op::Create)
        .filter_map(|c| c.data.as_ref().map(|d| (c, d)))
}

fn updates<D>(changes: &[Change<D>]) -> impl Iterator<Item = (&Change<D>, &D)> {
    changes
        .iter()
        .filter(|c| c.op == Op::Update)
        .filter_map(|c| c.data.as_ref().map(|d| (c, d)))
}

fn deactivations<D>(changes: &[Change<D>]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.op == Op::Deactivate)
        .map(|c| c.id.clone())
        .collect()
}

/// Student display names and schools, by person id (for guardians' linked students).
pub fn student_labels(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<HashMap<String, (String, Option<String>)>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(String, String, String, Option<String>)> = people::table
            .filter(people::id.eq_any(chunk))
            .select((
                people::id,
                people::given_name,
                people::family_name,
                people::school_id,
            ))
            .load(conn)?;
        for (id, given, family, school) in rows {
            out.insert(id, (format!("{given} {family}").trim().to_string(), school));
        }
    }
    Ok(out)
}

/// School names of a district, by id.
pub fn school_names(conn: &mut DbConn, district_id: &str) -> QueryResult<HashMap<String, String>> {
    Ok(schools::table
        .filter(schools::district_id.eq(district_id))
        .select((schools::id, schools::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// A schools row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schools, treat_none_as_default_value = false)]
pub struct SchoolRow {
    pub id: String,
    pub district_id: String,
    pub source_system: String,
    pub source_id: String,
    pub name: String,
    pub identifier: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An academic_sessions row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = academic_sessions, treat_none_as_default_value = false)]
pub struct SessionRow {
    pub id: String,
    pub district_id: String,
    pub source_system: String,
    pub source_id: String,
    pub title: String,
    pub kind: String,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub parent_source_id: Option<String>,
    pub school_year: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A courses row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = courses, treat_none_as_default_value = false)]
pub struct CourseRow {
    pub id: String,
    pub district_id: String,
    pub source_system: String,
    pub source_id: String,
    pub title: String,
    pub course_code: Option<String>,
    pub org_source_id: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A classes row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = classes, treat_none_as_default_value = false)]
pub struct ClassRow {
    pub id: String,
    pub district_id: String,
    pub school_id: String,
    pub source_system: String,
    pub source_id: String,
    pub title: String,
    pub class_code: Option<String>,
    pub class_type: Option<String>,
    pub course_source_id: Option<String>,
    pub term_source_ids: String,
    pub grades: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A people row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = people, treat_none_as_default_value = false)]
pub struct PersonRow {
    pub id: String,
    pub district_id: String,
    pub kind: String,
    pub role: String,
    pub source_system: String,
    pub source_id: String,
    pub account_id: Option<String>,
    pub given_name: String,
    pub middle_name: Option<String>,
    pub family_name: String,
    pub preferred_given_name: Option<String>,
    pub identifier: Option<String>,
    pub grades: String,
    pub school_id: Option<String>,
    pub school_ids: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub home_phone: Option<String>,
    pub preferred_language: Option<String>,
    pub source_hash: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sign_in_disabled: bool,
}

/// An enrollments row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enrollments, treat_none_as_default_value = false)]
pub struct EnrollmentRow {
    pub id: String,
    pub district_id: String,
    pub source_system: String,
    pub source_id: String,
    pub class_id: String,
    pub person_id: String,
    pub role: String,
    pub is_primary: bool,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns of a person that planning compares (loading all of them for
/// 140,000 people costs seconds).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = people)]
struct PersonState {
    id: String,
    kind: String,
    role: String,
    source_id: String,
    account_id: Option<String>,
    given_name: String,
    middle_name: Option<String>,
    family_name: String,
    preferred_given_name: Option<String>,
    identifier: Option<String>,
    grades: String,
    school_id: Option<String>,
    school_ids: String,
    email: Option<String>,
    phone: Option<String>,
    home_phone: Option<String>,
    preferred_language: Option<String>,
    source_hash: Option<String>,
    status: String,
    sign_in_disabled: bool,
}

/// The columns of an enrollment that planning compares.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enrollments)]
struct EnrollmentState {
    id: String,
    source_id: String,
    class_id: String,
    person_id: String,
    role: String,
    is_primary: bool,
    status: String,
}

/// A guardian link row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = guardian_links, treat_none_as_default_value = false)]
pub struct LinkRow {
    pub guardian_id: String,
    pub student_id: String,
    pub district_id: String,
    pub source_system: String,
    pub relationship: String,
    pub is_primary: bool,
    pub contact_type: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
