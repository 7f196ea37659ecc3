//! ID-3: does a failed login's time tell whether the address exists, or how
//! many accounts share it? 100 interleaved wrong-password logins each for an
//! unknown address and for addresses held by one, two and three accounts,
//! with the login floor and without it (same run), and the Mann–Whitney
//! p-value of every pair (p > 0.01: the times cannot be told apart). The same
//! for one-time code requests to a known and an unknown address. Then what
//! the floor costs: logins/s at 8 concurrent clients, with and without.
//!
//! `cargo bench -p identity-svc --bench login_timing` (SQLite;
//! `TEST_DATABASE_URL` for PostgreSQL). `BENCH_TRIES` (default 100) per class.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use homeroom_platform::testing::TestDb;
use identity_svc::{
    MIGRATIONS,
    domain::{
        accounts::{AccountKind, Names},
        codes::Purpose,
        credential::{Identifier, Region},
        error::IdentityError,
        upsert::Incoming,
    },
    ops::{
        Ctx,
        codes::{self, SendCode},
        login::{LoginAttempt, login},
        messenger::{Messenger, SystemMessage},
        pacing::{HOLDERS_COVERED, Pacing},
        upsert::{UpsertBatch, upsert_accounts},
    },
    store,
};
use rand::seq::SliceRandom;

/// Sends nothing (the bench times identity alone).
struct Nowhere;

impl Messenger for Nowhere {
    fn send_many(&self, _: Vec<SystemMessage>) -> BoxFuture<'_, Result<(), IdentityError>> {
        Box::pin(async { Ok(()) })
    }
}

fn guardian(source_id: String, email: &str) -> Incoming {
    Incoming {
        source_id,
        account_id: None,
        kind: AccountKind::Guardian,
        names: Names {
            given: "Pat".into(),
            middle: String::new(),
            family: "Doe".into(),
        },
        language: Some(String::new()),
        email: Some(Some(email.into())),
        mobile_phone: Some(None),
        home_phone: None,
        roles: BTreeSet::new(),
        contact_managed_by_sync: false,
        linked_students: None,
        sign_in_disabled: false,
    }
}

/// Accounts holding `email`, `holders` of them, each with its own password.
async fn hold(ctx: &Ctx, email: &str, holders: usize) {
    let accounts = (0..holders)
        .map(|i| Ok(guardian(format!("{email}-{i}"), email)))
        .collect();
    let done = upsert_accounts(
        &ctx.db,
        UpsertBatch {
            district_id: "district-1".into(),
            source_system: "sis".into(),
            items: accounts,
            org_labels: Vec::new(),
            dry_run: false,
        },
    )
    .await
    .unwrap();
    for (i, r) in done.iter().enumerate() {
        let hash = ctx
            .passwords
            .hash(&format!("password-{i}-{email}"))
            .unwrap();
        let id = r.account_id.clone();
        ctx.db
            .run(move |c| {
                store::accounts::activate_with_password(
                    c,
                    &id,
                    &hash,
                    chrono::Utc::now().naive_utc(),
                )
                .map_err(homeroom_platform::db::DbError::from)
            })
            .await
            .unwrap();
    }
}

async fn forget_failures(ctx: &Ctx) {
    ctx.db
        .run(|c| {
            use diesel::RunQueryDsl;
            diesel::delete(store::schema::login_throttles::table)
                .execute(c)
                .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();
}

fn attempt(email: &str) -> LoginAttempt {
    LoginAttempt {
        identifier: Identifier::parse(email, Region::US).unwrap(),
        password: "a-wrong-password".into(),
        district_id: None,
        client_address: None,
        device_token: None,
    }
}

const CLASSES: [(&str, &str); 4] = [
    ("unknown", "nobody@mail.example"),
    ("1 holder", "one@mail.example"),
    ("2 holders", "two@mail.example"),
    ("3 holders", "three@mail.example"),
];

/// Times `tries` wrong-password logins of each class, interleaved in a new
/// random order every round; milliseconds per class.
async fn failed_logins(ctx: &Ctx, tries: usize) -> Vec<Vec<f64>> {
    let mut times: Vec<Vec<f64>> = (0..CLASSES.len())
        .map(|_| Vec::with_capacity(tries))
        .collect();
    let mut order: Vec<usize> = (0..CLASSES.len()).collect();
    for _ in 0..tries {
        order.shuffle(&mut rand::thread_rng());
        for &class in &order {
            forget_failures(ctx).await;
            let started = Instant::now();
            let answer = login(ctx, attempt(CLASSES[class].1)).await;
            times[class].push(started.elapsed().as_secs_f64() * 1e3);
            assert!(matches!(answer, Err(IdentityError::Unauthenticated(_))));
        }
    }
    times
}

/// Times `tries` code requests to a known and an unknown address, interleaved.
async fn code_requests(ctx: &Ctx, tries: usize) -> Vec<Vec<f64>> {
    let mut times: Vec<Vec<f64>> = (0..2).map(|_| Vec::with_capacity(tries)).collect();
    let addresses = ["one@mail.example", "nobody@mail.example"];
    let mut order = [0usize, 1];
    for _ in 0..tries {
        order.shuffle(&mut rand::thread_rng());
        for &class in &order {
            forget_failures(ctx).await;
            let started = Instant::now();
            codes::send(
                ctx,
                SendCode {
                    identifier: Identifier::parse(addresses[class], Region::US).unwrap(),
                    district_id: None,
                    account_id: None,
                    purpose: Purpose::Login,
                    idempotency_key: None,
                },
            )
            .await
            .unwrap();
            times[class].push(started.elapsed().as_secs_f64() * 1e3);
            ctx.settled().await;
        }
    }
    times
}

/// Two-sided Mann–Whitney U test (normal approximation, ties corrected,
/// continuity corrected): the p-value that `a` and `b` come from one
/// distribution. Written here: no crate of the ecosystem's offers it.
fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let (mut rank_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_a += all[i..=j].iter().filter(|(_, in_a)| *in_a).count() as f64 * rank;
        i = j + 1;
    }
    let u = rank_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let nf = n as f64;
    let sigma = (n1 * n2 / 12.0 * ((nf + 1.0) - ties / (nf * (nf - 1.0)))).sqrt();
    if sigma == 0.0 {
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / sigma;
    erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' `erfcc`, relative
/// error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

fn median(xs: &[f64]) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

fn report(title: &str, names: &[&str], times: &[Vec<f64>]) -> f64 {
    println!("{title}");
    for (name, t) in names.iter().zip(times) {
        println!("  {name:>10}: median {:.2} ms", median(t));
    }
    let mut smallest = 1.0f64;
    for i in 0..times.len() {
        for j in i + 1..times.len() {
            let p = mann_whitney_p(&times[i], &times[j]);
            smallest = smallest.min(p);
            println!("  {} vs {}: p = {p:.3e}", names[i], names[j]);
        }
    }
    smallest
}

/// Correct-password logins per second from `clients` concurrent clients
/// for `seconds`.
async fn throughput(ctx: &Ctx, clients: usize, seconds: Duration) -> f64 {
    let stop = Instant::now() + seconds;
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let clients: Vec<_> = (0..clients)
        .map(|c| {
            let (ctx, done) = (ctx.clone(), done.clone());
            tokio::spawn(async move {
                let email = format!("client{}@mail.example", c % 8);
                while Instant::now() < stop {
                    let mut a = attempt(&email);
                    a.password = format!("password-0-{email}");
                    login(&ctx, a).await.unwrap();
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    for c in clients {
        c.await.unwrap();
    }
    done.load(std::sync::atomic::Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let tries: usize = std::env::var("BENCH_TRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let paced = Ctx::new(db.db.clone(), |_| Arc::new(Nowhere)).unwrap();
    let bare = paced.clone().with_pacing(Pacing::new(0));
    for (holders, (_, email)) in CLASSES.iter().enumerate().skip(1) {
        hold(&paced, email, holders).await;
    }
    for c in 0..8 {
        hold(&paced, &format!("client{c}@mail.example"), 1).await;
    }
    let names: Vec<&str> = CLASSES.iter().map(|(n, _)| *n).collect();
    println!(
        "{} (backend), {tries} tries per class, floor covering {HOLDERS_COVERED} holders: {:.1} ms",
        if std::env::var("TEST_DATABASE_URL").is_ok() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        paced.pacing.floor().as_secs_f64() * 1e3
    );
    let without = failed_logins(&bare, tries).await;
    report("failed logins WITHOUT the floor", &names, &without);
    let with = failed_logins(&paced, tries).await;
    let p = report("failed logins WITH the floor", &names, &with);
    println!(
        "  smallest p with the floor: {p:.3} ({})",
        if p > 0.01 {
            "indistinguishable"
        } else {
            "DISTINGUISHABLE"
        }
    );
    let codes = code_requests(&paced, tries).await;
    let p = report("one-time code requests", &["known", "unknown"], &codes);
    println!(
        "  p: {p:.3} ({})",
        if p > 0.01 {
            "indistinguishable"
        } else {
            "DISTINGUISHABLE"
        }
    );

    let seconds = Duration::from_secs(10);
    for clients in [8, 32] {
        let off = throughput(&bare, clients, seconds).await;
        let on = throughput(&paced, clients, seconds).await;
        println!(
            "correct logins/s, {clients} clients: {off:.1} without the floor, {on:.1} with it ({:+.1}%)",
            (on / off - 1.0) * 100.0
        );
    }
}
