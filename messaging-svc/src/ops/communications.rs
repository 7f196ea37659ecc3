//! Communications (MS-1, MS-2): resolve the audience, look up contact points,
//! apply preferences and address status, collapse to one delivery per
//! (channel, address), and enqueue — or, for a preview, only count. Reading
//! them back with their current counts (MS-5) is `view`, their deliveries
//! `delivery_list`.

mod delivery_list;
mod view;

use std::collections::{BTreeMap, BTreeSet};

use homeroom_platform::db::Db;
use sha2::{Digest, Sha256};

pub use self::{
    delivery_list::{DeliveryPage, DeliveryQuery, DeliveryView, deliveries as list_deliveries},
    view::{
        CommunicationState, CommunicationView, ListQuery, Viewer, channel_counts, get, list, viewer,
    },
};
use super::directory::{AudienceSpec, Directory, Unreached};
use crate::{
    domain::{
        error::MessagingError,
        plan::{Channel, Plan, PlanInputs, Recipient, SkipReason, plan},
    },
    store::{
        addresses,
        communications::{PlannedChannel, PlannedCounts, set_plan_details},
        deliveries::{self, CommunicationRow, Rendered},
        preferences,
    },
};

/// A communication as the sender wrote it, validated at the edge.
#[derive(Debug, Clone)]
pub struct NewCommunication {
    /// The same key never sends twice.
    pub idempotency_key: String,
    /// District.
    pub district_id: String,
    /// Who sends it.
    pub sender_account_id: String,
    /// Default subject.
    pub subject: String,
    /// Default body.
    pub body: String,
    /// Per-language (language, subject, body).
    pub variants: Vec<(String, String, String)>,
    /// Channels.
    pub channels: BTreeSet<Channel>,
    /// Who it is for.
    pub audience: AudienceSpec,
    /// Preferences do not apply.
    pub emergency: bool,
}

/// Counts for one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSummary {
    /// Accounts reached on it (through a delivery, sent or skipped).
    pub recipients: usize,
    /// Distinct addresses.
    pub unique_addresses: usize,
    /// Deliveries waiting to be sent.
    pub queued: usize,
    /// Skips by reason: addresses for bad and opted out, accounts for no
    /// preference and no address.
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Deliveries claimed by a worker (read back only).
    pub sending: usize,
    /// Deliveries the provider accepted (read back only).
    pub sent: usize,
    /// Deliveries the provider confirmed (read back only).
    pub delivered: usize,
    /// Deliveries failed for good (read back only).
    pub failed: usize,
    /// Deliveries bounced (read back only).
    pub bounced: usize,
}

/// What a send or a preview found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The communication (empty for a preview).
    pub communication_id: String,
    /// An earlier send with the same key is the answer.
    pub replayed: bool,
    /// Accounts in the audience.
    pub recipients: usize,
    /// Per channel.
    pub channels: BTreeMap<Channel, ChannelSummary>,
    /// Who the audience names but nothing reaches.
    pub unreached: Unreached,
}

fn summarise(plan: &Plan, channels: &BTreeSet<Channel>) -> BTreeMap<Channel, ChannelSummary> {
    let mut out: BTreeMap<Channel, ChannelSummary> = channels
        .iter()
        .map(|c| (*c, ChannelSummary::default()))
        .collect();
    for d in &plan.deliveries {
        let s = out.entry(d.channel).or_default();
        s.recipients += d.recipients.len();
        s.unique_addresses += 1;
        match d.skip {
            None => s.queued += 1,
            Some(reason) => *s.skipped.entry(reason).or_insert(0) += 1,
        }
    }
    for (_, channel, reason) in &plan.account_skips {
        *out.entry(*channel)
            .or_default()
            .skipped
            .entry(*reason)
            .or_insert(0) += 1;
    }
    out
}

/// Resolves an audience to contact points and plans its deliveries.
async fn planned(
    db: &Db,
    directory: &dyn Directory,
    district_id: &str,
    audience: &AudienceSpec,
    channels: &BTreeSet<Channel>,
    emergency: bool,
) -> Result<(Vec<Recipient>, Plan, Unreached), MessagingError> {
    if audience.is_empty() {
        return Err(MessagingError::InvalidArgument(
            "audience: name at least one account, student, class or school".into(),
        ));
    }
    if channels.is_empty() {
        return Err(MessagingError::InvalidArgument(
            "channels: choose EMAIL, SMS or VOICE".into(),
        ));
    }
    let (recipients, unreached) = directory.recipients(district_id, audience).await?;
    let ids: Vec<String> = recipients
        .iter()
        .flat_map(|r| std::iter::once(&r.account_id).chain(&r.merged_account_ids))
        .cloned()
        .collect();
    let addresses_of: Vec<String> = recipients
        .iter()
        .flat_map(|r| [r.email.clone(), r.phone.clone()])
        .flatten()
        .collect();
    let (disabled, states) = db
        .run(move |c| {
            let disabled = preferences::disabled(c, &ids)?;
            let states = addresses::states(c, &addresses_of)?;
            Ok::<_, MessagingError>((disabled, states))
        })
        .await?;
    // A channel turned off by an account merged into a recipient stays off.
    let mut disabled = disabled;
    for r in recipients
        .iter()
        .filter(|r| !r.merged_account_ids.is_empty())
    {
        let theirs: Vec<Channel> = disabled
            .iter()
            .filter(|(a, _)| r.merged_account_ids.contains(a))
            .map(|(_, c)| *c)
            .collect();
        disabled.extend(theirs.into_iter().map(|c| (r.account_id.clone(), c)));
    }
    let inputs = PlanInputs {
        channels: channels.clone(),
        emergency,
        disabled,
        addresses: states,
    };
    let plan = plan(&recipients, &inputs);
    Ok((recipients, plan, unreached))
}

/// MS-2: the counts a sender needs before sending; sends nothing.
pub async fn preview(
    db: &Db,
    directory: &dyn Directory,
    district_id: &str,
    audience: &AudienceSpec,
    channels: &BTreeSet<Channel>,
    emergency: bool,
) -> Result<Summary, MessagingError> {
    let (recipients, plan, unreached) =
        planned(db, directory, district_id, audience, channels, emergency).await?;
    Ok(Summary {
        communication_id: String::new(),
        replayed: false,
        recipients: recipients.len(),
        channels: summarise(&plan, channels),
        unreached,
    })
}

/// MS-1/MS-2: plans and enqueues a communication; the same key never sends twice.
pub async fn send(
    db: &Db,
    directory: &dyn Directory,
    c: NewCommunication,
) -> Result<Summary, MessagingError> {
    let fingerprint = fingerprint(&c);
    let (district, key, fp) = (
        c.district_id.clone(),
        c.idempotency_key.clone(),
        fingerprint.clone(),
    );
    if let Some(earlier) = db
        .run(move |conn| replay(conn, &district, &key, &fp))
        .await?
    {
        return Ok(earlier);
    }
    let (recipients, plan, unreached) = planned(
        db,
        directory,
        &c.district_id,
        &c.audience,
        &c.channels,
        c.emergency,
    )
    .await?;
    let summary = Summary {
        communication_id: uuid::Uuid::now_v7().to_string(),
        replayed: false,
        recipients: recipients.len(),
        channels: summarise(&plan, &c.channels),
        unreached,
    };
    let now = chrono::Utc::now().naive_utc();
    let row = CommunicationRow {
        id: summary.communication_id.clone(),
        district_id: c.district_id.clone(),
        kind: "communication".into(),
        sender_account_id: c.sender_account_id.clone(),
        idempotency_key: c.idempotency_key.clone(),
        request_fingerprint: fingerprint.clone(),
        subject: c.subject.clone(),
        body: c.body.clone(),
        variants: to_json(&c.variants)?,
        channels: c
            .channels
            .iter()
            .map(|ch| ch.as_str())
            .collect::<Vec<_>>()
            .join(","),
        emergency: c.emergency,
        status: "sending".into(),
        created_at: now,
    };
    let accounts: Vec<String> = recipients.into_iter().map(|r| r.account_id).collect();
    let (district, key) = (c.district_id.clone(), c.idempotency_key.clone());
    let twin = (district.clone(), key.clone(), fingerprint.clone());
    let audience = to_json(&c.audience)?;
    let planned = to_json(&planned_counts(&summary))?;
    let inserted = db
        .transaction(move |conn| {
            // A concurrent twin may have planned first: its answer wins.
            if let Some(earlier) = replay(conn, &district, &key, &fingerprint)? {
                return Ok::<_, MessagingError>(Some(earlier));
            }
            deliveries::insert_planned(conn, &row, &accounts, &plan, &Rendered::default(), now)?;
            set_plan_details(conn, &row.id, &audience, &planned)?;
            Ok(None)
        })
        .await;
    let inserted = match inserted {
        // The twin committed between our check and our insert (PostgreSQL
        // lets both check before either commits): its answer is ours.
        Err(MessagingError::Internal(e)) if is_unique_violation(&e) => {
            let (district, key, fingerprint) = twin;
            match db
                .run(move |conn| replay(conn, &district, &key, &fingerprint))
                .await?
            {
                Some(earlier) => return Ok(earlier),
                None => return Err(MessagingError::Internal(e)),
            }
        }
        other => other?,
    };
    if let Some(earlier) = inserted {
        return Ok(earlier);
    }
    db.after_bulk_write(summary.recipients as u64, BULK_TABLES)
        .await?;
    Ok(summary)
}

/// Whether an insert failed on a unique key (here: the idempotency key).
fn is_unique_violation(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<diesel::result::Error>(),
        Some(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

fn to_json(value: &impl serde::Serialize) -> Result<String, MessagingError> {
    serde_json::to_string(value).map_err(|e| MessagingError::Internal(e.into()))
}

/// What planning counted that the deliveries cannot tell later: accounts per
/// channel and the accounts skipped for no preference or no address.
fn planned_counts(summary: &Summary) -> PlannedCounts {
    let channels = summary
        .channels
        .iter()
        .map(|(channel, s)| {
            let account_skips = s
                .skipped
                .iter()
                .filter(|(r, _)| matches!(r, SkipReason::NoPreference | SkipReason::NoAddress))
                .map(|(r, n)| (r.as_str().to_string(), *n as u64))
                .collect();
            let counts = PlannedChannel {
                recipients: s.recipients as u64,
                account_skips,
            };
            (channel.as_str().to_string(), counts)
        })
        .collect();
    PlannedCounts {
        recipients: Some(summary.recipients as u64),
        channels,
    }
}

/// Tables a large communication grows.
const BULK_TABLES: &[&str] = &[
    "communications",
    "communication_recipients",
    "deliveries",
    "delivery_recipients",
];

/// The first send under this key, or an error when the request differs.
fn replay(
    conn: &mut homeroom_platform::db::DbConn,
    district_id: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Summary>, MessagingError> {
    let Some((id, earlier)) = deliveries::communication_by_key(conn, district_id, key)? else {
        return Ok(None);
    };
    if earlier != fingerprint {
        return Err(MessagingError::AlreadyExists(
            "idempotency_key was already used for a different communication; use a new key".into(),
        ));
    }
    // The first answer, with the counts as they stand now.
    let stored = view::stored(conn, &id)?;
    Ok(Some(Summary {
        communication_id: id,
        replayed: true,
        recipients: stored
            .as_ref()
            .map_or(0, |v| usize::try_from(v.recipients).unwrap_or(usize::MAX)),
        channels: stored.map(|v| v.counts).unwrap_or_default(),
        unreached: Unreached::default(),
    }))
}

fn fingerprint(c: &NewCommunication) -> String {
    let text = format!(
        "{}|{}|{}|{:?}|{:?}|{:?}|{}",
        c.sender_account_id, c.subject, c.body, c.variants, c.channels, c.audience, c.emergency
    );
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
