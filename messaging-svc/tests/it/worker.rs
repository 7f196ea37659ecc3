//! Delivery workers (MS-4, MS-5, MS-6) with recording providers: one message
//! per address, retries of transient failures, bounces marking addresses bad.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use futures::future::BoxFuture;
use homeroom_platform::{
    db::{Db, DbError},
    testing::TestDb,
};
use messaging_svc::{
    MIGRATIONS,
    domain::plan::{Channel, PlanInputs, Recipient, plan},
    providers::{
        EmailProvider, OutgoingCall, OutgoingEmail, OutgoingSms, PhoneProvider, SendOutcome,
    },
    queue::{
        backoff::RetryPolicy,
        worker::{Worker, WorkerSettings},
    },
    store::{
        addresses,
        deliveries::{self, CommunicationRow, Rendered},
    },
};

/// Records what it is asked to send; answers from a script per address (default: sent).
#[derive(Default)]
struct Fake {
    sent: Mutex<Vec<(String, String)>>,
    script: Mutex<HashMap<String, Vec<SendOutcome>>>,
}

impl Fake {
    fn answer(&self, to: &str, text: &str) -> SendOutcome {
        self.sent
            .lock()
            .unwrap()
            .push((to.to_string(), text.to_string()));
        let mut script = self.script.lock().unwrap();
        match script.get_mut(to).filter(|s| !s.is_empty()) {
            Some(s) => s.remove(0),
            None => SendOutcome::Sent {
                provider_message_id: format!("p-{to}"),
            },
        }
    }
    fn to(&self, address: &str) -> usize {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(to, _)| to == address)
            .count()
    }
}

impl EmailProvider for Fake {
    fn send_email(&self, e: OutgoingEmail) -> BoxFuture<'_, SendOutcome> {
        let out = self.answer(&e.to, &e.body);
        Box::pin(async move { out })
    }
}

impl PhoneProvider for Fake {
    fn send_sms(&self, s: OutgoingSms) -> BoxFuture<'_, SendOutcome> {
        let out = self.answer(&s.to, &s.body);
        Box::pin(async move { out })
    }
    fn place_call(&self, c: OutgoingCall) -> BoxFuture<'_, SendOutcome> {
        let out = self.answer(&c.to, &c.text);
        Box::pin(async move { out })
    }
}

fn smiths() -> Vec<Recipient> {
    vec![
        Recipient {
            account_id: "sarah".into(),
            language: String::new(),
            email: Some("smithparent@mail.com".into()),
            phone: Some("+19876543210".into()),
            merged_account_ids: Vec::new(),
        },
        Recipient {
            account_id: "kevin".into(),
            language: String::new(),
            email: Some("smithparent@mail.com".into()),
            phone: Some("+11234567890".into()),
            merged_account_ids: Vec::new(),
        },
    ]
}

async fn send(db: &Db, id: &str, channels: &[Channel]) {
    let (id, channels) = (id.to_string(), channels.to_vec());
    db.transaction(move |c| {
        let people = smiths();
        let all: Vec<String> = people
            .iter()
            .flat_map(|r| [r.email.clone(), r.phone.clone()])
            .flatten()
            .collect();
        let inputs = PlanInputs {
            channels: channels.iter().copied().collect(),
            addresses: addresses::states(c, &all)?,
            ..PlanInputs::default()
        };
        let planned = plan(&people, &inputs);
        let now = Utc::now().naive_utc();
        let row = CommunicationRow {
            id: id.clone(),
            district_id: "district-1".into(),
            kind: "communication".into(),
            sender_account_id: "teacher".into(),
            idempotency_key: id.clone(),
            request_fingerprint: "fp".into(),
            subject: "Field trip".into(),
            body: "Permission slips are due Friday.".into(),
            variants: "[]".into(),
            channels: "email,sms".into(),
            emergency: false,
            status: "queued".into(),
            created_at: now,
        };
        let accounts = vec!["sarah".to_string(), "kevin".to_string()];
        deliveries::insert_planned(c, &row, &accounts, &planned, &Rendered::default(), now)?;
        Ok::<_, DbError>(())
    })
    .await
    .unwrap();
}

fn worker(db: &Db, fake: &Arc<Fake>) -> Worker {
    let settings = WorkerSettings {
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::ZERO,
            max: Duration::ZERO,
        },
        ..WorkerSettings::default()
    };
    Worker::new(db.clone(), fake.clone(), fake.clone(), settings)
}

async fn drain(w: &Worker) {
    while w.run_once().await.unwrap() > 0 {}
}

async fn statuses(db: &Db, id: &str) -> HashMap<String, i64> {
    let id = id.to_string();
    db.run(move |c| deliveries::count_by_status(c, &id).map_err(DbError::from))
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn the_smiths_get_one_email_and_two_texts() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let fake = Arc::new(Fake::default());
    send(&test_db.db, "c1", &[Channel::Email, Channel::Sms]).await;
    drain(&worker(&test_db.db, &fake)).await;
    assert_eq!(fake.to("smithparent@mail.com"), 1);
    assert_eq!((fake.to("+19876543210"), fake.to("+11234567890")), (1, 1));
    assert!(
        fake.sent
            .lock()
            .unwrap()
            .iter()
            .all(|(_, body)| body == "Permission slips are due Friday.")
    );
    assert_eq!(statuses(&test_db.db, "c1").await.get("sent"), Some(&3));
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_sent_once() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let fake = Arc::new(Fake::default());
    fake.script.lock().unwrap().insert(
        "smithparent@mail.com".into(),
        vec![SendOutcome::Transient {
            reason: "451 try later".into(),
            retry_after: None,
        }],
    );
    send(&test_db.db, "c2", &[Channel::Email]).await;
    drain(&worker(&test_db.db, &fake)).await;
    assert_eq!(
        fake.to("smithparent@mail.com"),
        2,
        "one failed try, one success"
    );
    assert_eq!(statuses(&test_db.db, "c2").await.get("sent"), Some(&1));
}

#[tokio::test]
async fn a_permanent_error_marks_the_number_bad_and_later_messages_skip_it() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let fake = Arc::new(Fake::default());
    fake.script.lock().unwrap().insert(
        "+11234567890".into(),
        vec![SendOutcome::Permanent {
            code: "30003".into(),
            reason: "Unreachable destination handset".into(),
        }],
    );
    send(&test_db.db, "c3", &[Channel::Sms]).await;
    let w = worker(&test_db.db, &fake);
    drain(&w).await;
    let s = statuses(&test_db.db, "c3").await;
    assert_eq!((s.get("sent"), s.get("bounced")), (Some(&1), Some(&1)));

    send(&test_db.db, "c4", &[Channel::Sms]).await;
    drain(&w).await;
    assert_eq!(fake.to("+11234567890"), 1, "never attempted again");
    let s = statuses(&test_db.db, "c4").await;
    assert_eq!((s.get("sent"), s.get("skipped")), (Some(&1), Some(&1)));
}

#[tokio::test]
async fn a_number_that_opted_out_is_recorded_and_skipped() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let fake = Arc::new(Fake::default());
    fake.script.lock().unwrap().insert(
        "+19876543210".into(),
        vec![SendOutcome::OptedOut {
            reason: "21610 unsubscribed".into(),
        }],
    );
    send(&test_db.db, "c5", &[Channel::Sms]).await;
    drain(&worker(&test_db.db, &fake)).await;
    let state = test_db
        .db
        .run(|c| addresses::states(c, &["+19876543210".to_string()]).map_err(DbError::from))
        .await
        .unwrap();
    assert!(state[&(Channel::Sms, "+19876543210".to_string())].opted_out);
    assert_eq!(statuses(&test_db.db, "c5").await.get("skipped"), Some(&1));
}
