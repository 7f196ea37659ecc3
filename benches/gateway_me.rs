//! GW-1 benchmark: authenticated `GET /api/v1/me` through the gateway at 64
//! connections, driven by `wrk` (Debian's package; install it with
//! `apt-get install wrk`), and the gateway's added latency: the median of the
//! same call made one at a time over REST and straight to identity-svc over
//! gRPC. Every service runs for real (the e2e stack); the gateway under load
//! has its rate limits turned off.
//!
//! ```sh
//! cargo bench --bench gateway_me                                  # SQLite
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench --bench gateway_me                                # PostgreSQL
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::{Stack, bearer};
use homeroom_proto::identity::v1 as idpb;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// `wrk`'s value after `label` (e.g. "Requests/sec:" or " 99%").
fn wrk_value<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix(label.trim_start()))
        .map(str::trim)
        .unwrap_or("?")
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stack = Stack::start().await.unwrap();
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
    let addr = stack
        .start_gateway(gateway::config::Config {
            rate_per_ip: 0,
            rate_per_account: 0,
            ..stack.gateway_config()
        })
        .await
        .unwrap();
    let url = format!("http://{addr}/api/v1/me");

    // One at a time: REST through the gateway, then gRPC straight to identity.
    let http = reqwest::Client::new();
    let mut identity = stack.identity_client().await.unwrap();
    for _ in 0..200 {
        http.get(&url).bearer_auth(&token).send().await.unwrap();
        identity
            .get_me(bearer(idpb::GetMeRequest {}, &token))
            .await
            .unwrap();
    }
    let (mut rest, mut grpc) = (Vec::new(), Vec::new());
    for _ in 0..3_000 {
        let t = Instant::now();
        let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap();
        rest.push(t.elapsed());
        let t = Instant::now();
        identity
            .get_me(bearer(idpb::GetMeRequest {}, &token))
            .await
            .unwrap();
        grpc.push(t.elapsed());
    }
    let (rest, grpc) = (median(rest), median(grpc));
    println!(
        "one at a time: GET /api/v1/me p50 {rest:.2?}; identity GetMe over gRPC p50 {grpc:.2?}; \
         the gateway adds {:.2?}",
        rest.saturating_sub(grpc)
    );

    // Under load: wrk, 2 threads, 64 connections, 15 s.
    let out = tokio::process::Command::new("wrk")
        .args([
            "-t2",
            "-c64",
            "-d15s",
            "--latency",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &url,
        ])
        .output()
        .await;
    match out {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            println!(
                "wrk -t2 -c64 -d15s: {} requests/s; latency p50 {}, p90 {}, p99 {}",
                wrk_value(&text, "Requests/sec:"),
                wrk_value(&text, "50%"),
                wrk_value(&text, "90%"),
                wrk_value(&text, "99%"),
            );
            if text.contains("Non-2xx") {
                println!("{text}");
            }
        }
        _ => println!("wrk is not installed (apt-get install wrk): load test skipped"),
    }
}
