//! The delivery queue (MS-2, MS-4) on both backends: leased claims, exactly
//! once per address, crashed workers' claims coming back.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{NaiveDateTime, Utc};
use homeroom_platform::{
    db::{Db, DbError},
    testing::TestDb,
};
use messaging_svc::{
    MIGRATIONS,
    domain::plan::{Channel, PlanInputs, Recipient, plan},
    store::deliveries::{self, Claimed, CommunicationRow, Completion, Rendered},
};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn communication(id: &str) -> CommunicationRow {
    CommunicationRow {
        id: id.into(),
        district_id: "district-1".into(),
        kind: "communication".into(),
        sender_account_id: "sender".into(),
        idempotency_key: format!("key-{id}"),
        request_fingerprint: "fp".into(),
        subject: "Snow day".into(),
        body: "School is closed".into(),
        variants: "[]".into(),
        channels: "email".into(),
        emergency: false,
        status: "queued".into(),
        created_at: now(),
    }
}

/// A communication to `n` accounts; every fifth shares the previous one's email.
async fn enqueue(db: &Db, id: &str, n: usize) -> usize {
    let recipients: Vec<Recipient> = (0..n)
        .map(|i| Recipient {
            account_id: format!("acc-{i}"),
            language: String::new(),
            email: Some(format!(
                "family{}@example.org",
                if i % 5 == 4 { i - 1 } else { i }
            )),
            phone: None,
            merged_account_ids: Vec::new(),
        })
        .collect();
    let inputs = PlanInputs {
        channels: [Channel::Email].into_iter().collect(),
        ..PlanInputs::default()
    };
    let planned = plan(&recipients, &inputs);
    let addresses = planned.deliveries.len();
    let accounts: Vec<String> = recipients.iter().map(|r| r.account_id.clone()).collect();
    let row = communication(id);
    db.transaction(move |c| {
        deliveries::insert_planned(c, &row, &accounts, &planned, &Rendered::default(), now())
            .map_err(DbError::from)
    })
    .await
    .unwrap();
    addresses
}

async fn claim(db: &Db, owner: &str, lease: Duration, limit: i64) -> Vec<Claimed> {
    let owner = owner.to_string();
    db.run(move |c| {
        let t = now();
        // As a worker does: alive, then claiming. A worker's heartbeat task
        // beats every 2 s while it sends; these workers beat only here, so a
        // batch completed slowly on a loaded machine must not read as a dead
        // worker's: the window is long, and the leases decide.
        deliveries::heartbeat(c, &owner, t)?;
        deliveries::claim(
            c,
            &owner,
            t + chrono::Duration::from_std(lease).unwrap(),
            t,
            t - chrono::Duration::minutes(10),
            limit,
        )
        .map_err(DbError::from)
    })
    .await
    .unwrap()
}

async fn complete(db: &Db, id: &str, owner: &str) -> bool {
    let (id, owner) = (id.to_string(), owner.to_string());
    db.run(move |c| {
        let done = Completion::Sent {
            provider_message_id: format!("msg-{id}"),
        };
        deliveries::complete(c, &id, &owner, &done, now()).map_err(DbError::from)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn three_workers_send_ten_thousand_deliveries_each_address_exactly_once() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let addresses = enqueue(&test_db.db, "comm-1", 12_500).await;
    assert_eq!(
        addresses, 10_000,
        "12,500 recipients share 10,000 addresses"
    );

    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let (db, sent) = (test_db.db.clone(), sent.clone());
            tokio::spawn(async move {
                let owner = format!("worker-{w}");
                loop {
                    let batch = claim(&db, &owner, Duration::from_secs(60), 100).await;
                    if batch.is_empty() {
                        break;
                    }
                    for d in batch {
                        // The provider call: recorded per address.
                        sent.lock().unwrap().push(d.address.clone());
                        assert!(complete(&db, &d.id, &owner).await);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    let unique: BTreeSet<&String> = sent.iter().collect();
    assert_eq!((sent.len(), unique.len()), (10_000, 10_000));
    let statuses: HashMap<String, i64> = test_db
        .db
        .run(|c| deliveries::count_by_status(c, "comm-1").map_err(DbError::from))
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(statuses.get("sent"), Some(&10_000));
}

#[tokio::test]
async fn a_killed_workers_claims_come_back_after_the_lease_and_are_sent_once() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    enqueue(&test_db.db, "comm-2", 20).await;
    let lost = claim(&test_db.db, "doomed", Duration::from_millis(300), 10).await;
    assert_eq!(lost.len(), 10);
    // While the lease holds, nobody else takes them.
    let other = claim(&test_db.db, "rescuer", Duration::from_secs(60), 100).await;
    assert_eq!(other.len(), 6, "only the rest: 16 addresses, 10 leased");
    for d in &other {
        assert!(complete(&test_db.db, &d.id, "rescuer").await);
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let back = claim(&test_db.db, "rescuer", Duration::from_secs(60), 100).await;
    let lost_ids: BTreeSet<&String> = lost.iter().map(|d| &d.id).collect();
    let back_ids: BTreeSet<&String> = back.iter().map(|d| &d.id).collect();
    assert_eq!(lost_ids, back_ids);
    assert!(back.iter().all(|d| d.attempts == 2));
    for d in &back {
        assert!(complete(&test_db.db, &d.id, "rescuer").await);
    }
    // The dead worker waking up late cannot overwrite the outcome.
    assert!(!complete(&test_db.db, &lost[0].id, "doomed").await);
    assert!(
        claim(&test_db.db, "anyone", Duration::from_secs(60), 100)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_database_refuses_a_second_delivery_to_the_same_address() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    enqueue(&test_db.db, "comm-3", 2).await;
    let duplicate = test_db
        .db
        .run(|c| {
            use diesel::prelude::*;
            use messaging_svc::store::schema::deliveries::dsl as d;
            let t = now();
            diesel::insert_into(d::deliveries)
                .values((
                    d::id.eq("dup"),
                    d::communication_id.eq("comm-3"),
                    d::channel.eq("email"),
                    d::address.eq("family0@example.org"),
                    d::language.eq(""),
                    d::status.eq("queued"),
                    d::attempts.eq(0),
                    d::next_attempt_at.eq(t),
                    d::created_at.eq(t),
                    d::updated_at.eq(t),
                ))
                .execute(c)
                .map_err(DbError::from)
        })
        .await;
    assert!(
        duplicate.is_err(),
        "(communication, channel, address) must be unique"
    );
}

#[tokio::test]
async fn a_dead_workers_claims_return_once_its_heartbeat_stops_and_only_marked_ones_count_as_in_flight()
 {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    enqueue(&test_db.db, "comm-4", 4).await;
    // "doomed" claims all four for a minute and starts the provider call of one.
    let held = claim(&test_db.db, "doomed", Duration::from_secs(60), 10).await;
    assert_eq!(held.len(), 4);
    assert!(held.iter().all(|d| d.sending_since.is_none()));
    let marked = held[0].id.clone();
    let id = marked.clone();
    assert!(
        test_db
            .db
            .run(move |c| deliveries::mark_sending(c, &id, "doomed", now()).map_err(DbError::from))
            .await
            .unwrap()
    );
    // Alive: nobody takes them, lease or not.
    assert!(
        claim(&test_db.db, "rescuer", Duration::from_secs(60), 10)
            .await
            .is_empty()
    );
    // Its heartbeat stops (last seen 30 minutes ago): the four return at once,
    // long before the lease; only the marked one was in flight.
    test_db
        .db
        .run(|c| {
            deliveries::heartbeat(c, "doomed", now() - chrono::Duration::minutes(30))
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let back = claim(&test_db.db, "rescuer", Duration::from_secs(60), 10).await;
    assert_eq!(back.len(), 4);
    let in_flight: Vec<&String> = back
        .iter()
        .filter(|d| d.sending_since.is_some())
        .map(|d| &d.id)
        .collect();
    assert_eq!(in_flight, [&marked]);
    // The dead worker, waking up, can neither start a call nor record one.
    let id = marked.clone();
    assert!(
        !test_db
            .db
            .run(move |c| deliveries::mark_sending(c, &id, "doomed", now()).map_err(DbError::from))
            .await
            .unwrap()
    );
    assert!(!complete(&test_db.db, &marked, "doomed").await);
    for d in &back {
        assert!(complete(&test_db.db, &d.id, "rescuer").await);
    }

    // A worker that retires cleanly hands back what it held at once.
    enqueue(&test_db.db, "comm-5", 2).await;
    assert_eq!(
        claim(&test_db.db, "leaving", Duration::from_secs(60), 10)
            .await
            .len(),
        2
    );
    test_db
        .db
        .run(|c| deliveries::retire(c, "leaving").map_err(DbError::from))
        .await
        .unwrap();
    assert_eq!(
        claim(&test_db.db, "rescuer", Duration::from_secs(60), 10)
            .await
            .len(),
        2
    );
}
