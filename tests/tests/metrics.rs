//! Metrics (OP-3): after a login, a sync and a send, `/metrics` shows the
//! counters moved — logins by outcome, RPCs by method and code, HTTP requests
//! by route, sync runs and records, deliveries by channel and status, the
//! delivery backlog and the database pools.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use e2e::{Api, Stack, bearer};
use homeroom_platform::{metrics::MetricsServer, testing::http_get};
use homeroom_proto::messaging::v1 as mpb;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The value of the series whose line starts with `name{` and carries every
/// label of `labels` (0 when absent).
fn value(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(addr: std::net::SocketAddr) -> String {
    let (status, body) = http_get(addr, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    body
}

/// Scrapes until `ready` holds (at most 30 s); the last scrape.
async fn scrape_until(addr: std::net::SocketAddr, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(addr).await;
        if ready(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "metrics never showed it:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_login_a_sync_and_a_send_move_the_counters() {
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let metrics = server.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(server.run_until(stop.clone()));
    let _stop = stop.drop_guard();

    let stack = Stack::start().await.unwrap();
    let before = scrape(metrics).await;

    // A sync.
    let smiths = stack.smiths().await.unwrap();
    // Logins: one failure, one success (through the gateway).
    let dana = stack.dana(&smiths).await;
    let api = Api::new(&stack);
    let (status, _) = api
        .post(
            "/auth/login",
            json!({"identifier": "dana@district.org", "password": "not-her-password"}),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = api
        .post(
            "/auth/login",
            json!({"identifier": "dana@district.org", "password": "dana-strong-password"}),
        )
        .await;
    assert_eq!(status, 200);
    // A send: one email (Sarah and Kevin share it) and a text to Sarah.
    let mut messaging = mpb::messaging_service_client::MessagingServiceClient::connect(format!(
        "http://{}",
        stack.messaging
    ))
    .await
    .unwrap();
    messaging
        .send_communication(bearer(
            mpb::SendCommunicationRequest {
                idempotency_key: "metrics-1".into(),
                district_id: smiths.district_id.clone(),
                subject: "Picture day".into(),
                body: "Picture day is Friday.".into(),
                channels: vec![mpb::Channel::Email as i32, mpb::Channel::Sms as i32],
                audience: Some(mpb::Audience {
                    account_ids: vec![smiths.sarah.clone(), smiths.kevin.clone()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &dana.access_token,
        ))
        .await
        .unwrap();
    let sent = |text: &str, channel: &str| {
        value(
            text,
            "homeroom_deliveries_total",
            &[&format!("channel=\"{channel}\""), "status=\"sent\""],
        )
    };
    let after = scrape_until(metrics, |text| {
        sent(text, "email") > sent(&before, "email") && sent(text, "sms") > sent(&before, "sms")
    })
    .await;

    let moved =
        |name: &str, labels: &[&str]| value(&after, name, labels) > value(&before, name, labels);
    assert!(
        moved("homeroom_logins_total", &["outcome=\"success\""]),
        "{after}"
    );
    assert!(moved("homeroom_logins_total", &["outcome=\"failure\""]));
    assert!(moved(
        "homeroom_grpc_requests_total",
        &[
            "component=\"identity\"",
            "method=\"/homeroom.identity.v1.IdentityService/Login\"",
            "code=\"UNAUTHENTICATED\""
        ]
    ));
    assert!(moved(
        "homeroom_grpc_requests_total",
        &[
            "component=\"messaging\"",
            "method=\"/homeroom.messaging.v1.MessagingService/SendCommunication\"",
            "code=\"OK\""
        ]
    ));
    assert!(moved(
        "homeroom_grpc_request_duration_seconds_count",
        &["component=\"roster\""]
    ));
    assert!(moved(
        "homeroom_http_requests_total",
        &[
            "component=\"gateway\"",
            "route=\"/api/v1/auth/login\"",
            "method=\"POST\"",
            "status=\"200\""
        ]
    ));
    assert!(moved("homeroom_sync_runs_total", &["status=\"completed\""]));
    assert!(moved("homeroom_sync_records_total", &[]));
    assert!(moved(
        "homeroom_sync_phase_seconds_count",
        &["phase=\"planning\""]
    ));
    assert!(moved(
        "homeroom_delivery_provider_seconds_count",
        &["channel=\"email\""]
    ));
    assert!(moved(
        "homeroom_db_pool_wait_seconds_count",
        &["component=\"identity\""]
    ));
    // Gauges exist once their watchers ran (every few seconds).
    let gauges = scrape_until(metrics, |text| {
        text.contains("homeroom_delivery_queue_due{")
            && text.contains("homeroom_db_pool_connections{")
    })
    .await;
    assert!(gauges.contains("homeroom_delivery_queue_oldest_due_seconds{"));
}
