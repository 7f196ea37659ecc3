//! Reset Status in identity's audit log (MS-7, ID-10): the reset writes the
//! event to the outbox in its own transaction; the forwarder hands it to
//! identity, and while identity is down the reset still succeeds and the
//! event waits for the next try.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::future::BoxFuture;
use homeroom_platform::{auth::Role, db::DbError, testing::TestDb};
use messaging_svc::{
    MIGRATIONS,
    domain::error::MessagingError,
    ops::{
        audit::{AuditEvent, AuditKind, AuditLog, AuditOutbox},
        status::{ResetTarget, reset},
    },
    queue::{
        audit::{AuditForwarder, ForwarderSettings},
        backoff::RetryPolicy,
    },
    store::audit_outbox,
};
use tokio_util::sync::CancellationToken;

use super::{
    account,
    reset::{bad_and_stopped, reset_phone},
};

/// identity-svc's RecordAuditEvents, up or down.
#[derive(Default)]
struct Identity {
    down: AtomicBool,
    recorded: Mutex<Vec<(String, AuditEvent)>>,
}

impl AuditLog for Identity {
    fn record(
        &self,
        events: Vec<(String, AuditEvent)>,
    ) -> BoxFuture<'_, Result<(), MessagingError>> {
        let answer = if self.down.load(Ordering::SeqCst) {
            Err(MessagingError::Unavailable(
                "identity-svc is unavailable: connection refused".into(),
            ))
        } else {
            self.recorded.lock().unwrap().extend(events);
            Ok(())
        };
        Box::pin(async move { answer })
    }
}

impl Identity {
    fn recorded(&self) -> Vec<(String, AuditEvent)> {
        self.recorded.lock().unwrap().clone()
    }
}

/// Retries at once, so a test needs no clock.
fn forwarder(
    db: &homeroom_platform::db::Db,
    identity: &Arc<Identity>,
    outbox: &AuditOutbox,
) -> AuditForwarder {
    let settings = ForwarderSettings {
        idle: Duration::from_secs(3600),
        retry: RetryPolicy {
            max_attempts: i32::MAX,
            base: Duration::ZERO,
            max: Duration::ZERO,
        },
        ..ForwarderSettings::default()
    };
    AuditForwarder::new(db.clone(), identity.clone(), outbox.clone(), settings)
}

async fn pending(db: &homeroom_platform::db::Db) -> Vec<(String, i32, Option<String>)> {
    db.run(|c| audit_outbox::pending(c).map_err(DbError::from))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reset_reaches_identitys_audit_log_with_the_actor_and_the_address_masked() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;
    let (identity, outbox) = (Arc::new(Identity::default()), AuditOutbox::default());
    let admin = account("comms-1", "district-1", Role::CommunicationsAdmin);
    let mut request = reset_phone("district-1");
    request.target =
        ResetTarget::AccountChannel("sarah".into(), messaging_svc::domain::plan::Channel::Sms);

    reset(db, &outbox, &admin, request).await.unwrap();
    assert_eq!(
        forwarder(db, &identity, &outbox).run_once().await.unwrap(),
        1
    );

    let recorded = identity.recorded();
    assert_eq!(recorded.len(), 1);
    let (id, event) = &recorded[0];
    assert_eq!(event.kind, AuditKind::AddressStatusReset);
    assert_eq!(
        (
            event.district_id.as_str(),
            event.actor_account_id.as_str(),
            event.subject_account_id.as_deref(),
        ),
        ("district-1", "comms-1", Some("sarah"))
    );
    assert_eq!(
        (event.request_id.as_str(), event.ip_address.as_str()),
        ("req-1", "203.0.113.7")
    );
    assert_eq!(event.summary, "sms status reset for +1******3210");
    assert_eq!(event.details["address"], "+1******3210");
    assert_eq!(
        event.details["cleared_reason"],
        "Twilio 30003: unreachable handset"
    );
    assert_eq!(event.details["was_bad"], "true");
    assert!(!format!("{event:?}").contains(super::PHONE));
    assert!(!id.is_empty());
    assert!(
        pending(db).await.is_empty(),
        "forwarded events leave the outbox"
    );
}

#[tokio::test]
async fn with_identity_down_the_reset_succeeds_and_its_audit_waits_for_the_next_try() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;
    let (identity, outbox) = (Arc::new(Identity::default()), AuditOutbox::default());
    identity.down.store(true, Ordering::SeqCst);
    let admin = account("um-1", "district-1", Role::UserManager);

    let outcome = reset(db, &outbox, &admin, reset_phone("district-1"))
        .await
        .unwrap();
    assert!(outcome.cleared.bad && !outcome.current.bad);
    let forwarder = forwarder(db, &identity, &outbox);
    assert_eq!(forwarder.run_once().await.unwrap(), 0);

    let waiting = pending(db).await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].1, 1, "one try so far");
    assert!(waiting[0].2.as_deref().unwrap().contains("unavailable"));
    assert!(identity.recorded().is_empty());

    identity.down.store(false, Ordering::SeqCst);
    assert_eq!(forwarder.run_once().await.unwrap(), 1);
    assert_eq!(identity.recorded().len(), 1);
    assert_eq!(identity.recorded()[0].0, waiting[0].0);
    assert!(pending(db).await.is_empty());
}

#[tokio::test]
async fn a_refused_reset_audits_nothing() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;
    let teacher = account("t-1", "district-1", Role::Teacher);

    let refused = reset(
        db,
        &AuditOutbox::default(),
        &teacher,
        reset_phone("district-1"),
    )
    .await;

    assert!(matches!(refused, Err(MessagingError::PermissionDenied(_))));
    assert!(pending(db).await.is_empty());
}

#[tokio::test]
async fn the_running_forwarder_is_woken_by_a_reset_and_a_claimed_event_is_not_claimed_twice() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;
    let (identity, outbox) = (Arc::new(Identity::default()), AuditOutbox::default());
    let stop = CancellationToken::new();
    let running = tokio::spawn(forwarder(db, &identity, &outbox).run_until(stop.clone()));
    let admin = account("comms-1", "district-1", Role::CommunicationsAdmin);

    reset(db, &outbox, &admin, reset_phone("district-1"))
        .await
        .unwrap();

    // Its idle poll is an hour away: only the wake can bring it.
    tokio::time::timeout(Duration::from_secs(10), async {
        while identity.recorded().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    stop.cancel();
    running.await.unwrap();

    // Under a lease, a second forwarder finds nothing to claim.
    let event = AuditEvent {
        kind: AuditKind::AddressStatusReset,
        occurred_at: chrono::Utc::now().naive_utc(),
        district_id: "district-1".into(),
        actor_account_id: "comms-1".into(),
        subject_account_id: None,
        ip_address: String::new(),
        request_id: String::new(),
        summary: "email status reset for s***@mail.com".into(),
        details: Default::default(),
    };
    let claims = db
        .transaction(move |c| {
            AuditOutbox::default().enqueue(c, &event)?;
            let now = chrono::Utc::now().naive_utc();
            let lease = now + chrono::Duration::minutes(1);
            let first = audit_outbox::claim(c, lease, now, 10)?;
            let second = audit_outbox::claim(c, lease, now, 10)?;
            Ok::<_, MessagingError>((first.len(), second.len()))
        })
        .await
        .unwrap();
    assert_eq!(claims, (1, 0));
}
