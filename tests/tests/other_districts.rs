//! Nothing of another district leaks (security): a bounced address's status
//! is readable only in a district that holds an account with it, and a
//! credential's shared count counts only the accounts of the account's own
//! district — through the gateway, as an administrator of each would ask.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{Api, Stack, bearer};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb};
use reqwest::Method;

/// Two guardians of `district` sharing `email`; their account ids.
async fn two_sharing(stack: &Stack, district: &str, email: &str) -> Vec<String> {
    let roster = stack.service_token("roster").await.unwrap();
    let guardian = |source: &str, given: &str| idpb::AccountUpsert {
        source_id: source.into(),
        kind: idpb::AccountKind::Guardian as i32,
        given_name: given.into(),
        family_name: "Family".into(),
        email: Some(email.into()),
        ..Default::default()
    };
    stack
        .identity_client()
        .await
        .unwrap()
        .upsert_accounts(bearer(
            idpb::UpsertAccountsRequest {
                district_id: district.into(),
                source_system: "sis".into(),
                accounts: vec![
                    guardian(&format!("{email}-a"), "Alex"),
                    guardian(&format!("{email}-b"), "Blair"),
                ],
                ..Default::default()
            },
            &roster,
        ))
        .await
        .unwrap()
        .into_inner()
        .results
        .into_iter()
        .map(|r| r.account_id)
        .collect()
}

#[tokio::test]
async fn another_districts_admin_sees_neither_a_familys_bounce_nor_its_shared_count() {
    let stack = Stack::start().await.unwrap();
    let mine = two_sharing(&stack, "district-1", "family@mail.com").await;
    two_sharing(&stack, "district-2", "family@mail.com").await;
    let only_mine = two_sharing(&stack, "district-1", "only.here@mail.com").await;
    let admin = |district: &'static str, who: &'static str| {
        let stack = &stack;
        async move {
            stack
                .staff_member_in(
                    district,
                    &format!("a-{who}"),
                    (who, "Admin"),
                    &format!("{who}@{district}.org"),
                    idpb::Role::DistrictAdmin,
                    "admin-strong-password",
                )
                .await
                .access_token
        }
    };
    let (one, two) = (
        admin("district-1", "ada").await,
        admin("district-2", "bo").await,
    );
    let api = Api::new(&stack);

    // ID-2: the family's email is shared by 2 in district-1 (and by 2 others
    // in district-2): district-1 reads 2, not 4.
    let (status, profile) = api
        .send(
            Method::GET,
            &format!("/accounts/{}/profile", mine[0]),
            Some(&one),
            None,
        )
        .await;
    assert_eq!(status, 200, "{profile}");
    let email = &profile["contacts"][0];
    assert_eq!(email["value"], "family@mail.com", "{profile}");
    assert_eq!(email["sharedCount"], 2, "{profile}");

    // MS-6: an address only district-1 holds bounces.
    let mut messaging = mpb::messaging_service_client::MessagingServiceClient::connect(format!(
        "http://{}",
        stack.messaging
    ))
    .await
    .unwrap();
    messaging
        .send_communication(bearer(
            mpb::SendCommunicationRequest {
                idempotency_key: "picture-day".into(),
                district_id: "district-1".into(),
                subject: "Picture day".into(),
                body: "Smile!".into(),
                channels: vec![mpb::Channel::Email as i32],
                audience: Some(mpb::Audience {
                    account_ids: only_mine.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &one,
        ))
        .await
        .unwrap();
    let gateway = stack.service_token("gateway").await.unwrap();
    messaging
        .record_email_events(bearer(
            mpb::RecordEmailEventsRequest {
                provider: "ses".into(),
                events: vec![mpb::EmailEvent {
                    address: "only.here@mail.com".into(),
                    r#type: mpb::EmailEventType::HardBounce as i32,
                    smtp_status: "550 5.1.1".into(),
                    reason: "user unknown".into(),
                    provider_event_id: "bounce-1".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap();
    let read = |token: String, district: &'static str| {
        let api = &api;
        async move {
            let path = format!(
                "/address-status?districtId={district}&channel=email&address=only.here@mail.com"
            );
            api.send(Method::GET, &path, Some(&token), None).await
        }
    };
    let (status, own) = read(one.clone(), "district-1").await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["status"]["state"], "ADDRESS_STATE_BAD", "{own}");
    assert!(
        own["status"]["reason"]
            .as_str()
            .unwrap()
            .contains("user unknown")
    );
    let (status, other) = read(two.clone(), "district-2").await;
    assert_eq!(status, 200, "{other}");
    assert_eq!(
        other["status"]["state"], "ADDRESS_STATE_OK",
        "district-2 holds no account with it: {other}"
    );
    assert_eq!(other["status"]["reason"], "", "{other}");
    let (status, _) = read(two.clone(), "district-1").await;
    assert_eq!(status, 403, "nor by naming the other district");
}
