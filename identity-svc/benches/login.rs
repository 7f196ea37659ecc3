//! Login throughput (issue 3): password logins over gRPC with argon2id at the
//! OWASP parameters, 8 concurrent clients, against a bare argon2 verify loop
//! on every core, in the same run. Target: logins/s ≥ 85% of verifies/s.
//!
//! `cargo bench -p identity-svc --bench login` (SQLite; `TEST_DATABASE_URL` for
//! PostgreSQL). `BENCH_SECONDS` sets the length of each side (default 20, in 4 rounds).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use homeroom_platform::{
    config::{ServiceSettings, loopback},
    db::DbSettings,
    testing::TestDb,
};
use homeroom_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use identity_svc::{
    MIGRATIONS,
    app::App,
    config::Config,
    domain::{
        accounts::{AccountKind, Names},
        password::Passwords,
        upsert::Incoming,
    },
    ops::upsert::{UpsertBatch, upsert_accounts},
    store,
};

const CLIENTS: usize = 8;
const ACCOUNTS: usize = 64;
const PASSWORD: &str = "bench-password-123";

/// Which verification the bare loop runs.
#[derive(Clone, Copy)]
enum Bare {
    /// `argon2`'s own `verify_password`, allocating its memory each time.
    Crate,
    /// identity-svc's `Passwords::verify`, reusing per-thread memory.
    Ours,
}

fn bare_verify_loop(kind: Bare, seconds: Duration) -> f64 {
    use argon2::{PasswordHash, PasswordVerifier};
    let passwords = Passwords::new().unwrap();
    let phc = passwords.hash(PASSWORD).unwrap();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, count, passwords, phc) =
                (stop.clone(), count.clone(), passwords.clone(), phc.clone());
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&phc).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let ok = match kind {
                        Bare::Crate => argon2::Argon2::default()
                            .verify_password(PASSWORD.as_bytes(), &parsed)
                            .is_ok(),
                        Bare::Ours => passwords.verify(&phc, PASSWORD),
                    };
                    assert!(ok);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(seconds);
    stop.store(true, Ordering::Relaxed);
    handles.into_iter().for_each(|h| h.join().unwrap());
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn seed(test_db: &TestDb) {
    let items = (0..ACCOUNTS)
        .map(|i| {
            Ok(Incoming {
                source_id: format!("g-{i}"),
                account_id: None,
                kind: AccountKind::Guardian,
                names: Names {
                    given: format!("G{i}"),
                    middle: String::new(),
                    family: "Bench".into(),
                },
                language: None,
                email: Some(Some(format!("bench{i}@example.org"))),
                mobile_phone: None,
                home_phone: None,
                roles: Default::default(),
                contact_managed_by_sync: false,
                linked_students: None,
                sign_in_disabled: false,
            })
        })
        .collect();
    let batch = UpsertBatch {
        district_id: "bench".into(),
        source_system: "sis".into(),
        items,
        org_labels: vec![],
        dry_run: false,
    };
    let results = upsert_accounts(&test_db.db, batch).await.unwrap();
    let phc = Passwords::new().unwrap().hash(PASSWORD).unwrap();
    for r in results {
        let phc = phc.clone();
        test_db
            .db
            .run(move |c| {
                store::accounts::activate_with_password(
                    c,
                    &r.account_id,
                    &phc,
                    chrono::Utc::now().naive_utc(),
                )
                .map_err(homeroom_platform::db::DbError::from)
            })
            .await
            .unwrap();
    }
}

#[tokio::main]
async fn main() {
    let seconds = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    seed(&test_db).await;
    let mut service = ServiceSettings::defaults("identity", loopback(0));
    service.database = DbSettings::new(test_db.url.clone());
    let app = App::build(Config {
        service,
        service_secret: None,
        messaging_url: "http://127.0.0.1:1".into(),
        sso: Vec::new(),
        public_url: None,
    })
    .await
    .unwrap();
    let addr = app.local_addr().unwrap();
    tokio::spawn(app.run_until(std::future::pending()));
    homeroom_platform::testing::wait_serving(
        addr,
        homeroom_proto::identity::v1::SERVICE_NAME,
        std::time::Duration::from_secs(30),
    )
    .await
    .unwrap();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    // The machine's speed drifts by ±15% over a minute: alternate short rounds
    // of the bare loop and of logins, and compare the totals.
    let rounds = 4;
    let round = seconds / rounds;
    let (mut crate_total, mut bare_total, mut login_count, mut login_seconds) =
        (0.0, 0.0, 0usize, 0.0);
    let mut latencies = Vec::new();
    for _ in 0..rounds {
        crate_total += tokio::task::spawn_blocking(move || bare_verify_loop(Bare::Crate, round))
            .await
            .unwrap();
        bare_total += tokio::task::spawn_blocking(move || bare_verify_loop(Bare::Ours, round))
            .await
            .unwrap();
        let (n, elapsed, mut l) = login_round(&channel, round).await;
        login_count += n;
        login_seconds += elapsed;
        latencies.append(&mut l);
    }
    let bare = bare_total / f64::from(rounds);
    let crate_bare = crate_total / f64::from(rounds);
    let logins = login_count as f64 / login_seconds;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "login backend={} clients={CLIENTS} rounds={rounds} bare_crate_verify={crate_bare:.1}/s bare_reused_memory_verify={bare:.1}/s \
         logins={logins:.1}/s ratio_to_crate={:.1}% ratio_to_reused={:.1}% p50={:.1}ms p99={:.1}ms n={}",
        test_db.backend(),
        100.0 * logins / crate_bare,
        100.0 * logins / bare,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
}

/// Logins from `CLIENTS` concurrent clients for `length`: count, seconds, latencies.
async fn login_round(
    channel: &tonic::transport::Channel,
    length: Duration,
) -> (usize, f64, Vec<Duration>) {
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let mut grpc = IdentityServiceClient::new(channel.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = client;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let answer = grpc
                        .login(pb::LoginRequest {
                            identifier: format!("bench{}@example.org", i % ACCOUNTS),
                            password: PASSWORD.into(),
                            ..Default::default()
                        })
                        .await
                        .unwrap()
                        .into_inner();
                    assert!(matches!(
                        answer.outcome,
                        Some(pb::login_response::Outcome::Tokens(_))
                    ));
                    latencies.push(t.elapsed());
                    i += CLIENTS;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    (latencies.len(), started.elapsed().as_secs_f64(), latencies)
}
