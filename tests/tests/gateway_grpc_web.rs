//! GW-1 gRPC-Web end to end: a browser-style grpc-web client (HTTP/1.1,
//! tonic-web's client layer) calls the services through the gateway's port
//! with the caller's token; service-only RPCs are refused at the gateway.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{Stack, bearer};
use homeroom_proto::identity::v1::{self as idpb, identity_service_client::IdentityServiceClient};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tonic_web::GrpcWebClientLayer;

/// identity-svc as a browser reaches it: grpc-web over HTTP/1.1 to the gateway.
type WebClient = Client<HttpConnector, tonic_web::GrpcWebCall<tonic::body::Body>>;

fn browser(stack: &Stack) -> IdentityServiceClient<tonic_web::GrpcWebClientService<WebClient>> {
    let http: WebClient = Client::builder(TokioExecutor::new()).build_http();
    let web = tower::ServiceBuilder::new()
        .layer(GrpcWebClientLayer::new())
        .service(http);
    IdentityServiceClient::with_origin(web, format!("http://{}", stack.gateway).parse().unwrap())
}

#[tokio::test]
async fn a_browser_calls_get_me_over_grpc_web_and_service_only_rpcs_are_refused() {
    let stack = Stack::start().await.unwrap();
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

    let mut browser = browser(&stack);

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

#[tokio::test]
async fn a_browser_cannot_choose_the_address_its_calls_are_accounted_to() {
    let stack = Stack::start().await.unwrap();
    let admin = stack
        .staff_member(
            "a-ada",
            ("Ada", "Admin"),
            "ada@district.org",
            idpb::Role::DistrictAdmin,
            "ada-strong-password",
        )
        .await
        .access_token;
    let mut browser = browser(&stack);
    let mut login = tonic::Request::new(idpb::LoginRequest {
        identifier: "ada@district.org".into(),
        password: "ada-strong-password".into(),
        client: Some(idpb::ClientInfo {
            ip_address: "198.51.100.66".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    let forged = stack.service_token("roster").await.unwrap();
    let metadata = login.metadata_mut();
    metadata.insert(
        "x-homeroom-client-address",
        "198.51.100.66".parse().unwrap(),
    );
    metadata.insert(
        "x-homeroom-forwarder",
        format!("Bearer {forged}").parse().unwrap(),
    );
    browser.login(login).await.unwrap();

    let mut identity = stack.identity_client().await.unwrap();
    let events = identity
        .list_audit_events(bearer(
            idpb::ListAuditEventsRequest {
                district_id: "district-1".into(),
                kinds: vec![idpb::AuditEventKind::LoginSucceeded as i32],
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let newest = events.first().unwrap();
    assert_eq!(
        newest.ip_address, "127.0.0.1",
        "the gateway replaced what the browser claimed with its TCP peer"
    );
}
