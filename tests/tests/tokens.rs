//! Tokens across services (ID-6): identity-svc signs, roster-svc and
//! messaging-svc verify against identity's JWKS fetched over gRPC.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use e2e::{SERVICE_SECRET, Stack};
use homeroom_platform::testing::wait_serving;
use homeroom_proto::{
    identity::v1::{self as idpb, identity_service_client::IdentityServiceClient},
    messaging::v1::{self as mpb, messaging_service_client::MessagingServiceClient},
    roster::v1::{self as rpb, roster_service_client::RosterServiceClient},
};
use tonic::{Code, Request};

fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn a_token_identity_signs_is_accepted_by_the_other_services_and_a_forged_one_is_not() {
    let stack = Stack::start().await.unwrap();
    for (addr, name) in [
        (stack.identity, idpb::SERVICE_NAME),
        (stack.roster, rpb::SERVICE_NAME),
        (stack.messaging, mpb::SERVICE_NAME),
    ] {
        wait_serving(addr, name, Duration::from_secs(30))
            .await
            .unwrap();
    }
    let mut identity = IdentityServiceClient::connect(format!("http://{}", stack.identity))
        .await
        .unwrap();
    let token = identity
        .issue_service_token(idpb::IssueServiceTokenRequest {
            client_id: "gateway".into(),
            client_secret: SERVICE_SECRET.into(),
            scopes: vec![],
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;

    let mut roster = RosterServiceClient::connect(format!("http://{}", stack.roster))
        .await
        .unwrap();
    let mut messaging = MessagingServiceClient::connect(format!("http://{}", stack.messaging))
        .await
        .unwrap();

    // Past authentication, the call reaches the service (whose handler is not built yet).
    let accepted = roster
        .list_districts(bearer(rpb::ListDistrictsRequest::default(), &token))
        .await
        .unwrap_err();
    assert_eq!(accepted.code(), Code::Unimplemented, "{accepted:?}");
    let accepted = messaging
        .get_preferences(bearer(mpb::GetPreferencesRequest::default(), &token))
        .await
        .unwrap_err();
    assert_eq!(accepted.code(), Code::Unimplemented, "{accepted:?}");

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
