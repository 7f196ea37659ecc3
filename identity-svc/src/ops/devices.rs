//! Known devices (ID-3): a browser or client that signed in to an account
//! gets an opaque device token (a cookie for browsers), stored here only as
//! its hash. Presented again at login, it exempts that device from the
//! per-identifier and per-account counters of the accounts it signed in to —
//! its failures count against the device instead — so an attacker guessing at
//! a shared address never slows down the family's own devices, while a new
//! device is slowed down as before.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::{
    Ctx,
    tokens::{hash_token, random_token},
};
use crate::{domain::error::IdentityError, store};

/// How long a device stays known without signing in.
pub const REMEMBERED_FOR: Duration = Duration::from_secs(365 * 24 * 3600);

/// A device token as presented: its hash, when it has the shape of one.
pub fn key_of(token: &str) -> Option<String> {
    let token = token.trim();
    let plausible = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then(|| hash_token(token))
}

/// The oldest sign-in that still makes a device known.
pub fn known_since(now: NaiveDateTime) -> NaiveDateTime {
    now - chrono::Duration::from_std(REMEMBERED_FOR).unwrap_or_default()
}

/// Records that the device presenting `token` (a new device when `None` or
/// not a token) signed in to `account_id`; the device's token.
pub async fn remember(
    ctx: &Ctx,
    token: Option<&str>,
    account_id: &str,
) -> Result<String, IdentityError> {
    let token = match token.filter(|t| key_of(t).is_some()) {
        Some(t) => t.trim().to_string(),
        None => random_token(),
    };
    let hash = hash_token(&token);
    let account = account_id.to_string();
    let now = chrono::Utc::now().naive_utc();
    ctx.db
        .run(move |conn| {
            store::devices::remember(conn, &hash, &account, now).map_err(IdentityError::from)
        })
        .await?;
    Ok(token)
}
