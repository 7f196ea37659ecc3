//! Who may call what (every RPC checks the caller's `Principal`).

use homeroom_platform::auth::{Principal, Role};

use super::error::IdentityError;

/// Roles that make an account district staff who may read other accounts.
const STAFF_ROLES: [Role; 6] = [
    Role::DistrictAdmin,
    Role::RosteringAdmin,
    Role::CommunicationsAdmin,
    Role::UserManager,
    Role::Teacher,
    Role::Staff,
];

/// Services allowed to call the service-only RPCs.
pub fn require_service(principal: &Principal, names: &[&str]) -> Result<(), IdentityError> {
    if principal.is_service(names) {
        Ok(())
    } else {
        Err(IdentityError::PermissionDenied(format!(
            "only the {} service may call this",
            names.join(" or ")
        )))
    }
}

/// The signed-in account's id.
pub fn account_id(principal: &Principal) -> Result<&str, IdentityError> {
    match principal {
        Principal::Account { account_id, .. } => Ok(account_id),
        Principal::Service { .. } => Err(IdentityError::PermissionDenied(
            "this call is for a signed-in account, not a service".into(),
        )),
    }
}

/// ID-11: an account may read itself; staff read accounts of their district;
/// Homeroom services read any. Others learn nothing (NOT_FOUND, as if absent).
pub fn may_read_account(principal: &Principal, account_id: &str, district_id: &str) -> bool {
    match principal {
        Principal::Service { .. } => true,
        Principal::Account { account_id: me, .. } if me == account_id => true,
        Principal::Account {
            roles,
            district_id: d,
            ..
        } => d == district_id && roles.iter().any(|g| STAFF_ROLES.contains(&g.role)),
    }
}

/// ID-1: whether `principal` may list accounts of `district_id`, and if only
/// some schools' (`Some(schools)` for school-scoped roles; `None`: all).
pub fn may_list_accounts(
    principal: &Principal,
    district_id: &str,
) -> Result<Option<Vec<String>>, IdentityError> {
    let refused = || {
        IdentityError::PermissionDenied(
            "only district, user, rostering and communications administrators may list accounts"
                .into(),
        )
    };
    match principal {
        Principal::Service { .. } => Ok(None),
        Principal::Account {
            district_id: d,
            roles,
            ..
        } => {
            if d != district_id {
                return Err(refused());
            }
            let grants: Vec<&homeroom_platform::auth::RoleGrant> = roles
                .iter()
                .filter(|g| homeroom_platform::auth::ACCOUNT_LISTERS.contains(&g.role))
                .collect();
            if grants.iter().any(|g| g.school_id.is_none()) {
                return Ok(None);
            }
            let schools: Vec<String> = grants.iter().filter_map(|g| g.school_id.clone()).collect();
            if schools.is_empty() {
                Err(refused())
            } else {
                Ok(Some(schools))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use homeroom_platform::auth::RoleGrant;

    use super::*;

    fn account(id: &str, district: &str, roles: &[Role]) -> Principal {
        Principal::Account {
            account_id: id.into(),
            district_id: district.into(),
            roles: roles
                .iter()
                .map(|&role| RoleGrant {
                    role,
                    school_id: None,
                })
                .collect(),
        }
    }

    #[test]
    fn administrators_list_their_district_or_their_schools_and_no_one_else_lists() {
        let admin = account("a1", "d1", &[Role::CommunicationsAdmin]);
        assert_eq!(may_list_accounts(&admin, "d1").ok(), Some(None));
        assert!(may_list_accounts(&admin, "d2").is_err());
        assert!(may_list_accounts(&account("t1", "d1", &[Role::Teacher]), "d1").is_err());
        assert!(may_list_accounts(&account("g1", "d1", &[Role::Guardian]), "d1").is_err());
        let school_admin = Principal::Account {
            account_id: "s1".into(),
            district_id: "d1".into(),
            roles: vec![RoleGrant {
                role: Role::UserManager,
                school_id: Some("sch1".into()),
            }],
        };
        assert_eq!(
            may_list_accounts(&school_admin, "d1").ok(),
            Some(Some(vec!["sch1".to_string()]))
        );
    }

    #[test]
    fn guardians_read_themselves_and_staff_read_their_district_only() {
        let guardian = account("g1", "d1", &[Role::Guardian]);
        assert!(may_read_account(&guardian, "g1", "d1"));
        assert!(!may_read_account(&guardian, "g2", "d1"));
        let teacher = account("t1", "d1", &[Role::Teacher]);
        assert!(may_read_account(&teacher, "g2", "d1"));
        assert!(!may_read_account(&teacher, "g9", "d2"));
    }

    #[test]
    fn only_the_named_services_pass_the_service_check() {
        let roster = Principal::Service {
            name: "roster".into(),
        };
        assert!(require_service(&roster, &["roster"]).is_ok());
        assert!(require_service(&roster, &["messaging"]).is_err());
        assert!(require_service(&account("a", "d", &[Role::DistrictAdmin]), &["roster"]).is_err());
    }
}
