//! identity-svc over gRPC: who may call what, and errors a person can act on.

use homeroom_proto::identity::v1 as pb;
use tonic::Code;

use crate::support::{bearer, server};

fn smiths_request() -> pb::UpsertAccountsRequest {
    let guardian = |id: &str, given: &str, email: &str, phone: &str| pb::AccountUpsert {
        source_id: id.into(),
        kind: pb::AccountKind::Guardian as i32,
        given_name: given.into(),
        family_name: "Smith".into(),
        email: Some(email.into()),
        mobile_phone: Some(phone.into()),
        ..Default::default()
    };
    pb::UpsertAccountsRequest {
        district_id: "district-1".into(),
        source_system: "sis".into(),
        accounts: vec![
            guardian("p-sarah", "Sarah", "SmithParent@mail.com", "(987) 654-3210"),
            guardian("p-kevin", "Kevin", "smithparent@mail.com ", "123-456-7890"),
            guardian("p-broken", "Bea", "not-an-email@", ""),
        ],
        phone_region: "US".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn roster_upserts_with_a_service_token_and_a_bad_row_fails_alone() {
    let mut s = server().await;
    let token = s.service_token("roster").await;
    let answer = s
        .client
        .upsert_accounts(bearer(smiths_request(), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((answer.created_count, answer.error_count), (2, 1));
    let broken = &answer.results[2];
    assert_eq!(broken.outcome, pb::UpsertOutcome::Error as i32);
    assert!(broken.error.contains("email"), "{}", broken.error);

    let sarah = s
        .client
        .get_account(bearer(
            pb::GetAccountRequest {
                account_id: answer.results[0].account_id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    let email = sarah
        .credentials
        .iter()
        .find(|c| c.kind == pb::CredentialKind::Email as i32)
        .unwrap();
    assert_eq!(
        (email.value.as_str(), email.shared, email.shared_count),
        ("smithparent@mail.com", true, 2)
    );
    let phone = sarah
        .credentials
        .iter()
        .find(|c| c.kind == pb::CredentialKind::MobilePhone as i32)
        .unwrap();
    assert_eq!(phone.value, "+19876543210");
}

#[tokio::test]
async fn upsert_refuses_anonymous_callers_and_other_services() {
    let mut s = server().await;
    let anonymous = s
        .client
        .upsert_accounts(smiths_request())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let messaging = s.service_token("messaging").await;
    let other = s
        .client
        .upsert_accounts(bearer(smiths_request(), &messaging))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    let forged = s
        .client
        .upsert_accounts(bearer(smiths_request(), "eyJhbGciOiJFZERTQSJ9.e30.AAAA"))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_wrong_service_secret_is_unauthenticated() {
    let mut s = server().await;
    let err = s
        .client
        .issue_service_token(pb::IssueServiceTokenRequest {
            client_id: "roster".into(),
            client_secret: "guess".into(),
            scopes: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn junk_identifiers_are_invalid_argument_with_a_message() {
    let mut s = server().await;
    for junk in ["", "@", "12", "not a phone", "a@b"] {
        let err = s
            .client
            .login(pb::LoginRequest {
                identifier: junk.into(),
                password: "x".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{junk:?}");
        assert!(!err.message().is_empty());
    }
}

#[tokio::test]
async fn unknown_identifier_and_wrong_password_get_the_same_answer() {
    let mut s = server().await;
    let token = s.service_token("roster").await;
    s.client
        .upsert_accounts(bearer(smiths_request(), &token))
        .await
        .unwrap();
    let login = |identifier: &str| pb::LoginRequest {
        identifier: identifier.into(),
        password: "whatever-password".into(),
        ..Default::default()
    };
    let unknown = s.client.login(login("nobody@mail.com")).await.unwrap_err();
    let invitee = s
        .client
        .login(login("smithparent@mail.com"))
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.message()),
        (invitee.code(), invitee.message())
    );
    assert_eq!(unknown.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn the_jwks_holds_the_key_access_tokens_are_signed_with() {
    let mut s = server().await;
    let token = s.service_token("gateway").await;
    let jwks = s
        .client
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let kid = header.kid.unwrap();
    let key = jwks
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .expect("signing key is in the JWKS");
    assert_eq!(
        (key.kty.as_str(), key.crv.as_str(), key.alg.as_str()),
        ("OKP", "Ed25519", "EdDSA")
    );
}

#[tokio::test]
async fn messaging_gets_contact_points_with_shared_counts_in_request_order() {
    let mut s = server().await;
    let roster = s.service_token("roster").await;
    let answer = s
        .client
        .upsert_accounts(bearer(smiths_request(), &roster))
        .await
        .unwrap()
        .into_inner();
    let (sarah, kevin) = (
        answer.results[0].account_id.clone(),
        answer.results[1].account_id.clone(),
    );
    let messaging = s.service_token("messaging").await;
    let request = pb::GetContactPointsRequest {
        account_ids: vec![kevin.clone(), "no-such-account".into(), sarah.clone()],
    };
    let points = s
        .client
        .get_contact_points(bearer(request.clone(), &messaging))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = points
        .contact_points
        .iter()
        .map(|p| p.account_id.as_str())
        .collect();
    assert_eq!(ids, vec![kevin.as_str(), sarah.as_str()]);
    assert_eq!(
        points.missing_account_ids,
        vec!["no-such-account".to_string()]
    );
    let kevin_point = &points.contact_points[0];
    assert_eq!(kevin_point.given_name, "Kevin");
    assert_eq!(
        kevin_point
            .email
            .as_ref()
            .map(|e| (e.value.as_str(), e.shared_count)),
        Some(("smithparent@mail.com", 2))
    );
    assert_eq!(
        kevin_point.mobile_phone.as_ref().map(|p| p.shared_count),
        Some(1)
    );

    let gateway = s.service_token("gateway").await;
    let denied = s
        .client
        .get_contact_points(bearer(request, &gateway))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}
