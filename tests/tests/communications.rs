//! Seed 000 end to end: Sarah and Kevin share an email; a communication to both
//! sends one email to it and a text to each phone; a retry sends nothing more;
//! the sender's administrator reads it back with its counts and deliveries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::{Stack, bearer, until};
use homeroom_proto::{
    identity::v1::{self as idpb, identity_service_client::IdentityServiceClient},
    messaging::v1::{self as mpb, messaging_service_client::MessagingServiceClient},
};
use tonic::transport::Channel;

fn person(
    id: &str,
    kind: idpb::AccountKind,
    given: &str,
    email: &str,
    phone: &str,
) -> idpb::AccountUpsert {
    idpb::AccountUpsert {
        source_id: id.into(),
        kind: kind as i32,
        given_name: given.into(),
        family_name: "Smith".into(),
        email: Some(email.into()),
        mobile_phone: Some(phone.into()).filter(|p: &String| !p.is_empty()),
        ..Default::default()
    }
}

/// Dana, a communications administrator, joins through the emailed code.
async fn dana_signs_in(stack: &Stack, identity: &mut IdentityServiceClient<Channel>) -> String {
    stack
        .join(identity, "dana@district.org", "dana-strong-password")
        .await
        .access_token
}

/// Sarah and Kevin (guardians sharing an email) and Dana, signed in.
struct District {
    sarah: String,
    kevin: String,
    dana: String,
    token: String,
}

/// Rosters the Smiths and Dana with `roles` in district-1; Dana signs in.
async fn district(stack: &Stack, roles: &[idpb::Role]) -> District {
    let mut identity = stack.identity_client().await.unwrap();
    let roster = stack.service_token("roster").await.unwrap();
    let mut dana = person(
        "t-dana",
        idpb::AccountKind::Staff,
        "Dana",
        "dana@district.org",
        "",
    );
    dana.roles = roles
        .iter()
        .map(|role| idpb::RoleAssignment {
            role: *role as i32,
            district_id: "district-1".into(),
            ..Default::default()
        })
        .collect();
    let upserted = identity
        .upsert_accounts(bearer(
            idpb::UpsertAccountsRequest {
                district_id: "district-1".into(),
                source_system: "sis".into(),
                accounts: vec![
                    person(
                        "p-sarah",
                        idpb::AccountKind::Guardian,
                        "Sarah",
                        "smithparent@mail.com",
                        "(987) 654-3210",
                    ),
                    person(
                        "p-kevin",
                        idpb::AccountKind::Guardian,
                        "Kevin",
                        "smithparent@mail.com",
                        "(123) 456-7890",
                    ),
                    dana,
                ],
                ..Default::default()
            },
            &roster,
        ))
        .await
        .unwrap()
        .into_inner();
    let id = |i: usize| upserted.results[i].account_id.clone();
    District {
        sarah: id(0),
        kevin: id(1),
        dana: id(2),
        token: dana_signs_in(stack, &mut identity).await,
    }
}

#[tokio::test]
async fn a_shared_email_gets_one_message_each_phone_a_text_and_a_retry_sends_nothing() {
    let stack = Stack::start().await.unwrap();
    let District {
        sarah,
        kevin,
        token,
        ..
    } = district(&stack, &[idpb::Role::CommunicationsAdmin]).await;

    let mut messaging = MessagingServiceClient::connect(format!("http://{}", stack.messaging))
        .await
        .unwrap();
    let request = mpb::SendCommunicationRequest {
        idempotency_key: "snow-day-1".into(),
        district_id: "district-1".into(),
        subject: "Snow day".into(),
        body: "School is closed tomorrow.".into(),
        channels: vec![mpb::Channel::Email as i32, mpb::Channel::Sms as i32],
        audience: Some(mpb::Audience {
            account_ids: vec![sarah.clone(), kevin.clone()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let sent = messaging
        .send_communication(bearer(request.clone(), &token))
        .await
        .unwrap()
        .into_inner();
    let counts = sent.communication.unwrap().channel_counts;
    let email_counts = counts
        .iter()
        .find(|c| c.channel == mpb::Channel::Email as i32)
        .unwrap();
    assert_eq!(
        (email_counts.recipients, email_counts.unique_addresses),
        (2, 1)
    );

    let (emails, texts) = until(|| {
        let (emails, sms) = stack.outbox();
        let snow: Vec<String> = emails
            .into_iter()
            .filter(|e| e.contains("Snow day"))
            .collect();
        (snow.len() == 1 && sms.len() == 2).then_some((snow, sms))
    })
    .await;
    assert!(emails[0].contains("smithparent@mail.com"));
    let mut phones: Vec<&str> = texts.iter().map(|t| t["to"].as_str().unwrap()).collect();
    phones.sort();
    assert_eq!(phones, vec!["+11234567890", "+19876543210"]);

    let again = messaging
        .send_communication(bearer(request, &token))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(again.communication_id, sent.communication_id);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (emails, sms) = stack.outbox();
    assert_eq!(emails.iter().filter(|e| e.contains("Snow day")).count(), 1);
    assert_eq!(sms.len(), 2);

    read_back(
        &mut messaging,
        &token,
        &sent.communication_id,
        [&sarah, &kevin],
    )
    .await;
}

/// MS-1 / MS-5: Dana reads the communication back: completed, one email sent
/// for both, two texts, each delivery naming whom it served.
async fn read_back(
    messaging: &mut MessagingServiceClient<Channel>,
    token: &str,
    id: &str,
    smiths: [&String; 2],
) {
    let get = mpb::GetCommunicationRequest {
        communication_id: id.into(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let communication = loop {
        let c = messaging
            .get_communication(bearer(get.clone(), token))
            .await
            .unwrap()
            .into_inner()
            .communication
            .unwrap();
        if c.status == mpb::CommunicationStatus::Completed as i32 {
            break c;
        }
        assert!(Instant::now() < deadline, "still sending: {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(communication.recipient_count, 2);
    let count = |channel: mpb::Channel| {
        communication
            .channel_counts
            .iter()
            .find(|c| c.channel == channel as i32)
            .map(|c| (c.recipients, c.unique_addresses, c.sent))
            .unwrap()
    };
    assert_eq!(count(mpb::Channel::Email), (2, 1, 1));
    assert_eq!(count(mpb::Channel::Sms), (2, 2, 2));

    let listed = messaging
        .list_communications(bearer(
            mpb::ListCommunicationsRequest {
                district_id: "district-1".into(),
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.communications.len(), 1);
    assert_eq!(listed.communications[0].communication_id, id);

    let deliveries = messaging
        .list_deliveries(bearer(
            mpb::ListDeliveriesRequest {
                communication_id: id.into(),
                channel: mpb::Channel::Email as i32,
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deliveries.total_size, 1);
    let email = &deliveries.deliveries[0];
    assert_eq!(email.address, "smithparent@mail.com");
    assert_eq!(email.status, mpb::DeliveryStatus::Sent as i32);
    let mut served: Vec<&String> = email.recipient_account_ids.iter().collect();
    served.sort();
    let mut expected = smiths.to_vec();
    expected.sort();
    assert_eq!(served, expected);

    let unknown = messaging
        .get_communication(bearer(
            mpb::GetCommunicationRequest {
                communication_id: "0190f0c0-0000-7000-8000-000000000000".into(),
            },
            token,
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

/// MS-7 / ID-10 end to end: the shared email bounces; Dana resets it through
/// messaging; identity's audit log shows the reset with Dana as the actor and
/// the address masked.
#[tokio::test]
async fn a_reset_bad_address_is_in_identitys_audit_log() {
    let stack = Stack::start().await.unwrap();
    let smiths = district(
        &stack,
        &[idpb::Role::CommunicationsAdmin, idpb::Role::DistrictAdmin],
    )
    .await;
    let token = smiths.token.as_str();
    let mut messaging = MessagingServiceClient::connect(format!("http://{}", stack.messaging))
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
                    account_ids: vec![smiths.sarah.clone(), smiths.kevin.clone()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap();
    let gateway = stack.service_token("gateway").await.unwrap();
    let bounced = messaging
        .record_email_events(bearer(
            mpb::RecordEmailEventsRequest {
                provider: "ses".into(),
                events: vec![mpb::EmailEvent {
                    address: "smithparent@mail.com".into(),
                    r#type: mpb::EmailEventType::HardBounce as i32,
                    smtp_status: "550 5.1.1".into(),
                    reason: "user unknown".into(),
                    provider_event_id: "e2e-bounce-1".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bounced.addresses_marked_bad.len(), 1);

    let email = mpb::AddressRef {
        channel: mpb::Channel::Email as i32,
        address: "smithparent@mail.com".into(),
    };
    let reset = messaging
        .reset_address_status(bearer(
            mpb::ResetAddressStatusRequest {
                district_id: "district-1".into(),
                target: Some(mpb::reset_address_status_request::Target::Address(email)),
                note: "Sarah fixed her mailbox".into(),
                request_id: "req-e2e-reset".into(),
                ip_address: "203.0.113.9".into(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reset.cleared.unwrap().state, mpb::AddressState::Bad as i32);

    let mut identity = stack.identity_client().await.unwrap();
    let audit = idpb::ListAuditEventsRequest {
        district_id: "district-1".into(),
        kinds: vec![idpb::AuditEventKind::AddressStatusReset as i32],
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let event = loop {
        let listed = identity
            .list_audit_events(bearer(audit.clone(), token))
            .await
            .unwrap()
            .into_inner();
        if let Some(event) = listed.events.into_iter().next() {
            break event;
        }
        assert!(
            Instant::now() < deadline,
            "the reset never reached identity"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (
            event.actor_account_id.as_str(),
            event.actor_service.as_str(),
            event.source.as_str(),
            event.request_id.as_str(),
        ),
        (
            smiths.dana.as_str(),
            "messaging",
            "messaging",
            "req-e2e-reset"
        )
    );
    assert_eq!(event.summary, "email status reset for s***@mail.com");
    assert_eq!(
        event.details.get("channel").map(String::as_str),
        Some("email")
    );
    assert!(!format!("{event:?}").contains("smithparent@mail.com"));
}
