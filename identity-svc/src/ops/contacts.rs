//! Who may change contact details and how (ID-8), invitations (ID-4), and
//! the roster-driven account life cycle (RO-3, RO-6).

use std::collections::{BTreeMap, HashMap};

use homeroom_platform::{
    auth::{Principal, Role},
    telemetry::mask_address,
};

use super::{
    Ctx,
    accounts::AccountView,
    messenger::{MessageChannel, MessageKind, SystemMessage},
};
use crate::{
    domain::{
        accounts::{AccountStatus, CredentialKind, Names},
        error::{IdentityError, SYNC_MANAGES_CONTACTS},
        upsert::Changes,
    },
    store::{self, accounts::Write, audit::AuditRow},
};

/// A contact edit, validated at the edge. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactEdit {
    /// New given name.
    pub given_name: Option<String>,
    /// New middle name.
    pub middle_name: Option<String>,
    /// New family name.
    pub family_name: Option<String>,
    /// Per kind: `Some(None)` removes, `Some(Some(v))` sets a normalised value.
    pub contacts: Vec<(CredentialKind, Option<String>)>,
    /// New language.
    pub language: Option<String>,
}

impl ContactEdit {
    fn touches_contact_details(&self) -> bool {
        self.given_name.is_some()
            || self.middle_name.is_some()
            || self.family_name.is_some()
            || !self.contacts.is_empty()
    }
}

/// ID-8: edits an account's contact details; returns the account and the
/// credential kinds that are now unconfirmed (ID-7).
pub async fn update(
    ctx: &Ctx,
    caller: &Principal,
    account_id: &str,
    edit: ContactEdit,
    client_address: Option<String>,
) -> Result<(AccountView, Vec<CredentialKind>), IdentityError> {
    let view = super::accounts::get(&ctx.db, account_id.to_string()).await?;
    if !crate::domain::authz::may_read_account(caller, &view.id, &view.district_id) {
        return Err(IdentityError::NotFound(format!(
            "no account {account_id:?}"
        )));
    }
    if !is_self_or_manager(caller, &view) {
        return Err(IdentityError::PermissionDenied(
            "only the user or a user manager of the district may change contact details".into(),
        ));
    }
    let sync_locked = view.status == AccountStatus::Active && view.contact_managed_by_sync;
    if sync_locked && edit.touches_contact_details() {
        return Err(IdentityError::FailedPrecondition(
            SYNC_MANAGES_CONTACTS.into(),
        ));
    }
    let names = Names {
        given: edit
            .given_name
            .clone()
            .unwrap_or_else(|| view.names.given.clone()),
        middle: edit
            .middle_name
            .clone()
            .unwrap_or_else(|| view.names.middle.clone()),
        family: edit
            .family_name
            .clone()
            .unwrap_or_else(|| view.names.family.clone()),
    };
    let contacts: Vec<(CredentialKind, Option<String>)> = edit
        .contacts
        .iter()
        .filter(|(kind, value)| {
            view.credentials
                .iter()
                .find(|c| c.kind == *kind)
                .map(|c| &c.value)
                != value.as_ref()
        })
        .cloned()
        .collect();
    let changes = Changes {
        names: (names != view.names).then_some(names),
        language: edit.language.clone().filter(|l| *l != view.language),
        contacts: contacts.clone(),
        ..Changes::default()
    };
    let unconfirmed: Vec<CredentialKind> = contacts
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
    if changes != Changes::default() {
        let now = chrono::Utc::now().naive_utc();
        let mut audit = AuditRow::new("contact_details_changed", &view.district_id, now);
        audit.actor_id = Some(actor(caller));
        audit.subject_account_id = Some(view.id.clone());
        audit.client_address = client_address;
        audit.detail = contacts
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    k.as_str(),
                    v.as_deref().map(mask_address).unwrap_or_default()
                )
            })
            .chain(changes.names.as_ref().map(|_| "names".to_string()))
            .chain(changes.language.as_ref().map(|l| format!("language={l}")))
            .collect::<Vec<_>>()
            .join(" ");
        let (id, district) = (view.id.clone(), view.district_id.clone());
        ctx.db
            .transaction(move |conn| {
                let writes = [Write::Update {
                    id,
                    changes: &changes,
                }];
                store::accounts::apply(conn, &district, "", &writes, now)?;
                store::audit::insert(conn, &[audit])?;
                Ok::<_, IdentityError>(())
            })
            .await?;
    }
    let view = super::accounts::get(&ctx.db, account_id.to_string()).await?;
    Ok((view, unconfirmed))
}

fn is_self_or_manager(caller: &Principal, view: &AccountView) -> bool {
    match caller {
        Principal::Account { account_id, .. } if *account_id == view.id => true,
        _ => {
            caller.has_district_role(&view.district_id, Role::UserManager)
                || caller.has_district_role(&view.district_id, Role::DistrictAdmin)
        }
    }
}

fn actor(caller: &Principal) -> String {
    match caller {
        Principal::Account { account_id, .. } => account_id.clone(),
        Principal::Service { name } => format!("service:{name}"),
    }
}

/// What inviting one account did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitation {
    /// Sent to these credentials.
    Sent(Vec<CredentialKind>),
    /// Invited before and not asked to resend.
    AlreadyInvited,
    /// Joined already.
    AlreadyActive,
    /// Deactivated.
    Deactivated,
    /// No email and no mobile phone.
    NoAddress,
    /// Not an account of the district.
    NotFound,
}

/// ID-4: invites invitees of a district (an INVITATION message to each of their
/// email and mobile phone, in their language). Retries with the same
/// `idempotency_key` send nothing twice.
pub async fn invite(
    ctx: &Ctx,
    district_id: &str,
    account_ids: Vec<String>,
    resend: bool,
    idempotency_key: &str,
) -> Result<Vec<(String, Invitation)>, IdentityError> {
    let district = district_id.to_string();
    let ids = account_ids.clone();
    let (rows, contacts, holders, district_name) = ctx
        .db
        .run(move |conn| {
            let mut found: HashMap<String, _> = store::accounts::find_many(conn, &ids)?
                .into_iter()
                .filter(|a| a.district_id == district)
                .map(|a| (a.id.clone(), a))
                .collect();
            let rows: Vec<_> = ids.iter().map(|id| found.remove(id)).collect();
            let contacts = store::accounts::contacts_of(conn, &ids)?;
            let values: Vec<String> = contacts
                .values()
                .flat_map(|c| [c.email.clone(), c.mobile_phone.clone()])
                .flatten()
                .collect();
            let holders = store::accounts::holder_counts_by_value(conn, &values)?;
            let names = store::accounts::org_names(conn, std::slice::from_ref(&district))?;
            Ok::<_, IdentityError>((
                rows,
                contacts,
                holders,
                names.get(&district).cloned().unwrap_or_default(),
            ))
        })
        .await?;
    let now = chrono::Utc::now().naive_utc();
    // One join link per account invited now, for its email and its phone.
    let to_invite: Vec<String> = rows
        .iter()
        .flatten()
        .filter(|a| {
            a.status() == AccountStatus::Invitee
                && (a.invited_at.is_none() || resend)
                && contacts
                    .get(&a.id)
                    .is_some_and(|c| c.email.is_some() || c.mobile_phone.is_some())
        })
        .map(|a| a.id.clone())
        .collect();
    let links: HashMap<String, String> = ctx
        .db
        .transaction(move |conn| {
            to_invite
                .into_iter()
                .map(|id| {
                    let token = super::invitations::new_link(conn, &id, now)?;
                    Ok::<_, IdentityError>((id, token))
                })
                .collect()
        })
        .await?;
    let mut results = Vec::with_capacity(account_ids.len());
    let mut invited = Vec::new();
    let mut messages = Vec::new();
    for (id, row) in account_ids.into_iter().zip(rows) {
        let outcome = match row {
            None => Invitation::NotFound,
            Some(a) if a.status() == AccountStatus::Deactivated => Invitation::Deactivated,
            Some(a) if a.status() == AccountStatus::Active => Invitation::AlreadyActive,
            Some(a) if a.invited_at.is_some() && !resend => Invitation::AlreadyInvited,
            Some(a) => {
                let c = contacts.get(&a.id).cloned().unwrap_or_default();
                let targets: Vec<(CredentialKind, MessageChannel, String)> = [
                    (CredentialKind::Email, MessageChannel::Email, c.email),
                    (
                        CredentialKind::MobilePhone,
                        MessageChannel::Sms,
                        c.mobile_phone,
                    ),
                ]
                .into_iter()
                .filter_map(|(k, ch, v)| v.map(|v| (k, ch, v)))
                .collect();
                if targets.is_empty() {
                    Invitation::NoAddress
                } else {
                    for (kind, channel, address) in &targets {
                        let mut variables = BTreeMap::new();
                        variables.insert("district_name".to_string(), district_name.clone());
                        if let Some(url) = links
                            .get(&a.id)
                            .and_then(|token| super::invitations::url(ctx, token))
                        {
                            variables.insert("join_url".to_string(), url);
                            variables.insert(
                                "valid_days".to_string(),
                                (super::invitations::LINK_VALID_FOR.as_secs() / 86_400).to_string(),
                            );
                        }
                        messages.push(SystemMessage {
                            idempotency_key: format!(
                                "invite:{idempotency_key}:{}:{}",
                                a.id,
                                kind.as_str()
                            ),
                            district_id: a.district_id.clone(),
                            kind: MessageKind::Invitation,
                            account_id: a.id.clone(),
                            first_name: a.given_name.clone(),
                            channel: *channel,
                            address: address.clone(),
                            address_shared: holders.get(address).copied().unwrap_or(1) > 1,
                            language: a.preferred_language.clone(),
                            variables,
                        });
                    }
                    invited.push(a.id.clone());
                    Invitation::Sent(targets.into_iter().map(|(k, _, _)| k).collect())
                }
            }
        };
        results.push((id, outcome));
    }
    ctx.messenger.send_many(messages).await?;
    if !invited.is_empty() {
        ctx.db
            .run(move |conn| {
                store::accounts::mark_invited(conn, &invited, now).map_err(IdentityError::from)
            })
            .await?;
    }
    Ok(results)
}

/// What deactivating one key or account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deactivation {
    /// Now deactivated (history kept).
    Deactivated,
    /// It was already.
    AlreadyDeactivated,
    /// Another source still supplies it: left as it is.
    KeptByOtherSource,
    /// No such key or account.
    NotFound,
}

/// RO-3: deactivates accounts a source no longer supplies (never deletes; the
/// source key stays, so the account comes back if the source brings it back).
pub async fn deactivate(
    ctx: &Ctx,
    district_id: &str,
    source_system: &str,
    source_ids: Vec<String>,
    account_ids: Vec<String>,
    dry_run: bool,
    reason: &str,
) -> Result<Vec<(String, String, Deactivation)>, IdentityError> {
    let (district, source, reason) = (
        district_id.to_string(),
        source_system.to_string(),
        reason.to_string(),
    );
    ctx.db
        .transaction(move |conn| {
            let now = chrono::Utc::now().naive_utc();
            let keys: Vec<&str> = source_ids.iter().map(String::as_str).collect();
            let by_source = store::accounts::accounts_by_source(conn, &district, &source, &keys)?;
            let mut targets: Vec<(String, Option<String>, bool)> = source_ids
                .iter()
                .map(|s| (s.clone(), by_source.get(s).cloned(), true))
                .collect();
            targets.extend(
                account_ids
                    .iter()
                    .map(|a| (String::new(), Some(a.clone()), false)),
            );
            let mut results = Vec::with_capacity(targets.len());
            let mut to_deactivate = Vec::new();
            for (source_id, account, by_key) in targets {
                let row = match &account {
                    Some(id) => {
                        store::accounts::find(conn, id)?.filter(|a| a.district_id == district)
                    }
                    None => None,
                };
                let outcome = match row {
                    None => Deactivation::NotFound,
                    Some(a) if a.status() == AccountStatus::Deactivated => {
                        Deactivation::AlreadyDeactivated
                    }
                    Some(a)
                        if by_key && store::accounts::other_sources(conn, &a.id, &source)? > 0 =>
                    {
                        Deactivation::KeptByOtherSource
                    }
                    Some(a) => {
                        to_deactivate.push(a.id.clone());
                        Deactivation::Deactivated
                    }
                };
                results.push((source_id, account.unwrap_or_default(), outcome));
            }
            if !dry_run && !to_deactivate.is_empty() {
                store::accounts::deactivate(conn, &to_deactivate, now)?;
                let rows: Vec<AuditRow> = to_deactivate
                    .iter()
                    .map(|id| {
                        let mut row = AuditRow::new("account_deactivated", &district, now);
                        row.actor_id = Some(format!("service:roster:{source}"));
                        row.subject_account_id = Some(id.clone());
                        row.detail = reason.clone();
                        row
                    })
                    .collect();
                store::audit::insert(conn, &rows)?;
            }
            Ok::<_, IdentityError>(results)
        })
        .await
}

/// RO-6: the source's "Allow the sync to update contact details of active
/// users" setting changed: set the flag on its accounts; returns how many changed.
pub async fn set_managed_by_sync(
    ctx: &Ctx,
    district_id: &str,
    source_system: &str,
    managed: bool,
) -> Result<usize, IdentityError> {
    let (district, source) = (district_id.to_string(), source_system.to_string());
    ctx.db
        .run(move |conn| {
            store::accounts::set_contact_managed_by_sync(conn, &district, &source, managed)
                .map_err(IdentityError::from)
        })
        .await
}
