//! Sending a communication (MS-1, MS-2, MS-3) with a directory standing in for
//! roster and identity: one message per address, history for everyone,
//! idempotency, previews.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use futures::future::BoxFuture;
use homeroom_platform::{
    db::{Db, DbError},
    testing::TestDb,
};
use messaging_svc::{
    MIGRATIONS,
    domain::{
        error::MessagingError,
        plan::{Channel, Recipient, SkipReason},
    },
    ops::{
        communications::{NewCommunication, preview, send},
        directory::{AudienceSpec, Directory, Resolved, Unreached},
    },
    store::{addresses, deliveries, preferences},
};

/// Knows the Smiths; a student's guardians are Sarah and Kevin.
pub struct Smiths;

impl Directory for Smiths {
    fn held_in(
        &self,
        district_id: &str,
        addresses: Vec<String>,
    ) -> BoxFuture<'_, Result<BTreeSet<String>, MessagingError>> {
        // Sarah and Kevin of district-1 share the email; Sarah has the phone.
        let theirs = ["smithparent@mail.com", "+19876543210"];
        let held = addresses
            .into_iter()
            .filter(|a| district_id == "district-1" && theirs.contains(&a.as_str()))
            .collect();
        Box::pin(async move { Ok(held) })
    }

    fn district_of(
        &self,
        account_id: &str,
    ) -> BoxFuture<'_, Result<Option<String>, MessagingError>> {
        let known = ["sarah", "kevin"].contains(&account_id);
        Box::pin(async move { Ok(known.then(|| "district-1".to_string())) })
    }

    fn resolve(
        &self,
        _district: &str,
        audience: &AudienceSpec,
    ) -> BoxFuture<'_, Result<Resolved, MessagingError>> {
        let mut ids: BTreeSet<String> = audience.account_ids.iter().cloned().collect();
        if audience.student_ids.iter().any(|s| s == "student-ana") {
            ids.extend(["sarah".to_string(), "kevin".to_string()]);
        }
        let not_found = audience
            .student_ids
            .iter()
            .filter(|s| *s != "student-ana")
            .cloned()
            .collect();
        Box::pin(async move {
            Ok(Resolved {
                account_ids: ids.into_iter().collect(),
                unreached: Unreached {
                    not_found_ids: not_found,
                    ..Unreached::default()
                },
            })
        })
    }

    fn contact_points(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<Recipient>, MessagingError>> {
        let known: HashMap<&str, (&str, &str)> = HashMap::from([
            ("sarah", ("smithparent@mail.com", "+19876543210")),
            ("kevin", ("smithparent@mail.com", "+11234567890")),
        ]);
        let out = ids
            .iter()
            .filter_map(|id| {
                known.get(id.as_str()).map(|(email, phone)| Recipient {
                    account_id: id.clone(),
                    language: String::new(),
                    email: Some(email.to_string()),
                    phone: Some(phone.to_string()),
                    merged_account_ids: Vec::new(),
                })
            })
            .collect();
        Box::pin(async move { Ok(out) })
    }
}

pub fn snow_day(key: &str) -> NewCommunication {
    NewCommunication {
        idempotency_key: key.into(),
        district_id: "district-1".into(),
        sender_account_id: "principal".into(),
        subject: "Snow day".into(),
        body: "School is closed tomorrow.".into(),
        variants: vec![(
            "es".into(),
            "Día de nieve".into(),
            "Mañana no hay clases.".into(),
        )],
        channels: [Channel::Email, Channel::Sms].into_iter().collect(),
        audience: AudienceSpec {
            student_ids: vec!["student-ana".into()],
            ..AudienceSpec::default()
        },
        emergency: false,
    }
}

async fn statuses(db: &Db, id: &str) -> HashMap<String, i64> {
    let id = id.to_string();
    db.run(move |c| deliveries::count_by_status(c, &id).map_err(DbError::from))
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn sarah_and_kevin_share_one_email_get_a_text_each_and_both_have_it_in_their_history() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let summary = send(&test_db.db, &Smiths, snow_day("k1")).await.unwrap();
    assert_eq!(summary.recipients, 2);
    assert_eq!(
        (
            summary.channels[&Channel::Email].unique_addresses,
            summary.channels[&Channel::Email].recipients
        ),
        (1, 2)
    );
    assert_eq!(summary.channels[&Channel::Sms].queued, 2);
    assert_eq!(
        statuses(&test_db.db, &summary.communication_id)
            .await
            .get("queued"),
        Some(&3)
    );
    let id = summary.communication_id.clone();
    let history = test_db
        .db
        .run(move |c| {
            use diesel::prelude::*;
            use messaging_svc::store::schema::{deliveries as d, delivery_recipients as r};
            r::table
                .inner_join(d::table)
                .filter(d::communication_id.eq(&id))
                .filter(d::channel.eq("email"))
                .select(r::account_id)
                .load::<String>(c)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(
        history.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from(["kevin".to_string(), "sarah".to_string()])
    );
}

#[tokio::test]
async fn the_same_key_sends_once_and_a_different_request_under_it_is_refused() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let first = send(&test_db.db, &Smiths, snow_day("k2")).await.unwrap();
    let again = send(&test_db.db, &Smiths, snow_day("k2")).await.unwrap();
    assert_eq!(
        (again.communication_id.as_str(), again.replayed),
        (first.communication_id.as_str(), true)
    );
    assert_eq!(
        statuses(&test_db.db, &first.communication_id)
            .await
            .values()
            .sum::<i64>(),
        3
    );
    let mut changed = snow_day("k2");
    changed.body = "Actually, school is open.".into();
    assert!(matches!(
        send(&test_db.db, &Smiths, changed).await,
        Err(MessagingError::AlreadyExists(_))
    ));
}

/// A double click: the same form twice at once. Both answers name one
/// communication, whichever planned first (PostgreSQL lets both check the
/// key before either commits).
#[tokio::test]
async fn the_same_key_sent_twice_at_once_is_one_communication() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    for round in 0..5 {
        let key = format!("twice-{round}");
        let (a, b) = tokio::join!(
            send(&test_db.db, &Smiths, snow_day(&key)),
            send(&test_db.db, &Smiths, snow_day(&key)),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.communication_id, b.communication_id, "round {round}");
        assert_eq!(
            statuses(&test_db.db, &a.communication_id)
                .await
                .values()
                .sum::<i64>(),
            3
        );
    }
}

#[tokio::test]
async fn a_preview_counts_addresses_and_skips_and_sends_nothing() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    test_db
        .db
        .transaction(|c| {
            let now = Utc::now().naive_utc();
            preferences::set(c, "kevin", Channel::Sms, false, now)?;
            addresses::mark_bad(
                c,
                Channel::Email,
                "smithparent@mail.com",
                "550 user unknown",
                now,
            )?;
            addresses::set_opted_out(c, "+19876543210", true, now)?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    let audience = AudienceSpec {
        student_ids: vec!["student-ana".into(), "student-nobody".into()],
        ..AudienceSpec::default()
    };
    let channels: BTreeSet<Channel> = [Channel::Email, Channel::Sms].into_iter().collect();
    let p = preview(
        &test_db.db,
        &Smiths,
        "district-1",
        &audience,
        &channels,
        false,
    )
    .await
    .unwrap();
    assert_eq!(p.recipients, 2);
    assert_eq!(
        p.unreached.not_found_ids,
        vec!["student-nobody".to_string()]
    );
    assert_eq!(
        p.channels[&Channel::Email]
            .skipped
            .get(&SkipReason::BadAddress),
        Some(&1)
    );
    assert_eq!(
        p.channels[&Channel::Sms].skipped.get(&SkipReason::OptedOut),
        Some(&1)
    );
    assert_eq!(
        p.channels[&Channel::Sms]
            .skipped
            .get(&SkipReason::NoPreference),
        Some(&1)
    );
    assert_eq!(p.channels[&Channel::Sms].queued, 0);
    // An emergency overrides Kevin's preference, not Sarah's STOP or the bounce.
    let e = preview(
        &test_db.db,
        &Smiths,
        "district-1",
        &audience,
        &channels,
        true,
    )
    .await
    .unwrap();
    assert_eq!(e.channels[&Channel::Sms].queued, 1);
    assert_eq!(e.channels[&Channel::Email].queued, 0);
}

#[tokio::test]
async fn an_empty_audience_or_no_channel_is_invalid() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut c = snow_day("k3");
    c.audience = AudienceSpec::default();
    assert!(
        matches!(send(&test_db.db, &Smiths, c).await, Err(MessagingError::InvalidArgument(m)) if m.contains("audience"))
    );
    let mut c = snow_day("k4");
    c.channels.clear();
    assert!(
        matches!(send(&test_db.db, &Smiths, c).await, Err(MessagingError::InvalidArgument(m)) if m.contains("channels"))
    );
}
