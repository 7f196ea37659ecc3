//! RO-1: classes and enrollments. Administrators and user managers see their
//! district's (school-scoped: their schools') classes; a teacher the classes
//! they teach; a guardian or student the classes the student is in — and of
//! those classes' enrollments, the staff and their own students only.

use std::collections::{BTreeSet, HashMap};

use homeroom_platform::{
    auth::Principal,
    db::{Db, DbConn},
};

use super::{
    Kinds,
    reach::{ADMINS, Reach},
};
use crate::{
    domain::{
        error::RosterError,
        reads::{RecordId, Statuses, display_name},
    },
    store::{
        audience,
        classes::{self, ClassFilter, EnrollmentFilter, EnrollmentsVisible},
        duplicates::source_kinds,
        orgs, people,
        records::{ClassRow, CourseRow, EnrollmentRow},
    },
};

const NO_CLASS: &str = "no such class";
const NO_DISTRICT: &str = "no such district";

/// A class with what its view shows besides the row.
#[derive(Debug, Clone)]
pub struct ClassView {
    /// The class.
    pub row: ClassRow,
    /// Its course, when known.
    pub course: Option<CourseRow>,
    /// Its academic sessions (roster ids).
    pub session_ids: Vec<String>,
    /// Active student enrollments.
    pub student_count: u32,
    /// Display names of the active teachers, primary first.
    pub teacher_names: Vec<String>,
}

/// Views of `rows`, in their order, in a fixed number of queries.
pub fn views(
    conn: &mut DbConn,
    district_id: &str,
    rows: Vec<ClassRow>,
) -> Result<Vec<ClassView>, RosterError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let course_sids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.course_source_id.clone())
        .collect();
    let term_sids: Vec<String> = rows
        .iter()
        .flat_map(|r| r.term_source_ids.split(' '))
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    let courses = classes::courses_of(conn, district_id, &course_sids)?;
    let sessions = classes::sessions_of(conn, district_id, &term_sids)?;
    let counts = classes::student_counts(conn, &ids)?;
    let teaching = classes::teachers_of(conn, &ids)?;
    let teacher_ids: Vec<String> = teaching.iter().map(|t| t.1.clone()).collect();
    let names: HashMap<String, String> = people::by_ids(conn, &teacher_ids)?
        .into_iter()
        .map(|p| (p.id.clone(), display_name(&p.given_name, &p.family_name)))
        .collect();
    let mut teachers: HashMap<&str, Vec<(bool, &str)>> = HashMap::new();
    for (class, person, primary) in &teaching {
        if let Some(name) = names.get(person) {
            teachers
                .entry(class.as_str())
                .or_default()
                .push((!primary, name.as_str()));
        }
    }
    let views = rows
        .iter()
        .map(|r| {
            let system = &r.source_system;
            let mut teacher_names = teachers.get(r.id.as_str()).cloned().unwrap_or_default();
            teacher_names.sort_unstable();
            ClassView {
                course: r
                    .course_source_id
                    .as_ref()
                    .and_then(|c| courses.get(&(system.clone(), c.clone())))
                    .cloned(),
                session_ids: r
                    .term_source_ids
                    .split(' ')
                    .filter_map(|t| sessions.get(&(system.clone(), t.to_string())))
                    .cloned()
                    .collect(),
                student_count: counts
                    .get(&r.id)
                    .and_then(|n| u32::try_from(*n).ok())
                    .unwrap_or(0),
                teacher_names: teacher_names.into_iter().map(|(_, n)| n.into()).collect(),
                row: r.clone(),
            }
        })
        .collect();
    Ok(views)
}

/// True when the caller may see the class: by district or school, as one of
/// its teachers, or as one of its students or their guardians.
fn sees(conn: &mut DbConn, reach: &Reach, class: &ClassRow) -> Result<bool, RosterError> {
    if reach.any_school([class.school_id.as_str()]) || reach.taught(conn)?.contains(&class.id) {
        return Ok(true);
    }
    let own = reach.own_students(conn)?;
    if own.is_empty() {
        return Ok(false);
    }
    let enrolled = audience::enrolled(conn, std::slice::from_ref(&class.id), "student")?;
    Ok(enrolled.iter().any(|s| own.contains(s)))
}

/// One class the caller may see.
#[tracing::instrument(skip_all, fields(class_id = %id.as_str()))]
pub async fn get(
    db: &Db,
    caller: &Principal,
    id: RecordId,
) -> Result<(ClassView, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let not_found = || RosterError::NotFound(NO_CLASS.into());
        let class = classes::class(c, id.as_str())?.ok_or_else(not_found)?;
        let reach = Reach::of(&caller, &class.district_id, ADMINS, NO_CLASS)?;
        if !sees(c, &reach, &class)? {
            return Err(not_found());
        }
        let district = class.district_id.clone();
        let view = views(c, &district, vec![class])?
            .pop()
            .ok_or_else(not_found)?;
        Ok((view, source_kinds(c, &district)?))
    })
    .await
}

/// A class list's filters.
#[derive(Debug, Clone)]
pub struct ClassQuery {
    pub district_id: RecordId,
    pub school_id: Option<RecordId>,
    pub staff_id: Option<RecordId>,
    pub student_id: Option<RecordId>,
    pub account_id: Option<String>,
    pub session_id: Option<RecordId>,
    pub query: Option<String>,
    pub statuses: Statuses,
}

/// The classes the person filters of `q` leave, `None` without such filters.
fn person_classes(conn: &mut DbConn, q: &ClassQuery) -> Result<Option<Vec<String>>, RosterError> {
    let mut sets: Vec<Vec<String>> = Vec::new();
    if let Some(staff) = &q.staff_id {
        sets.push(classes::classes_of(conn, &[staff.as_str().into()], false)?);
    }
    if let Some(student) = &q.student_id {
        sets.push(classes::classes_of(conn, &[student.as_str().into()], true)?);
    }
    if let Some(account) = &q.account_id {
        sets.push(classes::classes_of_account(conn, account)?);
    }
    Ok(sets.into_iter().reduce(|a, b| {
        let b: BTreeSet<String> = b.into_iter().collect();
        a.into_iter().filter(|x| b.contains(x)).collect()
    }))
}

/// A page of the classes the caller may see, by title.
#[tracing::instrument(skip_all, fields(district_id = %q.district_id.as_str()))]
pub async fn list(
    db: &Db,
    caller: &Principal,
    q: ClassQuery,
    after: Option<[String; 2]>,
    limit: i64,
) -> Result<(Vec<ClassView>, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let district = q.district_id.as_str().to_string();
        let reach = Reach::of(&caller, &district, ADMINS, NO_DISTRICT)?;
        let visible = if reach.whole {
            reach.visible([])
        } else {
            let own: Vec<String> = reach.own_students(c)?.into_iter().collect();
            let mut ids = reach.taught(c)?;
            ids.extend(classes::classes_of(c, &own, true)?);
            reach.visible(ids)
        };
        let session = match &q.session_id {
            Some(id) => {
                let s = orgs::session(c, id.as_str())?
                    .filter(|s| s.district_id == district)
                    .ok_or_else(|| RosterError::NotFound("no such academic session".into()))?;
                Some((s.source_system, s.source_id))
            }
            None => None,
        };
        let filter = ClassFilter {
            district_id: district.clone(),
            visible,
            school_id: q.school_id.as_ref().map(|s| s.as_str().into()),
            ids: person_classes(c, &q)?,
            session,
            query: q.query.clone(),
            statuses: q.statuses.as_slice().to_vec(),
        };
        let rows = classes::page(c, &filter, after.as_ref(), limit)?;
        Ok((views(c, &district, rows)?, source_kinds(c, &district)?))
    })
    .await
}

/// An enrollment with what its view shows besides the row.
#[derive(Debug, Clone)]
pub struct EnrollmentView {
    pub row: EnrollmentRow,
    /// The class's school.
    pub school_id: String,
    /// The person's display name.
    pub person_name: String,
}

/// An enrollment list's filters.
#[derive(Debug, Clone)]
pub struct EnrollmentQuery {
    pub district_id: RecordId,
    pub class_id: Option<RecordId>,
    /// The student or staff member.
    pub person_id: Option<RecordId>,
    pub roles: Vec<&'static str>,
    pub statuses: Statuses,
}

/// What enrollments the caller may see: whole classes by school and as
/// their teacher; in their students' classes, the staff and those students.
fn enrollments_visible(
    conn: &mut DbConn,
    reach: &Reach,
) -> Result<EnrollmentsVisible, RosterError> {
    if reach.whole {
        return Ok(EnrollmentsVisible::All);
    }
    let mut whole: BTreeSet<String> = classes::ids_at_schools(conn, &reach.schools)?
        .into_iter()
        .collect();
    whole.extend(reach.taught(conn)?);
    let students: Vec<String> = reach.own_students(conn)?.into_iter().collect();
    let limited = classes::classes_of(conn, &students, true)?
        .into_iter()
        .filter(|x| !whole.contains(x))
        .collect();
    Ok(EnrollmentsVisible::Some {
        classes: whole.into_iter().collect(),
        limited,
        students,
    })
}

/// A page of the enrollments the caller may see, by id.
#[tracing::instrument(skip_all, fields(district_id = %q.district_id.as_str()))]
pub async fn enrollments(
    db: &Db,
    caller: &Principal,
    q: EnrollmentQuery,
    after: Option<String>,
    limit: i64,
) -> Result<(Vec<EnrollmentView>, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let district = q.district_id.as_str().to_string();
        let reach = Reach::of(&caller, &district, ADMINS, NO_DISTRICT)?;
        let filter = EnrollmentFilter {
            district_id: district.clone(),
            visible: enrollments_visible(c, &reach)?,
            class_id: q.class_id.as_ref().map(|x| x.as_str().into()),
            person_id: q.person_id.as_ref().map(|x| x.as_str().into()),
            roles: q.roles.clone(),
            statuses: q.statuses.as_slice().to_vec(),
        };
        let rows = classes::enrollments_page(c, &filter, after.as_deref(), limit)?;
        let class_ids: Vec<String> = rows.iter().map(|r| r.class_id.clone()).collect();
        let person_ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
        let schools: HashMap<String, String> = classes::by_ids(c, &class_ids)?
            .into_iter()
            .map(|r| (r.id, r.school_id))
            .collect();
        let names: HashMap<String, String> = people::by_ids(c, &person_ids)?
            .into_iter()
            .map(|p| (p.id.clone(), display_name(&p.given_name, &p.family_name)))
            .collect();
        let views = rows
            .into_iter()
            .map(|row| EnrollmentView {
                school_id: schools.get(&row.class_id).cloned().unwrap_or_default(),
                person_name: names.get(&row.person_id).cloned().unwrap_or_default(),
                row,
            })
            .collect();
        Ok((views, source_kinds(c, &district)?))
    })
    .await
}
