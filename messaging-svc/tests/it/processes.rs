//! Two messaging-svc processes on one database share the queue (MS-4): 10,000
//! deliveries, each sent exactly once.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use chrono::Utc;
use homeroom_platform::{
    db::DbError,
    testing::{ServiceProcess, TestDb},
};
use messaging_svc::{
    MIGRATIONS,
    domain::plan::{Channel, PlanInputs, Recipient, plan},
    store::deliveries::{self, CommunicationRow, Rendered},
};

#[tokio::test]
async fn two_processes_send_ten_thousand_deliveries_each_exactly_once() {
    // Migrated here, so the two processes find nothing to migrate concurrently.
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let n = 10_000;
    test_db
        .db
        .transaction(move |c| {
            let people: Vec<Recipient> = (0..n)
                .map(|i| Recipient {
                    account_id: format!("acc-{i}"),
                    language: String::new(),
                    email: Some(format!("family{i}@example.org")),
                    phone: None,
                    merged_account_ids: Vec::new(),
                })
                .collect();
            let inputs = PlanInputs {
                channels: [Channel::Email].into_iter().collect(),
                ..PlanInputs::default()
            };
            let planned = plan(&people, &inputs);
            let now = Utc::now().naive_utc();
            let row = CommunicationRow {
                id: "bulk".into(),
                district_id: "district-1".into(),
                kind: "communication".into(),
                sender_account_id: "principal".into(),
                idempotency_key: "bulk".into(),
                request_fingerprint: "fp".into(),
                subject: "Reminder".into(),
                body: "Picture day is Monday.".into(),
                variants: "[]".into(),
                channels: "email".into(),
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

    let outboxes = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut processes = Vec::new();
    for outbox in &outboxes {
        let dir = outbox.path().to_str().unwrap().to_string();
        processes.push(
            ServiceProcess::spawn(
                env!("CARGO_BIN_EXE_messaging-svc"),
                &[],
                &[
                    ("HOMEROOM_LISTEN_ADDR", "127.0.0.1:0"),
                    ("DATABASE_URL", test_db.url.as_str()),
                    ("HOMEROOM_OUTBOX_DIR", dir.as_str()),
                    ("HOMEROOM_DELIVERY", "outbox"),
                    ("HOMEROOM_WORKERS", "3"),
                    ("HOMEROOM_LOG_LEVEL", "warn"),
                ],
                &["messaging"],
            )
            .await
            .unwrap(),
        );
    }

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sent = test_db
            .db
            .run(|c| deliveries::count_by_status(c, "bulk").map_err(DbError::from))
            .await
            .unwrap()
            .into_iter()
            .find(|(status, _)| status == "sent")
            .map_or(0, |(_, n)| n);
        if sent == n as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "only {sent} of {n} sent");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(processes);

    let mut seen = HashSet::new();
    let mut total = 0;
    for outbox in &outboxes {
        for entry in std::fs::read_dir(outbox.path()).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "eml") {
                total += 1;
                seen.insert(entry.file_name());
            }
        }
    }
    assert_eq!(
        (total, seen.len()),
        (n, n),
        "every delivery written exactly once across both processes"
    );
}
