//! The stack as clients see it: every service SERVING, the gateway ready.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::Stack;
use homeroom_platform::testing::{http_get, reflected_services, wait_serving};
use homeroom_proto::{identity::v1 as identity, messaging::v1 as messaging, roster::v1 as roster};

#[tokio::test]
async fn every_service_serves_and_the_gateway_is_ready() {
    let stack = Stack::start().await.unwrap();
    for (addr, name) in [
        (stack.identity, identity::SERVICE_NAME),
        (stack.roster, roster::SERVICE_NAME),
        (stack.messaging, messaging::SERVICE_NAME),
    ] {
        wait_serving(addr, name, Duration::from_secs(30))
            .await
            .unwrap();
        let listed = reflected_services(addr).await.unwrap();
        assert!(listed.iter().any(|s| s == name), "{listed:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, body) = loop {
        let answer = http_get(stack.gateway, "/readyz").await.unwrap();
        if answer.0 == 200 || Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn with_one_service_down_its_routes_answer_503_and_the_others_keep_working() {
    let stack = Stack::start().await.unwrap();
    let ada = stack
        .staff_member(
            "a-ada",
            ("Ada", "Admin"),
            "ada@district.org",
            identity::Role::DistrictAdmin,
            "ada-strong-password",
        )
        .await;
    // A gateway whose roster and messaging are down (a port nothing listens on).
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = stack.gateway_config();
    config.roster_url = format!("http://{dead}");
    config.messaging_url = format!("http://{dead}");
    config.upstream_timeout = Duration::from_secs(2);
    let gateway = stack.start_gateway(config).await.unwrap();

    let (status, body) = http_get(gateway, "/readyz").await.unwrap();
    assert_eq!(
        status, 200,
        "one service up keeps the gateway ready: {body}"
    );
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "degraded");
    let down: Vec<&str> = body["upstreams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"] != "SERVING")
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(down, ["roster", "messaging"]);

    let api = e2e::Api::at_from(gateway, "127.0.0.1".parse().unwrap());
    let (status, _) = api
        .post(
            "/auth/login",
            serde_json::json!({"identifier": "ada@district.org", "password": "ada-strong-password"}),
        )
        .await;
    assert_eq!(status, 200, "identity's routes keep working");
    let me = api.get("/me", Some(&ada.access_token)).await;
    assert_eq!(me.status().as_u16(), 200);

    let (status, body) = api
        .send(
            reqwest::Method::GET,
            "/sync-sources?districtId=district-1",
            Some(&ada.access_token),
            None,
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "UNAVAILABLE");
    assert!(
        body["message"].as_str().unwrap().contains("unavailable"),
        "{body}"
    );

    // Everything down: the gateway is not ready.
    let mut config = stack.gateway_config();
    config.identity_url = format!("http://{dead}");
    config.roster_url = format!("http://{dead}");
    config.messaging_url = format!("http://{dead}");
    config.upstream_timeout = Duration::from_secs(2);
    let alone = stack.start_gateway(config).await.unwrap();
    assert_eq!(http_get(alone, "/readyz").await.unwrap().0, 503);
}
