//! ID-4: invitations people can accept. Sarah and Kevin share an email and a
//! phone; each invitation carries a join link naming its own account, in the
//! account's language, the SMS starting `For <first name>:`; a link signs in
//! its account once, is refused when spent or expired, and staff can send a
//! new one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use e2e::{Api, Stack, bearer, until};
use homeroom_proto::identity::v1 as idpb;
use serde_json::json;

const EMAIL: &str = "smithparent@mail.com";
const PHONE: &str = "+19876543210";

/// Sarah (Spanish) and Kevin, invitees sharing an email and a phone; their ids.
async fn smiths(stack: &Stack) -> (String, String) {
    let roster = stack.service_token("roster").await.unwrap();
    let guardian = |source: &str, given: &str, language: &str| idpb::AccountUpsert {
        source_id: source.into(),
        kind: idpb::AccountKind::Guardian as i32,
        given_name: given.into(),
        family_name: "Smith".into(),
        preferred_language: Some(language.into()),
        email: Some(EMAIL.into()),
        mobile_phone: Some(PHONE.into()),
        ..Default::default()
    };
    let ids: Vec<String> = stack
        .identity_client()
        .await
        .unwrap()
        .upsert_accounts(bearer(
            idpb::UpsertAccountsRequest {
                district_id: "district-1".into(),
                source_system: "sis".into(),
                accounts: vec![guardian("g1", "Sarah", "es"), guardian("g2", "Kevin", "")],
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
        .collect();
    (ids[0].clone(), ids[1].clone())
}

async fn invite(stack: &Stack, accounts: Vec<String>, resend: bool, key: &str) {
    let roster = stack.service_token("roster").await.unwrap();
    stack
        .identity_client()
        .await
        .unwrap()
        .invite_accounts(bearer(
            idpb::InviteAccountsRequest {
                district_id: "district-1".into(),
                account_ids: accounts,
                resend,
                idempotency_key: key.into(),
            },
            &roster,
        ))
        .await
        .unwrap();
}

/// The join codes in the texts that contain `marker`, in arrival order.
fn codes(texts: &[String], marker: &str) -> Vec<String> {
    let prefix = format!("{}/join?code=", e2e::PUBLIC_URL);
    texts
        .iter()
        .map(|t| e2e::readable(t))
        .filter(|t| t.contains(marker))
        .filter_map(|t| {
            let at = t.find(&prefix)? + prefix.len();
            Some(t[at..].chars().take(43).collect())
        })
        .collect()
}

#[tokio::test]
async fn each_invitation_carries_a_join_link_for_its_own_account() {
    let stack = Stack::start().await.unwrap();
    stack.wait_serving().await.unwrap();
    let (sarah, kevin) = smiths(&stack).await;
    invite(&stack, vec![sarah.clone(), kevin.clone()], false, "first").await;

    // Two emails to the shared address and two texts to the shared phone.
    let (emails, sms) = until(|| {
        let (emails, sms) = stack.outbox();
        (emails.len() >= 2 && sms.len() >= 2).then_some((emails, sms))
    })
    .await;
    let spanish = codes(&emails, "Abre este enlace");
    let english = codes(&emails, "Open this link");
    assert_eq!((spanish.len(), english.len()), (1, 1), "{emails:?}");
    assert_ne!(spanish[0], english[0], "a link per account");
    let texts: Vec<String> = sms
        .iter()
        .filter(|m| m["to"] == PHONE)
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("For Sarah: ") && t.contains("crear tu contraseña")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("For Kevin: ") && t.contains("set your password")),
        "{texts:?}"
    );

    // Sarah's link signs Sarah in; Kevin stays an invitee.
    let api = Api::new(&stack);
    let (status, body) = api
        .post(
            "/auth/accept-invitation",
            json!({"code": spanish[0], "newPassword": "sarah-strong-password"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accountId"], sarah.as_str());
    let (status, _) = api
        .post(
            "/auth/login",
            json!({"identifier": EMAIL, "password": "sarah-strong-password"}),
        )
        .await;
    assert_eq!(status, 200);
    // Spent.
    let (status, body) = api
        .post(
            "/auth/accept-invitation",
            json!({"code": spanish[0], "newPassword": "another-strong-password"}),
        )
        .await;
    assert_eq!(status, 401, "{body}");

    // Kevin's link, once expired, is refused; staff send a new one that works.
    let expire = |db: &homeroom_platform::db::Db| {
        let db = db.clone();
        async move {
            db.run(|c| {
                use diesel::RunQueryDsl;
                diesel::sql_query(
                    "UPDATE invitation_links SET expires_at = created_at WHERE consumed_at IS NULL",
                )
                .execute(c)
                .map_err(homeroom_platform::db::DbError::from)
            })
            .await
            .unwrap();
        }
    };
    expire(stack.identity_db()).await;
    let (status, _) = api
        .post(
            "/auth/accept-invitation",
            json!({"code": english[0], "newPassword": "kevin-strong-password"}),
        )
        .await;
    assert_eq!(status, 401, "an expired link");
    invite(&stack, vec![kevin.clone()], true, "again").await;
    let fresh = until(|| {
        let (emails, _) = stack.outbox();
        codes(&emails, "Open this link")
            .into_iter()
            .find(|c| *c != english[0])
    })
    .await;
    let (status, body) = api
        .post(
            "/auth/accept-invitation",
            json!({"code": fresh, "newPassword": "kevin-strong-password"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accountId"], kevin.as_str());
    tokio::time::sleep(Duration::from_millis(1)).await;
}
