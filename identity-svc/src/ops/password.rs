//! ID-3: the signed-in account changes its password.
//!
//! The current password is required when the account has one; wrong guesses
//! count against the account's login throttle, so a stolen access token
//! cannot be used to find the password. A change ends every other session of
//! the account and is audited.

use super::{Ctx, login::record_failures, sessions, tokens::IssuedTokens};
use crate::{
    domain::{
        accounts::AccountStatus,
        error::IdentityError,
        password,
        throttle::{self, Scope},
    },
    store::{self, audit::AuditRow, sessions as session_store},
};

/// What the current password check says when it fails.
pub const WRONG_CURRENT_PASSWORD: &str = "the current password is not right";

/// Changes `account_id`'s password; fresh tokens for the caller's session.
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn change_password(
    ctx: &Ctx,
    account_id: &str,
    current: String,
    new: String,
    client_address: Option<String>,
) -> Result<IssuedTokens, IdentityError> {
    password::check_policy(&new).map_err(IdentityError::InvalidArgument)?;
    let now = chrono::Utc::now().naive_utc();
    let key = Scope::Account.key(account_id);
    let (account, counters) = {
        let (id, key) = (account_id.to_string(), key.clone());
        ctx.db
            .run(move |conn| {
                Ok::<_, IdentityError>((
                    store::accounts::find(conn, &id)?,
                    session_store::throttles(conn, &[key])?,
                ))
            })
            .await?
    };
    let account = account
        .filter(|a| a.status() != AccountStatus::Deactivated)
        .ok_or(IdentityError::Unauthenticated("sign in again"))?;
    if let Some(wait) = counters
        .iter()
        .find_map(|(_, _, until)| throttle::remaining(*until, now))
    {
        return Err(IdentityError::Throttled { retry_after: wait });
    }
    if let Some(phc) = account.password_hash.clone() {
        let passwords = ctx.passwords.clone();
        let right = tokio::task::spawn_blocking(move || passwords.verify(&phc, &current))
            .await
            .map_err(|e| IdentityError::Internal(e.into()))?;
        if !right {
            record_failures(ctx, vec![key], now).await?;
            return Err(IdentityError::Unauthenticated(WRONG_CURRENT_PASSWORD));
        }
    }
    let passwords = ctx.passwords.clone();
    let hash = tokio::task::spawn_blocking(move || passwords.hash(&new))
        .await
        .map_err(|e| IdentityError::Internal(e.into()))??;
    let (id, joined) = (
        account.id.clone(),
        account.status() == AccountStatus::Active,
    );
    let mut audit = AuditRow::new("password_changed", &account.district_id, now);
    audit.actor_id = Some(id.clone());
    audit.subject_account_id = Some(id.clone());
    audit.client_address = client_address;
    ctx.db
        .transaction(move |conn| {
            if joined {
                store::accounts::set_password(conn, &id, &hash, now)?;
            } else {
                // An invitee signed in with a code sets a first password: it joins.
                store::accounts::activate_with_password(conn, &id, &hash, now)?;
            }
            session_store::revoke_account(conn, &id, now)?;
            session_store::clear_throttles(conn, &[key])?;
            store::audit::insert(conn, &[audit])?;
            Ok::<_, IdentityError>(())
        })
        .await?;
    sessions::open(ctx, account_id).await
}
