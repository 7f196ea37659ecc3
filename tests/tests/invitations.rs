//! ID-4: invitations people can accept. Sarah and Kevin share an email and a
//! phone; each invitation carries a join link naming its own account, in the
//! account's language, the SMS starting `For <first name>:`; a link signs in
//! its account once, is refused when spent or expired, and staff can send a
//! new one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use e2e::{
    Api, Stack,
    invitations::{EMAIL, PHONE, codes, invite, smiths},
    until,
};
use serde_json::json;

#[tokio::test]
async fn each_invitation_carries_a_join_link_for_its_own_account() {
    let stack = Stack::start().await.unwrap();
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
