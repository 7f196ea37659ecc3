//! Address status (MS-6, MS-3) and Reset Status (MS-7): who may read and
//! who may reset, the batch read, and the audited reset that clears bad and
//! its reason, keeps every event and any STOP, and sends nothing. What a
//! status says is `view`.

mod view;

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use homeroom_platform::{
    auth::{Principal, Role},
    db::{Db, DbConn},
    telemetry::mask_address,
};

use self::view::views;
pub use self::view::{AddressView, BadCause};
use super::{
    audit::{AuditEvent, AuditKind, AuditOutbox},
    directory::Directory,
};
use crate::{
    domain::{error::MessagingError, masking::redact, plan::Channel},
    store::{addresses, events as store},
};

/// MS-7: the account that may reset addresses of `district_id`, or PERMISSION_DENIED.
/// Rostering, communications and district administrators and user managers
/// of the whole district may; a school-scoped grant does not reach (an
/// address belongs to accounts, not to a school); services may not (the
/// audit row names a person).
pub fn resetter(caller: &Principal, district_id: &str) -> Result<String, MessagingError> {
    match caller {
        Principal::Account { account_id, .. } if caller.may_reset_addresses(district_id) => {
            Ok(account_id.clone())
        }
        _ => Err(MessagingError::PermissionDenied(
            "Reset Status needs the rostering administrator, communications administrator, \
             user manager or district administrator role of the district"
                .into(),
        )),
    }
}

/// Whose addresses a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// Services and staff of the district: any address.
    Any,
    /// An account without a staff role: the addresses it was sent to; others read as never seen.
    Own(String),
}

/// MS-6: who may read address status of `district_id`: service callers, staff
/// of the district (any role but guardian, district-wide or for a school), and
/// other accounts of the district for their own addresses.
pub fn reader(caller: &Principal, district_id: &str) -> Result<Reader, MessagingError> {
    match caller {
        Principal::Service { .. } => Ok(Reader::Any),
        Principal::Account {
            account_id,
            district_id: own,
            roles,
        } if own == district_id => {
            if roles.iter().any(|g| g.role != Role::Guardian) {
                Ok(Reader::Any)
            } else {
                Ok(Reader::Own(account_id.clone()))
            }
        }
        Principal::Account { .. } => Err(MessagingError::PermissionDenied(
            "address status is readable only within your own district".into(),
        )),
    }
}

/// MS-6: statuses of `addresses`, one per request entry, in order. Staff
/// read only addresses an account of their district holds; any other reads
/// as never seen, so nothing of another district's families shows.
pub async fn get(
    db: &Db,
    directory: &dyn Directory,
    caller: &Principal,
    district_id: &str,
    addresses: Vec<(Channel, String)>,
) -> Result<Vec<AddressView>, MessagingError> {
    let reader = reader(caller, district_id)?;
    let of_district = match (&reader, caller) {
        (Reader::Any, Principal::Account { .. }) => {
            let values: Vec<String> = addresses.iter().map(|(_, a)| a.clone()).collect();
            Some(directory.held_in(district_id, values).await?)
        }
        _ => None,
    };
    db.run(move |c| {
        let now = chrono::Utc::now().naive_utc();
        let mut out = views(c, &addresses, now)?;
        if let Some(held) = of_district {
            for view in &mut out {
                if !held.contains(&view.address) {
                    *view = AddressView::ok(view.channel, view.address.clone());
                }
            }
        }
        if let Reader::Own(account_id) = reader {
            let wanted: Vec<String> = addresses.iter().map(|(_, a)| a.clone()).collect();
            let own = store::addresses_of_account(c, &account_id, &wanted)?;
            for view in &mut out {
                if !own.contains(&view.address) {
                    *view = AddressView::ok(view.channel, view.address.clone());
                }
            }
        }
        Ok(out)
    })
    .await
}

/// Most bad addresses [`bad_in_district`] lists.
pub const MAX_BAD_LISTED: usize = 10_000;

/// The bad addresses a district's accounts hold, and whether there were more
/// than [`MAX_BAD_LISTED`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadAddresses {
    /// (channel, address), by address then channel.
    pub addresses: Vec<(Channel, String)>,
    /// More were bad than listed.
    pub truncated: bool,
}

/// MS-6, GW-3 People "has a bad address": the addresses marked bad that an
/// account of `district_id` holds — whoever's message found them bad, since
/// the district's messages skip them too. Staff of the district and services
/// only ([`reader`] reading any address); a bad address held only in another
/// district never shows.
pub async fn bad_in_district(
    db: &Db,
    directory: &dyn Directory,
    caller: &Principal,
    district_id: &str,
) -> Result<BadAddresses, MessagingError> {
    if reader(caller, district_id)? != Reader::Any {
        return Err(MessagingError::PermissionDenied(
            "the district's bad addresses are listed for its staff".into(),
        ));
    }
    let bad = db
        .run(|c| addresses::bad(c).map_err(MessagingError::from))
        .await?;
    let mut values: Vec<String> = bad.iter().map(|(_, a)| a.clone()).collect();
    values.dedup();
    let held = directory.held_in(district_id, values).await?;
    let mut listed: Vec<(Channel, String)> = bad
        .into_iter()
        .filter(|(_, address)| held.contains(address))
        .filter_map(|(channel, address)| Some((Channel::parse(&channel)?, address)))
        .collect();
    let truncated = listed.len() > MAX_BAD_LISTED;
    listed.truncate(MAX_BAD_LISTED);
    Ok(BadAddresses {
        addresses: listed,
        truncated,
    })
}

/// What to reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetTarget {
    /// An address on a channel.
    Address(Channel, String),
    /// An account's address on a channel (the one messaging last sent it on).
    AccountChannel(String, Channel),
}

/// A Reset Status request, validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRequest {
    /// The caller's district; the address must have been sent to for it.
    pub district_id: String,
    /// What.
    pub target: ResetTarget,
    /// For the audit row.
    pub note: String,
    /// Gateway request id, for the audit row.
    pub request_id: String,
    /// Client IP, for the audit row.
    pub ip_address: String,
}

/// What a reset cleared and what is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetOutcome {
    /// The status before.
    pub cleared: AddressView,
    /// The status after: not bad, opt-out unchanged.
    pub current: AddressView,
}

/// MS-7: clears the bad status and reason of one address on one channel. Keeps
/// the event history and any STOP opt-out, queues nothing, and audits it
/// twice in the same transaction: a `reset` address event naming the actor,
/// with the cleared reason, note, request id and IP as JSON (messaging's own
/// history), and an ADDRESS_STATUS_RESET event in the outbox for identity's
/// audit log, which the forwarder delivers even if identity is down now.
pub async fn reset(
    db: &Db,
    outbox: &AuditOutbox,
    caller: &Principal,
    req: ResetRequest,
) -> Result<ResetOutcome, MessagingError> {
    let actor = resetter(caller, &req.district_id)?;
    let writer = outbox.clone();
    let outcome = db
        .transaction(move |c| {
            let now = chrono::Utc::now().naive_utc();
            let (channel, address) = target_address(c, &req)?;
            let key = [(channel, address.clone())];
            let cleared = views(c, &key, now)?.pop().ok_or_else(no_view)?;
            addresses::reset(c, &[channel], &address, now)?;
            let audit = serde_json::json!({
                "action": "address_status_reset",
                "district_id": req.district_id,
                "cleared_reason": cleared.reason,
                "was_bad": cleared.bad,
                "note": req.note,
                "request_id": req.request_id,
                "ip_address": req.ip_address,
            })
            .to_string();
            addresses::record_event(
                c,
                channel,
                &address,
                "reset",
                &audit,
                None,
                Some(&actor),
                now,
            )?;
            let current = views(c, &key, now)?.pop().ok_or_else(no_view)?;
            writer.enqueue(c, &audit_event(&req, &actor, &cleared, now))?;
            tracing::info!(
                channel = channel.as_str(),
                address = %mask_address(&address),
                actor = %actor,
                was_bad = cleared.bad,
                "address status reset"
            );
            Ok::<_, MessagingError>(ResetOutcome { cleared, current })
        })
        .await?;
    outbox.wake();
    Ok(outcome)
}

/// The event identity's audit log gets for a reset: the address masked, in
/// the cleared reason too (relays quote the recipient).
fn audit_event(
    req: &ResetRequest,
    actor: &str,
    cleared: &AddressView,
    now: NaiveDateTime,
) -> AuditEvent {
    let masked = mask_address(&cleared.address);
    let channel = cleared.channel.as_str();
    let reason = cleared.reason.as_deref().unwrap_or_default();
    let mut details = BTreeMap::from([
        ("channel".to_string(), channel.to_string()),
        ("address".to_string(), masked.clone()),
        ("was_bad".to_string(), cleared.bad.to_string()),
        (
            "cleared_reason".to_string(),
            redact(reason, &cleared.address),
        ),
    ]);
    if !req.note.is_empty() {
        details.insert("note".into(), req.note.clone());
    }
    AuditEvent {
        kind: AuditKind::AddressStatusReset,
        occurred_at: now,
        district_id: req.district_id.clone(),
        actor_account_id: actor.to_string(),
        subject_account_id: match &req.target {
            ResetTarget::AccountChannel(account_id, _) => Some(account_id.clone()),
            ResetTarget::Address(..) => None,
        },
        ip_address: req.ip_address.clone(),
        request_id: req.request_id.clone(),
        summary: format!("{channel} status reset for {masked}"),
        details,
    }
}

fn no_view() -> MessagingError {
    MessagingError::Internal(anyhow::anyhow!("no status view for a requested address"))
}

/// The address a reset is about, if the district ever sent to it; else PERMISSION_DENIED.
fn target_address(c: &mut DbConn, req: &ResetRequest) -> Result<(Channel, String), MessagingError> {
    match &req.target {
        ResetTarget::Address(channel, address) => {
            if store::district_sent_to(c, &req.district_id, address)? {
                Ok((*channel, address.clone()))
            } else {
                Err(MessagingError::PermissionDenied(
                    "the address belongs to no account your district has messaged".into(),
                ))
            }
        }
        ResetTarget::AccountChannel(account_id, channel) => {
            // SMS and voice go to the same mobile phone.
            let channels: &[Channel] = match channel {
                Channel::Email => &[Channel::Email],
                Channel::Sms | Channel::Voice => &[Channel::Sms, Channel::Voice],
            };
            store::account_address(c, &req.district_id, account_id, channels)?
                .map(|address| (*channel, address))
                .ok_or_else(|| {
                    MessagingError::InvalidArgument(
                        "account_channel: your district has not messaged this account on that \
                         channel; reset by address instead"
                            .into(),
                    )
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use homeroom_platform::auth::RoleGrant;

    use super::*;

    fn account(district: &str, role: Role, school: Option<&str>) -> Principal {
        Principal::Account {
            account_id: "a-1".into(),
            district_id: district.into(),
            roles: vec![RoleGrant {
                role,
                school_id: school.map(str::to_string),
            }],
        }
    }

    #[test]
    fn district_wide_administrators_and_user_managers_reset_and_nobody_else() {
        for role in homeroom_platform::auth::ADDRESS_RESETTERS {
            assert_eq!(resetter(&account("d-1", role, None), "d-1").unwrap(), "a-1");
            assert!(resetter(&account("d-2", role, None), "d-1").is_err());
        }
        for role in [Role::Teacher, Role::Staff, Role::Guardian] {
            assert!(resetter(&account("d-1", role, None), "d-1").is_err());
        }
        assert!(resetter(&account("d-1", Role::UserManager, Some("s-1")), "d-1").is_err());
        let gateway = Principal::Service {
            name: "gateway".into(),
        };
        assert!(resetter(&gateway, "d-1").is_err());
    }

    #[test]
    fn staff_read_any_address_and_guardians_their_own() {
        assert_eq!(
            reader(&account("d-1", Role::Teacher, Some("s-1")), "d-1").unwrap(),
            Reader::Any
        );
        assert_eq!(
            reader(&account("d-1", Role::Guardian, None), "d-1").unwrap(),
            Reader::Own("a-1".into())
        );
        assert!(reader(&account("d-2", Role::DistrictAdmin, None), "d-1").is_err());
        assert_eq!(
            reader(
                &Principal::Service {
                    name: "identity".into()
                },
                "d-1"
            )
            .unwrap(),
            Reader::Any
        );
    }
}
