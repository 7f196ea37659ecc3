//! One delivery worker: claim → render → send → record. Any number run side by
//! side, in one process or many (the claim is the lock).

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures::StreamExt;
use homeroom_platform::db::{Db, DbConn, DbError};
use tokio_util::sync::CancellationToken;

use super::backoff::RetryPolicy;
use crate::{
    domain::{
        address_rules::{self, Bounce},
        plan::{Channel, SkipReason},
    },
    providers::{
        EmailProvider, OutgoingCall, OutgoingEmail, OutgoingSms, PhoneProvider, SendOutcome,
    },
    store::{
        addresses,
        deliveries::{self, Claimed, Completion},
        schema::communications,
    },
};

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Name written on its claims.
    pub owner: String,
    /// Deliveries claimed at a time.
    pub batch: i64,
    /// How long a claim holds before it returns to the queue.
    pub lease: Duration,
    /// Pause when nothing is due.
    pub idle: Duration,
    /// Deliveries of a batch in flight at once.
    pub concurrency: usize,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// How often the worker says it is alive.
    pub heartbeat: Duration,
    /// A worker silent this long is dead: its claims return to the queue.
    pub dead_after: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            owner: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            batch: 50,
            lease: Duration::from_secs(120),
            idle: Duration::from_millis(500),
            concurrency: 16,
            retry: RetryPolicy::default(),
            heartbeat: Duration::from_secs(2),
            dead_after: Duration::from_secs(10),
        }
    }
}

/// A delivery worker.
pub struct Worker {
    db: Db,
    email: Arc<dyn EmailProvider>,
    phone: Arc<dyn PhoneProvider>,
    settings: WorkerSettings,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.settings.owner)
            .finish_non_exhaustive()
    }
}

/// The text of a communication, by language.
#[derive(Debug, Clone)]
struct Text {
    subject: String,
    body: String,
    variants: HashMap<String, (String, String)>,
}

impl Worker {
    /// A worker over the queue in `db`.
    pub fn new(
        db: Db,
        email: Arc<dyn EmailProvider>,
        phone: Arc<dyn PhoneProvider>,
        settings: WorkerSettings,
    ) -> Worker {
        Worker {
            db,
            email,
            phone,
            settings,
        }
    }

    /// Works until `stop`; finishes the batch in hand first, then retires
    /// (anything it still held returns to the queue at once). A heartbeat
    /// runs beside the work, so a worker that dies mid-batch loses its claims
    /// to the others within [`WorkerSettings::dead_after`], not its lease.
    pub async fn run_until(self, stop: CancellationToken) {
        let beating = CancellationToken::new();
        let heart = {
            let (db, owner, every) = (
                self.db.clone(),
                self.settings.owner.clone(),
                self.settings.heartbeat,
            );
            let beating = beating.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = beating.cancelled() => break,
                        () = tokio::time::sleep(every) => {}
                    }
                    let owner = owner.clone();
                    let beat = db
                        .run(move |c| {
                            deliveries::heartbeat(c, &owner, chrono::Utc::now().naive_utc())
                                .map_err(DbError::from)
                        })
                        .await;
                    if let Err(e) = beat {
                        tracing::warn!(error = %e, "delivery worker could not record its heartbeat");
                    }
                }
            })
        };
        self.work_until(&stop).await;
        beating.cancel();
        heart.await.ok();
        let owner = self.settings.owner.clone();
        if let Err(e) = self
            .db
            .run(move |c| deliveries::retire(c, &owner).map_err(DbError::from))
            .await
        {
            tracing::warn!(error = %e, "delivery worker could not retire");
        }
    }

    async fn work_until(&self, stop: &CancellationToken) {
        while !stop.is_cancelled() {
            match self.run_once().await {
                Ok(0) => {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(self.settings.idle) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "delivery worker could not reach the queue");
                    tokio::time::sleep(self.settings.idle).await;
                }
            }
        }
    }

    /// Claims one batch and sends it; returns how many deliveries it handled.
    pub async fn run_once(&self) -> Result<usize, DbError> {
        let (owner, lease, limit, dead_after) = (
            self.settings.owner.clone(),
            self.settings.lease,
            self.settings.batch,
            self.settings.dead_after,
        );
        let claimed = self
            .db
            .run(move |c| {
                let now = chrono::Utc::now().naive_utc();
                let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
                let alive_since = now - chrono::Duration::from_std(dead_after).unwrap_or_default();
                // Alive before claiming: nobody takes what this worker is about to hold.
                deliveries::heartbeat(c, &owner, now)?;
                deliveries::claim(c, &owner, until, now, alive_since, limit).map_err(DbError::from)
            })
            .await?;
        let n = claimed.len();
        let texts = self.texts(&claimed).await?;
        // Providers answer in tens to hundreds of milliseconds (SMTP's final
        // dot waits for a delayed ACK; Twilio is an HTTPS round trip): a batch
        // is sent concurrently, each outcome recorded as it arrives.
        let texts = &texts;
        let results: Vec<Result<(), DbError>> = futures::stream::iter(claimed)
            .map(|delivery| async move {
                if !self.start(&delivery).await? {
                    return Ok(());
                }
                let started = std::time::Instant::now();
                let outcome = self.send(&delivery, texts).await;
                metrics::histogram!("homeroom_delivery_provider_seconds",
                    "component" => "messaging", "channel" => delivery.channel.clone())
                .record(started.elapsed().as_secs_f64());
                self.record(delivery, outcome).await
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        results.into_iter().collect::<Result<Vec<()>, DbError>>()?;
        Ok(n)
    }

    /// Marks the provider call as started (committed before it starts, so
    /// after a crash only marked deliveries may have gone out); false when
    /// another worker took the delivery over. A delivery whose earlier call
    /// was in flight when its worker died is about to go out again: its
    /// history says so.
    async fn start(&self, d: &Claimed) -> Result<bool, DbError> {
        let (id, owner, channel, address, attempt, resent) = (
            d.id.clone(),
            self.settings.owner.clone(),
            Channel::parse(&d.channel).unwrap_or(Channel::Email),
            d.address.clone(),
            d.attempts,
            d.sending_since.is_some(),
        );
        self.db
            .transaction(move |c| {
                let now = chrono::Utc::now().naive_utc();
                if !deliveries::mark_sending(c, &id, &owner, now)? {
                    tracing::warn!(delivery_id = %id, "delivery taken over before sending; not sent");
                    return Ok(false);
                }
                if resent {
                    crate::store::events::record_once(
                        c,
                        &crate::store::events::NewEvent {
                            id: &format!("resent-{id}-{attempt}"),
                            channel,
                            address: &address,
                            kind: "resent",
                            reason: "sent again: the previous attempt was in flight when its \
                                     worker stopped, so this address may receive it twice",
                            delivery_id: Some(&id),
                            actor_id: None,
                            at: now,
                        },
                    )?;
                    metrics::counter!("homeroom_deliveries_resent_total",
                        "component" => "messaging", "channel" => channel.as_str())
                    .increment(1);
                }
                Ok(true)
            })
            .await
    }

    async fn texts(&self, claimed: &[Claimed]) -> Result<HashMap<String, Text>, DbError> {
        let mut ids: Vec<String> = claimed
            .iter()
            .filter(|d| d.body.is_none())
            .map(|d| d.communication_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.db
            .run(move |c| {
                let rows: Vec<(String, String, String, String)> = communications::table
                    .filter(communications::id.eq_any(&ids))
                    .select((
                        communications::id,
                        communications::subject,
                        communications::body,
                        communications::variants,
                    ))
                    .load(c)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, subject, body, variants)| {
                        let variants =
                            serde_json::from_str::<Vec<(String, String, String)>>(&variants)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(lang, s, b)| (lang, (s, b)))
                                .collect();
                        (
                            id,
                            Text {
                                subject,
                                body,
                                variants,
                            },
                        )
                    })
                    .collect())
            })
            .await
    }

    async fn send(&self, d: &Claimed, texts: &HashMap<String, Text>) -> SendOutcome {
        let (subject, body) = match (&d.body, texts.get(&d.communication_id)) {
            (Some(body), _) => (d.subject.clone().unwrap_or_default(), body.clone()),
            (None, Some(text)) => text
                .variants
                .get(&d.language)
                .cloned()
                .unwrap_or_else(|| (text.subject.clone(), text.body.clone())),
            (None, None) => {
                return SendOutcome::Permanent {
                    code: "internal".into(),
                    reason: "the communication of this delivery is missing".into(),
                };
            }
        };
        match Channel::parse(&d.channel) {
            Some(Channel::Email) => {
                self.email
                    .send_email(OutgoingEmail {
                        delivery_id: d.id.clone(),
                        to: d.address.clone(),
                        subject,
                        body,
                        language: d.language.clone(),
                    })
                    .await
            }
            Some(Channel::Sms) => {
                self.phone
                    .send_sms(OutgoingSms {
                        delivery_id: d.id.clone(),
                        to: d.address.clone(),
                        body,
                    })
                    .await
            }
            Some(Channel::Voice) => {
                self.phone
                    .place_call(OutgoingCall {
                        delivery_id: d.id.clone(),
                        to: d.address.clone(),
                        text: body,
                        language: d.language.clone(),
                    })
                    .await
            }
            None => SendOutcome::Permanent {
                code: "internal".into(),
                reason: format!("unknown channel {:?}", d.channel),
            },
        }
    }

    async fn record(&self, d: Claimed, outcome: SendOutcome) -> Result<(), DbError> {
        let owner = self.settings.owner.clone();
        let retry = self.settings.retry;
        self.db
            .transaction(move |c| {
                let now = chrono::Utc::now().naive_utc();
                let channel = Channel::parse(&d.channel).unwrap_or(Channel::Email);
                let completion = match outcome {
                    SendOutcome::Sent { provider_message_id } => Completion::Sent { provider_message_id },
                    SendOutcome::Transient { reason, retry_after } if retry.retries(d.attempts) => {
                        let wait = retry.delay(d.attempts, retry_after);
                        Completion::Retry {
                            at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
                            error: reason,
                        }
                    }
                    SendOutcome::Transient { reason, .. } => Completion::Final {
                        status: "failed",
                        error: format!("gave up after {} tries: {reason}", d.attempts),
                        skip_reason: None,
                    },
                    SendOutcome::Permanent { code, reason } => {
                        let why = format!("{code} {reason}");
                        bounce(c, channel, &d.address, Bounce::Hard, &why, Some(&d.id), now)?;
                        Completion::Final { status: "bounced", error: why, skip_reason: None }
                    }
                    SendOutcome::OptedOut { reason } => {
                        addresses::set_opted_out(c, &d.address, true, now)?;
                        addresses::record_event(c, channel, &d.address, "stop", &reason, Some(&d.id), None, now)?;
                        Completion::Final {
                            status: "skipped",
                            error: reason,
                            skip_reason: Some(SkipReason::OptedOut.as_str()),
                        }
                    }
                };
                if deliveries::complete(c, &d.id, &owner, &completion, now)? {
                    let status = match &completion {
                        Completion::Sent { .. } => "sent",
                        Completion::Retry { .. } => "retry",
                        Completion::Final { status, .. } => status,
                    };
                    metrics::counter!("homeroom_deliveries_total",
                        "component" => "messaging", "channel" => channel.as_str(), "status" => status)
                    .increment(1);
                } else {
                    tracing::warn!(delivery_id = %d.id, "lease lost before the outcome was recorded");
                }
                Ok(())
            })
            .await
    }
}

/// Reports the due backlog (`homeroom_delivery_queue_due`) and the age of its
/// oldest delivery (`homeroom_delivery_queue_oldest_due_seconds`) every
/// `every` until `stop`: a queue that grows or ages means the workers or a
/// provider cannot keep up.
pub async fn watch_backlog(db: Db, every: std::time::Duration, stop: CancellationToken) {
    loop {
        let backlog = db
            .run(|c| {
                deliveries::due_backlog(c, chrono::Utc::now().naive_utc()).map_err(DbError::from)
            })
            .await;
        match backlog {
            Ok((due, oldest)) => {
                let age = oldest.map_or(0.0, |at| {
                    (chrono::Utc::now().naive_utc() - at)
                        .num_milliseconds()
                        .max(0) as f64
                        / 1000.0
                });
                metrics::gauge!("homeroom_delivery_queue_due", "component" => "messaging")
                    .set(due as f64);
                metrics::gauge!("homeroom_delivery_queue_oldest_due_seconds", "component" => "messaging")
                    .set(age);
            }
            Err(e) => tracing::warn!(error = %e, "could not measure the delivery backlog"),
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Records a bounce on an address and marks it bad when the rules say so (MS-6).
pub fn bounce(
    c: &mut DbConn,
    channel: Channel,
    address: &str,
    kind: Bounce,
    reason: &str,
    delivery_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let event = match kind {
        Bounce::Hard => "hard_bounce",
        Bounce::Soft => "soft_bounce",
        Bounce::Complaint => "complaint",
    };
    let window = now - chrono::Duration::days(address_rules::SOFT_WINDOW_DAYS);
    let earlier = addresses::soft_bounces_since(c, channel, address, window)?;
    addresses::record_event(c, channel, address, event, reason, delivery_id, None, now)?;
    if address_rules::becomes_bad(kind, now, &earlier) {
        addresses::mark_bad(c, channel, address, reason, now)?;
    }
    Ok(())
}
