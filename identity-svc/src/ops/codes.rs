//! One-time codes (ID-4): sign in or join without a password; confirm a
//! credential (ID-7); invitations.
//!
//! Sending answers the same whether or not the address is known, so it cannot
//! be used to find accounts. A code proves control of the address; verifying
//! it then follows the same one/several-accounts path as a password.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::{
    Ctx,
    login::{self, SignIn},
    messenger::{MessageChannel, MessageKind, SystemMessage},
    tokens::IssuedTokens,
};
use crate::{
    domain::{
        accounts::{AccountStatus, CredentialKind, ScopedRole},
        codes::{self, Purpose},
        credential::Identifier,
        error::IdentityError,
        password,
        throttle::{self, Scope},
    },
    store::{
        self, accounts::AccountRow, audit::AuditRow, codes::CodeRow, sessions as session_store,
    },
};

/// One message for every failed code check.
pub const CODE_FAILED: &str = "the code is not correct or has expired; ask for a new one";

/// A request to send a code to an identifier.
#[derive(Debug, Clone)]
pub struct SendCode {
    /// Where to.
    pub identifier: Identifier,
    /// Only accounts of this district.
    pub district_id: Option<String>,
    /// The code is for this account only.
    pub account_id: Option<String>,
    /// Login or invitation.
    pub purpose: Purpose,
    /// Retries with the same key send nothing new.
    pub idempotency_key: Option<String>,
}

/// What the sender is told, whether or not anything was sent.
#[derive(Debug, Clone)]
pub struct CodeSent {
    /// Masked destination.
    pub masked_destination: String,
    /// When the code expires.
    pub expires_at: NaiveDateTime,
}

fn channel_of(identifier: &Identifier) -> MessageChannel {
    match identifier {
        Identifier::Email(_) => MessageChannel::Email,
        Identifier::Phone(_) => MessageChannel::Sms,
    }
}

/// Sends a one-time code (ID-4). The answer is the same, and takes the same
/// time, whether or not an account holds the address: every identifier is
/// throttled alike before anything is looked up ([`Scope::CodeSend`]: five
/// sends, then a wait that starts at a minute and doubles), and the lookup,
/// the code and the message happen after the answer.
#[tracing::instrument(skip_all, fields(identifier = %request.identifier.masked()))]
pub async fn send(ctx: &Ctx, request: SendCode) -> Result<CodeSent, IdentityError> {
    let now = chrono::Utc::now().naive_utc();
    let expires_at = now + chrono::Duration::from_std(codes::VALIDITY).unwrap_or_default();
    let answer = CodeSent {
        masked_destination: request.identifier.masked(),
        expires_at,
    };
    let key = Scope::CodeSend.key(request.identifier.as_str());
    ctx.db
        .transaction(move |conn| {
            let counter = session_store::throttles(conn, std::slice::from_ref(&key))?
                .into_iter()
                .next();
            if let Some(wait) = counter
                .as_ref()
                .and_then(|(_, _, until)| throttle::remaining(*until, now))
            {
                return Err(IdentityError::Throttled { retry_after: wait });
            }
            let (next, blocked) =
                throttle::after_failure(Scope::CodeSend, counter.as_ref().map(|(_, c, _)| c), now);
            session_store::save_throttle(conn, &key, &next, blocked)?;
            Ok(())
        })
        .await?;
    let work = ctx.clone();
    let span = tracing::Span::current();
    ctx.background.spawn(tracing::Instrument::instrument(
        async move {
            if let Err(e) = deliver(&work, request, now, expires_at).await {
                tracing::warn!(error = %format!("{e:#}"), "a one-time code was not sent");
            }
        },
        span,
    ));
    Ok(answer)
}

/// After [`send`] answered: the accounts holding the address, a stored code
/// and the message — or nothing, for an address no account holds.
async fn deliver(
    ctx: &Ctx,
    request: SendCode,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), IdentityError> {
    let (address_kind, value) = login::address_of(&request.identifier);
    let req = request.clone();
    let planned = ctx
        .db
        .transaction(move |conn| {
            let holders = store::accounts::login_holders(
                conn,
                address_kind,
                &value,
                req.district_id.as_deref(),
            )?;
            let Some(address_id) = store::accounts::address_id(conn, address_kind, &value)? else {
                return Ok::<_, IdentityError>(None);
            };
            let for_account = match &req.account_id {
                Some(id) => match holders.iter().find(|a| &a.id == id) {
                    Some(a) => Some(a.clone()),
                    None => return Ok(None),
                },
                None if holders.len() == 1 => holders.first().cloned(),
                None if holders.is_empty() => return Ok(None),
                None => None,
            };
            if let Some(key) = &req.idempotency_key
                && store::codes::by_idempotency_key(conn, &address_id, key)?.is_some()
            {
                return Ok(None);
            }
            // The per-identifier throttle holds first; this is a backstop.
            if store::codes::live(conn, &address_id, now, codes::MAX_ATTEMPTS)?.len()
                >= codes::MAX_SENDS_PER_WINDOW
            {
                return Ok(None);
            }
            let code = codes::generate();
            let id = uuid::Uuid::now_v7().to_string();
            let stored = store::codes::insert_once(
                conn,
                &CodeRow {
                    code_hash: codes::hash(&id, &code),
                    id: id.clone(),
                    address_id,
                    account_id: req.account_id.clone(),
                    purpose: req.purpose.as_str().into(),
                    attempts: 0,
                    idempotency_key: req.idempotency_key.clone(),
                    created_at: now,
                    expires_at,
                    consumed_at: None,
                },
            );
            if stored? == 0 {
                // A retry with the same key got there first.
                return Ok(None);
            }
            let lead = for_account.or_else(|| holders.first().cloned());
            Ok(lead.map(|a| (a, holders.len(), code, id)))
        })
        .await?;
    let Some((account, holders, code, code_id)) = planned else {
        return Ok(());
    };
    let mut variables = BTreeMap::new();
    variables.insert("code".to_string(), code);
    variables.insert(
        "expires_minutes".to_string(),
        (codes::VALIDITY.as_secs() / 60).to_string(),
    );
    variables.insert("purpose".to_string(), request.purpose.as_str().to_string());
    let named = request.account_id.is_some() || holders == 1;
    ctx.messenger
        .send(SystemMessage {
            idempotency_key: format!("code:{code_id}"),
            district_id: account.district_id.clone(),
            kind: MessageKind::OneTimeCode,
            account_id: account.id.clone(),
            first_name: if named {
                account.given_name.clone()
            } else {
                String::new()
            },
            channel: channel_of(&request.identifier),
            address: request.identifier.as_str().to_string(),
            address_shared: holders > 1,
            language: account.preferred_language.clone(),
            variables,
        })
        .await
}

/// Checks a code for an address; consumes it and returns it when it matches.
async fn check(
    ctx: &Ctx,
    identifier: &Identifier,
    code: &str,
    purpose: Option<Purpose>,
) -> Result<(CodeRow, Vec<(AccountRow, Vec<ScopedRole>)>), IdentityError> {
    let now = chrono::Utc::now().naive_utc();
    let identifier_key = Scope::Identifier.key(identifier.as_str());
    if !codes::well_formed(code) {
        return Err(IdentityError::InvalidArgument(
            "code: enter the 6 digits you received".into(),
        ));
    }
    let (address_kind, value) = login::address_of(identifier);
    let typed = code.to_string();
    let key = identifier_key.clone();
    let found = ctx
        .db
        .transaction(move |conn| {
            if let Some(wait) = session_store::throttles(conn, std::slice::from_ref(&key))?
                .first()
                .and_then(|(_, _, until)| throttle::remaining(*until, now))
            {
                return Err(IdentityError::Throttled { retry_after: wait });
            }
            let Some(address_id) = store::accounts::address_id(conn, address_kind, &value)? else {
                return Ok(None);
            };
            let live = store::codes::live(conn, &address_id, now, codes::MAX_ATTEMPTS)?;
            let matched = live
                .iter()
                .find(|c| {
                    c.code_hash == codes::hash(&c.id, &typed)
                        && purpose.is_none_or(|p| p.as_str() == c.purpose)
                })
                .cloned();
            let Some(row) = matched else {
                let ids: Vec<String> = live.iter().map(|c| c.id.clone()).collect();
                store::codes::count_attempt(conn, &ids)?;
                return Ok(None);
            };
            if !store::codes::consume(conn, &row.id, now)? {
                return Ok(None);
            }
            let holders = store::accounts::login_holders(conn, address_kind, &value, None)?;
            let unlocked: Vec<AccountRow> = match &row.account_id {
                Some(id) => holders.into_iter().filter(|a| &a.id == id).collect(),
                None => holders,
            };
            let unlocked = store::accounts::with_roles(conn, unlocked)?;
            Ok(Some((row, unlocked)))
        })
        .await?;
    match found {
        Some(found) => Ok(found),
        None => {
            record_code_failure(ctx, identifier_key, now).await?;
            Err(IdentityError::Unauthenticated(CODE_FAILED))
        }
    }
}

async fn record_code_failure(
    ctx: &Ctx,
    key: String,
    now: NaiveDateTime,
) -> Result<(), IdentityError> {
    ctx.db
        .transaction(move |conn| {
            let existing = session_store::throttles(conn, std::slice::from_ref(&key))?;
            let counter = existing.first().map(|(_, c, _)| c);
            let (next, blocked) = throttle::after_failure(Scope::Identifier, counter, now);
            session_store::save_throttle(conn, &key, &next, blocked)?;
            Ok::<_, IdentityError>(())
        })
        .await
}

/// Signs in with a code (ID-4): tokens, or a choice among the accounts it unlocks.
pub async fn verify(
    ctx: &Ctx,
    identifier: &Identifier,
    code: &str,
    client_address: Option<&str>,
) -> Result<SignIn, IdentityError> {
    let (_, unlocked) = check(ctx, identifier, code, None).await?;
    let cleared = vec![Scope::Identifier.key(identifier.as_str())];
    login::finish(ctx, unlocked, client_address, "one_time_code", cleared).await
}

/// Joins (ID-4): an invitation code and a new password make the account ACTIVE.
pub async fn accept_invitation(
    ctx: &Ctx,
    identifier: &Identifier,
    code: &str,
    new_password: String,
    client_address: Option<&str>,
) -> Result<IssuedTokens, IdentityError> {
    password::check_policy(&new_password).map_err(IdentityError::InvalidArgument)?;
    let (_, unlocked) = check(ctx, identifier, code, Some(Purpose::Invitation)).await?;
    let [(account, roles)] = <[_; 1]>::try_from(unlocked).map_err(|_| {
        IdentityError::FailedPrecondition(
            "this address belongs to several accounts: open the invitation link sent to you, which names your account"
                .into(),
        )
    })?;
    if account.status() != AccountStatus::Invitee {
        return Err(IdentityError::FailedPrecondition(
            "this account has already joined; sign in with its password".into(),
        ));
    }
    let passwords = ctx.passwords.clone();
    let hash = tokio::task::spawn_blocking(move || passwords.hash(&new_password))
        .await
        .map_err(|e| IdentityError::Internal(e.into()))??;
    let now = chrono::Utc::now().naive_utc();
    let id = account.id.clone();
    let mut audit = AuditRow::new("invitation_accepted", &account.district_id, now);
    audit.actor_id = Some(id.clone());
    audit.subject_account_id = Some(id.clone());
    audit.client_address = client_address.map(str::to_owned);
    ctx.db
        .transaction(move |conn| {
            store::accounts::activate_with_password(conn, &id, &hash, now)?;
            store::audit::insert(conn, &[audit])?;
            Ok::<_, IdentityError>(())
        })
        .await?;
    let mut active = account;
    active.status = AccountStatus::Active.as_str().into();
    super::sessions::open_with(ctx, &active, Some(roles), None).await
}

/// The identifier of an account's own credential of `kind`, if it has one.
async fn own_identifier(
    ctx: &Ctx,
    account_id: &str,
    kind: CredentialKind,
) -> Result<Option<Identifier>, IdentityError> {
    let id = account_id.to_string();
    let Some((_, value)) = ctx
        .db
        .run(move |conn| {
            store::accounts::credential_of(conn, &id, kind).map_err(IdentityError::from)
        })
        .await?
    else {
        return Ok(None);
    };
    // Stored values are normalised already; E.164 parses under any region.
    Identifier::parse(&value, crate::domain::credential::Region::US)
        .map(Some)
        .map_err(|e| {
            IdentityError::Internal(anyhow::anyhow!("a stored address does not parse: {e}"))
        })
}

/// ID-7: sends a confirmation code to the account's own email or mobile phone.
pub async fn send_confirmation(
    ctx: &Ctx,
    account_id: &str,
    kind: CredentialKind,
    idempotency_key: Option<String>,
) -> Result<CodeSent, IdentityError> {
    if kind == CredentialKind::HomePhone {
        return Err(IdentityError::InvalidArgument(
            "kind: only the email and the mobile phone can be confirmed".into(),
        ));
    }
    let id = account_id.to_string();
    let account = ctx
        .db
        .run(move |conn| store::accounts::find(conn, &id).map_err(IdentityError::from))
        .await?
        .ok_or_else(|| IdentityError::NotFound("no such account".into()))?;
    let identifier = own_identifier(ctx, account_id, kind)
        .await?
        .ok_or_else(|| {
            IdentityError::FailedPrecondition(format!(
                "the account has no {} to confirm",
                kind.as_str().replace('_', " ")
            ))
        })?;
    send(
        ctx,
        SendCode {
            identifier,
            district_id: Some(account.district_id),
            account_id: Some(account.id),
            purpose: Purpose::Confirm,
            idempotency_key,
        },
    )
    .await
}

/// ID-7: confirms the account's credential with the code sent to it.
pub async fn confirm(
    ctx: &Ctx,
    account_id: &str,
    kind: CredentialKind,
    code: &str,
) -> Result<(), IdentityError> {
    let identifier = own_identifier(ctx, account_id, kind)
        .await?
        .ok_or_else(|| IdentityError::FailedPrecondition("nothing to confirm".into()))?;
    let (row, _) = check(ctx, &identifier, code, Some(Purpose::Confirm)).await?;
    if row.account_id.as_deref() != Some(account_id) {
        return Err(IdentityError::Unauthenticated(CODE_FAILED));
    }
    let id = account_id.to_string();
    let now = chrono::Utc::now().naive_utc();
    ctx.db
        .transaction(move |conn| {
            store::accounts::confirm_credential(conn, &id, kind, now)?;
            // The account confirmed its own address: the audit says which.
            if let Some(account) = store::accounts::find(conn, &id)? {
                let mut audit = AuditRow::new("credential_confirmed", &account.district_id, now);
                audit.actor_id = Some(id.clone());
                audit.subject_account_id = Some(id.clone());
                audit.detail = kind.as_str().to_owned();
                store::audit::insert(conn, &[audit])?;
            }
            Ok::<_, IdentityError>(())
        })
        .await?;
    Ok(())
}
