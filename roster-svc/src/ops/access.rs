//! Who may call what: district scope from the caller's token.

use homeroom_platform::auth::{Principal, Role};

use crate::domain::error::RosterError;

const ROSTER_ADMINS: [Role; 2] = [Role::DistrictAdmin, Role::RosteringAdmin];

fn denied() -> RosterError {
    RosterError::PermissionDenied(
        "only rostering administrators of this district may do this".into(),
    )
}

/// Roster administrators of the district (or of the school, for a
/// school-scoped resource), and service callers.
pub fn roster_admin(
    caller: &Principal,
    district_id: &str,
    school_id: Option<&str>,
) -> Result<(), RosterError> {
    if matches!(caller, Principal::Service { .. }) {
        return Ok(());
    }
    let ok = ROSTER_ADMINS.iter().any(|r| match school_id {
        Some(school) => caller.has_school_role(district_id, school, *r),
        None => caller.has_district_role(district_id, *r),
    });
    if ok { Ok(()) } else { Err(denied()) }
}

/// Any account of the district, and service callers.
pub fn district_member(caller: &Principal, district_id: &str) -> Result<(), RosterError> {
    match caller {
        Principal::Service { .. } => Ok(()),
        Principal::Account { district_id: d, .. } if d == district_id => Ok(()),
        Principal::Account { .. } => Err(RosterError::NotFound("no such district".into())),
    }
}

/// DISTRICT_ADMIN of the district.
pub fn district_admin(caller: &Principal, district_id: &str) -> Result<(), RosterError> {
    if caller.has_district_role(district_id, Role::DistrictAdmin) {
        Ok(())
    } else {
        Err(RosterError::PermissionDenied(
            "only district administrators may change district settings".into(),
        ))
    }
}

/// Service callers only.
pub fn service(caller: &Principal) -> Result<(), RosterError> {
    match caller {
        Principal::Service { .. } => Ok(()),
        Principal::Account { .. } => Err(RosterError::PermissionDenied(
            "only Homeroom services may call this".into(),
        )),
    }
}
