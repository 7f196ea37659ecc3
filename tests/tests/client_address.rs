//! The caller's real address (security, ID-3, ID-10): the gateway decides it
//! from the TCP peer — or, behind a trusted proxy, from the forwarding chain —
//! and identity keys its throttles and audit rows on it, believing a
//! forwarded address only from the gateway. One client guessing can no
//! longer lock everyone else out of signing in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use e2e::{Api, Stack, bearer};
use homeroom_proto::identity::v1 as idpb;
use serde_json::json;

const DANA: &str = "dana@district.org";
const DANA_PASSWORD: &str = "dana-strong-password";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The stack, with Dana (a teacher who joined) and an administrator who
/// reads the audit log; the administrator's access token.
async fn stack_with_dana() -> (Stack, String) {
    let stack = Stack::start().await.unwrap();
    stack
        .staff_member(
            "t-dana",
            ("Dana", "Reed"),
            DANA,
            idpb::Role::Teacher,
            DANA_PASSWORD,
        )
        .await;
    let admin = stack
        .staff_member(
            "a-ada",
            ("Ada", "Admin"),
            "ada@district.org",
            idpb::Role::DistrictAdmin,
            "ada-strong-password",
        )
        .await;
    (stack, admin.access_token)
}

/// Failed logins for made-up addresses until the caller is throttled; how
/// many answers were 429.
async fn guess(api: &Api, tries: usize, forwarded: impl Fn(usize) -> Option<String>) -> usize {
    let mut throttled = 0;
    for i in 0..tries {
        let mut r = api
            .http
            .post(format!("{}/auth/login", api.base))
            .json(&json!({"identifier": format!("nobody{i}@example.org"), "password": "guess"}));
        if let Some(f) = forwarded(i) {
            r = r.header("x-forwarded-for", f);
        }
        let status = r.send().await.unwrap().status().as_u16();
        assert!(matches!(status, 401 | 429), "guess {i}: {status}");
        throttled += usize::from(status == 429);
    }
    throttled
}

/// The client addresses of the newest audit events of `kind` about Dana.
async fn audited_addresses(stack: &Stack, admin: &str, kind: idpb::AuditEventKind) -> Vec<String> {
    let mut identity = stack.identity_client().await.unwrap();
    identity
        .list_audit_events(bearer(
            idpb::ListAuditEventsRequest {
                district_id: "district-1".into(),
                kinds: vec![kind as i32],
                ..Default::default()
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .events
        .into_iter()
        .map(|e| e.ip_address)
        .collect()
}

#[tokio::test]
async fn failures_from_one_address_never_delay_a_correct_login_from_another() {
    let (stack, _) = stack_with_dana().await;
    let attacker = Api::from_address(&stack, ip("127.0.0.2"));
    let throttled = guess(&attacker, 45, |_| None).await;
    assert!(
        throttled > 0,
        "the guessing address itself is slowed down after 30 failures"
    );

    let dana = Api::from_address(&stack, ip("127.0.0.3"));
    let (status, body) = dana
        .post(
            "/auth/login",
            json!({"identifier": DANA, "password": DANA_PASSWORD}),
        )
        .await;
    assert_eq!(
        status, 200,
        "Dana, from her own address, is not held back: {body}"
    );
}

#[tokio::test]
async fn a_forwarded_header_from_an_untrusted_peer_is_ignored_and_the_wait_is_said() {
    let (stack, admin) = stack_with_dana().await;
    // No trusted proxies: every caller is its TCP peer, whatever it claims.
    let attacker = Api::from_address(&stack, ip("127.0.0.2"));
    // Until the address must wait long enough that the next request surely
    // lands inside the wait (a slow machine must not let it expire first).
    let mut i = 0;
    loop {
        let answer = attacker
            .http
            .post(format!("{}/auth/login", attacker.base))
            .header("x-forwarded-for", format!("198.51.100.{}", i % 200 + 1))
            .json(&json!({"identifier": format!("nobody{i}@example.org"), "password": "guess"}))
            .send()
            .await
            .unwrap();
        let wait = answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        match (answer.status().as_u16(), wait) {
            (429, Some(w)) if w >= 4 => break,
            // A short wait: let it pass, so the next failure counts.
            (429, Some(w)) => tokio::time::sleep(std::time::Duration::from_secs(w)).await,
            (status, _) => assert_eq!(status, 401, "guess {i}"),
        }
        i += 1;
        assert!(i < 100, "guessing from one address was never slowed down");
    }
    let answer = attacker
        .http
        .post(format!("{}/auth/login", attacker.base))
        .header("x-forwarded-for", "198.51.100.200")
        .json(&json!({"identifier": DANA, "password": DANA_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status().as_u16(),
        429,
        "a new forwarded address does not start a new count"
    );
    let wait: u64 = answer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "Retry-After: {wait}");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "RESOURCE_EXHAUSTED");

    let throttled = audited_addresses(&stack, &admin, idpb::AuditEventKind::LoginThrottled).await;
    assert!(!throttled.is_empty());
    assert!(
        throttled.iter().all(|a| a == "127.0.0.2"),
        "the audit log shows the real address: {throttled:?}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_keys_the_limit_and_the_audit_log() {
    let (stack, admin) = stack_with_dana().await;
    let gateway = stack
        .start_gateway(gateway::config::Config {
            trusted_proxies: gateway::client_ip::TrustedProxies::parse(
                "127.0.0.0/8",
                gateway::client_ip::ForwardedHeader::XForwardedFor,
            )
            .unwrap(),
            rate_per_ip: 5,
            ..stack.gateway_config()
        })
        .await
        .unwrap();
    let proxy = Api::at_from(gateway, ip("127.0.0.1"));
    let providers = |forwarded: &'static str| {
        proxy
            .http
            .get(format!(
                "{}/sso/providers?districtId=district-1",
                proxy.base
            ))
            .header("x-forwarded-for", forwarded)
            .send()
    };
    for _ in 0..5 {
        assert_eq!(providers("198.51.100.7").await.unwrap().status(), 200);
    }
    assert_eq!(
        providers("198.51.100.7").await.unwrap().status(),
        429,
        "the per-address limit counts the client behind the proxy"
    );
    assert_eq!(
        providers("198.51.100.8").await.unwrap().status(),
        200,
        "another client behind the same proxy has its own count"
    );

    let answer = proxy
        .http
        .post(format!("{}/auth/login", proxy.base))
        .header("x-forwarded-for", "1.2.3.4, 203.0.113.50")
        .json(&json!({"identifier": DANA, "password": DANA_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let logins = audited_addresses(&stack, &admin, idpb::AuditEventKind::LoginSucceeded).await;
    assert!(
        logins.iter().any(|a| a == "203.0.113.50"),
        "the rightmost untrusted hop is the caller, not the spoofed left part: {logins:?}"
    );
    assert!(!logins.iter().any(|a| a == "1.2.3.4"), "{logins:?}");
}

#[tokio::test]
async fn identity_believes_a_forwarded_address_only_from_the_gateway() {
    let (stack, admin) = stack_with_dana().await;
    let mut identity = stack.identity_client().await.unwrap();
    let login = |forwarder: Option<String>, claimed: &str| {
        let mut request = tonic::Request::new(idpb::LoginRequest {
            identifier: DANA.into(),
            password: DANA_PASSWORD.into(),
            client: Some(idpb::ClientInfo {
                ip_address: claimed.into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("x-homeroom-client-address", claimed.parse().unwrap());
        if let Some(token) = forwarder {
            request.metadata_mut().insert(
                "x-homeroom-forwarder",
                format!("Bearer {token}").parse().unwrap(),
            );
        }
        request
    };
    // Anyone: keyed on the TCP peer.
    identity.login(login(None, "198.51.100.1")).await.unwrap();
    // Another service's token proves nothing.
    let roster = stack.service_token("roster").await.unwrap();
    identity
        .login(login(Some(roster), "198.51.100.2"))
        .await
        .unwrap();
    // The gateway's token: believed.
    let gateway = stack.service_token("gateway").await.unwrap();
    identity
        .login(login(Some(gateway), "198.51.100.3"))
        .await
        .unwrap();

    let logins = audited_addresses(&stack, &admin, idpb::AuditEventKind::LoginSucceeded).await;
    assert!(logins.iter().any(|a| a == "198.51.100.3"), "{logins:?}");
    assert!(
        !logins
            .iter()
            .any(|a| a == "198.51.100.1" || a == "198.51.100.2"),
        "{logins:?}"
    );
    assert!(logins.iter().any(|a| a == "127.0.0.1"), "{logins:?}");
}
