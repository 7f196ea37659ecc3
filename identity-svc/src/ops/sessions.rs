//! Opening, refreshing and closing sessions (ID-6).

use homeroom_platform::auth::RoleGrant;

use super::{
    Ctx,
    tokens::{IssuedTokens, hash_token},
};
use crate::{
    domain::{
        accounts::{AccountStatus, ScopedRole},
        error::IdentityError,
    },
    store::{self, accounts::AccountRow, audit::AuditRow, sessions},
};

const SESSION_EXPIRED: &str = "the session has expired; sign in again";

/// Issues tokens for an account in a new refresh-token family.
pub async fn open(ctx: &Ctx, account_id: &str) -> Result<IssuedTokens, IdentityError> {
    let id = account_id.to_string();
    let row = ctx
        .db
        .run(move |conn| store::accounts::find(conn, &id).map_err(IdentityError::from))
        .await?
        .ok_or(IdentityError::Unauthenticated(SESSION_EXPIRED))?;
    open_with(ctx, &row, None, None).await
}

/// What a login adds to opening its session.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    /// The `login_success` audit row.
    pub audit: AuditRow,
    /// Failure counters to forget.
    pub cleared: Vec<String>,
}

/// Issues tokens for `account` in a new refresh-token family, storing the
/// login's bookkeeping with the refresh token (one statement on PostgreSQL).
pub async fn open_with(
    ctx: &Ctx,
    account: &AccountRow,
    known_roles: Option<Vec<ScopedRole>>,
    login: Option<LoginRecord>,
) -> Result<IssuedTokens, IdentityError> {
    // Deactivated, or disabled by its source (enabledUser false): no session.
    if account.status() == AccountStatus::Deactivated || account.sign_in_disabled {
        return Err(IdentityError::Unauthenticated(SESSION_EXPIRED));
    }
    let now = chrono::Utc::now().naive_utc();
    let family = uuid::Uuid::now_v7().to_string();
    let (refresh_token, row) = ctx.tokens.new_refresh(&account.id, &family, now);
    let refresh_expires_at = row.expires_at;
    let id = account.id.clone();
    let roles = ctx
        .db
        .run(move |conn| {
            if let Some(cleared) = login.as_ref().map(|l| &l.cleared).filter(|c| !c.is_empty()) {
                sessions::clear_throttles(conn, cleared)?;
            }
            sessions::start_session(conn, &row, login.as_ref().map(|l| &l.audit))?;
            match known_roles {
                Some(roles) => Ok::<_, IdentityError>(roles),
                None => Ok(store::accounts::roles_of(conn, &id)?),
            }
        })
        .await?;
    with_access_token(ctx, account, roles, refresh_token, refresh_expires_at).await
}

/// Completes a session's tokens with a freshly signed access token.
async fn with_access_token(
    ctx: &Ctx,
    account: &AccountRow,
    roles: Vec<ScopedRole>,
    refresh_token: String,
    refresh_expires_at: chrono::NaiveDateTime,
) -> Result<IssuedTokens, IdentityError> {
    let (access_token, access_expires_at) = ctx
        .tokens
        .access_token(&account.id, &account.district_id, grants(roles))
        .await?;
    Ok(IssuedTokens {
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
        account_id: account.id.clone(),
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
    let tokens = ctx.tokens.clone();
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
            let Some(account) = store::accounts::find(conn, &row.account_id)?
                .filter(|a| a.status() != AccountStatus::Deactivated && !a.sign_in_disabled)
            else {
                return Ok(Err(false));
            };
            // The successor is stored in the same transaction as the rotation.
            let (token, next) = tokens.new_refresh(&row.account_id, &row.family_id, now);
            sessions::insert_refresh(conn, &next)?;
            let roles = store::accounts::roles_of(conn, &row.account_id)?;
            Ok(Ok((account, roles, token, next.expires_at)))
        })
        .await?;
    match found {
        Err(reused) => {
            if reused {
                tracing::warn!("refresh token reuse detected, family revoked");
            }
            Err(IdentityError::Unauthenticated(SESSION_EXPIRED))
        }
        Ok((account, roles, refresh_token, refresh_expires_at)) => {
            with_access_token(ctx, &account, roles, refresh_token, refresh_expires_at).await
        }
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
