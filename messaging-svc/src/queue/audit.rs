//! The audit forwarder (MS-7, ID-10): claims due events of the audit outbox,
//! hands them to identity's audit log in one call, drops them once identity
//! took them, and otherwise retries with backoff, for as long as it takes —
//! an audit event is never given up. Woken by each reset, else it polls.

use std::{sync::Arc, time::Duration};

use homeroom_platform::db::{Db, DbError};
use tokio_util::sync::CancellationToken;

use super::backoff::RetryPolicy;
use crate::{
    domain::error::MessagingError,
    ops::audit::{AuditEvent, AuditLog, AuditOutbox},
    store::audit_outbox,
};

/// Forwarder settings.
#[derive(Debug, Clone)]
pub struct ForwarderSettings {
    /// Events per call to identity.
    pub batch: i64,
    /// How long a claim holds before another forwarder may take the events.
    pub lease: Duration,
    /// Pause between polls when not woken.
    pub idle: Duration,
    /// Waits between tries (`max_attempts` does not apply: it never gives up).
    pub retry: RetryPolicy,
}

impl Default for ForwarderSettings {
    fn default() -> Self {
        ForwarderSettings {
            batch: 100,
            lease: Duration::from_secs(60),
            idle: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts: i32::MAX,
                base: Duration::from_secs(5),
                max: Duration::from_secs(300),
            },
        }
    }
}

/// Forwards the audit outbox to identity.
pub struct AuditForwarder {
    db: Db,
    log: Arc<dyn AuditLog>,
    outbox: AuditOutbox,
    settings: ForwarderSettings,
}

impl std::fmt::Debug for AuditForwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditForwarder").finish_non_exhaustive()
    }
}

impl AuditForwarder {
    /// A forwarder of `db`'s outbox to `log`, woken through `outbox`.
    pub fn new(
        db: Db,
        log: Arc<dyn AuditLog>,
        outbox: AuditOutbox,
        settings: ForwarderSettings,
    ) -> AuditForwarder {
        AuditForwarder {
            db,
            log,
            outbox,
            settings,
        }
    }

    /// Forwards until `stop`.
    pub async fn run_until(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let forwarded = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "audit forwarder could not reach its outbox");
                    0
                }
            };
            if forwarded == 0 {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = self.outbox.woken() => {}
                    () = tokio::time::sleep(self.settings.idle) => {}
                }
            }
        }
    }

    /// Claims one batch and forwards it; returns how many identity took.
    pub async fn run_once(&self) -> Result<usize, DbError> {
        let (lease, limit) = (self.settings.lease, self.settings.batch);
        let claimed = self
            .db
            .run(move |c| {
                let now = chrono::Utc::now().naive_utc();
                let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
                audit_outbox::claim(c, until, now, limit).map_err(DbError::from)
            })
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = claimed.iter().map(|e| e.id.clone()).collect();
        let attempts = claimed.iter().map(|e| e.attempts).max().unwrap_or(1);
        let events: Result<Vec<(String, AuditEvent)>, serde_json::Error> = claimed
            .into_iter()
            .map(|e| Ok((e.id, serde_json::from_str(&e.event)?)))
            .collect();
        let sent = match events {
            Ok(events) => self.log.record(events).await,
            Err(e) => Err(MessagingError::Internal(e.into())),
        };
        match sent {
            Ok(()) => {
                let n = ids.len();
                self.db
                    .run(move |c| audit_outbox::remove(c, &ids).map_err(DbError::from))
                    .await?;
                tracing::debug!(events = n, "audit events forwarded to identity");
                Ok(n)
            }
            Err(error) => {
                let wait = self.settings.retry.delay(attempts, None);
                tracing::warn!(
                    events = ids.len(),
                    attempts,
                    retry_in_seconds = wait.as_secs(),
                    error = %error,
                    "audit events not forwarded to identity; kept for a retry"
                );
                let error = error.to_string();
                self.db
                    .run(move |c| {
                        let at = chrono::Utc::now().naive_utc()
                            + chrono::Duration::from_std(wait).unwrap_or_default();
                        audit_outbox::retry_at(c, &ids, at, &error).map_err(DbError::from)
                    })
                    .await?;
                Ok(0)
            }
        }
    }
}
