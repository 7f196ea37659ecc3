//! A messaging-svc process killed with SIGKILL mid-dispatch (1,500 deliveries,
//! email to a real SMTP server and SMS to the Twilio mock) loses nothing: a
//! second process sends the rest within seconds (the dead worker's heartbeat
//! stops; nobody waits out the 120 s lease), and only deliveries whose
//! provider call was marked in flight at the kill may go out twice — each
//! such re-send is in the address's history.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use chrono::Utc;
use diesel::prelude::*;
use homeroom_platform::{
    db::DbError,
    testing::{
        ServiceProcess, TestDb,
        smtp::{mails, python_with_aiosmtpd, smtp_server},
        twilio::{ACCOUNT_SID, AUTH_TOKEN, MockTwilio},
    },
};
use messaging_svc::{
    MIGRATIONS,
    domain::plan::{Channel, PlanInputs, Recipient, plan},
    store::{
        deliveries::{self, CommunicationRow, Rendered},
        schema::{address_events, deliveries as d},
    },
};

const FAMILIES: usize = 750;

async fn spawn(db_url: &str, smtp_port: u16, twilio: &str, outbox: &str) -> ServiceProcess {
    let port = smtp_port.to_string();
    ServiceProcess::spawn(
        env!("CARGO_BIN_EXE_messaging-svc"),
        &[],
        &[
            ("HOMEROOM_LISTEN_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", db_url),
            ("HOMEROOM_OUTBOX_DIR", outbox),
            ("HOMEROOM_WORKERS", "2"),
            ("HOMEROOM_LOG_LEVEL", "warn"),
            ("HOMEROOM_SMTP_HOST", "127.0.0.1"),
            ("HOMEROOM_SMTP_PORT", port.as_str()),
            ("HOMEROOM_SMTP_TLS", "none"),
            // Paced, so the kill lands mid-dispatch.
            ("HOMEROOM_SMTP_MAX_PER_SECOND", "150"),
            ("HOMEROOM_TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("HOMEROOM_TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("HOMEROOM_TWILIO_FROM", "+15005550006"),
            ("HOMEROOM_TWILIO_BASE_URL", twilio),
            ("HOMEROOM_TWILIO_MAX_PER_SECOND", "150"),
        ],
        &["messaging"],
    )
    .await
    .unwrap()
}

async fn statuses(test_db: &TestDb) -> HashMap<String, i64> {
    test_db
        .db
        .run(|c| deliveries::count_by_status(c, "crash").map_err(DbError::from))
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn a_process_killed_mid_dispatch_loses_nothing_and_sends_again_only_what_was_in_flight() {
    let Some(python) = python_with_aiosmtpd("the crash-recovery test").unwrap() else {
        return;
    };
    let mail_root = tempfile::tempdir().unwrap();
    // aiosmtpd makes the Maildir (new/, cur/, tmp/) only where nothing exists yet.
    let maildir = mail_root.path().join("maildir");
    let (_smtp, smtp_port) = smtp_server(&python, &maildir).await.unwrap();
    let twilio = MockTwilio::start().await;
    let outbox = tempfile::tempdir().unwrap();
    let outbox_dir = outbox.path().to_str().unwrap().to_string();

    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    test_db
        .db
        .transaction(|c| {
            let people: Vec<Recipient> = (0..FAMILIES)
                .map(|i| Recipient {
                    account_id: format!("acc-{i}"),
                    language: String::new(),
                    email: Some(format!("family{i}@example.org")),
                    phone: Some(format!("+1555{i:07}")),
                    merged_account_ids: Vec::new(),
                })
                .collect();
            let inputs = PlanInputs {
                channels: [Channel::Email, Channel::Sms].into_iter().collect(),
                ..PlanInputs::default()
            };
            let planned = plan(&people, &inputs);
            let now = Utc::now().naive_utc();
            let row = CommunicationRow {
                id: "crash".into(),
                district_id: "district-1".into(),
                kind: "communication".into(),
                sender_account_id: "principal".into(),
                idempotency_key: "crash".into(),
                request_fingerprint: "fp".into(),
                subject: "Early release".into(),
                body: "School ends at noon on Friday.".into(),
                variants: "[]".into(),
                channels: "email,sms".into(),
                emergency: false,
                status: "sending".into(),
                created_at: now,
            };
            let accounts: Vec<String> = people.into_iter().map(|r| r.account_id).collect();
            deliveries::insert_planned(c, &row, &accounts, &planned, &Rendered::default(), now)?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    let total = (2 * FAMILIES) as i64;

    let mut first = spawn(&test_db.url, smtp_port, &twilio.base_url(), &outbox_dir).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while statuses(&test_db).await.get("sent").copied().unwrap_or(0) < 300 {
        assert!(
            Instant::now() < deadline,
            "the first process never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.start_kill().unwrap();
    first.child.wait().await.unwrap();
    let killed_at = Instant::now();

    // What was in flight at the kill: claimed, its provider call marked.
    let in_flight: Vec<String> = test_db
        .db
        .run(|c| {
            d::table
                .filter(d::status.eq("sending"))
                .filter(d::sending_since.is_not_null())
                .select(d::id)
                .load::<String>(c)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let sent_at_kill = statuses(&test_db).await.get("sent").copied().unwrap_or(0);
    assert!(
        sent_at_kill < total,
        "the kill came too late to test anything"
    );

    let _second = spawn(&test_db.url, smtp_port, &twilio.base_url(), &outbox_dir).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let s = statuses(&test_db).await;
        if s.get("sent").copied().unwrap_or(0) == total {
            break;
        }
        assert!(Instant::now() < deadline, "not all sent: {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered_in = killed_at.elapsed();
    assert!(
        recovered_in < Duration::from_secs(60),
        "recovery must not wait out the 120 s lease: {recovered_in:?}"
    );

    // Every delivery reached its provider at least once; what reached it
    // twice was in flight at the kill, and its history says so.
    let mut received: HashMap<String, usize> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        received.clear();
        for mail in mails(&maildir) {
            if let Some(id) = mail
                .lines()
                .find_map(|l| {
                    l.strip_prefix("Message-ID: <")
                        .or(l.strip_prefix("Message-Id: <"))
                })
                .and_then(|rest| rest.split('@').next())
            {
                *received.entry(id.to_string()).or_default() += 1;
            }
        }
        for sms in twilio.messages() {
            if let Some(id) = sms.idempotency_token.clone() {
                *received.entry(id).or_default() += 1;
            }
        }
        if received.len() as i64 == total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(received.len() as i64, total, "every delivery went out");
    let twice: Vec<&String> = received
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(
        twice.iter().all(|id| in_flight.contains(id)),
        "only what was in flight may go out again: {} twice, {} in flight",
        twice.len(),
        in_flight.len()
    );
    // The provider has each message before the worker records what it did
    // (its completion, and a re-send's history event, follow the call):
    // wait for the records, not only for the messages.
    let mut in_flight_sorted = in_flight.clone();
    in_flight_sorted.sort();
    let record_deadline = Instant::now() + Duration::from_secs(20);
    let resent_sorted = loop {
        let mut resent: Vec<String> = test_db
            .db
            .run(|c| {
                address_events::table
                    .filter(address_events::kind.eq("resent"))
                    .select(address_events::delivery_id)
                    .load::<Option<String>>(c)
                    .map_err(DbError::from)
            })
            .await
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        resent.sort();
        if resent == in_flight_sorted || Instant::now() > record_deadline {
            break resent;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        resent_sorted, in_flight_sorted,
        "each in-flight delivery's re-send is recorded in its history"
    );
    eprintln!(
        "killed after {sent_at_kill} of {total} sent; {} in flight, {} received twice; all sent {:.1} s after the kill",
        in_flight.len(),
        twice.len(),
        recovered_in.as_secs_f64()
    );
}
