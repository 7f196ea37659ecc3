//! ID-4: invitations people can accept. Each invitation carries a join link,
//! `<HOMEROOM_PUBLIC_URL>/join?code=<token>`: a single-use token naming the
//! account (so a shared email or phone never leaves the joiner to pick),
//! valid 7 days, stored only as its hash. Staff may send a new one at any
//! time; every link of an account ends when it joins.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::{
    Ctx,
    tokens::{IssuedTokens, hash_token, random_token},
};
use crate::{
    domain::{accounts::AccountStatus, error::IdentityError, password},
    store::{self, audit::AuditRow},
};

/// How long a join link works.
pub const LINK_VALID_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// The one message for a link that is wrong, spent or expired.
pub const LINK_FAILED: &str =
    "this invitation link is not valid any more; ask your school to send a new one";

/// A new join link for `account_id`: stores the token's hash (in the caller's
/// transaction) and returns the token.
pub fn new_link(
    conn: &mut homeroom_platform::db::DbConn,
    account_id: &str,
    now: NaiveDateTime,
) -> Result<String, IdentityError> {
    let token = random_token();
    let expires_at = now + chrono::Duration::from_std(LINK_VALID_FOR).unwrap_or_default();
    store::invitations::insert(conn, &hash_token(&token), account_id, now, expires_at)?;
    Ok(token)
}

/// The link a person opens, when the public URL is known.
pub fn url(ctx: &Ctx, token: &str) -> Option<String> {
    ctx.public_url
        .as_deref()
        .map(|base| format!("{}/join?code={token}", base.trim_end_matches('/')))
}

/// Is `text` shaped like a link token (not a 6-digit code)?
pub fn is_link_token(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Joins with a link's token and a new password: the account becomes ACTIVE,
/// its links end, and it is signed in.
pub async fn accept(
    ctx: &Ctx,
    token: &str,
    new_password: String,
    client_address: Option<&str>,
) -> Result<IssuedTokens, IdentityError> {
    password::check_policy(&new_password).map_err(IdentityError::InvalidArgument)?;
    let now = chrono::Utc::now().naive_utc();
    let hash = hash_token(token);
    let account_id = ctx
        .db
        .run(move |conn| {
            store::invitations::live_account(conn, &hash, now).map_err(IdentityError::from)
        })
        .await?
        .ok_or(IdentityError::Unauthenticated(LINK_FAILED))?;
    let id = account_id.clone();
    let (account, roles) = ctx
        .db
        .run(move |conn| {
            let account = store::accounts::find(conn, &id)?;
            let roles = store::accounts::roles_of(conn, &id)?;
            Ok::<_, IdentityError>((account, roles))
        })
        .await?;
    let account = account.ok_or(IdentityError::Unauthenticated(LINK_FAILED))?;
    match account.status() {
        AccountStatus::Invitee => {}
        AccountStatus::Active => {
            return Err(IdentityError::FailedPrecondition(
                "this account has already joined; sign in with its password".into(),
            ));
        }
        AccountStatus::Deactivated => return Err(IdentityError::Unauthenticated(LINK_FAILED)),
    }
    let passwords = ctx.passwords.clone();
    let hash = tokio::task::spawn_blocking(move || passwords.hash(&new_password))
        .await
        .map_err(|e| IdentityError::Internal(e.into()))??;
    let mut audit = AuditRow::new("invitation_accepted", &account.district_id, now);
    audit.actor_id = Some(account.id.clone());
    audit.subject_account_id = Some(account.id.clone());
    audit.client_address = client_address.map(str::to_owned);
    audit.detail = "method=link".into();
    let id = account.id.clone();
    ctx.db
        .transaction(move |conn| {
            store::accounts::activate_with_password(conn, &id, &hash, now)?;
            store::invitations::consume_all(conn, &id, now)?;
            store::audit::insert(conn, &[audit])?;
            Ok::<_, IdentityError>(())
        })
        .await?;
    let mut active = account;
    active.status = AccountStatus::Active.as_str().into();
    super::sessions::open_with(ctx, &active, Some(roles), None).await
}
