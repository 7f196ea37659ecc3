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
