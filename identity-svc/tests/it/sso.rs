//! ID-5: the providers file, what a first login may link by, the authorization
//! request, and the SSO RPCs' answers to callers who bring nothing valid.

use homeroom_proto::identity::v1 as pb;
use identity_svc::domain::{
    id_token::IdTokenClaims,
    sso::{
        AuthorizationRequest, FirstLoginKeys, ProviderKind, authorization_url, first_login_keys,
        parse_providers, pkce_challenge,
    },
};
use secrecy::ExposeSecret;
use serde_json::json;
use tonic::Code;

use crate::support::server_with_sso;

fn providers_file(extra: serde_json::Value) -> String {
    let mut provider = json!({
        "id": "google-d1", "districtId": "district-1", "kind": "google",
        "displayName": "Sign in with Google", "issuer": "https://accounts.google.com/",
        "clientId": "client-1", "clientSecret": "secret-1",
    });
    for (k, v) in extra.as_object().unwrap() {
        provider[k] = v.clone();
    }
    json!([provider]).to_string()
}

#[test]
fn a_provider_takes_the_documented_defaults() {
    let p = parse_providers(&providers_file(json!({})))
        .unwrap()
        .remove(0);
    assert_eq!(p.kind, ProviderKind::Google);
    assert_eq!(p.issuer, "https://accounts.google.com");
    assert_eq!(p.client_secret.expose_secret(), "secret-1");
    assert!(p.link_by_verified_email && p.links_by_email());
    assert_eq!(p.external_id_claim, None);
    assert_eq!(p.scopes, ["openid", "email", "profile"]);
    assert_eq!(
        p.accepted_issuers(),
        ["https://accounts.google.com", "accounts.google.com"]
    );
}

#[test]
fn a_bad_providers_file_names_the_provider_and_the_problem() {
    let cases = [
        (json!({"kind": "facebook"}), "kind \"facebook\""),
        (
            json!({"issuer": "http://idp.example.org"}),
            "must be an https URL",
        ),
        (json!({"clientSecret": ""}), "clientSecret is required"),
        (json!({"scopes": ["email"]}), "openid"),
        (json!({"colour": "blue"}), "unknown field"),
    ];
    for (change, expected) in cases {
        let error = parse_providers(&providers_file(change.clone())).unwrap_err();
        assert!(error.contains(expected), "{change}: {error}");
        assert!(
            error.contains("google-d1") || error.contains("unknown field"),
            "{error}"
        );
        assert!(!error.contains("secret-1"), "{error}");
    }
    let twice = format!(
        "[{0},{0}]",
        providers_file(json!({})).trim_matches(['[', ']'])
    );
    assert!(parse_providers(&twice).unwrap_err().contains("used twice"));
    assert!(parse_providers("{}").unwrap_err().contains("JSON array"));
}

#[test]
fn http_issuers_are_accepted_on_loopback_only() {
    for issuer in [
        "http://127.0.0.1:8080",
        "http://localhost:9000/realm",
        "http://[::1]:80",
    ] {
        assert!(
            parse_providers(&providers_file(json!({ "issuer": issuer }))).is_ok(),
            "{issuer}"
        );
    }
    for issuer in [
        "http://127.0.0.1.evil.org",
        "ftp://idp.example.org",
        "https://",
    ] {
        assert!(
            parse_providers(&providers_file(json!({ "issuer": issuer }))).is_err(),
            "{issuer}"
        );
    }
}

fn verified_claims(email_verified: bool) -> IdTokenClaims {
    IdTokenClaims {
        iss: "https://accounts.google.com".into(),
        sub: "person-1".into(),
        aud: vec!["client-1".into()],
        email: Some(" Teacher@School.org ".into()),
        email_verified,
        other: json!({"employee_id": "E-1"}).as_object().unwrap().clone(),
    }
}

#[test]
fn a_first_login_links_by_the_configured_claim_and_a_verified_email() {
    let p = parse_providers(&providers_file(json!({"externalIdClaim": "employee_id"})))
        .unwrap()
        .remove(0);
    let keys = first_login_keys(&p, &verified_claims(true));
    assert_eq!(keys.external_id.as_deref(), Some("E-1"));
    assert_eq!(
        keys.email.map(|e| e.as_str().to_string()).as_deref(),
        Some("teacher@school.org")
    );
}

#[test]
fn an_unverified_email_is_never_a_link() {
    let p = parse_providers(&providers_file(json!({})))
        .unwrap()
        .remove(0);
    assert_eq!(
        first_login_keys(&p, &verified_claims(false)),
        FirstLoginKeys::default()
    );
}

#[test]
fn clever_never_links_by_email_even_when_it_says_verified() {
    let clever = parse_providers(&providers_file(
        json!({"kind": "clever", "issuer": "https://clever.com"}),
    ))
    .unwrap()
    .remove(0);
    assert!(clever.link_by_verified_email && !clever.links_by_email());
    assert_eq!(
        first_login_keys(&clever, &verified_claims(true)).email,
        None
    );
}

#[test]
fn a_district_may_turn_email_links_off() {
    let p = parse_providers(&providers_file(json!({"linkByVerifiedEmail": false})))
        .unwrap()
        .remove(0);
    assert_eq!(first_login_keys(&p, &verified_claims(true)).email, None);
}

#[test]
fn the_authorization_url_asks_for_a_code_with_an_s256_challenge() {
    // RFC 7636, appendix B.
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let p = parse_providers(&providers_file(json!({})))
        .unwrap()
        .remove(0);
    let url = authorization_url(
        &p,
        &AuthorizationRequest {
            endpoint: "https://accounts.google.com/o/oauth2/v2/auth?hd=school.org",
            redirect_uri: "https://homeroom.example.org/api/v1/sso/callback",
            state: "st",
            nonce: "no",
            code_challenge: "ch",
            login_hint: Some("a b@school.org"),
        },
    );
    assert_eq!(
        url,
        "https://accounts.google.com/o/oauth2/v2/auth?hd=school.org&response_type=code\
         &client_id=client-1&redirect_uri=https%3A%2F%2Fhomeroom.example.org%2Fapi%2Fv1%2Fsso%2Fcallback\
         &scope=openid+email+profile&state=st&nonce=no&code_challenge=ch\
         &code_challenge_method=S256&login_hint=a+b%40school.org"
    );
}

#[tokio::test]
async fn providers_are_listed_per_district_without_their_secrets() {
    let providers =
        parse_providers(&providers_file(json!({"externalIdClaim": "employee_id"}))).unwrap();
    let mut s = server_with_sso(providers).await;
    let listed = s
        .client
        .list_sso_providers(pb::ListSsoProvidersRequest {
            district_id: "district-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .providers;
    assert_eq!(
        listed,
        [pb::SsoProvider {
            provider_id: "google-d1".into(),
            district_id: "district-1".into(),
            kind: pb::SsoProviderKind::Google as i32,
            display_name: "Sign in with Google".into(),
            issuer: "https://accounts.google.com".into(),
            external_id_claim: "employee_id".into(),
            link_by_verified_email: true,
        }]
    );
    let other = s
        .client
        .list_sso_providers(pb::ListSsoProvidersRequest {
            district_id: "district-2".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(other.providers.is_empty());
    let none = s
        .client
        .list_sso_providers(pb::ListSsoProvidersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_unknown_provider_is_not_found_and_an_unreachable_one_unavailable() {
    let providers =
        parse_providers(&providers_file(json!({"issuer": "http://127.0.0.1:1"}))).unwrap();
    let mut s = server_with_sso(providers).await;
    let begin = |provider_id: &str| pb::BeginSsoLoginRequest {
        provider_id: provider_id.into(),
        redirect_uri: "https://homeroom.example.org/api/v1/sso/callback".into(),
        ..Default::default()
    };
    let unknown = s.client.begin_sso_login(begin("nope")).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let down = s
        .client
        .begin_sso_login(begin("google-d1"))
        .await
        .unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    let bad = pb::BeginSsoLoginRequest {
        redirect_uri: "javascript:alert(1)".into(),
        ..begin("google-d1")
    };
    let refused = s.client.begin_sso_login(bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_callback_with_an_unknown_state_tells_nothing() {
    let mut s = server_with_sso(Vec::new()).await;
    let answer = s
        .client
        .complete_sso_login(pb::CompleteSsoLoginRequest {
            state: "forged".into(),
            code: "some-code".into(),
            redirect_uri: "https://homeroom.example.org/api/v1/sso/callback".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(answer.code(), Code::Unauthenticated);
    assert_eq!(
        answer.message(),
        "this sign-in has expired or was already used; start again"
    );
}

#[tokio::test]
async fn an_accounts_profile_lists_the_issuers_of_its_sso_links_once_each() {
    use homeroom_platform::testing::TestDb;
    use identity_svc::{
        MIGRATIONS,
        ops::{accounts, upsert::upsert_accounts},
        store,
    };

    use crate::upsert::{batch, smiths};

    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let results = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    let (sarah, kevin) = (results[0].account_id.clone(), results[1].account_id.clone());
    let now = chrono::Utc::now().naive_utc();
    let linked = sarah.clone();
    test_db
        .db
        .run(move |c| {
            for (issuer, subject) in [
                ("https://login.microsoftonline.com/t1/v2.0", "s-1"),
                ("https://accounts.google.com", "g-1"),
                ("https://accounts.google.com", "g-2"),
            ] {
                store::sso::link(c, issuer, subject, &linked, now)?;
            }
            Ok::<_, identity_svc::domain::error::IdentityError>(())
        })
        .await
        .unwrap();

    let profile = accounts::get(&test_db.db, sarah).await.unwrap();
    assert_eq!(
        profile.sso_issuers,
        [
            "https://accounts.google.com",
            "https://login.microsoftonline.com/t1/v2.0"
        ]
    );
    let other = accounts::get(&test_db.db, kevin).await.unwrap();
    assert!(other.sso_issuers.is_empty(), "{:?}", other.sso_issuers);
}
