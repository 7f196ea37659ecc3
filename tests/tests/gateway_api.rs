//! GW-1 end to end: the REST API under /api/v1 against every service for
//! real — sign in with an email and a password, read /me with the access
//! token, refresh (the old refresh token is spent), sign out; errors as
//! `{ code, message, details }` with the HTTP status of their gRPC code; a
//! request id on every answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{Api, Stack};
use homeroom_proto::identity::v1 as idpb;
use serde_json::{Value, json};

/// Dana, a teacher of district-1, has joined with a password.
async fn dana(stack: &Stack) {
    stack
        .staff_member(
            "t-dana",
            ("Dana", "Reed"),
            "dana@district.org",
            idpb::Role::Teacher,
            "dana-strong-password",
        )
        .await;
}

/// Dana signs in over REST: her access token and account id.
async fn dana_signs_in(api: &Api) -> (String, String) {
    let (status, body) = api
        .post(
            "/auth/login",
            json!({"identifier": "dana@district.org", "password": "dana-strong-password"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let token = |field: &str| body["tokens"][field].as_str().unwrap().to_string();
    (token("accessToken"), token("accountId"))
}

#[tokio::test]
async fn a_teacher_signs_in_reads_me_refreshes_and_signs_out_over_rest() {
    let stack = Stack::start().await.unwrap();
    dana(&stack).await;
    let api = Api::new(&stack);

    let (status, body) = api
        .post(
            "/auth/login",
            json!({"identifier": " Dana@District.org ", "password": "dana-strong-password"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let tokens = &body["tokens"];
    assert_eq!(tokens["tokenType"], "Bearer");
    let access = tokens["accessToken"].as_str().unwrap().to_string();
    let refresh = tokens["refreshToken"].as_str().unwrap().to_string();
    assert!(
        tokens["accessTokenExpiresAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let me = api.get("/me", Some(&access)).await;
    assert_eq!(me.status().as_u16(), 200);
    let request_id = me.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(
        !request_id.is_empty(),
        "a request id is made for every answer"
    );
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["accountId"], tokens["accountId"]);
    assert_eq!(me["displayName"], "Dana Reed");
    assert_eq!(me["kind"], "ACCOUNT_KIND_STAFF");
    assert_eq!(me["roles"][0]["role"], "ROLE_TEACHER");
    assert_eq!(me["credentials"][0]["value"], "dana@district.org");
    assert_eq!(me["hasPassword"], true);

    let (status, body) = api
        .post("/auth/refresh", json!({"refreshToken": refresh}))
        .await;
    assert_eq!(status, 200, "{body}");
    let newer = body["refreshToken"].as_str().unwrap().to_string();
    assert_ne!(newer, refresh, "refresh tokens rotate");
    let (status, body) = api
        .post("/auth/refresh", json!({"refreshToken": refresh}))
        .await;
    assert_eq!(status, 401, "a spent refresh token is refused: {body}");
    assert_eq!(body["code"], "UNAUTHENTICATED");

    let r = api
        .http
        .post(format!("{}/auth/logout", api.base))
        .json(&json!({"refreshToken": newer}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
}

#[tokio::test]
async fn errors_are_json_with_the_status_of_their_grpc_code_and_echo_the_request_id() {
    let stack = Stack::start().await.unwrap();
    dana(&stack).await;
    let api = Api::new(&stack);

    // A wrong password and an unknown account answer alike.
    let (status, wrong) = api
        .post(
            "/auth/login",
            json!({"identifier": "dana@district.org", "password": "not-her-password"}),
        )
        .await;
    let (status2, unknown) = api
        .post(
            "/auth/login",
            json!({"identifier": "nobody@district.org", "password": "not-her-password"}),
        )
        .await;
    assert_eq!((status, status2), (401, 401));
    assert_eq!(wrong["message"], unknown["message"]);
    assert_eq!(wrong["details"], json!([]));

    // No token, a forged token.
    let r = api.get("/me", None).await;
    assert_eq!(r.status().as_u16(), 401);
    let r = api.get("/me", Some("eyJhbGciOiJFZERTQSJ9.e30.c2ln")).await;
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHENTICATED");

    // A body the gateway cannot read names the problem; unknown fields too.
    let (status, body) = api
        .post("/auth/login", json!({"identifier": "dana@district.org"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("password"),
        "{body}"
    );
    let (status, _) = api
        .post(
            "/auth/login",
            json!({"identifier": "a", "password": "b", "pasword": "c"}),
        )
        .await;
    assert_eq!(status, 400);

    // An unknown route is a JSON 404; the caller's request id comes back.
    let r = api
        .http
        .get(format!("{}/no/such/route", api.base))
        .header("x-request-id", "req-12345")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["x-request-id"], "req-12345");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_signed_in_account_over_its_rate_gets_429_with_retry_after() {
    let stack = Stack::start().await.unwrap();
    dana(&stack).await;
    // A gateway of its own over the same services, allowing 2 calls a minute
    // per account.
    let addr = stack
        .start_gateway(gateway::config::Config {
            rate_per_account: 2,
            ..stack.gateway_config()
        })
        .await
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://{addr}/api/v1"),
    };
    let (access, _) = dana_signs_in(&api).await;
    for _ in 0..2 {
        assert_eq!(api.get("/me", Some(&access)).await.status().as_u16(), 200);
    }
    let r = api.get("/me", Some(&access)).await;
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_browser_session_lives_in_http_only_cookies_and_unsafe_calls_need_the_csrf_token() {
    let stack = Stack::start().await.unwrap();
    dana(&stack).await;
    let api = Api::new(&stack);
    let r = api
        .http
        .post(format!("{}/auth/login", api.base))
        .json(&json!({
            "identifier": "dana@district.org",
            "password": "dana-strong-password",
            "useCookies": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let set: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body: Value = r.json().await.unwrap();
    assert!(body.get("tokens").is_none(), "no token in the body: {body}");
    let csrf = body["session"]["csrfToken"].as_str().unwrap().to_string();
    let value = |name: &str| {
        let c = set
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap();
        assert!(c.contains("Secure") && c.contains("SameSite=Strict"), "{c}");
        c.split(';').next().unwrap().to_string()
    };
    let (access, refresh, csrf_cookie) = (
        value("homeroom_access"),
        value("homeroom_refresh"),
        value("homeroom_csrf"),
    );
    assert!(set.iter().filter(|c| c.contains("HttpOnly")).count() == 3);
    let device = set
        .iter()
        .find(|c| c.starts_with("homeroom_device="))
        .unwrap();
    assert!(
        device.contains("SameSite=Lax") && device.contains("Max-Age=31536000"),
        "a year-long device cookie that comes back from an SSO redirect: {device}"
    );
    assert_eq!(csrf_cookie, format!("homeroom_csrf={csrf}"));
    let cookies = format!("{access}; {refresh}; {csrf_cookie}");

    // A safe call with the cookie needs no CSRF token.
    let me = api
        .http
        .get(format!("{}/me", api.base))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);

    // An unsafe call with the cookies but without the token is refused.
    let refused = api
        .http
        .post(format!("{}/auth/refresh", api.base))
        .header("cookie", &cookies)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let wrong = api
        .http
        .post(format!("{}/auth/refresh", api.base))
        .header("cookie", &cookies)
        .header("x-csrf-token", "forged")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);

    // With it, the session is refreshed into new cookies; signing out clears them.
    let renewed = api
        .http
        .post(format!("{}/auth/refresh", api.base))
        .header("cookie", &cookies)
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(renewed.status().as_u16(), 200);
    let new_set: Vec<String> = renewed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let new_refresh = new_set
        .iter()
        .find(|c| c.starts_with("homeroom_refresh="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let new_csrf: Value = renewed.json().await.unwrap();
    let new_csrf = new_csrf["csrfToken"].as_str().unwrap().to_string();
    let out = api
        .http
        .post(format!("{}/auth/logout", api.base))
        .header("cookie", format!("{new_refresh}; homeroom_csrf={new_csrf}"))
        .header("x-csrf-token", &new_csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    assert!(
        out.headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| c.to_str().unwrap().contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn reset_status_over_rest_is_for_administrators_and_answers_what_it_cleared() {
    let stack = Stack::start().await.unwrap();
    dana(&stack).await;
    // Cleo, a communications administrator, joins too.
    let cleo = stack
        .staff_member(
            "a-cleo",
            ("Cleo", "Park"),
            "cleo@district.org",
            idpb::Role::CommunicationsAdmin,
            "cleo-strong-password",
        )
        .await
        .access_token;
    let api = Api::new(&stack);
    let (dana, _) = dana_signs_in(&api).await;
    let reset = |token: String| {
        api.http
            .post(format!("{}/address-status/reset", api.base))
            .bearer_auth(token)
            .json(&json!({
                "districtId": "district-1",
                "channel": "email",
                "address": "dana@district.org",
                "note": "she fixed her mailbox"
            }))
            .send()
    };
    let refused = reset(dana).await.unwrap();
    assert_eq!(refused.status().as_u16(), 403, "a teacher may not reset");
    let done = reset(cleo.clone()).await.unwrap();
    assert_eq!(done.status().as_u16(), 200);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["current"]["state"], "ADDRESS_STATE_OK");
    assert_eq!(body["cleared"]["address"], "dana@district.org");

    let status = api
        .http
        .get(format!(
            "{}/address-status?districtId=district-1&channel=email&address=dana%40district.org",
            api.base
        ))
        .bearer_auth(&cleo)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status().as_u16(), 200);
    let body: Value = status.json().await.unwrap();
    assert_eq!(body["status"]["state"], "ADDRESS_STATE_OK");
    let bad_channel = api
        .http
        .get(format!(
            "{}/address-status?districtId=district-1&channel=fax&address=x",
            api.base
        ))
        .bearer_auth(&cleo)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_channel.status().as_u16(), 400);
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_the_other_sessions() {
    let stack = Stack::start().await.unwrap();
    let first = stack
        .staff_member(
            "t-dana",
            ("Dana", "Reed"),
            "dana@district.org",
            idpb::Role::Teacher,
            "dana-strong-password",
        )
        .await;
    let api = Api::new(&stack);
    let change = |current: &'static str, new: &'static str| {
        let (api, token) = (&api, first.access_token.clone());
        async move {
            api.send(
                reqwest::Method::POST,
                "/me/password",
                Some(&token),
                Some(json!({"currentPassword": current, "newPassword": new})),
            )
            .await
        }
    };

    let (status, body) = change("not-the-password", "a-brand-new-password").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["message"], "the current password is not right");
    let (status, body) = change("dana-strong-password", "short").await;
    assert_eq!(status, 400, "the policy applies: {body}");

    // Guessing is throttled like sign-in: past five wrong current passwords
    // even the right one waits.
    for _ in 0..5 {
        assert_eq!(change("a-guess", "a-brand-new-password").await.0, 401);
    }
    let (status, body) = change("dana-strong-password", "a-brand-new-password").await;
    assert_eq!(status, 429, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;

    let (status, body) = change("dana-strong-password", "a-brand-new-password").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["accessToken"].is_string(), "{body}");

    let (status, _) = api
        .post(
            "/auth/refresh",
            json!({"refreshToken": first.refresh_token}),
        )
        .await;
    assert_eq!(status, 401, "the other session ended");
    let (status, _) = api
        .post(
            "/auth/login",
            json!({"identifier": "dana@district.org", "password": "dana-strong-password"}),
        )
        .await;
    assert_eq!(status, 401, "the old password no longer works");
    let (status, body) = api
        .post(
            "/auth/login",
            json!({"identifier": "dana@district.org", "password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// API parity with "My account": preferences per channel (MS-3), a contact
/// edit that leaves the new phone unconfirmed (ID-8), a code to confirm it
/// and a wrong code refused (ID-7); a service token is not a person.
#[tokio::test]
async fn my_preferences_contact_edit_and_confirmation_over_rest() {
    let stack = Stack::start().await.unwrap();
    dana(&stack).await;
    let api = Api::new(&stack);
    let (access, _) = dana_signs_in(&api).await;
    let call = |method: reqwest::Method, path: &'static str, body: Option<Value>| {
        let (api, access) = (&api, access.clone());
        async move { api.send(method, path, Some(&access), body).await }
    };

    let (status, before) = call(reqwest::Method::GET, "/me/preferences", None).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["customized"], false);
    let body = json!({"channels": [{"channel": "sms", "enabled": false}]});
    let (status, after) = call(reqwest::Method::PUT, "/me/preferences", Some(body)).await;
    assert_eq!(status, 200, "{after}");
    let (_, read) = call(reqwest::Method::GET, "/me/preferences", None).await;
    assert_eq!(read["customized"], true);
    let enabled = |channel: &str| {
        read["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["channel"] == channel)
            .map(|c| c["enabled"].as_bool().unwrap())
    };
    assert_eq!(
        (enabled("sms"), enabled("email")),
        (Some(false), Some(true))
    );
    let body = json!({"channels": [{"channel": "fax", "enabled": true}]});
    let (status, refused) = call(reqwest::Method::PUT, "/me/preferences", Some(body)).await;
    assert_eq!(status, 400);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("channels.channel"),
        "{refused}"
    );

    let body = json!({"mobilePhone": "(987) 654-1122"});
    let (status, edited) = call(reqwest::Method::PATCH, "/me/contact", Some(body)).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["unconfirmed"], json!(["MOBILE_PHONE"]));
    let body = json!({"kind": "mobile_phone", "idempotencyKey": "confirm-1"});
    let (status, sent) = call(
        reqwest::Method::POST,
        "/me/credentials/confirmation-code",
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert!(
        sent["maskedDestination"]
            .as_str()
            .unwrap()
            .ends_with("1122"),
        "{sent}"
    );
    let body = json!({"kind": "mobile_phone", "code": "000000"});
    let (status, wrong) = call(reqwest::Method::POST, "/me/credentials/confirm", Some(body)).await;
    assert_eq!(status, 401, "{wrong}");

    let service = stack.service_token("roster").await.unwrap();
    let (status, _) = api
        .send(
            reqwest::Method::GET,
            "/me/preferences",
            Some(&service),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

/// ID-1 over REST: a district administrator grants a teacher a role for the
/// district and revokes it; the teacher cannot grant herself one; a guardian
/// role is not assigned by hand.
#[tokio::test]
async fn an_administrator_grants_and_revokes_staff_roles_over_rest() {
    let stack = Stack::start().await.unwrap();
    dana(&stack).await;
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
    let api = Api::new(&stack);
    let (dana_token, dana_id) = dana_signs_in(&api).await;
    let path = format!("/accounts/{dana_id}/roles");
    let roles = |account: &Value| -> Vec<String> {
        account["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}@{}",
                    r["role"].as_str().unwrap(),
                    r["schoolId"].as_str().unwrap()
                )
            })
            .collect()
    };

    let grant = json!({"grant": [{"role": "communications_admin"}]});
    let (status, account) = api
        .send(
            reqwest::Method::POST,
            &path,
            Some(&admin),
            Some(grant.clone()),
        )
        .await;
    assert_eq!(status, 200, "{account}");
    assert!(
        roles(&account).contains(&"ROLE_COMMUNICATIONS_ADMIN@".to_string()),
        "{account}"
    );
    let (status, _) = api
        .send(reqwest::Method::POST, &path, Some(&dana_token), Some(grant))
        .await;
    assert_eq!(status, 403);
    let elsewhere = json!({"grant": [{"role": "teacher", "schoolId": "no-such-school"}]});
    let (status, refused) = api
        .send(reqwest::Method::POST, &path, Some(&admin), Some(elsewhere))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("grant.schoolId:"),
        "{refused}"
    );
    let guardian = json!({"grant": [{"role": "guardian"}]});
    let (status, refused) = api
        .send(reqwest::Method::POST, &path, Some(&admin), Some(guardian))
        .await;
    assert_eq!(status, 400, "{refused}");
    let revoke = json!({"revoke": [{"role": "communications_admin"}]});
    let (status, account) = api
        .send(reqwest::Method::POST, &path, Some(&admin), Some(revoke))
        .await;
    assert_eq!(status, 200, "{account}");
    assert!(
        !roles(&account)
            .iter()
            .any(|r| r.starts_with("ROLE_COMMUNICATIONS_ADMIN")),
        "{account}"
    );
}
