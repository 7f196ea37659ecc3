//! Dispatch throughput (issue 4: ≥ 500 emails/s to a local SMTP sink and
//! ≥ 1,000 SMS/s to the mock SMS API, rate limits off, on a 2-core machine).
//!
//! One communication to N distinct addresses is enqueued per channel, then W
//! delivery workers drain it through the real providers — `SmtpProvider` to the
//! tests' SMTP sink, `TwilioProvider` to the tests' mock Twilio, both served in
//! this process — and the time until every delivery is `sent` is reported with
//! the mean provider call and the share of worker time spent in it.
//!
//! `cargo bench -p messaging-svc --bench dispatch` runs on SQLite; with
//! `TEST_DATABASE_URL=postgres://…` on PostgreSQL. `BENCH_EMAILS` (5,000),
//! `BENCH_SMS` (10,000), `BENCH_WORKERS` (4), `BENCH_BATCH` (100) and
//! `BENCH_SMTP_POOL` (4 × 16 connections: workers × in-flight per batch) override the defaults.
//!
//! Why 32 workers of 10: lettre 0.11 leaves Nagle on, so every message waits
//! ~40 ms for the sink's delayed ACK before its final `.` goes out, and a
//! worker sends its batch one message at a time. Throughput is workers ÷ 46 ms;
//! small batches keep all of them busy to the end (BENCHMARKS.md has the numbers).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/it/mock_twilio.rs"]
mod mock_twilio;
#[allow(dead_code)]
#[path = "../tests/it/smtp_sink.rs"]
mod smtp_sink;

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
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
        smtp::{SmtpProvider, SmtpSettings, SmtpTls},
        twilio::{TwilioProvider, TwilioSettings},
    },
    queue::worker::{Worker, WorkerSettings},
    store::deliveries::{self, CommunicationRow, Rendered},
};
use secrecy::SecretString;

use mock_twilio::{ACCOUNT_SID, AUTH_TOKEN, MockTwilio};
use smtp_sink::SmtpSink;

const COMMUNICATION: &str = "bench-communication";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A provider that adds up the time its calls take.
struct Timed<P: ?Sized> {
    inner: Arc<P>,
    nanos: AtomicU64,
}

impl<P: ?Sized> Timed<P> {
    fn new(inner: Arc<P>) -> Timed<P> {
        Timed {
            inner,
            nanos: AtomicU64::new(0),
        }
    }

    async fn time(&self, call: BoxFuture<'_, SendOutcome>) -> SendOutcome {
        let started = Instant::now();
        let outcome = call.await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap();
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        outcome
    }

    /// Seconds spent in calls since the last take.
    fn take_seconds(&self) -> f64 {
        self.nanos.swap(0, Ordering::Relaxed) as f64 / 1e9
    }
}

impl EmailProvider for Timed<dyn EmailProvider> {
    fn send_email(&self, email: OutgoingEmail) -> BoxFuture<'_, SendOutcome> {
        Box::pin(self.time(self.inner.send_email(email)))
    }
}

impl PhoneProvider for Timed<dyn PhoneProvider> {
    fn send_sms(&self, sms: OutgoingSms) -> BoxFuture<'_, SendOutcome> {
        Box::pin(self.time(self.inner.send_sms(sms)))
    }

    fn place_call(&self, call: OutgoingCall) -> BoxFuture<'_, SendOutcome> {
        Box::pin(self.time(self.inner.place_call(call)))
    }
}

/// `n` distinct addresses on `channel`.
fn addresses(channel: Channel, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match channel {
            Channel::Email => format!("family{i}@example.org"),
            _ => format!("+1202{i:07}"),
        })
        .collect()
}

/// Plans and stores one communication to `addresses`, one account each.
async fn enqueue(db: &Db, channel: Channel, addresses: &[String]) {
    let recipients: Vec<Recipient> = addresses
        .iter()
        .enumerate()
        .map(|(i, address)| Recipient {
            account_id: format!("acc-{i}"),
            language: String::new(),
            email: (channel == Channel::Email).then(|| address.clone()),
            phone: (channel != Channel::Email).then(|| address.clone()),
            merged_account_ids: Vec::new(),
        })
        .collect();
    let inputs = PlanInputs {
        channels: [channel].into_iter().collect(),
        ..PlanInputs::default()
    };
    let planned = plan(&recipients, &inputs);
    assert_eq!(planned.to_send(channel), addresses.len());
    let accounts: Vec<String> = recipients.into_iter().map(|r| r.account_id).collect();
    let now = Utc::now().naive_utc();
    let row = CommunicationRow {
        id: COMMUNICATION.into(),
        district_id: "bench-district".into(),
        kind: "communication".into(),
        sender_account_id: "bench-sender".into(),
        idempotency_key: "bench-key".into(),
        request_fingerprint: "bench".into(),
        subject: "Snow day".into(),
        body: "School is closed today. Stay warm!".into(),
        variants: "[]".into(),
        channels: channel.as_str().into(),
        emergency: false,
        status: "queued".into(),
        created_at: now,
    };
    db.transaction(move |c| {
        deliveries::insert_planned(c, &row, &accounts, &planned, &Rendered::default(), now)
            .map_err(DbError::from)
    })
    .await
    .unwrap();
}

/// Runs `workers` workers until the queue is empty; returns the seconds it took.
async fn drain(db: &Db, setup: &Setup) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..setup.workers)
        .map(|w| {
            let settings = WorkerSettings {
                owner: format!("bench-worker-{w}"),
                batch: setup.batch,
                ..WorkerSettings::default()
            };
            let worker = Worker::new(
                db.clone(),
                setup.email.clone(),
                setup.phone.clone(),
                settings,
            );
            // A worker that claims nothing has found every delivery claimed.
            tokio::spawn(async move { while worker.run_once().await.unwrap() > 0 {} })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

async fn sent(db: &Db) -> i64 {
    let statuses = db
        .run(|c| deliveries::count_by_status(c, COMMUNICATION).map_err(DbError::from))
        .await
        .unwrap();
    assert!(
        statuses.iter().all(|(status, _)| status == "sent"),
        "{statuses:?}"
    );
    statuses.iter().map(|(_, n)| n).sum()
}

/// Asserts every address got exactly one message.
fn assert_once_each(channel: Channel, expected: &[String], got: Vec<String>) {
    let distinct: BTreeSet<&String> = got.iter().collect();
    let wanted: BTreeSet<&String> = expected.iter().collect();
    assert_eq!(got.len(), expected.len(), "{channel:?}: messages received");
    assert!(distinct == wanted, "{channel:?}: one message per address");
}

struct Setup {
    sink: SmtpSink,
    mock: MockTwilio,
    email: Arc<Timed<dyn EmailProvider>>,
    phone: Arc<Timed<dyn PhoneProvider>>,
    workers: usize,
    batch: i64,
}

async fn run(setup: &Setup, channel: Channel, n: usize) {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let expected = addresses(channel, n);
    enqueue(db, channel, &expected).await;
    let seconds = drain(db, setup).await;
    let in_provider = match channel {
        Channel::Email => setup.email.take_seconds(),
        _ => setup.phone.take_seconds(),
    };
    assert_eq!(sent(db).await, n as i64);
    let got: Vec<String> = match channel {
        Channel::Email => setup
            .sink
            .received()
            .into_iter()
            .flat_map(|m| m.rcpt_to)
            .collect(),
        _ => setup
            .mock
            .messages()
            .iter()
            .map(|m| m.field("To").unwrap().to_owned())
            .collect(),
    };
    assert_once_each(channel, &expected, got);
    // Workers send one message at a time: the rest of their time is the queue.
    println!(
        "dispatch backend={} channel={} n={n} workers={} seconds={seconds:.2} rate={:.0}/s \
         send_ms={:.2} in_provider={:.0}%",
        test_db.backend(),
        channel.as_str(),
        setup.workers,
        n as f64 / seconds,
        in_provider * 1e3 / n as f64,
        in_provider * 100.0 / (seconds * setup.workers as f64),
    );
}

#[tokio::main]
async fn main() {
    let workers = env_or("BENCH_WORKERS", 4);
    let sink = SmtpSink::start().await;
    let mock = MockTwilio::start().await;
    let email = SmtpProvider::new(SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port(),
        tls: SmtpTls::None,
        username: None,
        password: None,
        from_address: "office@lincoln.example".into(),
        from_name: "Lincoln Elementary".into(),
        timeout: SmtpSettings::DEFAULT_TIMEOUT,
        max_connections: u32::try_from(env_or("BENCH_SMTP_POOL", workers * 16)).unwrap(),
        max_per_second: None,
    })
    .unwrap();
    let mut twilio = TwilioSettings::new(ACCOUNT_SID, SecretString::from(AUTH_TOKEN));
    twilio.base_url = mock.base_url();
    twilio.from = Some("+15005550006".into());
    twilio.max_per_second = None;
    let phone = TwilioProvider::new(twilio).unwrap();
    let setup = Setup {
        sink,
        mock,
        email: Arc::new(Timed::new(Arc::new(email) as Arc<dyn EmailProvider>)),
        phone: Arc::new(Timed::new(Arc::new(phone) as Arc<dyn PhoneProvider>)),
        workers,
        batch: i64::try_from(env_or("BENCH_BATCH", 100)).unwrap(),
    };
    run(&setup, Channel::Email, env_or("BENCH_EMAILS", 5_000)).await;
    run(&setup, Channel::Sms, env_or("BENCH_SMS", 10_000)).await;
}
