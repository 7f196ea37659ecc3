//! Provider events (GW-2, MS-3, MS-5, MS-6) on both backends: Twilio status
//! callbacks move deliveries forward and mark numbers bad, inbound STOP/START
//! opt numbers out and in, email bounces mark addresses bad.

mod audit;
mod grpc;
mod reset;

use chrono::{Duration, NaiveDateTime, Utc};
use homeroom_platform::{
    auth::{Principal, Role, RoleGrant},
    db::{Db, DbError},
    testing::TestDb,
};
use messaging_svc::{
    MIGRATIONS,
    domain::plan::{Channel, PlanInputs, Recipient, plan},
    ops::{
        events::{
            DeliveryStatus, EmailEvent, EmailEventKind, InboundAction, InboundSms, Sid,
            TwilioCallback, email_events, inbound_sms, twilio_status,
        },
        status::{self, AddressView, BadCause},
    },
    store::{
        deliveries::{self, CommunicationRow, Completion, Rendered},
        events as store_events,
    },
};

pub const PHONE: &str = "+19876543210";
pub const EMAIL: &str = "smithparent@mail.com";

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// One message to `address` on `channel` for `account` of `district`, that
/// the provider accepted under `provider_id`. Returns the delivery id.
pub async fn sent(
    db: &Db,
    district: &str,
    channel: Channel,
    address: &str,
    account: &str,
    provider_id: &str,
) -> String {
    let (district, address) = (district.to_string(), address.to_string());
    let (account, provider_id) = (account.to_string(), provider_id.to_string());
    db.transaction(move |c| {
        let recipient = Recipient {
            account_id: account.clone(),
            language: String::new(),
            email: (channel == Channel::Email).then(|| address.clone()),
            phone: (channel != Channel::Email).then(|| address.clone()),
            merged_account_ids: Vec::new(),
        };
        let inputs = PlanInputs {
            channels: [channel].into_iter().collect(),
            ..PlanInputs::default()
        };
        let planned = plan(&[recipient], &inputs);
        let id = uuid::Uuid::now_v7().to_string();
        let row = CommunicationRow {
            id: id.clone(),
            district_id: district,
            kind: "communication".into(),
            sender_account_id: "principal-skinner".into(),
            idempotency_key: id,
            request_fingerprint: "fp".into(),
            subject: "Snow day".into(),
            body: "School is closed tomorrow.".into(),
            variants: "[]".into(),
            channels: channel.as_str().into(),
            emergency: false,
            status: "queued".into(),
            created_at: now(),
        };
        let ids =
            deliveries::insert_planned(c, &row, &[account], &planned, &Rendered::default(), now())?;
        deliveries::heartbeat(c, "test-worker", now())?;
        let claimed = deliveries::claim(
            c,
            "test-worker",
            now() + Duration::minutes(1),
            now(),
            now() - Duration::seconds(10),
            100,
        )?;
        assert_eq!(claimed.len(), 1);
        let done = Completion::Sent {
            provider_message_id: provider_id,
        };
        assert!(deliveries::complete(
            c,
            &ids[0],
            "test-worker",
            &done,
            now()
        )?);
        Ok::<_, DbError>(ids[0].clone())
    })
    .await
    .unwrap()
}

/// The stored status of a delivery.
pub async fn status_of(db: &Db, id: &str) -> String {
    let id = id.to_string();
    db.run(move |c| store_events::deliveries_by_id(c, &[id]).map_err(DbError::from))
        .await
        .unwrap()
        .pop()
        .unwrap()
        .status
}

/// An account of `district` with one district-wide role.
pub fn account(id: &str, district: &str, role: Role) -> Principal {
    Principal::Account {
        account_id: id.into(),
        district_id: district.into(),
        roles: vec![RoleGrant {
            role,
            school_id: None,
        }],
    }
}

/// The status of one address, as a service caller reads it.
pub async fn address_status(db: &Db, channel: Channel, address: &str) -> AddressView {
    let reader = Principal::Service {
        name: "gateway".into(),
    };
    status::get(
        db,
        &crate::communications::Smiths,
        &reader,
        "district-1",
        vec![(channel, address.to_string())],
    )
    .await
    .unwrap()
    .pop()
    .unwrap()
}

pub fn sms_callback(sid: &str, status: &str, error_code: Option<u32>) -> TwilioCallback {
    TwilioCallback {
        sid: Sid::Message(sid.into()),
        status: status.into(),
        error_code,
        answered_by: String::new(),
        delivery_id: None,
    }
}

fn email_event(kind: EmailEventKind, event_id: &str, days_ago: i64) -> EmailEvent {
    EmailEvent {
        kind,
        address: Some(EMAIL.into()),
        reason: "4.2.2 mailbox full".into(),
        provider_message_id: None,
        provider_event_id: Some(event_id.into()),
        delivery_id: None,
        occurred_at: Some(now() - Duration::days(days_ago)),
    }
}

#[tokio::test]
async fn a_delivered_callback_marks_the_text_delivered() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let id = sent(db, "district-1", Channel::Sms, PHONE, "sarah", "SM1").await;

    let outcome = twilio_status(db, sms_callback("SM1", "delivered", None))
        .await
        .unwrap();

    assert_eq!(outcome.delivery_id.as_deref(), Some(id.as_str()));
    assert_eq!(outcome.status, Some(DeliveryStatus::Delivered));
    assert_eq!(status_of(db, &id).await, "delivered");
}

#[tokio::test]
async fn error_30003_bounces_the_text_and_marks_the_number_bad_for_sms_but_not_voice() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let id = sent(db, "district-1", Channel::Sms, PHONE, "sarah", "SM2").await;

    let outcome = twilio_status(db, sms_callback("SM2", "undelivered", Some(30003)))
        .await
        .unwrap();

    assert!(outcome.address_marked_bad);
    assert_eq!(status_of(db, &id).await, "bounced");
    let sms = address_status(db, Channel::Sms, PHONE).await;
    assert!(sms.bad);
    assert_eq!(
        sms.reason.as_deref(),
        Some("Twilio 30003: unreachable handset")
    );
    assert_eq!(sms.cause, Some(BadCause::Unreachable));
    assert_eq!(sms.provider_error_code.as_deref(), Some("30003"));
    assert!(!address_status(db, Channel::Voice, PHONE).await.bad);

    let again = twilio_status(db, sms_callback("SM2", "undelivered", Some(30003)))
        .await
        .unwrap();
    assert!(
        !again.address_marked_bad,
        "a repeated callback changes nothing"
    );
}

#[tokio::test]
async fn a_late_sent_after_delivered_changes_nothing() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let id = sent(db, "district-1", Channel::Sms, PHONE, "sarah", "SM3").await;

    twilio_status(db, sms_callback("SM3", "delivered", None))
        .await
        .unwrap();
    let late = twilio_status(db, sms_callback("SM3", "sent", None))
        .await
        .unwrap();

    assert_eq!(late.status, Some(DeliveryStatus::Delivered));
    assert_eq!(status_of(db, &id).await, "delivered");
}

#[tokio::test]
async fn an_unknown_sid_is_answered_and_ignored() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;

    let outcome = twilio_status(db, sms_callback("SMunknown", "undelivered", Some(30006)))
        .await
        .unwrap();

    assert_eq!(outcome.delivery_id, None);
    assert!(!outcome.address_marked_bad);
}

#[tokio::test]
async fn a_voice_call_completed_is_delivered_and_a_stop_error_opts_a_text_out() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let call = sent(db, "district-1", Channel::Voice, PHONE, "sarah", "CA1").await;
    let text = sent(db, "district-1", Channel::Sms, PHONE, "sarah", "SM4").await;

    let mut completed = sms_callback("CA1", "completed", None);
    completed.sid = Sid::Call("CA1".into());
    twilio_status(db, completed).await.unwrap();
    twilio_status(db, sms_callback("SM4", "failed", Some(21610)))
        .await
        .unwrap();

    assert_eq!(status_of(db, &call).await, "delivered");
    assert_eq!(status_of(db, &text).await, "skipped");
    let sms = address_status(db, Channel::Sms, PHONE).await;
    assert!(
        sms.opted_out && !sms.bad,
        "21610 is an opt-out, not a bad number"
    );
}

fn inbound(sid: &str, body: &str) -> InboundSms {
    InboundSms {
        message_sid: sid.into(),
        from: PHONE.into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn stop_opts_the_number_out_and_start_opts_it_back_in() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;

    let (action, reply) = inbound_sms(db, inbound("SMin1", "Stop")).await.unwrap();
    assert_eq!((action, reply.as_str()), (InboundAction::OptedOut, ""));
    let stopped = address_status(db, Channel::Sms, PHONE).await;
    assert!(stopped.opted_out);
    // Twilio retries the webhook: the same message applies once, the time stays.
    inbound_sms(db, inbound("SMin1", "Stop")).await.unwrap();
    assert_eq!(
        address_status(db, Channel::Sms, PHONE).await.opted_out_at,
        stopped.opted_out_at
    );

    let (action, _) = inbound_sms(db, inbound("SMin2", "START")).await.unwrap();
    assert_eq!(action, InboundAction::OptedIn);
    assert!(!address_status(db, Channel::Sms, PHONE).await.opted_out);

    let (action, _) = inbound_sms(db, inbound("SMin3", "stop sending me this"))
        .await
        .unwrap();
    assert_eq!(action, InboundAction::Nothing);
    let (action, reply) = inbound_sms(db, inbound("SMin4", "HELP")).await.unwrap();
    assert_eq!(action, InboundAction::Help);
    assert!(reply.contains("STOP"));
    assert!(!address_status(db, Channel::Sms, PHONE).await.opted_out);

    let history = db
        .run(|c| {
            store_events::events_of(c, &[PHONE.to_string()], &["stop", "start"], None)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["stop", "start"]);
}

#[tokio::test]
async fn three_soft_email_bounces_within_a_week_make_the_address_bad_and_two_do_not() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let soft = |id: &str, days_ago| email_event(EmailEventKind::SoftBounce, id, days_ago);

    let two = email_events(
        db,
        "ses".into(),
        vec![soft("e1", 5), soft("e2", 3), soft("e2", 3)],
    )
    .await
    .unwrap();
    assert_eq!((two.accepted, two.duplicates, two.unmatched), (2, 1, 2));
    let after_two = address_status(db, Channel::Email, EMAIL).await;
    assert!(!after_two.bad, "a repeated event id is not a third bounce");
    assert_eq!(after_two.soft_bounces, 2);

    let third = email_events(db, "ses".into(), vec![soft("e3", 1)])
        .await
        .unwrap();
    assert_eq!(third.addresses_marked_bad, [EMAIL]);
    let bad = address_status(db, Channel::Email, EMAIL).await;
    assert!(bad.bad);
    assert_eq!(bad.cause, Some(BadCause::RepeatedSoftBounces));
}

#[tokio::test]
async fn soft_bounces_spread_over_more_than_a_week_do_not_make_an_address_bad() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let soft = |id: &str, days_ago| email_event(EmailEventKind::SoftBounce, id, days_ago);

    email_events(
        db,
        "sendgrid".into(),
        vec![soft("s1", 20), soft("s2", 10), soft("s3", 0)],
    )
    .await
    .unwrap();

    assert!(!address_status(db, Channel::Email, EMAIL).await.bad);
}

#[tokio::test]
async fn a_hard_bounce_makes_the_address_bad_at_once_and_bounces_its_delivery() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let bounced = sent(
        db,
        "district-1",
        Channel::Email,
        EMAIL,
        "sarah",
        "<m1@homeroom>",
    )
    .await;
    let other = sent(
        db,
        "district-1",
        Channel::Email,
        "kevin@mail.com",
        "kevin",
        "<m2@homeroom>",
    )
    .await;
    let hard = EmailEvent {
        kind: EmailEventKind::HardBounce,
        address: None,
        reason: "5.1.1 550 user unknown".into(),
        provider_message_id: Some("<m1@homeroom>".into()),
        provider_event_id: Some("b1".into()),
        delivery_id: None,
        occurred_at: None,
    };
    let delivered = EmailEvent {
        kind: EmailEventKind::Delivered,
        address: None,
        reason: String::new(),
        provider_message_id: None,
        provider_event_id: Some("d1".into()),
        delivery_id: Some(other.clone()),
        occurred_at: None,
    };

    let outcome = email_events(db, "postmark".into(), vec![hard, delivered])
        .await
        .unwrap();

    assert_eq!((outcome.accepted, outcome.unmatched), (2, 0));
    assert_eq!(outcome.addresses_marked_bad, [EMAIL]);
    assert_eq!(status_of(db, &bounced).await, "bounced");
    assert_eq!(status_of(db, &other).await, "delivered");
    let bad = address_status(db, Channel::Email, EMAIL).await;
    assert_eq!(bad.cause, Some(BadCause::HardBounce));
    assert_eq!(bad.reason.as_deref(), Some("5.1.1 550 user unknown"));
    assert!(
        !address_status(db, Channel::Email, "kevin@mail.com")
            .await
            .bad
    );
}
