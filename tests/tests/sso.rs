//! SSO (ID-5) end to end: a real OpenID provider (`oidc-provider` on Node.js)
//! behind the gateway's start and callback routes, and identity-svc linking
//! the people it signs in to rostered accounts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use e2e::{
    Api, Stack, bearer,
    oidc::{CLIENT_ID, CLIENT_SECRET, OidcProvider},
};
use homeroom_proto::identity::v1 as idpb;
use serde_json::{Value, json};

/// Where the stack's gateway says it is served; the provider sends browsers
/// back to its callback, and the tests carry that request to the gateway.
const PUBLIC_URL: &str = "https://homeroom.test";
const CALLBACK: &str = "https://homeroom.test/api/v1/sso/callback";
/// The district's provider: links first logins by `employee_id`, else by a
/// verified email.
const DISTRICT_SSO: &str = "district-sso";
/// The same provider configured as Clever: never links by email.
const CLEVER: &str = "clever";

struct World {
    stack: Stack,
    idp: OidcProvider,
    api: Api,
    /// Follows no redirect: the tests look at each one.
    http: reqwest::Client,
}

/// What the gateway's callback answered.
struct Answer {
    status: u16,
    location: String,
    cookies: Vec<String>,
    json: Value,
}

impl Answer {
    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            let (k, v) = c.split(';').next()?.split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }
}

async fn world(users: Value) -> World {
    let idp = OidcProvider::start(CALLBACK, &users)
        .await
        .unwrap_or_else(|e| panic!("the OpenID provider did not start: {e:#}"));
    let provider = |id: &str, kind: &str, external: Value| {
        json!({
            "id": id, "districtId": "district-1", "kind": kind,
            "displayName": format!("Sign in with {id}"), "issuer": idp.issuer,
            "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
            "externalIdClaim": external, "scopes": ["openid", "email", "profile", "employee"],
        })
    };
    let file = json!([
        provider(DISTRICT_SSO, "oidc", json!("employee_id")),
        provider(CLEVER, "clever", Value::Null),
    ]);
    let providers = identity_svc::domain::sso::parse_providers(&file.to_string()).unwrap();
    let stack = Stack::start_with_sso(providers, PUBLIC_URL).await.unwrap();
    let api = Api::new(&stack);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    World {
        stack,
        idp,
        api,
        http,
    }
}

fn staff(source_id: &str, given: &str, email: &str) -> idpb::AccountUpsert {
    idpb::AccountUpsert {
        source_id: source_id.into(),
        kind: idpb::AccountKind::Staff as i32,
        given_name: given.into(),
        family_name: "Teacher".into(),
        email: Some(email.into()),
        roles: vec![idpb::RoleAssignment {
            role: idpb::Role::Teacher as i32,
            district_id: "district-1".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn guardian(source_id: &str, given: &str, email: &str) -> idpb::AccountUpsert {
    idpb::AccountUpsert {
        source_id: source_id.into(),
        kind: idpb::AccountKind::Guardian as i32,
        given_name: given.into(),
        family_name: "Smith".into(),
        email: Some(email.into()),
        ..Default::default()
    }
}

impl World {
    /// Rosters accounts into district-1 as the SIS would; their ids.
    async fn roster(&self, accounts: Vec<idpb::AccountUpsert>) -> Vec<String> {
        let token = self.stack.service_token("roster").await.unwrap();
        let answer = self
            .stack
            .identity_client()
            .await
            .unwrap()
            .upsert_accounts(bearer(
                idpb::UpsertAccountsRequest {
                    district_id: "district-1".into(),
                    source_system: "sis".into(),
                    accounts,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.error_count, 0, "{answer:?}");
        answer.results.into_iter().map(|r| r.account_id).collect()
    }

    /// `GET /sso/{provider}/start` for the test user `login`: the provider's
    /// authorization URL and the state cookie.
    async fn start(&self, provider: &str, login: &str) -> (String, String) {
        let url = format!("{}/sso/{provider}/start?loginHint={login}", self.api.base);
        let answer = self.http.get(url).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 303);
        let location = answer.headers()["location"].to_str().unwrap().to_string();
        let cookie = answer.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("Secure")
                && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let state = cookie
            .split(';')
            .next()
            .and_then(|c| c.strip_prefix("homeroom_sso_state="))
            .unwrap()
            .to_string();
        (location, state)
    }

    /// The gateway's callback with the query the provider sent the browser
    /// back with, and the state cookie if any.
    async fn callback(&self, back: &reqwest::Url, cookie: Option<&str>, json: bool) -> Answer {
        assert!(back.as_str().starts_with(CALLBACK), "{back}");
        let url = format!(
            "{}/sso/callback?{}",
            self.api.base,
            back.query().unwrap_or("")
        );
        let mut request = self.http.get(url);
        if let Some(state) = cookie {
            request = request.header("cookie", format!("homeroom_sso_state={state}"));
        }
        if json {
            request = request.header("accept", "application/json");
        }
        let answer = request.send().await.unwrap();
        let headers = answer.headers().clone();
        Answer {
            status: answer.status().as_u16(),
            location: headers
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default(),
            cookies: headers
                .get_all("set-cookie")
                .iter()
                .map(|c| c.to_str().unwrap().to_string())
                .collect(),
            json: answer.json().await.unwrap_or(Value::Null),
        }
    }

    /// A whole login of `login` with `provider`, answered as JSON.
    async fn sign_in(&self, provider: &str, login: &str) -> Answer {
        let (url, state) = self.start(provider, login).await;
        let back = self.idp.authorize(&url).await.unwrap();
        self.callback(&back, Some(&state), true).await
    }
}

fn account_of(answer: &Answer) -> &str {
    assert_eq!(answer.status, 200, "{}", answer.json);
    answer.json["tokens"]["accountId"].as_str().unwrap()
}

#[tokio::test]
async fn a_first_login_links_by_the_external_id_claim_and_the_next_one_by_issuer_and_subject() {
    let alice = json!({"sub": "alice-sub", "email": "alice@home.test", "email_verified": true, "employee_id": "emp-100"});
    let w = world(json!({ "alice": alice })).await;
    let ids = w
        .roster(vec![
            staff("emp-100", "Alice", "alice@school.test"),
            staff("emp-200", "Bob", "bob@school.test"),
        ])
        .await;

    // A browser: to the provider with PKCE, back to the callback, signed in
    // with the session cookies and sent to the public URL.
    let (url, state) = w.start(DISTRICT_SSO, "alice").await;
    assert!(url.starts_with(&format!("{}/auth?", w.idp.issuer)), "{url}");
    assert!(url.contains("code_challenge_method=S256") && url.contains(&format!("state={state}")));
    let back = w.idp.authorize(&url).await.unwrap();
    let answer = w.callback(&back, Some(&state), false).await;
    assert_eq!(
        (answer.status, answer.location.as_str()),
        (303, "https://homeroom.test/")
    );
    let access = answer.cookie("homeroom_access").unwrap();
    assert!(
        answer.cookie("homeroom_refresh").is_some() && answer.cookie("homeroom_csrf").is_some()
    );
    assert_eq!(answer.cookie("homeroom_sso_state").as_deref(), Some(""));
    let me: Value = w
        .http
        .get(format!("{}/me", w.api.base))
        .header("cookie", format!("homeroom_access={access}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["accountId"], ids[0].as_str());
    // Signing in with SSO is joining: the invitee is now active.
    assert_eq!(me["status"], "ACCOUNT_STATUS_ACTIVE", "{me}");
    // The profile says which provider it signs in with, never the subject.
    assert_eq!(me["ssoIssuers"], json!([w.idp.issuer]), "{me}");
    assert!(!me.to_string().contains("alice-sub"), "{me}");

    // The claim now names Bob's external id: the link still says Alice.
    let moved = json!({"sub": "alice-sub", "email": "alice@home.test", "email_verified": true, "employee_id": "emp-200"});
    w.idp.set_users(&json!({ "alice": moved })).unwrap();
    assert_eq!(account_of(&w.sign_in(DISTRICT_SSO, "alice").await), ids[0]);
}

#[tokio::test]
async fn a_first_login_without_an_external_id_links_by_the_verified_email() {
    let w = world(json!({"bea": {"email": "Bea@School.test", "email_verified": true}})).await;
    let ids = w
        .roster(vec![
            staff("emp-300", "Bea", "bea@school.test"),
            staff("emp-301", "Ben", "ben@school.test"),
        ])
        .await;
    assert_eq!(account_of(&w.sign_in(DISTRICT_SSO, "bea").await), ids[0]);
    assert_eq!(account_of(&w.sign_in(DISTRICT_SSO, "bea").await), ids[0]);
}

#[tokio::test]
async fn an_unverified_email_or_a_clever_email_never_links_and_the_refusal_tells_nothing() {
    let w = world(json!({
        "una": {"email": "una@school.test", "email_verified": false},
        "cleo": {"email": "cleo@school.test", "email_verified": true},
        "nobody": {"email": "nobody@school.test", "email_verified": true},
    }))
    .await;
    w.roster(vec![
        staff("emp-400", "Una", "una@school.test"),
        staff("emp-401", "Cleo", "cleo@school.test"),
    ])
    .await;
    let unverified = w.sign_in(DISTRICT_SSO, "una").await;
    let clever = w.sign_in(CLEVER, "cleo").await;
    let unknown = w.sign_in(DISTRICT_SSO, "nobody").await;
    for refused in [&unverified, &clever, &unknown] {
        assert_eq!(refused.status, 401, "{}", refused.json);
        assert_eq!(refused.json, unknown.json);
        assert!(refused.json["tokens"].is_null());
    }
}

#[tokio::test]
async fn a_verified_email_shared_by_two_accounts_gives_a_choice_and_the_chosen_one_is_linked() {
    let w =
        world(json!({"smith": {"email": "SmithParent@mail.com", "email_verified": true}})).await;
    let ids = w
        .roster(vec![
            guardian("p-sarah", "Sarah", "smithparent@mail.com"),
            guardian("p-kevin", "Kevin", "SmithParent@mail.com "),
        ])
        .await;
    let kevin = ids[1].as_str();

    // A browser is sent to the page with the selection token; the accounts
    // to list are in a readable cookie, as the JSON of /auth/login.
    let (url, state) = w.start(DISTRICT_SSO, "smith").await;
    let back = w.idp.authorize(&url).await.unwrap();
    let answer = w.callback(&back, Some(&state), false).await;
    assert_eq!(answer.status, 303);
    let token = answer
        .location
        .strip_prefix("https://homeroom.test/?ssoChoice=")
        .unwrap_or_else(|| panic!("{}", answer.location))
        .to_string();
    let listed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(answer.cookie("homeroom_sso_choice").unwrap())
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed).unwrap();
    let choice = &listed["accountChoice"];
    assert_eq!(choice["selectionToken"], token.as_str());
    let mut names: Vec<&str> = choice["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["displayName"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Kevin Smith", "Sarah Smith"]);
    assert!(answer.cookie("homeroom_access").is_none());

    let body = json!({"selectionToken": token, "accountId": kevin});
    let (status, chosen) = w.api.post("/auth/select-account", body.clone()).await;
    assert_eq!(
        (status, chosen["accountId"].as_str()),
        (200, Some(kevin)),
        "{chosen}"
    );
    let (again, _) = w.api.post("/auth/select-account", body).await;
    assert_eq!(again, 401);

    // Kevin's account is linked now: the next login goes straight in.
    assert_eq!(account_of(&w.sign_in(DISTRICT_SSO, "smith").await), kevin);
}

#[tokio::test]
async fn a_state_not_bound_to_the_browser_is_refused_and_a_login_completes_once() {
    let alice =
        json!({"email": "alice@home.test", "email_verified": true, "employee_id": "emp-500"});
    let w = world(json!({ "alice": alice })).await;
    let ids = w
        .roster(vec![staff("emp-500", "Alice", "alice@school.test")])
        .await;

    let (url, state) = w.start(DISTRICT_SSO, "alice").await;
    let (_, other_browser) = w.start(DISTRICT_SSO, "alice").await;
    let back = w.idp.authorize(&url).await.unwrap();
    for cookie in [None, Some("forged"), Some(other_browser.as_str())] {
        let refused = w.callback(&back, cookie, true).await;
        assert_eq!(refused.status, 403, "{cookie:?}: {}", refused.json);
    }
    // Nothing reached identity-svc: the login is still there, once.
    assert_eq!(
        account_of(&w.callback(&back, Some(&state), true).await),
        ids[0]
    );
    let replayed = w.callback(&back, Some(&state), true).await;
    assert_eq!(replayed.status, 401, "{}", replayed.json);

    // identity-svc refuses a callback URL other than the one the login began
    // with, and that login is spent.
    let (url, state) = w.start(DISTRICT_SSO, "alice").await;
    let back = w.idp.authorize(&url).await.unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let mut identity = w.stack.identity_client().await.unwrap();
    let elsewhere = identity
        .complete_sso_login(idpb::CompleteSsoLoginRequest {
            state: state.clone(),
            code,
            redirect_uri: "https://elsewhere.test/api/v1/sso/callback".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        elsewhere.code(),
        tonic::Code::Unauthenticated,
        "{elsewhere:?}"
    );
    assert_eq!(w.callback(&back, Some(&state), true).await.status, 401);
}

#[tokio::test]
async fn the_providers_refusal_is_shown_and_unknown_providers_are_not_found() {
    let w = world(json!({})).await;
    let (status, listed) = w
        .api
        .send(
            reqwest::Method::GET,
            "/sso/providers?districtId=district-1",
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["providerId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [DISTRICT_SSO, CLEVER]);
    assert!(!listed.to_string().contains(CLIENT_SECRET));
    let (missing, _) = w
        .api
        .send(reqwest::Method::GET, "/sso/providers", None, None)
        .await;
    assert_eq!(missing, 400);
    let (unknown, _) = w
        .api
        .send(reqwest::Method::GET, "/sso/nope/start", None, None)
        .await;
    assert_eq!(unknown, 404);

    // The provider knows no such user: it sends the browser back with an error.
    let (url, state) = w.start(DISTRICT_SSO, "stranger").await;
    let back = w.idp.authorize(&url).await.unwrap();
    assert!(
        back.query().unwrap().contains("error=access_denied"),
        "{back}"
    );
    let refused = w.callback(&back, Some(&state), true).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("access_denied"),
        "{}",
        refused.json
    );
}

/// GW-3: a district's sign-in link (`/sign-in?district=`) shows a button per
/// SSO provider, in order, that starts its login; without a district the
/// page has the password form only.
#[tokio::test]
async fn the_console_sign_in_page_of_a_district_has_its_sso_buttons() {
    let w = world(json!({})).await;
    let page = |path: &'static str| {
        let (http, base) = (w.http.clone(), format!("http://{}", w.stack.gateway));
        async move {
            http.get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page("/sign-in?district=district-1").await;
    let first = html
        .find(&format!("href=\"/api/v1/sso/{DISTRICT_SSO}/start\""))
        .unwrap_or_else(|| panic!("no {DISTRICT_SSO} button in:\n{html}"));
    let second = html
        .find(&format!("href=\"/api/v1/sso/{CLEVER}/start\""))
        .unwrap_or_else(|| panic!("no {CLEVER} button in:\n{html}"));
    assert!(first < second, "the buttons are not in display order");
    assert!(html.contains(&format!("Sign in with {DISTRICT_SSO}")));
    assert!(!html.contains(CLIENT_SECRET));
    let plain = page("/sign-in").await;
    assert!(!plain.contains("/api/v1/sso/"), "{plain}");
}
