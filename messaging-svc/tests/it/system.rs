//! System messages (ID-4): rendered, queued once per idempotency key, skipped
//! on bad or opted-out numbers.

use std::collections::BTreeMap;

use chrono::Utc;
use homeroom_platform::{db::DbError, testing::TestDb};
use messaging_svc::{
    MIGRATIONS,
    domain::{
        error::MessagingError,
        plan::{Channel, SkipReason},
        system_messages::SystemKind,
    },
    ops::system::{SystemMessage, send},
    store::addresses,
};

fn code_for_sarah(key: &str, code: &str) -> SystemMessage {
    SystemMessage {
        idempotency_key: key.into(),
        district_id: "district-1".into(),
        kind: SystemKind::OneTimeCode,
        account_id: "sarah".into(),
        first_name: "Sarah".into(),
        channel: Channel::Sms,
        address: "+19876543210".into(),
        address_shared: true,
        language: String::new(),
        variables: BTreeMap::from([
            ("code".to_string(), code.to_string()),
            ("expires_minutes".to_string(), "10".to_string()),
        ]),
    }
}

#[tokio::test]
async fn the_same_key_queues_once_and_a_different_message_under_it_is_refused() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let first = send(&test_db.db, code_for_sarah("k1", "123456"))
        .await
        .unwrap();
    let again = send(&test_db.db, code_for_sarah("k1", "123456"))
        .await
        .unwrap();
    assert_eq!(
        (again.delivery_id.as_str(), again.replayed),
        (first.delivery_id.as_str(), true)
    );
    let other = send(&test_db.db, code_for_sarah("k1", "654321")).await;
    assert!(
        matches!(other, Err(MessagingError::AlreadyExists(_))),
        "{other:?}"
    );
}

#[tokio::test]
async fn a_missing_variable_is_invalid_argument() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut m = code_for_sarah("k2", "1");
    m.variables.clear();
    assert!(
        matches!(send(&test_db.db, m).await, Err(MessagingError::InvalidArgument(e)) if e.contains("code"))
    );
}

#[tokio::test]
async fn a_stopped_number_gets_no_code() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    test_db
        .db
        .run(|c| {
            addresses::set_opted_out(c, "+19876543210", true, Utc::now().naive_utc())
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let queued = send(&test_db.db, code_for_sarah("k3", "123456"))
        .await
        .unwrap();
    assert_eq!(queued.skip, Some(SkipReason::OptedOut));
}
