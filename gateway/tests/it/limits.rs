//! GW-1 edge behaviour without upstreams: rate per client address (429 with
//! Retry-After, health probes exempt), request body size (413), and the CORS
//! allow-list, and the OpenAPI document.

use std::net::SocketAddr;

use gateway::{app::App, config::Config};
use homeroom_platform::config::loopback;
use tokio_util::sync::CancellationToken;

async fn gateway(config: Config) -> (String, CancellationToken) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = App::build(Config {
        listen_addr: loopback(0),
        // Nothing listens here: these tests never reach an upstream.
        identity_url: "http://127.0.0.1:9".into(),
        roster_url: "http://127.0.0.1:9".into(),
        messaging_url: "http://127.0.0.1:9".into(),
        ..config
    })
    .await
    .unwrap();
    let addr: SocketAddr = app.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until(stop.clone().cancelled_owned()));
    (format!("http://{addr}"), stop)
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after_and_probes_are_never_limited() {
    let (base, _stop) = gateway(Config {
        rate_per_ip: 3,
        ..Config::defaults()
    })
    .await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let r = http
            .get(format!("{base}/api/v1/nothing"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
    let r = http
        .get(format!("{base}/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "RESOURCE_EXHAUSTED");
    for _ in 0..5 {
        let r = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_nothing_is_called() {
    let (base, _stop) = gateway(Config {
        max_body_bytes: 1024,
        ..Config::defaults()
    })
    .await;
    let big = serde_json::json!({"identifier": "a".repeat(4096), "password": "x"});
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
}

#[tokio::test]
async fn only_allowed_origins_get_cors_headers() {
    let (base, _stop) = gateway(Config {
        cors_origins: vec!["https://app.district.org".into()],
        ..Config::defaults()
    })
    .await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{base}/api/v1/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.district.org").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.district.org"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_openapi_document_is_served_under_the_api() {
    let (base, _stop) = gateway(Config::defaults()).await;
    let r = reqwest::get(format!("{base}/api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/auth/login"]["post"].is_object());
}

#[tokio::test]
async fn a_request_that_outlasts_the_timeout_gets_504() {
    // identity-svc accepts the connection and never answers.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hung_addr = hung.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = App::build(Config {
        listen_addr: loopback(0),
        identity_url: format!("http://{hung_addr}"),
        roster_url: "http://127.0.0.1:9".into(),
        messaging_url: "http://127.0.0.1:9".into(),
        request_timeout: std::time::Duration::from_millis(300),
        ..Config::defaults()
    })
    .await
    .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until(stop.clone().cancelled_owned()));
    let started = std::time::Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"identifier": "a@b.org", "password": "secret-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 504);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "DEADLINE_EXCEEDED");
    stop.cancel();
}
