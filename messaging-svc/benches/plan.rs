//! Planning a communication at district scale (issue 4): 100,000 accounts,
//! about 15% sharing an address with another, resolved, deduplicated and
//! enqueued in ≤ 5 s on PostgreSQL. The directory (roster and identity) is an
//! in-memory stand-in: this measures messaging-svc's own work.
//!
//! `cargo bench -p messaging-svc --bench plan` (SQLite; `TEST_DATABASE_URL` for
//! PostgreSQL). `BENCH_ACCOUNTS` sets N.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use futures::future::BoxFuture;
use homeroom_platform::testing::TestDb;
use messaging_svc::{
    MIGRATIONS,
    domain::{
        error::MessagingError,
        plan::{Channel, Recipient},
    },
    ops::{
        communications::{NewCommunication, send},
        directory::{AudienceSpec, Directory, Resolved},
    },
};

struct District {
    n: usize,
}

impl Directory for District {
    fn district_of(&self, _: &str) -> BoxFuture<'_, Result<Option<String>, MessagingError>> {
        Box::pin(async { Ok(Some("bench".into())) })
    }

    fn held_in(
        &self,
        _: &str,
        addresses: Vec<String>,
    ) -> BoxFuture<'_, Result<std::collections::BTreeSet<String>, MessagingError>> {
        Box::pin(async move { Ok(addresses.into_iter().collect()) })
    }

    fn resolve(
        &self,
        _: &str,
        _: &AudienceSpec,
    ) -> BoxFuture<'_, Result<Resolved, MessagingError>> {
        let ids = (0..self.n).map(|i| format!("acc-{i:06}")).collect();
        Box::pin(async move {
            Ok(Resolved {
                account_ids: ids,
                unreached: Default::default(),
            })
        })
    }

    fn contact_points(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<Recipient>, MessagingError>> {
        let out = ids
            .into_iter()
            .enumerate()
            .map(|(i, account_id)| {
                // About 15% share: every seventh shares email and phone with the one before.
                let owner = if i % 7 == 6 { i - 1 } else { i };
                Recipient {
                    account_id,
                    language: if i % 5 == 0 {
                        "es".into()
                    } else {
                        String::new()
                    },
                    email: Some(format!("family{owner}@example.org")),
                    phone: Some(format!("+1202{owner:07}")),
                    merged_account_ids: Vec::new(),
                }
            })
            .collect();
        Box::pin(async move { Ok(out) })
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let communication = NewCommunication {
        idempotency_key: "bench-1".into(),
        district_id: "bench".into(),
        sender_account_id: "principal".into(),
        subject: "Snow day".into(),
        body: "School is closed tomorrow.".into(),
        variants: vec![],
        channels: [Channel::Email, Channel::Sms].into_iter().collect(),
        audience: AudienceSpec {
            whole_district: true,
            ..AudienceSpec::default()
        },
        emergency: false,
    };
    let started = Instant::now();
    let summary = send(&test_db.db, &District { n }, communication)
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let emails = &summary.channels[&Channel::Email];
    assert_eq!(summary.recipients, n);
    assert!(emails.unique_addresses < n && emails.unique_addresses > n * 8 / 10);
    println!(
        "plan backend={} accounts={n} deliveries={} seconds={seconds:.2} ({:.0} accounts/s)",
        test_db.backend(),
        summary
            .channels
            .values()
            .map(|c| c.unique_addresses)
            .sum::<usize>(),
        n as f64 / seconds
    );
}
