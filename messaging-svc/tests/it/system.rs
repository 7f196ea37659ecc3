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
    ops::system::{SystemMessage, send, send_many},
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

#[tokio::test]
async fn a_batch_queues_each_message_once_in_order_and_replays_known_keys() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let stored = send(&test_db.db, code_for_sarah("b0", "111111"))
        .await
        .unwrap();
    let mut stopped = code_for_sarah("b3", "333333");
    stopped.address = "+19876540000".into();
    test_db
        .db
        .run(|c| {
            addresses::set_opted_out(c, "+19876540000", true, Utc::now().naive_utc())
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let answers = send_many(
        &test_db.db,
        vec![
            code_for_sarah("b0", "111111"),
            code_for_sarah("b1", "222222"),
            code_for_sarah("b1", "222222"),
            stopped,
        ],
    )
    .await
    .unwrap();
    assert_eq!(answers.len(), 4);
    assert_eq!(
        (answers[0].delivery_id.as_str(), answers[0].replayed),
        (stored.delivery_id.as_str(), true)
    );
    assert!(!answers[1].replayed);
    assert_eq!(
        (answers[2].delivery_id.as_str(), answers[2].replayed),
        (answers[1].delivery_id.as_str(), true),
        "the same key twice in one batch queues once"
    );
    assert_eq!(answers[3].skip, Some(SkipReason::OptedOut));
    let refused = send_many(&test_db.db, vec![code_for_sarah("b1", "999999")]).await;
    assert!(
        matches!(refused, Err(MessagingError::AlreadyExists(_))),
        "{refused:?}"
    );
}
