//! Reset Status (MS-7): administrators and user managers of the district clear
//! a bad address; it keeps STOP and the history, sends nothing, and is audited.

use diesel::prelude::*;
use homeroom_platform::{auth::Role, db::DbError, testing::TestDb};
use messaging_svc::{
    MIGRATIONS,
    domain::{error::MessagingError, plan::Channel},
    ops::{
        audit::AuditOutbox,
        events::{InboundSms, inbound_sms, twilio_status},
        status::{BadCause, ResetRequest, ResetTarget, reset},
    },
    store::{events as store_events, schema::deliveries},
};

use super::{PHONE, account, address_status, sent, sms_callback};

pub(super) fn reset_phone(district: &str) -> ResetRequest {
    ResetRequest {
        district_id: district.into(),
        target: ResetTarget::Address(Channel::Sms, PHONE.into()),
        note: "parent confirmed the new phone takes texts".into(),
        request_id: "req-1".into(),
        ip_address: "203.0.113.7".into(),
    }
}

/// Sarah's number bounced (30003) and then sent STOP.
pub(super) async fn bad_and_stopped(db: &homeroom_platform::db::Db) {
    sent(db, "district-1", Channel::Sms, PHONE, "sarah", "SM10").await;
    twilio_status(db, sms_callback("SM10", "undelivered", Some(30003)))
        .await
        .unwrap();
    inbound_sms(
        db,
        InboundSms {
            message_sid: "SMin10".into(),
            from: PHONE.into(),
            body: "STOP".into(),
        },
    )
    .await
    .unwrap();
}

async fn delivery_count(db: &homeroom_platform::db::Db) -> i64 {
    db.run(|c| {
        deliveries::table
            .count()
            .get_result::<i64>(c)
            .map_err(DbError::from)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_communications_administrator_clears_bad_and_reason_but_keeps_the_stop_and_history_and_sends_nothing()
 {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;
    let deliveries_before = delivery_count(db).await;
    let admin = account("comms-1", "district-1", Role::CommunicationsAdmin);

    let outcome = reset(
        db,
        &AuditOutbox::default(),
        &admin,
        reset_phone("district-1"),
    )
    .await
    .unwrap();

    assert!(outcome.cleared.bad);
    assert_eq!(outcome.cleared.cause, Some(BadCause::Unreachable));
    assert_eq!(
        outcome.cleared.reason.as_deref(),
        Some("Twilio 30003: unreachable handset")
    );
    assert!(!outcome.current.bad);
    assert_eq!(outcome.current.reason, None);
    assert!(outcome.current.opted_out, "a reset never clears a STOP");
    assert_eq!(outcome.current.last_reset_by.as_deref(), Some("comms-1"));
    let now = address_status(db, Channel::Sms, PHONE).await;
    assert!(!now.bad && now.opted_out);
    assert_eq!(delivery_count(db).await, deliveries_before, "sends nothing");

    let history = db
        .run(|c| {
            store_events::events_of(
                c,
                &[PHONE.to_string()],
                &["hard_bounce", "stop", "reset"],
                None,
            )
            .map_err(DbError::from)
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["hard_bounce", "stop", "reset"]);
    let audit = history.last().unwrap();
    assert_eq!(audit.actor_id.as_deref(), Some("comms-1"));
    let row: serde_json::Value = serde_json::from_str(&audit.reason).unwrap();
    assert_eq!(row["cleared_reason"], "Twilio 30003: unreachable handset");
    assert_eq!(row["request_id"], "req-1");
}

#[tokio::test]
async fn a_user_manager_resets_by_account_and_channel() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;
    let manager = account("um-1", "district-1", Role::UserManager);
    let mut request = reset_phone("district-1");
    request.target = ResetTarget::AccountChannel("sarah".into(), Channel::Sms);

    let outcome = reset(db, &AuditOutbox::default(), &manager, request)
        .await
        .unwrap();

    assert_eq!(outcome.cleared.address, PHONE);
    assert!(outcome.cleared.bad && !outcome.current.bad);
}

#[tokio::test]
async fn a_teacher_and_a_guardian_are_permission_denied() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;

    for role in [Role::Teacher, Role::Guardian] {
        let caller = account("someone", "district-1", role);
        let refused = reset(
            db,
            &AuditOutbox::default(),
            &caller,
            reset_phone("district-1"),
        )
        .await;
        assert!(
            matches!(refused, Err(MessagingError::PermissionDenied(_))),
            "{role:?}: {refused:?}"
        );
    }
    assert!(address_status(db, Channel::Sms, PHONE).await.bad);
}

#[tokio::test]
async fn another_districts_user_manager_is_permission_denied() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    bad_and_stopped(db).await;
    let stranger = account("um-2", "district-2", Role::UserManager);

    // Naming the other district, or their own district for an address it never messaged.
    for district in ["district-1", "district-2"] {
        let refused = reset(
            db,
            &AuditOutbox::default(),
            &stranger,
            reset_phone(district),
        )
        .await;
        assert!(
            matches!(refused, Err(MessagingError::PermissionDenied(_))),
            "{district}: {refused:?}"
        );
    }
    assert!(address_status(db, Channel::Sms, PHONE).await.bad);
}
