//! Reading communications back (MS-1, MS-5): who may see one, one with its
//! current per-channel counts, and a district's list. A communication is
//! visible to its sender and to the district-wide communications and district
//! administrators of its district; a caller of another district learns
//! nothing, not even that it exists. Its deliveries are `delivery_list`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use homeroom_platform::{
    auth::{Principal, Role},
    db::{Db, DbConn},
};

use super::ChannelSummary;
use crate::{
    domain::{
        error::MessagingError,
        plan::{Channel, SkipReason},
    },
    ops::{directory::AudienceSpec, events::DeliveryStatus, paging::Page},
    store::communications::{self as store, CommunicationFilter, CommunicationRecord, CountRow},
};

/// Roles that see every communication of their district, with full addresses.
const ADMINISTRATORS: [Role; 2] = [Role::CommunicationsAdmin, Role::DistrictAdmin];

/// How much of a communication a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// A district-wide communications or district administrator: all of it.
    Administrator,
    /// Its sender: all of it, addresses masked.
    Sender,
}

/// MS-1: whether `caller` may see a communication of `district_id` sent by
/// `sender`. Staff of the same district who may not are PERMISSION_DENIED;
/// anyone else is told it does not exist.
pub fn viewer(
    caller: &Principal,
    district_id: &str,
    sender: &str,
) -> Result<Viewer, MessagingError> {
    match caller {
        Principal::Service { .. } => Err(MessagingError::PermissionDenied(
            "communications are read by accounts; the gateway forwards the user's token".into(),
        )),
        Principal::Account { .. }
            if ADMINISTRATORS
                .iter()
                .any(|r| caller.has_district_role(district_id, *r)) =>
        {
            Ok(Viewer::Administrator)
        }
        Principal::Account { account_id, .. } if account_id == sender => Ok(Viewer::Sender),
        Principal::Account {
            district_id: own, ..
        } if own == district_id => Err(MessagingError::PermissionDenied(
            "a communication is visible to its sender and to the district's communications \
                 and district administrators"
                .into(),
        )),
        Principal::Account { .. } => Err(not_found()),
    }
}

pub(super) fn not_found() -> MessagingError {
    MessagingError::NotFound("no communication with this id".into())
}

/// MS-1: where a communication stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommunicationState {
    /// Being planned (planning finishes inside SendCommunication, so a stored
    /// communication is never in this state).
    Planning,
    /// Deliveries are queued or in flight.
    Sending,
    /// Every delivery reached a final status.
    Completed,
    /// Planning failed (nothing is stored then, so never listed).
    Failed,
}

/// A communication with its current counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunicationView {
    /// Id.
    pub id: String,
    /// District.
    pub district_id: String,
    /// Sender.
    pub sender_account_id: String,
    /// Default subject.
    pub subject: String,
    /// Default body.
    pub body: String,
    /// Per-language (language, subject, body).
    pub variants: Vec<(String, String, String)>,
    /// Channels requested.
    pub channels: Vec<Channel>,
    /// The audience as requested.
    pub audience: AudienceSpec,
    /// Preferences were overridden.
    pub emergency: bool,
    /// Sending or completed.
    pub state: CommunicationState,
    /// Accounts in the audience.
    pub recipients: u64,
    /// Per channel: accounts, addresses, skips and deliveries by status.
    pub counts: BTreeMap<Channel, ChannelSummary>,
    /// When it was requested (and planned: planning is part of the request).
    pub created_at: NaiveDateTime,
    /// When its last delivery reached a final status.
    pub completed_at: Option<NaiveDateTime>,
}

/// MS-1 / MS-5: one communication with its current counts.
pub async fn get(
    db: &Db,
    caller: &Principal,
    communication_id: &str,
) -> Result<(CommunicationView, Viewer), MessagingError> {
    let id = communication_id.trim().to_string();
    if id.is_empty() {
        return Err(MessagingError::InvalidArgument(
            "communication_id: required".into(),
        ));
    }
    let caller = caller.clone();
    db.run(move |c| {
        let record = store::by_id(c, &id)?.ok_or_else(not_found)?;
        let viewer = viewer(&caller, &record.district_id, &record.sender_account_id)?;
        let view = views(c, vec![record])?.pop().ok_or_else(not_found)?;
        Ok((view, viewer))
    })
    .await
}

/// A stored communication with its counts, unchecked (a replayed send's answer).
pub(super) fn stored(
    c: &mut DbConn,
    id: &str,
) -> Result<Option<CommunicationView>, MessagingError> {
    match store::by_id(c, id)? {
        Some(record) => Ok(views(c, vec![record])?.pop()),
        None => Ok(None),
    }
}

/// Which communications of a district to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// District; empty means the caller's.
    pub district_id: String,
    /// Only this sender's.
    pub sender_account_id: Option<String>,
    /// Only these states; empty means any.
    pub states: Vec<CommunicationState>,
    /// Only emergencies.
    pub emergency_only: bool,
    /// Created at or after.
    pub since: Option<NaiveDateTime>,
    /// Created before.
    pub until: Option<NaiveDateTime>,
    /// Text the subject contains (any case).
    pub query: String,
    /// Per page (0 → 50, at most 500).
    pub page_size: i32,
    /// From the previous page.
    pub page_token: String,
}

/// MS-1: who lists which communications of `district_id`: the district-wide
/// communications and district administrators all of them; teachers and
/// school-scoped administrators their own (what reaches a school is roster's
/// to say, as for sending); nobody else.
fn list_scope(caller: &Principal, district_id: &str) -> Result<Option<String>, MessagingError> {
    if ADMINISTRATORS
        .iter()
        .any(|r| caller.has_district_role(district_id, *r))
    {
        return Ok(None);
    }
    match caller {
        Principal::Account {
            account_id,
            district_id: own,
            roles,
        } if own == district_id
            && roles.iter().any(|g| {
                g.role == Role::Teacher
                    || (ADMINISTRATORS.contains(&g.role) && g.school_id.is_some())
            }) =>
        {
            Ok(Some(account_id.clone()))
        }
        _ => Err(MessagingError::PermissionDenied(
            "listing communications needs the communications or district administrator role of \
             the district; teachers list their own"
                .into(),
        )),
    }
}

/// MS-1: a page of a district's communications, newest first, and the next page's token.
pub async fn list(
    db: &Db,
    caller: &Principal,
    query: ListQuery,
) -> Result<(Vec<CommunicationView>, String), MessagingError> {
    let district_id = match (query.district_id.trim(), caller.district_id()) {
        ("", Some(own)) => own.to_string(),
        (district, _) => district.to_string(),
    };
    let own = list_scope(caller, &district_id)?;
    let sender = match (own, query.sender_account_id) {
        (Some(me), Some(named)) if named != me => {
            return Err(MessagingError::PermissionDenied(
                "sender_account_id: you may list only the communications you sent".into(),
            ));
        }
        (Some(me), _) => Some(me),
        (None, named) => named,
    };
    let page = Page::new(query.page_size, &query.page_token, 50, 500)?;
    let wants = |s| query.states.is_empty() || query.states.contains(&s);
    let in_flight = match (
        wants(CommunicationState::Sending),
        wants(CommunicationState::Completed),
    ) {
        (true, true) => None,
        (true, false) => Some(true),
        (false, true) => Some(false),
        // Planning and failed communications are never stored.
        (false, false) => return Ok((Vec::new(), String::new())),
    };
    let filter = CommunicationFilter {
        district_id,
        sender_account_id: sender,
        in_flight,
        emergency_only: query.emergency_only,
        since: query.since,
        until: query.until,
        subject_contains: Some(query.query.trim().to_lowercase()).filter(|q| !q.is_empty()),
        before_id: page.after.clone(),
    };
    let limit = page.limit();
    let mut records = db
        .run(move |c| store::page(c, &filter, limit).map_err(MessagingError::from))
        .await?;
    let next = page.cut(&mut records, |r| &r.id);
    let views = db.run(move |c| views(c, records)).await?;
    Ok((views, next))
}

/// Counts for stored communications, in the given order.
fn views(
    c: &mut DbConn,
    records: Vec<CommunicationRecord>,
) -> Result<Vec<CommunicationView>, MessagingError> {
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let rows = store::delivery_counts(c, &ids)?;
    let planned: Vec<store::PlannedCounts> = records
        .iter()
        .map(|r| serde_json::from_str(&r.planned_counts).unwrap_or_default())
        .collect();
    let unplanned: Vec<String> = records
        .iter()
        .zip(&planned)
        .filter(|(_, p)| p.recipients.is_none())
        .map(|(r, _)| r.id.clone())
        .collect();
    let counted: BTreeMap<String, i64> = if unplanned.is_empty() {
        BTreeMap::new()
    } else {
        store::recipient_counts(c, &unplanned)?
            .into_iter()
            .collect()
    };
    Ok(records
        .into_iter()
        .zip(planned)
        .map(|(r, planned)| {
            let mine: Vec<&CountRow> = rows
                .iter()
                .filter(|row| row.communication_id == r.id)
                .collect();
            let recipients = planned.recipients.unwrap_or_else(|| {
                counted
                    .get(&r.id)
                    .map_or(0, |n| u64::try_from(*n).unwrap_or(0))
            });
            view(r, &planned, &mine, recipients)
        })
        .collect())
}

fn view(
    r: CommunicationRecord,
    planned: &store::PlannedCounts,
    rows: &[&CountRow],
    recipients: u64,
) -> CommunicationView {
    let channels: Vec<Channel> = r.channels.split(',').filter_map(Channel::parse).collect();
    let counts = channel_counts(&channels, planned, rows);
    let in_flight = rows
        .iter()
        .any(|row| store::IN_FLIGHT.contains(&row.status.as_str()));
    let (state, completed_at) = if in_flight {
        (CommunicationState::Sending, None)
    } else {
        let last = rows.iter().filter_map(|row| row.last_change).max();
        (
            CommunicationState::Completed,
            Some(last.unwrap_or(r.created_at)),
        )
    };
    CommunicationView {
        variants: serde_json::from_str(&r.variants).unwrap_or_default(),
        audience: serde_json::from_str(&r.audience).unwrap_or_default(),
        id: r.id,
        district_id: r.district_id,
        sender_account_id: r.sender_account_id,
        subject: r.subject,
        body: r.body,
        channels,
        emergency: r.emergency,
        state,
        recipients,
        counts,
        created_at: r.created_at,
        completed_at,
    }
}

/// MS-2 / MS-5: per channel, what planning counted (accounts reached and
/// skipped) and what the deliveries say now.
pub fn channel_counts(
    channels: &[Channel],
    planned: &store::PlannedCounts,
    rows: &[&CountRow],
) -> BTreeMap<Channel, ChannelSummary> {
    let mut out: BTreeMap<Channel, ChannelSummary> = BTreeMap::new();
    for channel in channels {
        let s = out.entry(*channel).or_default();
        if let Some(p) = planned.channels.get(channel.as_str()) {
            s.recipients = usize::try_from(p.recipients).unwrap_or(usize::MAX);
            for (reason, n) in &p.account_skips {
                if let Some(reason) = SkipReason::parse(reason) {
                    *s.skipped.entry(reason).or_insert(0) += usize::try_from(*n).unwrap_or(0);
                }
            }
        }
    }
    for row in rows {
        let Some(channel) = Channel::parse(&row.channel) else {
            continue;
        };
        let s = out.entry(channel).or_default();
        let n = usize::try_from(row.count).unwrap_or(0);
        s.unique_addresses += n;
        match DeliveryStatus::parse(&row.status) {
            Some(DeliveryStatus::Queued) => s.queued += n,
            Some(DeliveryStatus::Sending) => s.sending += n,
            Some(DeliveryStatus::Sent) => s.sent += n,
            Some(DeliveryStatus::Delivered) => s.delivered += n,
            Some(DeliveryStatus::Failed) => s.failed += n,
            Some(DeliveryStatus::Bounced) => s.bounced += n,
            Some(DeliveryStatus::Skipped) => {
                let reason = row
                    .skip_reason
                    .as_deref()
                    .and_then(SkipReason::parse)
                    // Skips written before reasons were stored: opt-outs.
                    .unwrap_or(SkipReason::OptedOut);
                *s.skipped.entry(reason).or_insert(0) += n;
            }
            None => {}
        }
    }
    out
}
