//! RO-1 / RO-8 / ID-11: students — a profile (school, guardians with their
//! links, the classes the caller may see), a student's guardians, and
//! filtered pages. Administrators and user managers see their district
//! (school-scoped: their schools' students); a teacher sees the students of
//! the classes they teach, and of a student's classes only those; guardians
//! and students see their own.

use std::collections::{BTreeSet, HashMap};

use homeroom_platform::{
    auth::Principal,
    db::{Db, DbConn},
};

use super::{
    Kinds,
    classes::{self as class_ops, ClassView},
    reach::{ADMINS, Reach, schools_of},
};
use crate::{
    domain::{
        error::RosterError,
        reads::{RecordId, Statuses},
    },
    store::{
        audience, classes,
        duplicates::source_kinds,
        orgs,
        people::{self, NameKey, PeopleFilter},
        records::{LinkRow, PersonRow, SchoolRow},
    },
};

const ACTIVE: &str = "active";
const NO_STUDENT: &str = "no such student";

/// What a student profile shows.
#[derive(Debug, Clone)]
pub struct StudentView {
    pub student: PersonRow,
    /// The primary school.
    pub school: Option<SchoolRow>,
    /// Active guardians with their links, primary first.
    pub guardians: Vec<(PersonRow, LinkRow)>,
    /// The classes the caller may see, by title.
    pub classes: Vec<ClassView>,
    pub kinds: Kinds,
}

/// Which of a visible student's classes the caller sees.
enum Seen {
    All,
    /// A teacher: the classes they teach.
    Taught(BTreeSet<String>),
}

/// The student, when the caller may see them.
fn student_seen(
    conn: &mut DbConn,
    caller: &Principal,
    id: &RecordId,
) -> Result<(PersonRow, Seen), RosterError> {
    let not_found = || RosterError::NotFound(NO_STUDENT.into());
    let student = people::person(conn, id.as_str(), "student")?.ok_or_else(not_found)?;
    let reach = Reach::of(caller, &student.district_id, ADMINS, NO_STUDENT)?;
    if reach.any_school(schools_of(&student))
        || reach.is_account(student.account_id.as_deref())
        || reach.own_students(conn)?.contains(&student.id)
    {
        return Ok((student, Seen::All));
    }
    let taught = reach.taught(conn)?;
    if taught.is_empty() {
        return Err(not_found());
    }
    let enrolled = classes::classes_of(conn, std::slice::from_ref(&student.id), true)?;
    if enrolled.iter().any(|c| taught.contains(c)) {
        Ok((student, Seen::Taught(taught)))
    } else {
        Err(not_found())
    }
}

/// A student's guardians with their links: primary first, then active, then
/// by name. Deactivated links and guardians only when `inactive_too`.
fn guardians_of(
    conn: &mut DbConn,
    student_id: &str,
    inactive_too: bool,
) -> Result<Vec<(PersonRow, LinkRow)>, RosterError> {
    let links = people::links_of_students(conn, &[student_id.to_string()], inactive_too)?;
    let ids: Vec<String> = links.iter().map(|l| l.guardian_id.clone()).collect();
    let guardians: HashMap<String, PersonRow> = people::by_ids(conn, &ids)?
        .into_iter()
        .filter(|g| inactive_too || g.status == ACTIVE)
        .map(|g| (g.id.clone(), g))
        .collect();
    let mut out: Vec<(PersonRow, LinkRow)> = links
        .into_iter()
        .filter_map(|l| Some((guardians.get(&l.guardian_id)?.clone(), l)))
        .collect();
    out.sort_by(|(ga, la), (gb, lb)| {
        (
            !la.is_primary,
            la.status != ACTIVE,
            &ga.family_name,
            &ga.given_name,
            &ga.id,
        )
            .cmp(&(
                !lb.is_primary,
                lb.status != ACTIVE,
                &gb.family_name,
                &gb.given_name,
                &gb.id,
            ))
    });
    Ok(out)
}

/// ID-11: a student profile.
#[tracing::instrument(skip_all, fields(student_id = %id.as_str()))]
pub async fn profile(
    db: &Db,
    caller: &Principal,
    id: RecordId,
) -> Result<StudentView, RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let (student, seen) = student_seen(c, &caller, &id)?;
        let guardians = guardians_of(c, &student.id, false)?;
        let school = match &student.school_id {
            Some(s) => orgs::school(c, s)?,
            None => None,
        };
        let mut class_ids = classes::classes_of(c, std::slice::from_ref(&student.id), true)?;
        if let Seen::Taught(taught) = &seen {
            class_ids.retain(|x| taught.contains(x));
        }
        let mut rows: Vec<_> = classes::by_ids(c, &class_ids)?
            .into_iter()
            .filter(|r| r.status == ACTIVE)
            .collect();
        rows.sort_by(|a, b| (&a.title, &a.id).cmp(&(&b.title, &b.id)));
        let district = student.district_id.clone();
        Ok(StudentView {
            classes: class_ops::views(c, &district, rows)?,
            kinds: source_kinds(c, &district)?,
            student,
            school,
            guardians,
        })
    })
    .await
}

/// RO-8: a student's guardians with their links.
#[tracing::instrument(skip_all, fields(student_id = %id.as_str()))]
pub async fn guardians(
    db: &Db,
    caller: &Principal,
    id: RecordId,
    inactive_too: bool,
) -> Result<(Vec<(PersonRow, LinkRow)>, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let (student, _) = student_seen(c, &caller, &id)?;
        let guardians = guardians_of(c, &student.id, inactive_too)?;
        Ok((guardians, source_kinds(c, &student.district_id)?))
    })
    .await
}

/// A student list's filters.
#[derive(Debug, Clone)]
pub struct StudentQuery {
    pub district_id: RecordId,
    pub school_id: Option<RecordId>,
    pub class_id: Option<RecordId>,
    pub grade: Option<String>,
    pub codes: Vec<String>,
    pub query: Option<String>,
    pub statuses: Statuses,
}

/// One page of students and the total matching.
#[derive(Debug, Clone)]
pub struct StudentPage {
    pub students: Vec<PersonRow>,
    pub total: i64,
    pub kinds: Kinds,
}

/// RO-1: a page of the students the caller may see, by name.
#[tracing::instrument(skip_all, fields(district_id = %q.district_id.as_str()))]
pub async fn list(
    db: &Db,
    caller: &Principal,
    q: StudentQuery,
    after: Option<NameKey>,
    limit: i64,
) -> Result<StudentPage, RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let district = q.district_id.as_str().to_string();
        let reach = Reach::of(&caller, &district, ADMINS, "no such district")?;
        let visible = if reach.whole {
            reach.visible([])
        } else {
            let taught: Vec<String> = reach.taught(c)?.into_iter().collect();
            if reach.schools.is_empty() && taught.is_empty() && !reach.teacher {
                return Err(RosterError::PermissionDenied(
                    "only administrators, user managers and teachers of the district may list \
                     its students"
                        .into(),
                ));
            }
            reach.visible(audience::enrolled(c, &taught, "student")?)
        };
        let ids = match &q.class_id {
            Some(class) => Some(
                audience::enrolled(c, &[class.as_str().to_string()], "student")?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let filter = PeopleFilter {
            district_id: district.clone(),
            kind: "student",
            visible,
            school_id: q.school_id.as_ref().map(|s| s.as_str().into()),
            ids,
            grade: q.grade.clone(),
            codes: q.codes.clone(),
            roles: None,
            query: q.query.clone(),
            statuses: q.statuses.as_slice().to_vec(),
        };
        Ok(StudentPage {
            students: people::page(c, &filter, after.as_ref(), limit)?,
            total: people::count(c, &filter)?,
            kinds: source_kinds(c, &district)?,
        })
    })
    .await
}
