//! RO-3: background sync jobs. Queued runs are taken oldest first; a run
//! starts only with its source's lease, so one source never has two runs at
//! once, across any number of roster-svc processes. The lease is renewed while
//! the run works; a crashed holder's lease lapses and its run is taken again
//! (identity's upserts are idempotent, so a rerun is safe), up to 3 attempts.

use std::{sync::Arc, time::Duration};

use homeroom_platform::db::Db;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::engine::Engine;
use crate::{
    domain::error::RosterError,
    store::sync::{self, Finish, RunRow},
};

/// How long a lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(60);
/// Attempts before a run whose holders keep dying is failed.
const MAX_ATTEMPTS: i32 = 3;

/// One process's sync worker.
#[derive(Clone)]
pub struct Runner {
    db: Db,
    engine: Engine,
    owner: String,
    wake: Arc<Notify>,
    lease: Duration,
    poll: Duration,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A worker; `wake` is notified when a run is queued.
    pub fn new(db: Db, engine: Engine, wake: Arc<Notify>) -> Runner {
        Runner {
            db,
            engine,
            owner: uuid::Uuid::now_v7().to_string(),
            wake,
            lease: LEASE,
            poll: Duration::from_secs(2),
        }
    }

    /// With a shorter lease and poll (tests of crashed holders).
    pub fn with_lease(mut self, lease: Duration, poll: Duration) -> Runner {
        self.lease = lease;
        self.poll = poll;
        self
    }

    /// Works until `stop` is cancelled; a run in hand is finished first.
    pub async fn run_until(self, stop: CancellationToken) {
        loop {
            loop {
                if stop.is_cancelled() {
                    return;
                }
                match self.claim().await {
                    Ok(Some(run)) => self.work(run, false).await,
                    Ok(None) => {
                        // Idle: send invitations a crash or an outage left owed.
                        if let Err(e) = self.engine.send_invitations(None).await {
                            tracing::warn!(error = %e, "owed invitations not sent");
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sync runner could not claim a run");
                        break;
                    }
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Claims one run and works it to its end; the run's id, or `None` when
    /// nothing was runnable.
    pub async fn run_once(&self) -> Result<Option<String>, RosterError> {
        let Some(run) = self.claim().await? else {
            return Ok(None);
        };
        let id = run.id.clone();
        self.work(run, true).await;
        Ok(Some(id))
    }

    /// Takes the oldest runnable run whose source lease is free.
    pub async fn claim(&self) -> Result<Option<RunRow>, RosterError> {
        let owner = self.owner.clone();
        let lease = chrono::Duration::from_std(self.lease).unwrap_or_default();
        self.db
            .run(move |c| {
                let now = chrono::Utc::now().naive_utc();
                for run in sync::runnable(c, now, 20)? {
                    if !sync::take_lease(c, &run.source_id, &run.id, &owner, now, now + lease)? {
                        continue;
                    }
                    // Re-read: another process may have finished it meanwhile.
                    let Some(run) = sync::run(c, &run.id)? else {
                        sync::release_lease(c, &run.source_id, &owner)?;
                        continue;
                    };
                    if !matches!(run.status.as_str(), "queued" | "running") {
                        sync::release_lease(c, &run.source_id, &owner)?;
                        continue;
                    }
                    if run.attempts >= MAX_ATTEMPTS {
                        let finish = Finish {
                            status: "failed",
                            failure_kind: Some("internal"),
                            failure_message: Some(format!(
                                "the run was interrupted {MAX_ATTEMPTS} times; start it again"
                            )),
                            totals: "{}".into(),
                            ..Finish::default()
                        };
                        sync::finish_run(c, &run.id, &finish, now)?;
                        sync::release_lease(c, &run.source_id, &owner)?;
                        continue;
                    }
                    sync::start_run(c, &run.id, now)?;
                    return Ok(Some(run));
                }
                Ok(None)
            })
            .await
    }

    /// Works a run, releases its source, then sends the invitations it owes:
    /// before returning when `inline`, else in the background so the next run
    /// need not wait for them.
    async fn work(&self, run: RunRow, inline: bool) {
        let heartbeat = CancellationToken::new();
        let renew = tokio::spawn(renew_lease(
            self.db.clone(),
            run.source_id.clone(),
            self.owner.clone(),
            self.lease,
            heartbeat.clone(),
        ));
        if let Err(e) = self.engine.execute(&run).await {
            tracing::error!(run_id = %run.id, error = %e, "sync run could not be recorded");
        }
        heartbeat.cancel();
        renew.await.ok();
        let (source, owner) = (run.source_id.clone(), self.owner.clone());
        if let Err(e) = self
            .db
            .run(move |c| sync::release_lease(c, &source, &owner).map_err(RosterError::from))
            .await
        {
            tracing::warn!(error = %e, "sync lease not released; it will lapse");
        }
        // Another queued run of the same source may be waiting.
        self.wake.notify_one();
        let engine = self.engine.clone();
        let invite = async move {
            if let Err(e) = engine.send_invitations(Some(&run.id)).await {
                tracing::warn!(error = %e, "invitations left for a later attempt");
            }
        };
        if inline {
            invite.await;
        } else {
            tokio::spawn(invite);
        }
    }
}

async fn renew_lease(
    db: Db,
    source: String,
    owner: String,
    lease: Duration,
    stop: CancellationToken,
) {
    let every = lease / 3;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let (s, o) = (source.clone(), owner.clone());
        let until =
            chrono::Utc::now().naive_utc() + chrono::Duration::from_std(lease).unwrap_or_default();
        match db
            .run(move |c| sync::renew_lease(c, &s, &o, until).map_err(RosterError::from))
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(source_id = %source, "sync lease lost"),
            Err(e) => tracing::warn!(error = %e, "sync lease not renewed"),
        }
    }
}
