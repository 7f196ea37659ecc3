//! ID-3 / ID-4 against someone guessing, through the gateway: one-time codes
//! answer alike for known and unknown addresses, and guessing at the email
//! Sarah and Kevin share never slows down Sarah's own browser, which signed
//! in before (its device cookie), while a new device is slowed down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use e2e::{Api, Stack};
use homeroom_proto::identity::v1 as idpb;
use serde_json::json;

const SHARED: &str = "smithparent@mail.com";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The Smiths' district, where Sarah and Kevin have joined with passwords.
async fn smiths_who_joined() -> (Stack, e2e::district::Smiths) {
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let mut identity = stack.identity_client().await.unwrap();
    let mut previous = String::new();
    for (account, password) in [
        (&smiths.sarah, "sarah-strong-password"),
        (&smiths.kevin, "kevin-strong-password"),
    ] {
        identity
            .send_one_time_code(idpb::SendOneTimeCodeRequest {
                identifier: SHARED.into(),
                account_id: account.clone(),
                purpose: idpb::OneTimeCodePurpose::Invitation as i32,
                ..Default::default()
            })
            .await
            .unwrap();
        // Codes are sent after the answer: wait for this one.
        let mut code = stack.emailed_code(SHARED).await;
        while code == previous {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            code = stack.emailed_code(SHARED).await;
        }
        previous = code.clone();
        identity
            .accept_invitation(idpb::AcceptInvitationRequest {
                identifier: SHARED.into(),
                code,
                new_password: password.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    (stack, smiths)
}

/// A browser sign-in: the status and the `Set-Cookie` values by name.
async fn browser_login(
    api: &Api,
    password: &str,
    device: Option<&str>,
) -> (u16, Vec<(String, String)>) {
    let mut request = api
        .http
        .post(format!("{}/auth/login", api.base))
        .json(&json!({"identifier": SHARED, "password": password, "useCookies": true}));
    if let Some(device) = device {
        request = request.header("cookie", format!("homeroom_device={device}"));
    }
    let answer = request.send().await.unwrap();
    let cookies = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (answer.status().as_u16(), cookies)
}

#[tokio::test]
async fn guessing_at_a_shared_email_never_slows_down_sarahs_own_browser() {
    let (stack, _) = smiths_who_joined().await;
    let home = Api::from_address(&stack, ip("127.0.0.3"));
    let (status, cookies) = browser_login(&home, "sarah-strong-password", None).await;
    assert_eq!(status, 200);
    let device = cookies
        .iter()
        .find(|(k, _)| k == "homeroom_device")
        .map(|(_, v)| v.clone())
        .expect("a device cookie");

    // 40 wrong guesses at the shared email from one address.
    let attacker = Api::from_address(&stack, ip("127.0.0.2"));
    let mut throttled = 0;
    for _ in 0..40 {
        let (status, _) = attacker
            .post(
                "/auth/login",
                json!({"identifier": SHARED, "password": "guess"}),
            )
            .await;
        assert!(matches!(status, 401 | 429), "{status}");
        throttled += usize::from(status == 429);
    }
    assert!(throttled > 0, "the guesser is slowed down");
    // On until a guess is counted again: the wait starts afresh, longer than
    // what follows takes.
    loop {
        let (status, _) = attacker
            .post(
                "/auth/login",
                json!({"identifier": SHARED, "password": "guess"}),
            )
            .await;
        if status == 401 {
            break;
        }
    }

    // Sarah's browser signs her in at once; the cookie stays the same.
    let started = std::time::Instant::now();
    let (status, cookies) = browser_login(&home, "sarah-strong-password", Some(&device)).await;
    assert_eq!(status, 200, "Sarah on her known device");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert!(cookies.contains(&("homeroom_device".to_string(), device.clone())));

    // A new device — Sarah's on a friend's phone, or Kevin's — is slowed down.
    let elsewhere = Api::from_address(&stack, ip("127.0.0.4"));
    let (status, _) = browser_login(&elsewhere, "sarah-strong-password", None).await;
    assert_eq!(status, 429);
    let (status, _) = browser_login(&elsewhere, "kevin-strong-password", None).await;
    assert_eq!(status, 429);
    // An API client presents its device token in a header.
    let (status, body) = elsewhere
        .post(
            "/auth/login",
            json!({"identifier": SHARED, "password": "guess"}),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    let answer = elsewhere
        .http
        .post(format!("{}/auth/login", elsewhere.base))
        .header("x-device-token", &device)
        .json(&json!({"identifier": SHARED, "password": "sarah-strong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["tokens"]["deviceToken"], device.as_str());
}

#[tokio::test]
async fn a_code_is_answered_alike_for_a_known_and_an_unknown_address() {
    let (stack, _) = smiths_who_joined().await;
    let api = Api::from_address(&stack, ip("127.0.0.5"));
    let mut answers = Vec::new();
    // Tom's address is known (no code was sent to it yet); the other is not.
    for identifier in ["treed@school.org", "nobody@school.org"] {
        let mut statuses = Vec::new();
        let mut bodies = Vec::new();
        for _ in 0..8 {
            let (status, body) = api
                .post("/auth/codes", json!({"identifier": identifier}))
                .await;
            statuses.push(status);
            bodies.push(body["maskedDestination"].clone());
        }
        answers.push((statuses, bodies));
    }
    assert_eq!(answers[0].0, answers[1].0, "{answers:?}");
    assert!(answers[0].0.contains(&429), "{answers:?}");
    assert!(answers[0].0[..5].iter().all(|s| *s == 200), "{answers:?}");
}
