//! GW-2 end to end: provider webhooks against every service for real. A
//! signed Twilio status callback bounces a text and marks the number bad; a
//! signed inbound STOP opts the number out; a signed SendGrid bounce marks the
//! email bad. A forged, missing or stale signature is 403 and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::{Stack, TWILIO_AUTH_TOKEN, bearer};
use homeroom_proto::{
    identity::v1 as idpb,
    messaging::v1::{self as mpb, messaging_service_client::MessagingServiceClient},
};
use p256::ecdsa::SigningKey;
use serde_json::{Value, json};

/// A provider calling the gateway.
struct Provider {
    http: reqwest::Client,
    base: String,
}

impl Provider {
    fn new(stack: &Stack) -> Provider {
        // reqwest is built without a default TLS provider: the project's one is ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Provider {
            http: reqwest::Client::new(),
            base: format!("http://{}", stack.gateway),
        }
    }

    /// Twilio's signature of a form POST to `path` with `token`.
    fn twilio_signature(&self, path: &str, form: &[(&str, &str)], token: &str) -> String {
        let params: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let url = format!("{}{path}", self.base);
        gateway::webhooks::twilio::sign(token.as_bytes(), &url, &params).unwrap()
    }

    /// Posts a Twilio form, with `signature` if given.
    async fn twilio(
        &self,
        path: &str,
        form: &[(&str, &str)],
        signature: Option<String>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        request.send().await.unwrap()
    }

    /// Posts SendGrid events signed by `key` at `timestamp` (unsigned if `None`).
    async fn sendgrid(
        &self,
        events: &Value,
        signed: Option<(&SigningKey, i64)>,
    ) -> reqwest::Response {
        e2e::webhooks::sendgrid(&self.http, &self.base, events, signed)
            .await
            .unwrap()
    }
}

/// A 403 `{code: PERMISSION_DENIED}`.
async fn assert_refused(response: reqwest::Response, why: &str) {
    assert_eq!(response.status().as_u16(), 403, "{why}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "PERMISSION_DENIED", "{why}: {body}");
}

/// messaging's status of an address, read as a service.
async fn address_status(stack: &Stack, channel: mpb::Channel, address: &str) -> mpb::AddressStatus {
    let token = stack.service_token("roster").await.unwrap();
    MessagingServiceClient::connect(format!("http://{}", stack.messaging))
        .await
        .unwrap()
        .get_address_status(bearer(
            mpb::GetAddressStatusRequest {
                district_id: "district-1".into(),
                addresses: vec![mpb::AddressRef {
                    channel: channel as i32,
                    address: address.into(),
                }],
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .statuses
        .remove(0)
}

#[tokio::test]
async fn a_signed_stop_opts_the_number_out_and_a_forged_or_missing_signature_changes_nothing() {
    let stack = Stack::start().await.unwrap();
    let twilio = Provider::new(&stack);
    let path = "/webhooks/twilio/inbound";
    let stop = [
        ("MessageSid", "SM-inbound-1"),
        ("AccountSid", "AC-e2e"),
        ("From", "+19876543210"),
        ("To", "+15005550006"),
        ("Body", "STOP"),
    ];

    let forged = twilio.twilio_signature(path, &stop, "not-the-auth-token");
    assert_refused(twilio.twilio(path, &stop, Some(forged)).await, "forged").await;
    assert_refused(twilio.twilio(path, &stop, None).await, "missing").await;
    let other_path = twilio.twilio_signature("/webhooks/twilio/status", &stop, TWILIO_AUTH_TOKEN);
    assert_refused(
        twilio.twilio(path, &stop, Some(other_path)).await,
        "signed for another URL",
    )
    .await;
    let sms = address_status(&stack, mpb::Channel::Sms, "+19876543210").await;
    assert!(!sms.opted_out, "nothing reached messaging");

    let signed = twilio.twilio_signature(path, &stop, TWILIO_AUTH_TOKEN);
    let r = twilio.twilio(path, &stop, Some(signed)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/xml");
    assert!(!r.headers()["x-request-id"].is_empty());
    let twiml = r.text().await.unwrap();
    assert!(twiml.contains("<Response"), "{twiml}");
    let sms = address_status(&stack, mpb::Channel::Sms, "+19876543210").await;
    assert!(sms.opted_out, "STOP opted the number out: {sms:?}");
}

/// Sarah, a guardian with a mobile phone, and Dana, a communications
/// administrator, in district-1; Dana's access token.
async fn district(stack: &Stack) -> (String, String) {
    let mut identity = stack.identity_client().await.unwrap();
    let roster = stack.service_token("roster").await.unwrap();
    let person =
        |id: &str, kind: idpb::AccountKind, given: &str, email: &str| idpb::AccountUpsert {
            source_id: id.into(),
            kind: kind as i32,
            given_name: given.into(),
            family_name: "Smith".into(),
            email: Some(email.into()),
            ..Default::default()
        };
    let mut sarah = person(
        "p-sarah",
        idpb::AccountKind::Guardian,
        "Sarah",
        "sarah@mail.com",
    );
    sarah.mobile_phone = Some("(987) 654-3210".into());
    let mut dana = person(
        "t-dana",
        idpb::AccountKind::Staff,
        "Dana",
        "dana@district.org",
    );
    dana.roles = vec![idpb::RoleAssignment {
        role: idpb::Role::CommunicationsAdmin as i32,
        district_id: "district-1".into(),
        ..Default::default()
    }];
    let upserted = identity
        .upsert_accounts(bearer(
            idpb::UpsertAccountsRequest {
                district_id: "district-1".into(),
                source_system: "sis".into(),
                accounts: vec![sarah, dana],
                ..Default::default()
            },
            &roster,
        ))
        .await
        .unwrap()
        .into_inner();
    let token = stack
        .join(&mut identity, "dana@district.org", "dana-strong-password")
        .await
        .access_token;
    (upserted.results[0].account_id.clone(), token)
}

/// Dana texts Sarah; the delivery once the provider accepted it.
async fn text_sent(stack: &Stack, sarah: &str, token: &str) -> mpb::Delivery {
    let mut messaging = MessagingServiceClient::connect(format!("http://{}", stack.messaging))
        .await
        .unwrap();
    let sent = messaging
        .send_communication(bearer(
            mpb::SendCommunicationRequest {
                idempotency_key: "early-dismissal".into(),
                district_id: "district-1".into(),
                subject: "Early dismissal".into(),
                body: "School closes at noon today.".into(),
                channels: vec![mpb::Channel::Sms as i32],
                audience: Some(mpb::Audience {
                    account_ids: vec![sarah.into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    let list = mpb::ListDeliveriesRequest {
        communication_id: sent.communication_id,
        channel: mpb::Channel::Sms as i32,
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let deliveries = messaging
            .list_deliveries(bearer(list.clone(), token))
            .await
            .unwrap()
            .into_inner()
            .deliveries;
        if let Some(d) = deliveries
            .into_iter()
            .find(|d| d.status == mpb::DeliveryStatus::Sent as i32)
        {
            return d;
        }
        assert!(Instant::now() < deadline, "the text was never sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_signed_status_callback_bounces_a_text_to_a_landline_and_a_forged_one_does_not() {
    let stack = Stack::start().await.unwrap();
    let (sarah, token) = district(&stack).await;
    let delivery = text_sent(&stack, &sarah, &token).await;
    assert_eq!(delivery.address, "+19876543210");

    let twilio = Provider::new(&stack);
    // The delivery id rides in the query string, which is signed too.
    let path = format!(
        "/webhooks/twilio/status?delivery_id={}",
        delivery.delivery_id
    );
    let callback = [
        ("MessageSid", delivery.provider_message_id.as_str()),
        ("SmsSid", delivery.provider_message_id.as_str()),
        ("MessageStatus", "undelivered"),
        ("SmsStatus", "undelivered"),
        ("ErrorCode", "30006"),
        ("AccountSid", "AC-e2e"),
        ("To", "+19876543210"),
        ("From", "+15005550006"),
    ];
    let forged = twilio.twilio_signature(&path, &callback, "not-the-auth-token");
    assert_refused(
        twilio.twilio(&path, &callback, Some(forged)).await,
        "forged",
    )
    .await;
    assert_refused(twilio.twilio(&path, &callback, None).await, "missing").await;
    let other_query =
        twilio.twilio_signature("/webhooks/twilio/status", &callback, TWILIO_AUTH_TOKEN);
    assert_refused(
        twilio.twilio(&path, &callback, Some(other_query)).await,
        "signed without the query string",
    )
    .await;
    let sms = address_status(&stack, mpb::Channel::Sms, "+19876543210").await;
    assert_eq!(
        sms.state,
        mpb::AddressState::Ok as i32,
        "nothing reached messaging"
    );

    let signed = twilio.twilio_signature(&path, &callback, TWILIO_AUTH_TOKEN);
    let r = twilio.twilio(&path, &callback, Some(signed)).await;
    assert_eq!(r.status().as_u16(), 204);
    let sms = address_status(&stack, mpb::Channel::Sms, "+19876543210").await;
    assert_eq!(sms.state, mpb::AddressState::Bad as i32, "{sms:?}");
    assert_eq!(sms.cause, mpb::BadAddressCause::NotSmsCapable as i32);
    assert_eq!(sms.provider_error_code, "30006");
}

#[tokio::test]
async fn a_signed_sendgrid_bounce_marks_the_email_bad_and_a_forged_or_stale_one_is_refused() {
    let stack = Stack::start().await.unwrap();
    let sendgrid = Provider::new(&stack);
    let key = SigningKey::from_slice(&e2e::webhooks::SENDGRID_SIGNING_KEY).unwrap();
    assert_eq!(
        gateway::webhooks::sendgrid::public_key(e2e::SENDGRID_WEBHOOK_KEY).as_ref(),
        Some(key.verifying_key()),
        "the stack's key is the public half of the test key"
    );
    let now = e2e::webhooks::unix_now();
    let bounce = json!([{
        "email": "gone@example.org",
        "timestamp": now,
        "smtp-id": "<unknown@example.org>",
        "event": "bounce",
        "type": "bounce",
        "sg_event_id": "sg-event-1",
        "sg_message_id": "sg-message-1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "status": "5.1.1",
        "bounce_classification": "Invalid Address"
    }]);

    let forger = SigningKey::from_slice(&[0x42; 32]).unwrap();
    assert_refused(
        sendgrid.sendgrid(&bounce, Some((&forger, now))).await,
        "forged",
    )
    .await;
    assert_refused(sendgrid.sendgrid(&bounce, None).await, "missing").await;
    assert_refused(
        sendgrid.sendgrid(&bounce, Some((&key, now - 3600))).await,
        "an hour old",
    )
    .await;
    let email = address_status(&stack, mpb::Channel::Email, "gone@example.org").await;
    assert_eq!(
        email.state,
        mpb::AddressState::Ok as i32,
        "nothing reached messaging"
    );

    let r = sendgrid.sendgrid(&bounce, Some((&key, now))).await;
    assert_eq!(r.status().as_u16(), 204);
    let email = address_status(&stack, mpb::Channel::Email, "gone@example.org").await;
    assert_eq!(email.state, mpb::AddressState::Bad as i32, "{email:?}");
    assert_eq!(email.cause, mpb::BadAddressCause::HardBounce as i32);
    assert!(email.reason.contains("5.1.1"), "{email:?}");
}
