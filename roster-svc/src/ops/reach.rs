//! RO-1 / RO-8 / ID-11: who may read which roster records. A caller reaches
//! the whole district (service callers; a district-wide grant of a role the
//! RPC names), some schools (school-scoped grants of such a role), and what
//! the roster ties their account to: the classes they teach, the students
//! they are or guard, their own records. An account of another district
//! reaches nothing there and is told the record does not exist.

use std::collections::BTreeSet;

use diesel::QueryResult;
use homeroom_platform::{
    auth::{Principal, Role},
    db::DbConn,
};

use crate::{
    domain::error::RosterError,
    store::{audience, people, query::Visible, records::PersonRow},
};

/// Who reads students, guardians and classes by district or school:
/// district, rostering and communications administrators, user managers.
pub const ADMINS: &[Role] = &[
    Role::DistrictAdmin,
    Role::RosteringAdmin,
    Role::CommunicationsAdmin,
    Role::UserManager,
];

/// Who reads schools, sessions and staff: every staff role.
pub const STAFF: &[Role] = &[
    Role::DistrictAdmin,
    Role::RosteringAdmin,
    Role::CommunicationsAdmin,
    Role::UserManager,
    Role::Teacher,
    Role::Staff,
];

/// What one caller reaches in one district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The whole district.
    pub whole: bool,
    /// Whole schools (school-scoped grants).
    pub schools: Vec<String>,
    /// The calling account; none for service callers.
    pub account_id: Option<String>,
    /// The account holds a teacher grant in the district.
    pub teacher: bool,
}

impl Reach {
    /// The caller's reach in `district_id` through `roles`; an account of
    /// another district gets NOT_FOUND with `not_found`.
    pub fn of(
        caller: &Principal,
        district_id: &str,
        roles: &[Role],
        not_found: &str,
    ) -> Result<Reach, RosterError> {
        let (account_id, grants) = match caller {
            Principal::Service { .. } => {
                return Ok(Reach {
                    whole: true,
                    schools: vec![],
                    account_id: None,
                    teacher: false,
                });
            }
            Principal::Account {
                account_id,
                district_id: d,
                roles,
            } if d == district_id => (account_id, roles),
            Principal::Account { .. } => return Err(RosterError::NotFound(not_found.into())),
        };
        let mut reach = Reach {
            whole: false,
            schools: vec![],
            account_id: Some(account_id.clone()),
            teacher: grants.iter().any(|g| g.role == Role::Teacher),
        };
        for grant in grants.iter().filter(|g| roles.contains(&g.role)) {
            match &grant.school_id {
                None => reach.whole = true,
                Some(s) if !reach.schools.contains(s) => reach.schools.push(s.clone()),
                Some(_) => {}
            }
        }
        Ok(reach)
    }

    /// True when the whole district or one of `schools` is reached.
    pub fn any_school<'a>(&self, schools: impl IntoIterator<Item = &'a str>) -> bool {
        self.whole
            || schools
                .into_iter()
                .any(|s| self.schools.iter().any(|x| x == s))
    }

    /// True when the caller is the account `account_id`.
    pub fn is_account(&self, account_id: Option<&str>) -> bool {
        self.account_id.is_some() && self.account_id.as_deref() == account_id
    }

    /// The classes the caller teaches.
    pub fn taught(&self, conn: &mut DbConn) -> QueryResult<BTreeSet<String>> {
        match &self.account_id {
            Some(account) => audience::classes_taught(conn, account),
            None => Ok(BTreeSet::new()),
        }
    }

    /// The students the caller is, or is a guardian of.
    pub fn own_students(&self, conn: &mut DbConn) -> QueryResult<BTreeSet<String>> {
        match &self.account_id {
            Some(account) => people::own_students(conn, account),
            None => Ok(BTreeSet::new()),
        }
    }

    /// What a list shows: everything, or the reached schools and `ids`.
    pub fn visible(&self, ids: impl IntoIterator<Item = String>) -> Visible {
        if self.whole {
            Visible::All
        } else {
            Visible::Some {
                schools: self.schools.clone(),
                ids: ids.into_iter().collect(),
            }
        }
    }
}

/// The schools a person is at: the primary one and every other.
pub fn schools_of(p: &PersonRow) -> impl Iterator<Item = &str> {
    p.school_id
        .as_deref()
        .into_iter()
        .chain(p.school_ids.split(' ').filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use homeroom_platform::auth::RoleGrant;

    use super::*;

    fn account(grants: &[(Role, Option<&str>)]) -> Principal {
        Principal::Account {
            account_id: "a1".into(),
            district_id: "d1".into(),
            roles: grants
                .iter()
                .map(|(role, school)| RoleGrant {
                    role: *role,
                    school_id: school.map(String::from),
                })
                .collect(),
        }
    }

    #[test]
    fn district_grants_reach_the_district_and_school_grants_their_schools() {
        let admin = account(&[(Role::CommunicationsAdmin, None)]);
        assert!(Reach::of(&admin, "d1", ADMINS, "x").unwrap().whole);
        let school = account(&[(Role::UserManager, Some("s1")), (Role::Teacher, None)]);
        let reach = Reach::of(&school, "d1", ADMINS, "x").unwrap();
        assert!(!reach.whole && reach.teacher);
        assert_eq!(reach.schools, ["s1"]);
        assert!(reach.any_school(["s2", "s1"]) && !reach.any_school(["s2"]));
        let staff = account(&[(Role::Staff, None)]);
        assert!(!Reach::of(&staff, "d1", ADMINS, "x").unwrap().whole);
        assert!(Reach::of(&staff, "d1", STAFF, "x").unwrap().whole);
    }

    #[test]
    fn another_district_is_not_found_and_services_reach_everything() {
        let admin = account(&[(Role::DistrictAdmin, None)]);
        let e = Reach::of(&admin, "d2", ADMINS, "no such student").unwrap_err();
        assert!(matches!(e, RosterError::NotFound(m) if m == "no such student"));
        let service = Principal::Service {
            name: "messaging".into(),
        };
        assert!(Reach::of(&service, "d2", ADMINS, "x").unwrap().whole);
    }
}
