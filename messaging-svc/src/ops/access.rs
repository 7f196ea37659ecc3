//! Who may see or change what belongs to an account: the account itself, and
//! staff of its district with one of the given roles (district-wide grants).

use homeroom_platform::auth::{Principal, Role};

use super::directory::Directory;
use crate::domain::error::MessagingError;

/// Passes for the account itself or for a district-wide grant of one of
/// `roles` in the account's district (looked up from identity).
pub async fn account_or_staff(
    directory: &dyn Directory,
    caller: &Principal,
    account_id: &str,
    roles: &[Role],
) -> Result<(), MessagingError> {
    if matches!(caller, Principal::Account { account_id: me, .. } if me == account_id) {
        return Ok(());
    }
    let refused = || {
        MessagingError::PermissionDenied(
            "only the account or authorised staff of its district may do this".into(),
        )
    };
    if !matches!(caller, Principal::Account { .. }) {
        return Err(refused());
    }
    let district = directory
        .district_of(account_id)
        .await?
        .ok_or_else(refused)?;
    if roles
        .iter()
        .any(|r| caller.has_district_role(&district, *r))
    {
        Ok(())
    } else {
        Err(refused())
    }
}
