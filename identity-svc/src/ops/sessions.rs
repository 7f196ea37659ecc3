//! Opening, refreshing and closing sessions (ID-6).

use homeroom_platform::auth::RoleGrant;

use super::{
    Ctx,
    tokens::{IssuedTokens, hash_token},
};
use crate::{
    domain::{accounts::AccountStatus, error::IdentityError},
    store::{self, audit::AuditRow, sessions},
};

const SESSION_EXPIRED: &str = "the session has expired; sign in again";

/// Issues tokens for an account in a new refresh-token family.
pub async fn open(ctx: &Ctx, account_id: &str) -> Result<IssuedTokens, IdentityError> {
    let id = account_id.to_string();
    let (row, roles) = ctx
        .db
        .run(move |conn| {
            let row = store::accounts::find(conn, &id)?;
            let roles = store::accounts::roles_of(conn, &id)?;
            Ok::<_, IdentityError>((row, roles))
        })
        .await?;
    let row = row.ok_or(IdentityError::Unauthenticated(SESSION_EXPIRED))?;
    if row.status() == AccountStatus::Deactivated {
        return Err(IdentityError::Unauthenticated(SESSION_EXPIRED));
    }
    let family = uuid::Uuid::now_v7().to_string();
    issue(ctx, &row.id, &row.district_id, grants(roles), &family).await
}

async fn issue(
    ctx: &Ctx,
    account_id: &str,
    district_id: &str,
    roles: Vec<RoleGrant>,
    family: &str,
) -> Result<IssuedTokens, IdentityError> {
    let (access_token, access_expires_at) = ctx
        .tokens
        .access_token(account_id, district_id, roles)
        .await?;
    let now = chrono::Utc::now().naive_utc();
    let (refresh_token, row) = ctx.tokens.new_refresh(account_id, family, now);
    let refresh_expires_at = row.expires_at;
    ctx.db
        .run(move |conn| sessions::insert_refresh(conn, &row).map_err(IdentityError::from))
        .await?;
    Ok(IssuedTokens {
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
        account_id: account_id.to_string(),
    })
}

/// Role grants as token claims.
pub fn grants(roles: Vec<crate::domain::accounts::ScopedRole>) -> Vec<RoleGrant> {
    roles
        .into_iter()
        .map(|r| RoleGrant {
            role: r.role,
            school_id: Some(r.school_id).filter(|s| !s.is_empty()),
        })
        .collect()
}

/// Rotates a refresh token. Reusing a rotated token revokes its whole family.
pub async fn refresh(ctx: &Ctx, token: &str) -> Result<IssuedTokens, IdentityError> {
    let hash = hash_token(token);
    let now = chrono::Utc::now().naive_utc();
    let found = ctx
        .db
        .transaction(move |conn| {
            let Some(row) = sessions::find_refresh(conn, &hash)? else {
                return Ok::<_, IdentityError>(Err(false));
            };
            if row.revoked_at.is_some() || row.expires_at <= now {
                return Ok(Err(false));
            }
            if !sessions::mark_rotated(conn, &hash, now)? {
                sessions::revoke_family(conn, &row.family_id, now)?;
                let district = store::accounts::find(conn, &row.account_id)?
                    .map(|a| a.district_id)
                    .unwrap_or_default();
                let mut audit = AuditRow::new("token_reuse", &district, now);
                audit.subject_account_id = Some(row.account_id.clone());
                audit.detail =
                    "a rotated refresh token was used again; its family is revoked".into();
                store::audit::insert(conn, &[audit])?;
                return Ok(Err(true));
            }
            let account = store::accounts::find(conn, &row.account_id)?;
            let roles = store::accounts::roles_of(conn, &row.account_id)?;
            Ok(Ok((row, account, roles)))
        })
        .await?;
    match found {
        Err(reused) => {
            if reused {
                tracing::warn!("refresh token reuse detected, family revoked");
            }
            Err(IdentityError::Unauthenticated(SESSION_EXPIRED))
        }
        Ok((row, Some(account), roles)) if account.status() != AccountStatus::Deactivated => {
            issue(
                ctx,
                &row.account_id,
                &account.district_id,
                grants(roles),
                &row.family_id,
            )
            .await
        }
        Ok(_) => Err(IdentityError::Unauthenticated(SESSION_EXPIRED)),
    }
}

/// Revokes the session of a refresh token (or every session of its account).
/// An unknown token is not an error.
pub async fn logout(ctx: &Ctx, token: &str, all_sessions: bool) -> Result<(), IdentityError> {
    let hash = hash_token(token);
    let now = chrono::Utc::now().naive_utc();
    ctx.db
        .transaction(move |conn| {
            if let Some(row) = sessions::find_refresh(conn, &hash)? {
                if all_sessions {
                    sessions::revoke_account(conn, &row.account_id, now)?;
                } else {
                    sessions::revoke_family(conn, &row.family_id, now)?;
                }
            }
            Ok::<_, IdentityError>(())
        })
        .await
}
