//! Password login by email or phone (ID-3).
//!
//! The identifier's address may sit on several accounts. The password is
//! checked against every account holding it that is not being throttled: one
//! match signs in, several return an account choice limited to the matches,
//! none gives the one failure message. Unknown identifiers spend a decoy
//! verification, so both failures cost one verification.

use chrono::NaiveDateTime;
use homeroom_platform::telemetry::mask_address;

use super::{
    Ctx, devices, sessions,
    tokens::{IssuedTokens, hash_token, random_token},
};
use crate::{
    domain::{
        accounts::{AccountKind, Role, ScopedRole},
        credential::Identifier,
        error::{IdentityError, LOGIN_FAILED},
        throttle::{self, Scope},
    },
    store::{self, accounts::AccountRow, audit::AuditRow, sessions as session_store},
};

/// A login attempt, validated at the edge.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    /// Normalised identifier.
    pub identifier: Identifier,
    /// The password as typed.
    pub password: String,
    /// Only accounts of this district, if given.
    pub district_id: Option<String>,
    /// The client's address, for throttling and audit.
    pub client_address: Option<String>,
    /// The device token the client presented, if any ([`super::devices`]).
    pub device_token: Option<String>,
}

/// One account of a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceOption {
    /// The account.
    pub account_id: String,
    /// "Sarah Smith".
    pub display_name: String,
    /// Guardian, staff, student.
    pub kind: AccountKind,
    /// Main role (staff roles before guardian).
    pub role: Option<Role>,
    /// School of that role ('' for the district).
    pub school_id: String,
    /// Its name, if known.
    pub school_name: String,
    /// District.
    pub district_id: String,
    /// Its name, if known.
    pub district_name: String,
}

/// The result of a proof (password, one-time code).
#[derive(Debug, Clone)]
pub enum SignIn {
    /// One account: signed in.
    Tokens(IssuedTokens),
    /// Several accounts: pick one with the selection token.
    Choice {
        /// Single-use token for `select`.
        selection_token: String,
        /// When it expires.
        expires_at: NaiveDateTime,
        /// The accounts the proof unlocked.
        options: Vec<ChoiceOption>,
    },
}

/// Logs in with a password.
///
/// Counters gate the attempt: the identifier's and the client address's, and
/// each holder's own. A device that signed in to some of the holders before
/// is gated by its own counter instead of the identifier's, and those
/// holders' counters do not hold it back; its failures count against the
/// device. Every attempt takes at least the [`super::pacing`] floor, so the
/// time does not tell how many accounts hold the address.
#[tracing::instrument(skip_all, fields(identifier = %attempt.identifier.masked()))]
pub async fn login(ctx: &Ctx, attempt: LoginAttempt) -> Result<SignIn, IdentityError> {
    let floor = ctx.pacing.floor_from_now();
    let outcome = attempt_login(ctx, attempt).await;
    let label = match &outcome {
        Ok(SignIn::Tokens(_)) => "success",
        Ok(SignIn::Choice { .. }) => "choice",
        Err(IdentityError::Throttled { .. }) => "throttled",
        Err(IdentityError::Unauthenticated(_)) => "failure",
        Err(_) => "error",
    };
    metrics::counter!("homeroom_logins_total", "component" => "identity", "outcome" => label)
        .increment(1);
    floor.wait().await;
    outcome
}

async fn attempt_login(ctx: &Ctx, attempt: LoginAttempt) -> Result<SignIn, IdentityError> {
    let now = chrono::Utc::now().naive_utc();
    let identifier_key = Scope::Identifier.key(attempt.identifier.as_str());
    let client_key = attempt
        .client_address
        .as_deref()
        .map(|a| Scope::ClientAddress.key(a));
    let device = attempt.device_token.as_deref().and_then(devices::key_of);
    let device_key = device.as_deref().map(|d| Scope::Device.key(d));
    let (address_kind, value) = address_of(&attempt.identifier);
    let district = attempt.district_id.clone();
    let mut keys = vec![identifier_key.clone()];
    keys.extend(client_key.clone());
    keys.extend(device_key.clone());
    let since = devices::known_since(now);
    let (candidates, counters, roles, known) = ctx
        .db
        .run(move |conn| {
            let candidates =
                store::accounts::login_holders(conn, address_kind, &value, district.as_deref())?;
            keys.extend(candidates.iter().map(|a| Scope::Account.key(&a.id)));
            let counters = session_store::throttles(conn, &keys)?;
            let ids: Vec<String> = candidates.iter().map(|a| a.id.clone()).collect();
            let roles = store::accounts::roles_of_many(conn, &ids)?;
            let known = match &device {
                Some(hash) => store::devices::accounts_of(conn, hash, since)?,
                None => Vec::new(),
            };
            Ok::<_, IdentityError>((candidates, counters, roles, known))
        })
        .await?;
    let blocked_key = |key: &str| {
        counters
            .iter()
            .find(|(k, _, _)| k == key)
            .and_then(|(_, _, until)| throttle::remaining(*until, now))
    };
    // The accounts this device signed in to before, among the holders.
    let known: Vec<&str> = candidates
        .iter()
        .map(|a| a.id.as_str())
        .filter(|id| known.iter().any(|k| k == id))
        .collect();
    let own_device = if known.is_empty() {
        None
    } else {
        device_key.clone()
    };
    let first_key = own_device.as_ref().unwrap_or(&identifier_key);
    let gate = std::iter::once(first_key).chain(client_key.as_ref());
    if let Some(wait) = gate.filter_map(|k| blocked_key(k)).max() {
        audit_attempt(ctx, "login_throttled", &candidates, &attempt, now).await?;
        return Err(IdentityError::Throttled { retry_after: wait });
    }
    let blocked_for = |account: &AccountRow| {
        if known.contains(&account.id.as_str()) {
            None
        } else {
            blocked_key(&Scope::Account.key(&account.id))
        }
    };
    let (blocked, open): (Vec<&AccountRow>, Vec<&AccountRow>) =
        candidates.iter().partition(|a| blocked_for(a).is_some());

    let hashes: Vec<(String, Option<String>)> = open
        .iter()
        .map(|a| (a.id.clone(), a.password_hash.clone()))
        .collect();
    let matched = verify_all(ctx, hashes, attempt.password.clone()).await?;

    if matched.is_empty() {
        let mut failed_keys: Vec<String> = vec![first_key.clone()];
        failed_keys.extend(client_key);
        failed_keys.extend(
            open.iter()
                .filter(|a| a.password_hash.is_some() && !known.contains(&a.id.as_str()))
                .map(|a| Scope::Account.key(&a.id)),
        );
        record_failures(ctx, failed_keys, now).await?;
        audit_attempt(ctx, "login_failure", &candidates, &attempt, now).await?;
        if let Some(wait) = blocked.iter().filter_map(|a| blocked_for(a)).min() {
            return Err(IdentityError::Throttled { retry_after: wait });
        }
        return Err(IdentityError::Unauthenticated(LOGIN_FAILED));
    }
    // Forget the counters of this identifier (or device) and the matched
    // accounts, if any.
    let mut cleared: Vec<String> = vec![first_key.clone()];
    cleared.extend(matched.iter().map(|id| Scope::Account.key(id)));
    cleared.retain(|k| counters.iter().any(|(c, _, _)| c == k));
    let mut roles = roles;
    let unlocked: Vec<(AccountRow, Vec<ScopedRole>)> = candidates
        .into_iter()
        .filter(|a| matched.contains(&a.id))
        .map(|a| {
            let r = roles.remove(&a.id).unwrap_or_default();
            (a, r)
        })
        .collect();
    finish(
        ctx,
        unlocked,
        attempt.client_address.as_deref(),
        "password",
        cleared,
    )
    .await
}

/// Signs in the single unlocked account, or offers a choice among them;
/// forgets the `cleared` failure counters either way.
pub async fn finish(
    ctx: &Ctx,
    unlocked: Vec<(AccountRow, Vec<ScopedRole>)>,
    client_address: Option<&str>,
    method: &str,
    cleared: Vec<String>,
) -> Result<SignIn, IdentityError> {
    finish_linking(ctx, unlocked, client_address, method, cleared, None).await
}

/// [`finish`]; a choice also keeps the SSO identity (ID-5) that the account
/// chosen is to be linked to.
pub async fn finish_linking(
    ctx: &Ctx,
    unlocked: Vec<(AccountRow, Vec<ScopedRole>)>,
    client_address: Option<&str>,
    method: &str,
    cleared: Vec<String>,
    link: Option<session_store::PendingLink>,
) -> Result<SignIn, IdentityError> {
    let now = chrono::Utc::now().naive_utc();
    match unlocked.as_slice() {
        [] => Err(IdentityError::Unauthenticated(LOGIN_FAILED)),
        [(one, roles)] => {
            let mut audit = AuditRow::new("login_success", &one.district_id, now);
            audit.actor_id = Some(one.id.clone());
            audit.subject_account_id = Some(one.id.clone());
            audit.client_address = client_address.map(str::to_owned);
            audit.detail = format!("method={method}");
            let record = sessions::LoginRecord { audit, cleared };
            let tokens = sessions::open_with(ctx, one, Some(roles.clone()), Some(record)).await?;
            Ok(SignIn::Tokens(tokens))
        }
        several => {
            let several: Vec<AccountRow> = several.iter().map(|(a, _)| a.clone()).collect();
            let options = choice_options(ctx, &several).await?;
            let token = random_token();
            let expires_at = now
                + chrono::Duration::from_std(ctx.tokens.lifetimes.selection).unwrap_or_default();
            let ids: Vec<String> = several.iter().map(|a| a.id.clone()).collect();
            let hash = hash_token(&token);
            ctx.db
                .transaction(move |conn| {
                    if !cleared.is_empty() {
                        session_store::clear_throttles(conn, &cleared)?;
                    }
                    session_store::insert_selection(
                        conn,
                        &hash,
                        &ids,
                        link.as_ref(),
                        now,
                        expires_at,
                    )?;
                    Ok::<_, IdentityError>(())
                })
                .await?;
            Ok(SignIn::Choice {
                selection_token: token,
                expires_at,
                options,
            })
        }
    }
}

/// Picks one account of a choice: tokens for that account only (after SSO,
/// linked to the SSO identity first).
pub async fn select(
    ctx: &Ctx,
    selection_token: &str,
    account_id: &str,
) -> Result<IssuedTokens, IdentityError> {
    let hash = hash_token(selection_token);
    let now = chrono::Utc::now().naive_utc();
    let (offered, link) = ctx
        .db
        .run(move |conn| {
            session_store::take_selection(conn, &hash, now).map_err(IdentityError::from)
        })
        .await?
        .ok_or(IdentityError::Unauthenticated(
            "the account choice has expired; sign in again",
        ))?;
    if !offered.iter().any(|id| id == account_id) {
        return Err(IdentityError::PermissionDenied(
            "that account was not offered in this choice; sign in again".into(),
        ));
    }
    if let Some(link) = link {
        super::sso::link_chosen(ctx, &link, account_id).await?;
    }
    sessions::open(ctx, account_id).await
}

/// Verifies the password against each hash (a decoy when there is none) on the
/// blocking pool; returns the ids that matched.
async fn verify_all(
    ctx: &Ctx,
    hashes: Vec<(String, Option<String>)>,
    password: String,
) -> Result<Vec<String>, IdentityError> {
    let _permit = ctx
        .hashing
        .acquire()
        .await
        .map_err(|e| IdentityError::Internal(e.into()))?;
    let passwords = ctx.passwords.clone();
    let pacing = ctx.pacing.clone();
    tokio::task::spawn_blocking(move || {
        let timed = |verify: &dyn Fn() -> bool| {
            let started = std::time::Instant::now();
            let ok = verify();
            pacing.record(started.elapsed());
            ok
        };
        let with_hash: Vec<(String, String)> = hashes
            .into_iter()
            .filter_map(|(id, h)| h.map(|h| (id, h)))
            .collect();
        if with_hash.is_empty() {
            timed(&|| {
                passwords.verify_decoy(&password);
                false
            });
            return Vec::new();
        }
        with_hash
            .into_iter()
            .filter(|(_, phc)| timed(&|| passwords.verify(phc, &password)))
            .map(|(id, _)| id)
            .collect()
    })
    .await
    .map_err(|e| IdentityError::Internal(e.into()))
}

pub(crate) async fn record_failures(
    ctx: &Ctx,
    keys: Vec<String>,
    now: NaiveDateTime,
) -> Result<(), IdentityError> {
    ctx.db
        .transaction(move |conn| {
            let existing = session_store::throttles(conn, &keys)?;
            for key in &keys {
                let scope = Scope::of_key(key);
                let counter = existing
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, c, _)| c);
                let (next, blocked) = throttle::after_failure(scope, counter, now);
                session_store::save_throttle(conn, key, &next, blocked)?;
            }
            Ok::<_, IdentityError>(())
        })
        .await
}

async fn audit_attempt(
    ctx: &Ctx,
    kind: &str,
    candidates: &[AccountRow],
    attempt: &LoginAttempt,
    now: NaiveDateTime,
) -> Result<(), IdentityError> {
    let detail = format!("identifier={}", mask_address(attempt.identifier.as_str()));
    let mut rows: Vec<AuditRow> = candidates
        .iter()
        .map(|a| {
            let mut row = AuditRow::new(kind, &a.district_id, now);
            row.subject_account_id = Some(a.id.clone());
            row.client_address = attempt.client_address.clone();
            row.detail = detail.clone();
            row
        })
        .collect();
    if rows.is_empty() {
        let mut row = AuditRow::new(kind, attempt.district_id.as_deref().unwrap_or(""), now);
        row.client_address = attempt.client_address.clone();
        row.detail = detail;
        rows.push(row);
    }
    ctx.db
        .run(move |conn| store::audit::insert(conn, &rows).map_err(IdentityError::from))
        .await?;
    Ok(())
}

async fn choice_options(
    ctx: &Ctx,
    accounts: &[AccountRow],
) -> Result<Vec<ChoiceOption>, IdentityError> {
    let rows: Vec<AccountRow> = accounts.to_vec();
    ctx.db
        .run(move |conn| {
            let mut options = Vec::with_capacity(rows.len());
            let mut roles = Vec::with_capacity(rows.len());
            for row in &rows {
                roles.push(main_role(store::accounts::roles_of(conn, &row.id)?));
            }
            let mut org_ids: Vec<String> = rows.iter().map(|r| r.district_id.clone()).collect();
            org_ids.extend(
                roles
                    .iter()
                    .flatten()
                    .map(|(_, s)| s.clone())
                    .filter(|s| !s.is_empty()),
            );
            let names = store::accounts::org_names(conn, &org_ids)?;
            for (row, role) in rows.iter().zip(roles) {
                let school_id = role.as_ref().map(|(_, s)| s.clone()).unwrap_or_default();
                options.push(ChoiceOption {
                    account_id: row.id.clone(),
                    display_name: row.names().display(),
                    kind: row.kind(),
                    role: role.map(|(r, _)| r),
                    school_name: names.get(&school_id).cloned().unwrap_or_default(),
                    school_id,
                    district_name: names.get(&row.district_id).cloned().unwrap_or_default(),
                    district_id: row.district_id.clone(),
                });
            }
            Ok::<_, IdentityError>(options)
        })
        .await
}

/// Staff roles before guardian, then the most specific scope.
fn main_role(roles: Vec<crate::domain::accounts::ScopedRole>) -> Option<(Role, String)> {
    roles
        .into_iter()
        .min_by_key(|r| (r.role, r.school_id.is_empty()))
        .map(|r| (r.role, r.school_id))
}

/// The address kind and value an identifier logs in with.
pub fn address_of(identifier: &Identifier) -> (&'static str, String) {
    match identifier {
        Identifier::Email(e) => ("email", e.as_str().to_string()),
        Identifier::Phone(p) => ("phone", p.as_str().to_string()),
    }
}
