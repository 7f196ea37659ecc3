//! RO-8 / ID-11: guardians and their students. A guardian is their account:
//! every guardian record carrying it (a sync's and an upload's) counts, by
//! guardian id or by account id. The guardian sees all their students;
//! district administrators and user managers too; school-scoped ones the
//! students of their schools, teachers the students of their classes.

use std::collections::{BTreeSet, HashMap};

use homeroom_platform::{
    auth::Principal,
    db::{Db, DbConn},
};

use super::{
    Kinds,
    reach::{ADMINS, Reach, schools_of},
};
use crate::{
    domain::{error::RosterError, reads::PersonKey},
    store::{
        audience,
        duplicates::source_kinds,
        orgs, people,
        records::{LinkRow, PersonRow, SchoolRow},
    },
};

const ACTIVE: &str = "active";
const NO_GUARDIAN: &str = "no such guardian";

/// The guardian records a key names: a record and every record sharing its
/// account, or every record of an account (maybe none).
fn records_of(conn: &mut DbConn, key: &PersonKey) -> Result<Vec<PersonRow>, RosterError> {
    match key {
        PersonKey::Account(account) => Ok(people::by_account(conn, account, "guardian")?),
        PersonKey::Id(id) => {
            let record = people::person(conn, id.as_str(), "guardian")?
                .ok_or_else(|| RosterError::NotFound(NO_GUARDIAN.into()))?;
            match &record.account_id {
                Some(account) => Ok(people::by_account(conn, account, "guardian")?),
                None => Ok(vec![record]),
            }
        }
    }
}

/// True when the caller is the guardian the key names.
fn is_self(reach: &Reach, key: &PersonKey, records: &[PersonRow]) -> bool {
    match key {
        PersonKey::Account(account) => reach.is_account(Some(account)),
        PersonKey::Id(_) => records
            .iter()
            .any(|r| reach.is_account(r.account_id.as_deref())),
    }
}

/// Which students of a guardian the caller sees, `None` for all of them.
/// NOT_FOUND for callers who see no guardian this way.
fn student_scope(
    conn: &mut DbConn,
    reach: &Reach,
    own: bool,
) -> Result<Option<(Reach, BTreeSet<String>)>, RosterError> {
    if own || reach.whole {
        return Ok(None);
    }
    let taught: Vec<String> = reach.taught(conn)?.into_iter().collect();
    if reach.schools.is_empty() && taught.is_empty() && !reach.teacher {
        return Err(RosterError::NotFound(NO_GUARDIAN.into()));
    }
    Ok(Some((
        reach.clone(),
        audience::enrolled(conn, &taught, "student")?,
    )))
}

/// The students a guardian's links lead to, each once: the best link wins
/// (active, primary, most recently changed).
fn linked(
    conn: &mut DbConn,
    records: &[PersonRow],
    inactive_too: bool,
) -> Result<Vec<(PersonRow, LinkRow)>, RosterError> {
    let ids: Vec<String> = records
        .iter()
        .filter(|r| inactive_too || r.status == ACTIVE)
        .map(|r| r.id.clone())
        .collect();
    let mut links = people::links_of_guardians(conn, &ids, inactive_too)?;
    links.sort_by(|a, b| {
        (
            a.status != ACTIVE,
            !a.is_primary,
            std::cmp::Reverse(a.updated_at),
        )
            .cmp(&(
                b.status != ACTIVE,
                !b.is_primary,
                std::cmp::Reverse(b.updated_at),
            ))
    });
    let student_ids: Vec<String> = links.iter().map(|l| l.student_id.clone()).collect();
    let students: HashMap<String, PersonRow> = people::by_ids(conn, &student_ids)?
        .into_iter()
        .filter(|s| inactive_too || s.status == ACTIVE)
        .map(|s| (s.id.clone(), s))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out: Vec<(PersonRow, LinkRow)> = links
        .into_iter()
        .filter(|l| seen.insert(l.student_id.clone()))
        .filter_map(|l| Some((students.get(&l.student_id)?.clone(), l)))
        .collect();
    out.sort_by(|(a, _), (b, _)| {
        (&a.family_name, &a.given_name, &a.id).cmp(&(&b.family_name, &b.given_name, &b.id))
    });
    Ok(out)
}

/// A guardian's students with their links and schools.
#[derive(Debug, Clone, Default)]
pub struct GuardianStudents {
    pub students: Vec<(PersonRow, LinkRow, Option<SchoolRow>)>,
    pub kinds: Kinds,
}

/// RO-8 / ID-11: the students of a guardian the caller may see.
#[tracing::instrument(skip_all)]
pub async fn students(
    db: &Db,
    caller: &Principal,
    key: PersonKey,
    inactive_too: bool,
) -> Result<GuardianStudents, RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let records = records_of(c, &key)?;
        let district = match (records.first(), caller.district_id()) {
            (Some(r), _) => r.district_id.clone(),
            (None, Some(d)) => d.to_string(),
            // A service asking about an account without guardian records.
            (None, None) => return Ok(GuardianStudents::default()),
        };
        let reach = Reach::of(&caller, &district, ADMINS, NO_GUARDIAN)?;
        let scope = student_scope(c, &reach, is_self(&reach, &key, &records))?;
        let mut students = linked(c, &records, inactive_too)?;
        if let Some((reach, taught)) = &scope {
            students.retain(|(s, _)| reach.any_school(schools_of(s)) || taught.contains(&s.id));
        }
        let school_ids: Vec<String> = students
            .iter()
            .filter_map(|(s, _)| s.school_id.clone())
            .collect();
        let schools: HashMap<String, SchoolRow> = orgs::schools_by_ids(c, &school_ids)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        Ok(GuardianStudents {
            students: students
                .into_iter()
                .map(|(s, l)| {
                    let school = s.school_id.as_ref().and_then(|x| schools.get(x)).cloned();
                    (s, l, school)
                })
                .collect(),
            kinds: source_kinds(c, &district)?,
        })
    })
    .await
}

/// A guardian: the record asked for (by account, the active one changed
/// last) and the sources of every record of the account.
#[derive(Debug, Clone)]
pub struct GuardianView {
    pub guardian: PersonRow,
    /// (source, source id) of each record, the shown one first.
    pub sources: Vec<(String, String)>,
    pub kinds: Kinds,
}

/// RO-1: one guardian the caller may see.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, caller: &Principal, key: PersonKey) -> Result<GuardianView, RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let not_found = || RosterError::NotFound(NO_GUARDIAN.into());
        let mut records = records_of(c, &key)?;
        records.sort_by(|a, b| {
            let first = |r: &PersonRow| match &key {
                PersonKey::Id(id) => r.id != id.as_str(),
                PersonKey::Account(_) => false,
            };
            (
                first(a),
                a.status != ACTIVE,
                std::cmp::Reverse(a.updated_at),
            )
                .cmp(&(
                    first(b),
                    b.status != ACTIVE,
                    std::cmp::Reverse(b.updated_at),
                ))
        });
        let main = records.first().cloned().ok_or_else(not_found)?;
        let reach = Reach::of(&caller, &main.district_id, ADMINS, NO_GUARDIAN)?;
        if let Some((reach, taught)) = student_scope(c, &reach, is_self(&reach, &key, &records))? {
            let students = linked(c, &records, false)?;
            if !students
                .iter()
                .any(|(s, _)| reach.any_school(schools_of(s)) || taught.contains(&s.id))
            {
                return Err(not_found());
            }
        }
        Ok(GuardianView {
            sources: records
                .iter()
                .map(|r| (r.source_system.clone(), r.source_id.clone()))
                .collect(),
            kinds: source_kinds(c, &main.district_id)?,
            guardian: main,
        })
    })
    .await
}
