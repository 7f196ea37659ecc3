//! Granting and revoking roles by district administrators (ID-1), audited as
//! role changes (ID-10). Roles a sync grants are managed by the sync; these
//! are the administrator-assigned ones.

use homeroom_platform::auth::{Principal, Role};

use super::{Ctx, accounts::AccountView};
use crate::{
    domain::{accounts::ScopedRole, error::IdentityError},
    store::{self, audit::AuditRow},
};

/// Grants and revokes administrator-assigned roles; returns the account after.
pub async fn assign(
    ctx: &Ctx,
    caller: &Principal,
    account_id: &str,
    grant: Vec<ScopedRole>,
    revoke: Vec<ScopedRole>,
    client_address: Option<String>,
) -> Result<AccountView, IdentityError> {
    let view = super::accounts::get(&ctx.db, account_id.to_string()).await?;
    if !caller.has_district_role(&view.district_id, Role::DistrictAdmin) {
        if caller.district_id() == Some(view.district_id.as_str()) {
            return Err(IdentityError::PermissionDenied(
                "changing roles needs the district administrator role".into(),
            ));
        }
        return Err(IdentityError::NotFound(format!(
            "no account {account_id:?}"
        )));
    }
    let me = matches!(caller, Principal::Account { account_id: a, .. } if *a == view.id);
    if me
        && revoke
            .iter()
            .any(|r| r.role == Role::DistrictAdmin && r.school_id.is_empty())
    {
        return Err(IdentityError::FailedPrecondition(
            "you cannot revoke your own district administrator role; ask another district administrator".into(),
        ));
    }
    let now = chrono::Utc::now().naive_utc();
    let actor = match caller {
        Principal::Account { account_id, .. } => account_id.clone(),
        Principal::Service { name } => format!("service:{name}"),
    };
    let rows: Vec<AuditRow> = grant
        .iter()
        .map(|r| ("granted", r))
        .chain(revoke.iter().map(|r| ("revoked", r)))
        .map(|(verb, r)| {
            let mut row = AuditRow::new("role_changed", &view.district_id, now);
            row.actor_id = Some(actor.clone());
            row.subject_account_id = Some(view.id.clone());
            row.client_address = client_address.clone();
            let scope = if r.school_id.is_empty() {
                "district".to_string()
            } else {
                format!("school {}", r.school_id)
            };
            row.detail = format!(
                "{verb} {} for {scope}",
                crate::domain::accounts::role_str(r.role)
            );
            row
        })
        .collect();
    let id = view.id.clone();
    ctx.db
        .transaction(move |conn| {
            store::accounts::assign_roles(conn, &id, &grant, &revoke, now)?;
            store::audit::insert(conn, &rows)?;
            Ok::<_, IdentityError>(())
        })
        .await?;
    super::accounts::get(&ctx.db, account_id.to_string()).await
}
