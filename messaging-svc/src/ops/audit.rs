//! Identity's central audit log (ID-10) for what messaging audits (MS-7 Reset
//! Status). An event is written to the outbox in the transaction of what it
//! records; a forwarder (`queue::audit`) hands it to identity's
//! `RecordAuditEvents` and retries until identity takes it, so a reset never
//! fails, nor goes unaudited, because identity is down.

use std::{collections::BTreeMap, sync::Arc};

use chrono::NaiveDateTime;
use futures::future::BoxFuture;
use homeroom_platform::db::DbConn;
use homeroom_proto::identity::v1 as idpb;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::directory::GrpcDirectory;
use crate::{domain::error::MessagingError, store::audit_outbox};

/// What was audited (identity's `AuditEventKind`s messaging records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// MS-7: a bad address status was reset.
    AddressStatusReset,
}

/// One event for identity's audit log; addresses masked, no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// When.
    pub occurred_at: NaiveDateTime,
    /// District.
    pub district_id: String,
    /// The account on whose behalf messaging acted.
    pub actor_account_id: String,
    /// The account it is about, if one.
    pub subject_account_id: Option<String>,
    /// Client address, if known.
    pub ip_address: String,
    /// Gateway request id, if known.
    pub request_id: String,
    /// Human-readable summary.
    pub summary: String,
    /// Structured details.
    pub details: BTreeMap<String, String>,
}

/// Takes audit events: identity-svc, or a fake in tests.
pub trait AuditLog: Send + Sync + 'static {
    /// Records `(outbox id, event)` pairs, all or none.
    fn record(
        &self,
        events: Vec<(String, AuditEvent)>,
    ) -> BoxFuture<'_, Result<(), MessagingError>>;
}

/// The write side of the outbox: enqueue in a transaction, then wake the forwarder.
#[derive(Debug, Clone, Default)]
pub struct AuditOutbox {
    wake: Arc<Notify>,
}

impl AuditOutbox {
    /// Adds `event` to the outbox inside the caller's transaction; returns its id.
    pub fn enqueue(&self, c: &mut DbConn, event: &AuditEvent) -> Result<String, MessagingError> {
        let id = uuid::Uuid::now_v7().to_string();
        let json = serde_json::to_string(event).map_err(|e| MessagingError::Internal(e.into()))?;
        audit_outbox::enqueue(c, &id, &json, event.occurred_at)?;
        Ok(id)
    }

    /// Tells the forwarder there is work, once the transaction committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when [`AuditOutbox::wake`] was called (or had been).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

/// Where an event came from, as identity records it.
const SOURCE: &str = "messaging";

fn kind_to_pb(kind: AuditKind) -> idpb::AuditEventKind {
    match kind {
        AuditKind::AddressStatusReset => idpb::AuditEventKind::AddressStatusReset,
    }
}

fn event_to_pb(id: String, e: AuditEvent) -> idpb::AuditEventInput {
    let mut details = e.details;
    details.insert("messaging_event_id".into(), id);
    idpb::AuditEventInput {
        kind: kind_to_pb(e.kind) as i32,
        occurred_at: Some(std::time::SystemTime::from(e.occurred_at.and_utc()).into()),
        district_id: e.district_id,
        actor_account_id: e.actor_account_id,
        subject_account_id: e.subject_account_id.unwrap_or_default(),
        source: SOURCE.into(),
        ip_address: e.ip_address,
        request_id: e.request_id,
        summary: e.summary,
        details: details.into_iter().collect(),
    }
}

impl AuditLog for GrpcDirectory {
    fn record(
        &self,
        events: Vec<(String, AuditEvent)>,
    ) -> BoxFuture<'_, Result<(), MessagingError>> {
        Box::pin(async move {
            let request = self
                .authorised(idpb::RecordAuditEventsRequest {
                    events: events
                        .into_iter()
                        .map(|(id, e)| event_to_pb(id, e))
                        .collect(),
                })
                .await?;
            idpb::identity_service_client::IdentityServiceClient::new(self.identity())
                .record_audit_events(request)
                .await
                .map_err(|s| super::directory::unavailable("identity-svc", &s))?;
            Ok(())
        })
    }
}
