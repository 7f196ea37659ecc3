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

/// Renders and queues a system message.
pub async fn send(db: &Db, m: SystemMessage) -> Result<Queued, MessagingError> {
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
    db.transaction(move |c| {
        if let Some((id, skip, earlier)) =
            deliveries::system_replay(c, &m.district_id, &m.idempotency_key)?
        {
            if earlier != fingerprint {
                return Err(MessagingError::AlreadyExists(
                    "idempotency_key was used for a different message; use a new key".into(),
                ));
            }
            return Ok(Queued {
                delivery_id: id,
                skip,
                replayed: true,
            });
        }
        let recipient = Recipient {
            account_id: m.account_id.clone(),
            language: m.language.clone(),
            email: (m.channel == Channel::Email).then(|| m.address.clone()),
            phone: (m.channel != Channel::Email).then(|| m.address.clone()),
        };
        let inputs = PlanInputs {
            channels: [m.channel].into_iter().collect(),
            // System messages are what a person asked for (a code) or must know:
            // preferences do not apply; bad addresses and STOP still do.
            emergency: true,
            addresses: addresses::states(c, std::slice::from_ref(&m.address))?,
            ..PlanInputs::default()
        };
        let planned = plan(&[recipient], &inputs);
        let now = chrono::Utc::now().naive_utc();
        let row = CommunicationRow {
            id: uuid::Uuid::now_v7().to_string(),
            district_id: m.district_id.clone(),
            kind: "system".into(),
            sender_account_id: String::new(),
            idempotency_key: m.idempotency_key.clone(),
            request_fingerprint: fingerprint,
            subject: String::new(),
            body: String::new(),
            variants: "[]".into(),
            channels: m.channel.as_str().into(),
            emergency: false,
            status: "queued".into(),
            created_at: now,
        };
        let text = Rendered {
            subject: Some(rendered.subject).filter(|s| !s.is_empty()),
            body: Some(rendered.body),
        };
        let ids = deliveries::insert_planned(
            c,
            &row,
            std::slice::from_ref(&m.account_id),
            &planned,
            &text,
            now,
        )?;
        let id = ids
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("a system message planned no delivery"))?;
        Ok(Queued {
            delivery_id: id,
            skip: planned.deliveries.first().and_then(|d| d.skip),
            replayed: false,
        })
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
