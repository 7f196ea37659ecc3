//! GW-1 gRPC-Web end to end: a browser-style grpc-web client (HTTP/1.1,
//! tonic-web's client layer) calls the services through the gateway's port
//! with the caller's token; service-only RPCs are refused at the gateway.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{Stack, bearer};
use homeroom_proto::identity::v1::{self as idpb, identity_service_client::IdentityServiceClient};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use tonic_web::GrpcWebClientLayer;

#[tokio::test]
async fn a_browser_calls_get_me_over_grpc_web_and_service_only_rpcs_are_refused() {
    let stack = Stack::start().await.unwrap();
    stack.wait_serving().await.unwrap();
    let roster = stack.service_token("roster").await.unwrap();
    let token = stack
        .staff_member(
            "t-dana",
            ("Dana", "Reed"),
            "dana@district.org",
            idpb::Role::Teacher,
            "dana-strong-password",
        )
        .await
        .access_token;

    let http = Client::builder(TokioExecutor::new()).build_http();
    let web = tower::ServiceBuilder::new()
        .layer(GrpcWebClientLayer::new())
        .service(http);
    let mut browser = IdentityServiceClient::with_origin(
        web,
        format!("http://{}", stack.gateway).parse().unwrap(),
    );

    let me = browser
        .get_me(bearer(idpb::GetMeRequest {}, &token))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(me.display_name, "Dana Reed");

    // Without a token the service itself says who may call.
    let anonymous = browser.get_me(idpb::GetMeRequest {}).await.unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    // A service-only RPC never reaches identity, even with a service token.
    let refused = browser
        .upsert_accounts(bearer(idpb::UpsertAccountsRequest::default(), &roster))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(refused.message().contains("not open to browsers"));
}
