//! System messages (ID-4, RO-6): one-time codes, invitations and contact-change
//! notices that identity and roster ask for. Each is a communication of kind
//! `system` with one delivery whose text is rendered now, in the account's
//! language, with `For <first name>:` on a shared phone.

use std::collections::BTreeMap;

use homeroom_platform::db::Db;

use crate::{
    domain::{
        error::MessagingError,
        plan::{Channel, PlanInputs, Recipient, SkipReason, plan},
        system_messages::{self, SystemKind},
    },
    store::{
        addresses,
        deliveries::{self, CommunicationRow, Rendered},
    },
};

/// A system message request, validated at the edge.
#[derive(Debug, Clone)]
pub struct SystemMessage {
    /// Retries with the same key queue nothing new.
    pub idempotency_key: String,
    /// District of the account.
    pub district_id: String,
    /// What it is.
    pub kind: SystemKind,
    /// The account it is for.
    pub account_id: String,
    /// For the prefix on a shared phone.
    pub first_name: String,
    /// Email, SMS or voice.
    pub channel: Channel,
    /// Normalised address.
    pub address: String,
    /// Several accounts hold the address.
    pub address_shared: bool,
    /// BCP 47.
    pub language: String,
    /// Template variables (codes among them: never logged).
    pub variables: BTreeMap<String, String>,
}

/// What happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The delivery.
    pub delivery_id: String,
    /// Queued, or skipped with a reason (bad address, opted out).
    pub skip: Option<SkipReason>,
    /// An earlier request with the same key is the answer.
    pub replayed: bool,
}

/// Most messages [`send_many`] takes at once.
pub const MAX_BATCH: usize = 1_000;

/// Renders and queues a system message.
pub async fn send(db: &Db, m: SystemMessage) -> Result<Queued, MessagingError> {
    send_many(db, vec![m])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| MessagingError::Internal(anyhow::anyhow!("a system message queued nothing")))
}

/// Renders and queues system messages in one transaction; one answer per
/// message, in order. Each is idempotent by its own key (within the batch too).
pub async fn send_many(
    db: &Db,
    messages: Vec<SystemMessage>,
) -> Result<Vec<Queued>, MessagingError> {
    let mut prepared = Vec::with_capacity(messages.len());
    for m in messages {
        let fingerprint = fingerprint(&m);
        let rendered = system_messages::render(
            m.kind,
            match m.channel {
                Channel::Email => system_messages::Channel::Email,
                Channel::Sms => system_messages::Channel::Sms,
                Channel::Voice => system_messages::Channel::Voice,
            },
            &m.language,
            &m.first_name,
            m.address_shared,
            &m.variables,
        )
        .map_err(|e| MessagingError::InvalidArgument(e.to_string()))?;
        prepared.push((m, fingerprint, rendered));
    }
    db.transaction(move |c| {
        let keys: Vec<(String, String)> = prepared
            .iter()
            .map(|(m, _, _)| (m.district_id.clone(), m.idempotency_key.clone()))
            .collect();
        let mut earlier = deliveries::system_replays(c, &keys)?;
        let addresses: Vec<String> = prepared.iter().map(|(m, _, _)| m.address.clone()).collect();
        let states = addresses::states(c, &addresses)?;
        let now = chrono::Utc::now().naive_utc();
        // Answers: already known (replays), or the index of a new communication.
        let mut answers: Vec<Result<Queued, (usize, bool)>> = Vec::with_capacity(prepared.len());
        let mut fresh: Vec<deliveries::PlannedCommunication> = Vec::new();
        let mut fresh_skips = Vec::new();
        for (m, fingerprint, rendered) in prepared {
            let key = (m.district_id.clone(), m.idempotency_key.clone());
            if let Some(found) = earlier.get(&key) {
                if found.fingerprint != fingerprint {
                    return Err(MessagingError::AlreadyExists(format!(
                        "idempotency_key {:?} was used for a different message; use a new key",
                        m.idempotency_key
                    )));
                }
                answers.push(match &found.delivery {
                    deliveries::Replay::Stored(id, skip) => Ok(Queued {
                        delivery_id: id.clone(),
                        skip: *skip,
                        replayed: true,
                    }),
                    deliveries::Replay::InBatch(i) => Err((*i, true)),
                });
                continue;
            }
            let recipient = Recipient {
                account_id: m.account_id.clone(),
                language: m.language.clone(),
                email: (m.channel == Channel::Email).then(|| m.address.clone()),
                phone: (m.channel != Channel::Email).then(|| m.address.clone()),
                merged_account_ids: Vec::new(),
            };
            let known = (m.channel, m.address.clone());
            let inputs = PlanInputs {
                channels: [m.channel].into_iter().collect(),
                // System messages are what a person asked for (a code) or must
                // know: preferences do not apply; bad addresses and STOP still do.
                emergency: true,
                addresses: states
                    .get(&known)
                    .map(|s| (known.clone(), *s))
                    .into_iter()
                    .collect(),
                ..PlanInputs::default()
            };
            let planned = plan(&[recipient], &inputs);
            fresh_skips.push(planned.deliveries.first().and_then(|d| d.skip));
            earlier.insert(
                key,
                deliveries::Earlier {
                    fingerprint: fingerprint.clone(),
                    delivery: deliveries::Replay::InBatch(fresh.len()),
                },
            );
            answers.push(Err((fresh.len(), false)));
            fresh.push(deliveries::PlannedCommunication {
                row: CommunicationRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    district_id: m.district_id,
                    kind: "system".into(),
                    sender_account_id: String::new(),
                    idempotency_key: m.idempotency_key,
                    request_fingerprint: fingerprint,
                    subject: String::new(),
                    body: String::new(),
                    variants: "[]".into(),
                    channels: m.channel.as_str().into(),
                    emergency: false,
                    status: "queued".into(),
                    created_at: now,
                },
                recipients: vec![m.account_id],
                plan: planned,
                rendered: Rendered {
                    subject: Some(rendered.subject).filter(|s| !s.is_empty()),
                    body: Some(rendered.body),
                },
            });
        }
        let ids = deliveries::insert_many_planned(c, &fresh, now)?;
        answers
            .into_iter()
            .map(|a| match a {
                Ok(q) => Ok(q),
                Err((i, replayed)) => {
                    let delivery_id =
                        ids.get(i).and_then(|d| d.first()).cloned().ok_or_else(|| {
                            anyhow::anyhow!("a system message planned no delivery")
                        })?;
                    Ok(Queued {
                        delivery_id,
                        skip: fresh_skips.get(i).copied().flatten(),
                        // A second request in the same batch answers as a replay.
                        replayed,
                    })
                }
            })
            .collect()
    })
    .await
}

/// What makes two requests "the same" for idempotency (the code itself counts).
fn fingerprint(m: &SystemMessage) -> String {
    use sha2::{Digest, Sha256};
    let text = format!(
        "{:?}|{}|{}|{:?}|{}|{}|{}|{:?}",
        m.kind,
        m.account_id,
        m.first_name,
        m.channel,
        m.address,
        m.address_shared,
        m.language,
        m.variables
    );
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
