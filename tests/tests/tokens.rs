//! Tokens across services (ID-6): identity-svc signs, roster-svc and
//! messaging-svc verify against identity's JWKS fetched over gRPC.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{Stack, bearer};
use homeroom_proto::{
    messaging::v1::{self as mpb, messaging_service_client::MessagingServiceClient},
    roster::v1::{self as rpb, roster_service_client::RosterServiceClient},
};
use tonic::Code;

#[tokio::test]
async fn a_token_identity_signs_is_accepted_by_the_other_services_and_a_forged_one_is_not() {
    let stack = Stack::start().await.unwrap();
    let _identity = stack.identity_client().await.unwrap();
    let token = stack.service_token("gateway").await.unwrap();

    let mut roster = RosterServiceClient::connect(format!("http://{}", stack.roster))
        .await
        .unwrap();
    let mut messaging = MessagingServiceClient::connect(format!("http://{}", stack.messaging))
        .await
        .unwrap();

    // Past authentication, the call reaches roster's handler: a service sees
    // every district (none yet).
    let accepted = roster
        .list_districts(bearer(rpb::ListDistrictsRequest::default(), &token))
        .await
        .unwrap();
    assert!(accepted.into_inner().districts.is_empty());
    // Authenticated as the gateway, then refused by authorization: preferences
    // belong to the account and its user managers.
    let accepted = messaging
        .get_preferences(bearer(mpb::GetPreferencesRequest::default(), &token))
        .await
        .unwrap_err();
    assert_eq!(accepted.code(), Code::PermissionDenied, "{accepted:?}");
    let forged_to_messaging = messaging
        .get_preferences(bearer(mpb::GetPreferencesRequest::default(), "not.a.token"))
        .await
        .unwrap_err();
    assert_eq!(
        forged_to_messaging.code(),
        Code::Unauthenticated,
        "{forged_to_messaging:?}"
    );

    let mut forged: Vec<String> = token.split('.').map(str::to_owned).collect();
    forged[1] = forged[1].chars().rev().collect();
    let refused = roster
        .list_districts(bearer(
            rpb::ListDistrictsRequest::default(),
            &forged.join("."),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
}
