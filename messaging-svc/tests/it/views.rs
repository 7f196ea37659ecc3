//! Reading communications back (MS-1, MS-5): who may see one, its counts as the
//! worker and provider events move its deliveries, the district's list with
//! its filters and pages, and the deliveries with masked or full addresses.

use std::sync::Arc;

use chrono::{Duration, Utc};
use futures::future::BoxFuture;
use homeroom_platform::{
    auth::{Principal, Role, RoleGrant},
    db::{Db, DbError},
    testing::TestDb,
};
use messaging_svc::{
    MIGRATIONS,
    domain::{
        error::MessagingError,
        plan::{Channel, SkipReason},
    },
    ops::{
        communications::{
            CommunicationState, DeliveryQuery, ListQuery, Viewer, get, list, list_deliveries, send,
        },
        events::{DeliveryStatus, twilio_status},
    },
    providers::{
        EmailProvider, OutgoingCall, OutgoingEmail, OutgoingSms, PhoneProvider, SendOutcome,
    },
    queue::worker::{Worker, WorkerSettings},
    store::preferences,
};

use crate::{
    communications::{Smiths, snow_day},
    events::sms_callback,
};

const SARAH_PHONE: &str = "+19876543210";

fn who(id: &str, district: &str, role: Role, school: Option<&str>) -> Principal {
    Principal::Account {
        account_id: id.into(),
        district_id: district.into(),
        roles: vec![RoleGrant {
            role,
            school_id: school.map(str::to_string),
        }],
    }
}

fn comms_admin() -> Principal {
    who("comms-1", "district-1", Role::CommunicationsAdmin, None)
}

/// The snow day's sender is "principal"; here a teacher without admin roles.
fn the_sender() -> Principal {
    who("principal", "district-1", Role::Teacher, None)
}

/// Accepts everything; Sarah's number bounces quoting itself, as carriers do.
struct Provider;

impl EmailProvider for Provider {
    fn send_email(&self, e: OutgoingEmail) -> BoxFuture<'_, SendOutcome> {
        Box::pin(async move {
            SendOutcome::Sent {
                provider_message_id: format!("<{}@homeroom>", e.delivery_id),
            }
        })
    }
}

impl PhoneProvider for Provider {
    fn send_sms(&self, s: OutgoingSms) -> BoxFuture<'_, SendOutcome> {
        Box::pin(async move {
            if s.to == SARAH_PHONE {
                SendOutcome::Permanent {
                    code: "30003".into(),
                    reason: format!("unreachable handset {}", s.to),
                }
            } else {
                SendOutcome::Sent {
                    provider_message_id: format!("SM-{}", s.to),
                }
            }
        })
    }
    fn place_call(&self, c: OutgoingCall) -> BoxFuture<'_, SendOutcome> {
        Box::pin(async move {
            SendOutcome::Sent {
                provider_message_id: format!("CA-{}", c.to),
            }
        })
    }
}

async fn deliver_everything(db: &Db) {
    let provider = Arc::new(Provider);
    let worker = Worker::new(
        db.clone(),
        provider.clone(),
        provider,
        WorkerSettings::default(),
    );
    while worker.run_once().await.unwrap() > 0 {}
}

#[tokio::test]
async fn a_communication_is_visible_to_its_sender_and_the_districts_administrators_only() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let id = send(db, &Smiths, snow_day("v1"))
        .await
        .unwrap()
        .communication_id;

    let (view, viewer) = get(db, &the_sender(), &id).await.unwrap();
    assert_eq!(
        (view.subject.as_str(), viewer),
        ("Snow day", Viewer::Sender)
    );
    assert_eq!(view.audience.student_ids, ["student-ana"]);
    assert_eq!(view.variants[0].0, "es");
    for admin in [
        comms_admin(),
        who("da-1", "district-1", Role::DistrictAdmin, None),
    ] {
        assert_eq!(get(db, &admin, &id).await.unwrap().1, Viewer::Administrator);
    }

    for refused in [
        who("t-2", "district-1", Role::Teacher, None),
        who(
            "c-2",
            "district-1",
            Role::CommunicationsAdmin,
            Some("school-1"),
        ),
        who("um-1", "district-1", Role::UserManager, None),
        Principal::Service {
            name: "roster".into(),
        },
    ] {
        let denied = get(db, &refused, &id).await;
        assert!(
            matches!(denied, Err(MessagingError::PermissionDenied(_))),
            "{refused:?}: {denied:?}"
        );
    }

    // Another district cannot tell it from an id that never existed.
    let stranger = who("da-2", "district-2", Role::DistrictAdmin, None);
    let hidden = get(db, &stranger, &id).await.unwrap_err().to_string();
    let unknown = uuid::Uuid::now_v7().to_string();
    let missing = get(db, &comms_admin(), &unknown).await;
    assert!(matches!(missing, Err(MessagingError::NotFound(_))));
    assert_eq!(hidden, missing.unwrap_err().to_string());
    assert!(matches!(
        list_deliveries(db, &stranger, deliveries_of(&id)).await,
        Err(MessagingError::NotFound(_))
    ));
}

fn deliveries_of(id: &str) -> DeliveryQuery {
    DeliveryQuery {
        communication_id: id.into(),
        ..DeliveryQuery::default()
    }
}

#[tokio::test]
async fn counts_follow_the_worker_and_the_providers_callbacks() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    db.run(|c| {
        preferences::set(c, "kevin", Channel::Sms, false, Utc::now().naive_utc())
            .map_err(DbError::from)
    })
    .await
    .unwrap();
    let id = send(db, &Smiths, snow_day("v2"))
        .await
        .unwrap()
        .communication_id;

    let (planned, _) = get(db, &comms_admin(), &id).await.unwrap();
    assert_eq!(planned.state, CommunicationState::Sending);
    assert_eq!(planned.recipients, 2);
    let email = &planned.counts[&Channel::Email];
    assert_eq!(
        (email.recipients, email.unique_addresses, email.queued),
        (2, 1, 1)
    );
    let sms = &planned.counts[&Channel::Sms];
    assert_eq!(
        (sms.recipients, sms.unique_addresses, sms.queued),
        (1, 1, 1)
    );
    assert_eq!(sms.skipped.get(&SkipReason::NoPreference), Some(&1));

    deliver_everything(db).await;
    let (done, _) = get(db, &comms_admin(), &id).await.unwrap();
    assert_eq!(done.state, CommunicationState::Completed);
    assert!(done.completed_at.is_some());
    let (email, sms) = (&done.counts[&Channel::Email], &done.counts[&Channel::Sms]);
    assert_eq!((email.queued, email.sent), (0, 1));
    assert_eq!((sms.queued, sms.bounced), (0, 1));
    assert_eq!(sms.skipped.get(&SkipReason::NoPreference), Some(&1));

    // A replayed send answers with the counts as they stand.
    let replayed = send(db, &Smiths, snow_day("v2")).await.unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.channels, done.counts);
}

#[tokio::test]
async fn a_delivered_callback_moves_the_count_from_sent_to_delivered() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let mut request = snow_day("v3");
    request.channels = [Channel::Sms].into_iter().collect();
    let id = send(db, &Smiths, request).await.unwrap().communication_id;
    deliver_everything(db).await;

    twilio_status(db, sms_callback("SM-+11234567890", "delivered", None))
        .await
        .unwrap();

    let (view, _) = get(db, &comms_admin(), &id).await.unwrap();
    let sms = &view.counts[&Channel::Sms];
    assert_eq!((sms.sent, sms.delivered, sms.bounced), (0, 1, 1));
    let page = list_deliveries(
        db,
        &comms_admin(),
        DeliveryQuery {
            statuses: vec![DeliveryStatus::Delivered],
            ..deliveries_of(&id)
        },
    )
    .await
    .unwrap();
    let kevin = &page.deliveries[0].record;
    assert!(kevin.sent_at.is_some() && kevin.delivered_at.is_some());
}

fn listing(page_size: i32, page_token: &str) -> ListQuery {
    ListQuery {
        district_id: "district-1".into(),
        page_size,
        page_token: page_token.into(),
        ..ListQuery::default()
    }
}

#[tokio::test]
async fn the_district_list_is_newest_first_paged_and_filtered() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let mut ids = Vec::new();
    for (key, subject, sender, emergency) in [
        ("l1", "Snow day", "principal", false),
        ("l2", "Bus route change", "principal", false),
        ("l3", "SNOW day, again", "vice-principal", true),
    ] {
        let mut c = snow_day(key);
        c.subject = subject.into();
        c.sender_account_id = sender.into();
        c.emergency = emergency;
        ids.push(send(db, &Smiths, c).await.unwrap().communication_id);
    }
    let admin = comms_admin();

    let (first, token) = list(db, &admin, listing(2, "")).await.unwrap();
    let (rest, last) = list(db, &admin, listing(2, &token)).await.unwrap();
    let order: Vec<&str> = first.iter().chain(&rest).map(|v| v.id.as_str()).collect();
    assert_eq!(order, [&ids[2], &ids[1], &ids[0]]);
    assert!(last.is_empty());
    assert!(matches!(
        list(db, &admin, listing(2, "not-a-token")).await,
        Err(MessagingError::InvalidArgument(_))
    ));

    let subjects = |views: Vec<messaging_svc::ops::communications::CommunicationView>| {
        views.into_iter().map(|v| v.subject).collect::<Vec<_>>()
    };
    let search = ListQuery {
        query: "snow".into(),
        ..listing(0, "")
    };
    assert_eq!(
        subjects(list(db, &admin, search).await.unwrap().0),
        ["SNOW day, again", "Snow day"]
    );
    let emergencies = ListQuery {
        emergency_only: true,
        ..listing(0, "")
    };
    assert_eq!(list(db, &admin, emergencies).await.unwrap().0.len(), 1);
    let by_sender = ListQuery {
        sender_account_id: Some("principal".into()),
        ..listing(0, "")
    };
    assert_eq!(list(db, &admin, by_sender).await.unwrap().0.len(), 2);
    let future = ListQuery {
        since: Some(Utc::now().naive_utc() + Duration::minutes(1)),
        ..listing(0, "")
    };
    assert!(list(db, &admin, future).await.unwrap().0.is_empty());

    let completed = || ListQuery {
        states: vec![CommunicationState::Completed],
        ..listing(0, "")
    };
    assert!(list(db, &admin, completed()).await.unwrap().0.is_empty());
    deliver_everything(db).await;
    assert_eq!(list(db, &admin, completed()).await.unwrap().0.len(), 3);
}

#[tokio::test]
async fn teachers_list_their_own_and_others_are_refused() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    for key in ["o1", "o2"] {
        let mut c = snow_day(key);
        c.sender_account_id = if key == "o1" { "principal" } else { "other" }.into();
        send(db, &Smiths, c).await.unwrap();
    }

    let (own, _) = list(db, &the_sender(), listing(0, "")).await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].sender_account_id, "principal");
    let theirs = ListQuery {
        sender_account_id: Some("other".into()),
        ..listing(0, "")
    };
    assert!(matches!(
        list(db, &the_sender(), theirs).await,
        Err(MessagingError::PermissionDenied(_))
    ));
    for refused in [
        who("kevin", "district-1", Role::Guardian, None),
        who("da-2", "district-2", Role::DistrictAdmin, None),
    ] {
        assert!(matches!(
            list(db, &refused, listing(0, "")).await,
            Err(MessagingError::PermissionDenied(_))
        ));
    }
    // The caller's own district when none is named.
    let elsewhere = who("da-2", "district-2", Role::DistrictAdmin, None);
    let mine = ListQuery {
        district_id: String::new(),
        ..listing(0, "")
    };
    assert!(list(db, &elsewhere, mine).await.unwrap().0.is_empty());
}

#[tokio::test]
async fn deliveries_show_every_account_served_and_full_addresses_to_administrators_only() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let id = send(db, &Smiths, snow_day("d1"))
        .await
        .unwrap()
        .communication_id;
    deliver_everything(db).await;

    let page = list_deliveries(db, &comms_admin(), deliveries_of(&id))
        .await
        .unwrap();
    assert_eq!((page.total, page.deliveries.len()), (3, 3));
    assert!(page.next_page_token.is_empty());
    let email = page
        .deliveries
        .iter()
        .find(|d| d.record.channel == "email")
        .unwrap();
    assert_eq!(email.recipient_account_ids, ["kevin", "sarah"]);
    assert_eq!(email.record.address, "smithparent@mail.com");
    assert_eq!(email.masked_address, "s***@mail.com");
    let bounced = page
        .deliveries
        .iter()
        .find(|d| d.record.status == "bounced")
        .unwrap();
    assert!(bounced.failure_reason.contains(SARAH_PHONE));

    let seen_by_sender = list_deliveries(db, &the_sender(), deliveries_of(&id))
        .await
        .unwrap();
    assert!(
        seen_by_sender
            .deliveries
            .iter()
            .all(|d| d.record.address.is_empty() && !d.masked_address.is_empty())
    );
    let bounced = seen_by_sender
        .deliveries
        .iter()
        .find(|d| d.record.status == "bounced")
        .unwrap();
    assert!(!bounced.failure_reason.contains(SARAH_PHONE));
    assert!(bounced.failure_reason.contains("+1******3210"));

    let texts = DeliveryQuery {
        channel: Some(Channel::Sms),
        page_size: 1,
        ..deliveries_of(&id)
    };
    let first = list_deliveries(db, &comms_admin(), texts.clone())
        .await
        .unwrap();
    assert_eq!((first.total, first.deliveries.len()), (2, 1));
    let second = list_deliveries(
        db,
        &comms_admin(),
        DeliveryQuery {
            page_token: first.next_page_token.clone(),
            ..texts
        },
    )
    .await
    .unwrap();
    assert_eq!(second.deliveries.len(), 1);
    assert!(second.next_page_token.is_empty());
    assert_ne!(
        first.deliveries[0].record.id,
        second.deliveries[0].record.id
    );

    let bounced_only = DeliveryQuery {
        statuses: vec![DeliveryStatus::Bounced, DeliveryStatus::Skipped],
        ..deliveries_of(&id)
    };
    let only = list_deliveries(db, &comms_admin(), bounced_only)
        .await
        .unwrap();
    assert_eq!(only.total, 1);
    assert_eq!(only.deliveries[0].recipient_account_ids, ["sarah"]);
}
