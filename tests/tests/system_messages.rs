//! Seed 004 end to end: a one-time code for Sarah on the phone she shares with
//! Kevin is sent by identity-svc through messaging-svc, and the SMS names her.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::{Stack, bearer};
use homeroom_proto::identity::v1::{self as idpb};

async fn sms_lines(stack: &Stack, want: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(stack.outbox.join("sms.jsonl")).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= want || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_code_for_sarah_on_a_shared_phone_arrives_as_an_sms_that_starts_for_sarah() {
    let stack = Stack::start().await.unwrap();
    let mut identity = stack.identity_client().await.unwrap();
    let roster = stack.service_token("roster").await.unwrap();
    let guardian = |id: &str, given: &str, email: &str| idpb::AccountUpsert {
        source_id: id.into(),
        kind: idpb::AccountKind::Guardian as i32,
        given_name: given.into(),
        family_name: "Smith".into(),
        email: Some(email.into()),
        mobile_phone: Some("(987) 654-3210".into()),
        ..Default::default()
    };
    let upserted = identity
        .upsert_accounts(bearer(
            idpb::UpsertAccountsRequest {
                district_id: "district-1".into(),
                source_system: "sis".into(),
                accounts: vec![
                    guardian("p-sarah", "Sarah", "sarah@mail.com"),
                    guardian("p-kevin", "Kevin", "kevin@mail.com"),
                ],
                ..Default::default()
            },
            &roster,
        ))
        .await
        .unwrap()
        .into_inner();
    let sarah = upserted.results[0].account_id.clone();

    identity
        .send_one_time_code(idpb::SendOneTimeCodeRequest {
            identifier: "987-654-3210".into(),
            account_id: sarah.clone(),
            purpose: idpb::OneTimeCodePurpose::Invitation as i32,
            idempotency_key: "join-1".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let lines = sms_lines(&stack, 1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["to"], "+19876543210");
    let body = lines[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with("For Sarah: Your Homeroom code is "),
        "{body}"
    );

    // The code in the SMS lets Sarah join.
    let code: String = body.chars().filter(char::is_ascii_digit).take(6).collect();
    let joined = identity
        .accept_invitation(idpb::AcceptInvitationRequest {
            identifier: "+19876543210".into(),
            code,
            new_password: "sarahs-new-password".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(joined.tokens.unwrap().account_id, sarah);
}
