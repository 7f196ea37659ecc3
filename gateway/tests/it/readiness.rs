//! `/healthz` and `/readyz` against health servers that stand in for the upstreams.

use std::net::SocketAddr;

use gateway::{app::App, config::Config};
use homeroom_platform::{config::loopback, testing::http_get};
use homeroom_proto::{identity::v1 as identity, messaging::v1 as messaging, roster::v1 as roster};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic_health::{ServingStatus, server::HealthReporter};

/// A gRPC health server on a free port reporting for all three service names.
async fn fake_upstreams(status: ServingStatus) -> (SocketAddr, HealthReporter) {
    let (reporter, server) = tonic_health::server::health_reporter();
    for name in [
        identity::SERVICE_NAME,
        roster::SERVICE_NAME,
        messaging::SERVICE_NAME,
    ] {
        reporter.set_service_status(name, status).await;
    }
    let listener = tokio::net::TcpListener::bind(loopback(0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    (addr, reporter)
}

async fn gateway(upstream: SocketAddr) -> (SocketAddr, CancellationToken) {
    let url = format!("http://{upstream}");
    let config = Config {
        listen_addr: loopback(0),
        identity_url: url.clone(),
        roster_url: url.clone(),
        messaging_url: url,
        ..Config::defaults()
    };
    let app = App::build(config).await.unwrap();
    let addr = app.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until(stop.clone().cancelled_owned()));
    (addr, stop)
}

#[tokio::test]
async fn readyz_is_ok_while_every_upstream_serves_degraded_with_one_down_and_503_with_none() {
    let (upstream, reporter) = fake_upstreams(ServingStatus::Serving).await;
    let (addr, _stop) = gateway(upstream).await;

    let (status, body) = http_get(addr, "/readyz").await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"ok""#), "{body}");

    // One down: still ready (the others' routes work), naming who is down.
    reporter
        .set_service_status(roster::SERVICE_NAME, ServingStatus::NotServing)
        .await;
    let (status, body) = http_get(addr, "/readyz").await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"degraded""#), "{body}");
    assert!(
        body.contains(r#"{"name":"roster","status":"NOT_SERVING"}"#),
        "{body}"
    );

    // None serving: not ready.
    for name in [identity::SERVICE_NAME, messaging::SERVICE_NAME] {
        reporter
            .set_service_status(name, ServingStatus::NotServing)
            .await;
    }
    let (status, body) = http_get(addr, "/readyz").await.unwrap();
    assert_eq!(status, 503, "{body}");
}

#[tokio::test]
async fn healthz_answers_while_upstreams_are_unreachable_and_readyz_says_so() {
    // Nothing listens on this port once the listener is dropped.
    let unused = tokio::net::TcpListener::bind(loopback(0))
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let (addr, _stop) = gateway(unused).await;

    let (status, _) = http_get(addr, "/healthz").await.unwrap();
    assert_eq!(status, 200);
    let (status, body) = http_get(addr, "/readyz").await.unwrap();
    assert_eq!(status, 503);
    assert!(body.contains("UNREACHABLE"), "{body}");
}
