//! MS-1 / MS-2: an audience (students, classes, schools, the district; roles)
//! as identity accounts, each once with every reason, limited to the sender's
//! scope. Students have no accounts: asking for them counts them as people
//! without an account.

use std::collections::{BTreeMap, BTreeSet};

use homeroom_platform::{
    auth::{Principal, Role},
    db::Db,
};

use crate::{domain::error::RosterError, store::audience as store};

/// Who in an audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AudienceRole {
    /// Guardians of the students.
    Guardian,
    /// The students themselves.
    Student,
    /// Teachers of the classes (or schools, district).
    Teacher,
    /// Other staff of the schools (or district).
    Staff,
}

/// Which of a student's guardians an audience reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GuardianContacts {
    /// Every guardian.
    #[default]
    All,
    /// Primary contacts only; a student whose source marks none: every
    /// guardian who is not an emergency-only contact.
    PrimaryOnly,
    /// Every guardian except emergency-only contacts.
    WithoutEmergency,
}

/// An audience to resolve.
#[derive(Debug, Clone, Default)]
pub struct AudienceRequest {
    pub district_id: String,
    pub student_ids: Vec<String>,
    pub class_ids: Vec<String>,
    pub school_ids: Vec<String>,
    pub whole_district: bool,
    /// Empty means guardians only.
    pub roles: Vec<AudienceRole>,
    /// Limit to these schools (empty: no limit).
    pub scope_schools: Vec<String>,
    /// Limit to the classes this teacher account teaches.
    pub scope_teacher: Option<String>,
    /// Which guardians of each student.
    pub guardian_contacts: GuardianContacts,
}

/// Why an account is in the audience.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reason {
    pub role: AudienceRole,
    pub student_id: Option<String>,
    pub class_id: Option<String>,
    pub school_id: Option<String>,
}

/// The resolved audience.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// Account id → reasons, sorted.
    pub members: BTreeMap<String, BTreeSet<Reason>>,
    pub not_found_ids: Vec<String>,
    pub out_of_scope_ids: Vec<String>,
    pub people_without_account: u64,
    /// Students asked for without an account of their own (their guardians
    /// are reached).
    pub students_without_account: u64,
}

/// Resolves an audience for a service caller, or a district's administrators
/// (teachers: limited to their classes).
pub async fn resolve(
    db: &Db,
    caller: &Principal,
    mut req: AudienceRequest,
) -> Result<Audience, RosterError> {
    match caller {
        Principal::Service { .. } => {}
        Principal::Account { account_id, .. } => {
            let d = req.district_id.as_str();
            if caller.has_district_role(d, Role::DistrictAdmin)
                || caller.has_district_role(d, Role::CommunicationsAdmin)
            {
            } else if caller.has_district_role(d, Role::Teacher) || caller.district_id() == Some(d)
            {
                req.scope_teacher = Some(account_id.clone());
            } else {
                return Err(RosterError::PermissionDenied(
                    "only administrators and teachers of the district resolve audiences".into(),
                ));
            }
        }
    }
    if req.roles.is_empty() {
        req.roles.push(AudienceRole::Guardian);
    }
    db.run(move |c| resolve_in(c, &req).map_err(RosterError::from))
        .await
}

fn resolve_in(
    c: &mut homeroom_platform::db::DbConn,
    req: &AudienceRequest,
) -> diesel::QueryResult<Audience> {
    let d = req.district_id.as_str();
    let mut out = Audience::default();
    let given_students = store::students_among(c, d, &req.student_ids)?;
    out.not_found_ids.extend(
        req.student_ids
            .iter()
            .filter(|s| !given_students.contains(*s))
            .cloned(),
    );
    let mut classes = store::classes_among(c, d, &req.class_ids)?;
    out.not_found_ids.extend(
        req.class_ids
            .iter()
            .filter(|s| !classes.contains_key(*s))
            .cloned(),
    );
    // Scope: a teacher's classes, and the sender's schools.
    if let Some(teacher) = &req.scope_teacher {
        let taught = store::classes_taught(c, teacher)?;
        let (keep, drop): (BTreeMap<_, _>, BTreeMap<_, _>) =
            classes.into_iter().partition(|(id, _)| taught.contains(id));
        out.out_of_scope_ids.extend(drop.into_keys());
        classes = keep;
    }
    if !req.scope_schools.is_empty() {
        let (keep, drop): (BTreeMap<_, _>, BTreeMap<_, _>) = classes
            .into_iter()
            .partition(|(_, school)| req.scope_schools.contains(school));
        out.out_of_scope_ids.extend(drop.into_keys());
        classes = keep;
    }
    let class_ids: Vec<String> = classes.keys().cloned().collect();
    // Students: named, of the classes, of the schools, of the district.
    let mut students: BTreeMap<String, Reason> = BTreeMap::new();
    for s in &given_students {
        students.insert(
            s.clone(),
            reason(AudienceRole::Guardian, Some(s), None, None),
        );
    }
    for s in store::enrolled(c, &class_ids, "student")? {
        students
            .entry(s.clone())
            .or_insert_with(|| reason(AudienceRole::Guardian, Some(&s), None, None));
    }
    let schools: Option<Vec<String>> = if req.whole_district {
        None
    } else {
        Some(req.school_ids.clone())
    };
    if req.whole_district || !req.school_ids.is_empty() {
        for (s, _, _) in store::people_of(c, d, "student", schools.as_deref())? {
            students
                .entry(s.clone())
                .or_insert_with(|| reason(AudienceRole::Guardian, Some(&s), None, None));
        }
    }
    // Students outside the scope are dropped.
    if req.scope_teacher.is_some() || !req.scope_schools.is_empty() {
        let mut allowed: BTreeSet<String> = BTreeSet::new();
        if req.scope_teacher.is_some() {
            allowed.extend(store::enrolled(c, &class_ids, "student")?);
        }
        if !req.scope_schools.is_empty() {
            allowed.extend(
                store::people_of(c, d, "student", Some(&req.scope_schools))?
                    .into_iter()
                    .map(|p| p.0),
            );
        }
        let dropped: Vec<String> = students
            .keys()
            .filter(|s| !allowed.contains(*s))
            .cloned()
            .collect();
        for s in dropped {
            students.remove(&s);
            if given_students.contains(&s) {
                out.out_of_scope_ids.push(s);
            }
        }
    }
    let student_ids: Vec<String> = students.keys().cloned().collect();
    let mut people: BTreeMap<String, BTreeSet<Reason>> = BTreeMap::new();
    // Students are always reached through their guardians as well.
    if req.roles.contains(&AudienceRole::Guardian) || req.roles.contains(&AudienceRole::Student) {
        let links = store::guardians_of(c, &student_ids)?;
        for (g, s) in chosen_guardians(links, req.guardian_contacts) {
            people.entry(g).or_default().insert(reason(
                AudienceRole::Guardian,
                Some(&s),
                None,
                None,
            ));
        }
    }
    if req.roles.contains(&AudienceRole::Student) {
        let accounts = store::accounts_of(c, &student_ids)?;
        for s in &student_ids {
            match accounts.get(s) {
                Some(account) => {
                    out.members
                        .entry(account.clone())
                        .or_default()
                        .insert(reason(AudienceRole::Student, Some(s), None, None));
                }
                None => out.students_without_account += 1,
            }
        }
    }
    let staff_scope = (!req.whole_district).then(|| {
        let mut s = req.school_ids.clone();
        s.extend(req.scope_schools.iter().cloned());
        s
    });
    if req.roles.contains(&AudienceRole::Teacher) {
        let mut teaching = class_ids.clone();
        if req.whole_district || !req.school_ids.is_empty() {
            let schools = staff_scope.clone().unwrap_or_default();
            if req.whole_district {
                let all = all_schools(c, d)?;
                teaching.extend(store::classes_of_schools(c, &all)?);
            } else {
                teaching.extend(store::classes_of_schools(c, &schools)?);
            }
        }
        for t in store::enrolled(c, &teaching, "teacher")? {
            people
                .entry(t)
                .or_default()
                .insert(reason(AudienceRole::Teacher, None, None, None));
        }
    }
    if req.roles.contains(&AudienceRole::Staff)
        && (req.whole_district || !req.school_ids.is_empty())
    {
        for (p, role, _) in store::people_of(c, d, "staff", staff_scope.as_deref())? {
            if role != "teacher" {
                people
                    .entry(p)
                    .or_default()
                    .insert(reason(AudienceRole::Staff, None, None, None));
            }
        }
    }
    let ids: Vec<String> = people.keys().cloned().collect();
    let accounts = store::accounts_of(c, &ids)?;
    for (person, reasons) in people {
        match accounts.get(&person) {
            Some(account) => out
                .members
                .entry(account.clone())
                .or_default()
                .extend(reasons),
            None => out.people_without_account += 1,
        }
    }
    Ok(out)
}

/// The links `contacts` keeps: (guardian id, student id).
fn chosen_guardians(
    links: Vec<store::GuardianLink>,
    contacts: GuardianContacts,
) -> Vec<(String, String)> {
    let emergency =
        |l: &store::GuardianLink| l.contact_type.trim().eq_ignore_ascii_case("emergency");
    let with_primary: BTreeSet<&str> = links
        .iter()
        .filter(|l| l.is_primary)
        .map(|l| l.student_id.as_str())
        .collect();
    let keep = |l: &store::GuardianLink| match contacts {
        GuardianContacts::All => true,
        GuardianContacts::WithoutEmergency => !emergency(l),
        GuardianContacts::PrimaryOnly if with_primary.contains(l.student_id.as_str()) => {
            l.is_primary
        }
        GuardianContacts::PrimaryOnly => !emergency(l),
    };
    links
        .iter()
        .filter(|l| keep(l))
        .map(|l| (l.guardian_id.clone(), l.student_id.clone()))
        .collect()
}

fn all_schools(c: &mut homeroom_platform::db::DbConn, d: &str) -> diesel::QueryResult<Vec<String>> {
    use crate::store::schema::schools;
    use diesel::prelude::*;
    schools::table
        .filter(schools::district_id.eq(d))
        .select(schools::id)
        .load(c)
}

fn reason(
    role: AudienceRole,
    student: Option<&String>,
    class: Option<&String>,
    school: Option<&String>,
) -> Reason {
    Reason {
        role,
        student_id: student.cloned(),
        class_id: class.cloned(),
        school_id: school.cloned(),
    }
}
