//! UpsertAccounts at district scale (issue: 100,000 accounts, 20% sharing an
//! email or phone with another, in ≤ 10 s on PostgreSQL and ≤ 20 s on SQLite;
//! the same 100,000 again, unchanged, in ≤ 3 s).
//!
//! `cargo bench -p identity-svc --bench upsert` runs on SQLite;
//! with `TEST_DATABASE_URL=postgres://…` on PostgreSQL. `BENCH_ACCOUNTS` sets N.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeSet, time::Instant};

use homeroom_platform::testing::TestDb;
use identity_svc::{
    MIGRATIONS,
    domain::{
        accounts::{AccountKind, Names},
        upsert::Incoming,
    },
    ops::upsert::{MAX_BATCH, Outcome, UpsertBatch, upsert_accounts},
};

/// N guardians; every fifth shares the email or the phone of the one before.
fn generate(n: usize) -> Vec<Incoming> {
    (0..n)
        .map(|i| {
            let shares = i % 5 == 4;
            let owner = if shares { i - 1 } else { i };
            let (email, phone) = if shares && i % 2 == 0 {
                (
                    format!("family{owner}@example.org"),
                    format!("+1202{:07}", i),
                )
            } else if shares {
                (
                    format!("guardian{i}@example.org"),
                    format!("+1202{:07}", owner),
                )
            } else {
                (format!("family{i}@example.org"), format!("+1202{:07}", i))
            };
            Incoming {
                source_id: format!("g-{i}"),
                account_id: None,
                kind: AccountKind::Guardian,
                names: Names {
                    given: format!("Given{i}"),
                    middle: String::new(),
                    family: format!("Family{}", i / 2),
                },
                language: Some(if i % 7 == 0 {
                    "es".into()
                } else {
                    String::new()
                }),
                email: Some(Some(email)),
                mobile_phone: Some(Some(phone)),
                home_phone: None,
                roles: BTreeSet::new(),
                contact_managed_by_sync: false,
                linked_students: None,
                sign_in_disabled: false,
            }
        })
        .collect()
}

async fn run_all(db: &homeroom_platform::db::Db, items: &[Incoming]) -> (f64, usize, usize) {
    let started = Instant::now();
    let (mut created, mut unchanged) = (0, 0);
    for chunk in items.chunks(MAX_BATCH) {
        let batch = UpsertBatch {
            district_id: "bench-district".into(),
            source_system: "sis".into(),
            items: chunk.iter().cloned().map(Ok).collect(),
            org_labels: Vec::new(),
            dry_run: false,
        };
        for r in upsert_accounts(db, batch).await.unwrap() {
            match r.outcome {
                Outcome::Created => created += 1,
                Outcome::Unchanged => unchanged += 1,
                other => panic!("unexpected {other:?}: {}", r.error),
            }
        }
    }
    (started.elapsed().as_secs_f64(), created, unchanged)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let items = generate(n);
    let (first, created, _) = run_all(&test_db.db, &items).await;
    assert_eq!(created, n);
    let (again, _, unchanged) = run_all(&test_db.db, &items).await;
    assert_eq!(unchanged, n);
    println!(
        "upsert backend={} accounts={n} first={first:.2}s ({:.0}/s) unchanged_again={again:.2}s ({:.0}/s)",
        test_db.backend(),
        n as f64 / first,
        n as f64 / again
    );
}
