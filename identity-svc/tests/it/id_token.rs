//! ID-5: an ID token signs nobody in unless it passes every rule: the
//! provider's signature, issuer, audience (and authorized party), expiry,
//! issue time and the login's nonce.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use identity_svc::domain::id_token::{Expected, IdTokenError, LEEWAY_SECONDS, key_id, verify};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example.org";
const CLIENT: &str = "homeroom-client";
const NONCE: &str = "nonce-of-this-login";
const NOW: i64 = 1_795_000_000;

/// A provider's signing key: the private half signs, the JWK verifies.
struct Key {
    encoding: EncodingKey,
    jwk: Jwk,
}

fn key(kid: &str) -> Key {
    let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let der = signing.to_pkcs8_der().unwrap();
    let jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
    });
    Key {
        encoding: EncodingKey::from_ed_der(der.as_bytes()),
        jwk: serde_json::from_value(jwk).unwrap(),
    }
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "person-1", "aud": CLIENT, "nonce": NONCE,
        "iat": NOW - 5, "exp": NOW + 300,
        "email": "Teacher@School.org", "email_verified": true, "employee_id": 4711,
    })
}

fn sign(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = key.jwk.common.key_id.clone();
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

fn check(
    token: &str,
    key: &Key,
) -> Result<identity_svc::domain::id_token::IdTokenClaims, IdTokenError> {
    let issuers = vec![ISSUER.to_string()];
    verify(
        token,
        &key.jwk,
        &Expected {
            issuers: &issuers,
            client_id: CLIENT,
            nonce: NONCE,
            now: NOW,
        },
    )
}

fn with(changes: Value) -> Value {
    let mut c = claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

#[test]
fn a_token_of_the_provider_for_this_login_is_accepted_with_its_claims() {
    let k = key("k1");
    let token = sign(&k, &claims());
    assert_eq!(
        key_id(&token).unwrap(),
        (Some("k1".into()), Algorithm::EdDSA)
    );
    let verified = check(&token, &k).unwrap();
    assert_eq!(verified.sub, "person-1");
    assert_eq!(verified.email.as_deref(), Some("Teacher@School.org"));
    assert!(verified.email_verified);
    assert_eq!(verified.text_claim("employee_id").as_deref(), Some("4711"));
    assert_eq!(verified.text_claim("sub").as_deref(), Some("person-1"));
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    let (provider, forger) = (key("k1"), key("k1"));
    assert_eq!(
        check(&sign(&forger, &claims()), &provider),
        Err(IdTokenError::Signature)
    );
}

#[test]
fn a_token_whose_claims_were_changed_after_signing_is_refused() {
    let k = key("k1");
    let token = sign(&k, &claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(with(json!({"sub": "someone-else"})).to_string());
    assert_eq!(check(&parts.join("."), &k), Err(IdTokenError::Signature));
}

#[test]
fn a_token_signed_with_a_shared_secret_is_refused() {
    let k = key("k1");
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"the client secret"),
    )
    .unwrap();
    assert_eq!(key_id(&token), Err(IdTokenError::Algorithm));
    assert_eq!(check(&token, &k), Err(IdTokenError::Algorithm));
}

#[test]
fn a_token_of_another_issuer_is_refused() {
    let k = key("k1");
    let token = sign(&k, &with(json!({"iss": "https://evil.example.org"})));
    assert_eq!(check(&token, &k), Err(IdTokenError::Issuer));
}

#[test]
fn a_token_for_another_client_is_refused() {
    let k = key("k1");
    let token = sign(&k, &with(json!({"aud": "another-client"})));
    assert_eq!(check(&token, &k), Err(IdTokenError::Audience));
    let token = sign(&k, &with(json!({"aud": ["another-client", "a-third"]})));
    assert_eq!(check(&token, &k), Err(IdTokenError::Audience));
}

#[test]
fn a_token_for_several_audiences_needs_this_client_as_authorized_party() {
    let k = key("k1");
    let several = json!({"aud": [CLIENT, "another-client"]});
    assert_eq!(
        check(&sign(&k, &with(several.clone())), &k),
        Err(IdTokenError::AuthorizedParty)
    );
    let mut other = several.clone();
    other["azp"] = json!("another-client");
    assert_eq!(
        check(&sign(&k, &with(other)), &k),
        Err(IdTokenError::AuthorizedParty)
    );
    let mut ours = several;
    ours["azp"] = json!(CLIENT);
    assert!(check(&sign(&k, &with(ours)), &k).is_ok());
}

#[test]
fn an_expired_token_is_refused_beyond_a_small_leeway() {
    let k = key("k1");
    let just_expired = with(json!({"iat": NOW - 600, "exp": NOW - LEEWAY_SECONDS / 2}));
    assert!(check(&sign(&k, &just_expired), &k).is_ok());
    let expired = with(json!({"iat": NOW - 600, "exp": NOW - LEEWAY_SECONDS - 1}));
    assert_eq!(check(&sign(&k, &expired), &k), Err(IdTokenError::Expired));
}

#[test]
fn a_token_issued_in_the_future_is_refused() {
    let k = key("k1");
    let future = with(json!({"iat": NOW + LEEWAY_SECONDS + 30, "exp": NOW + 900}));
    assert_eq!(
        check(&sign(&k, &future), &k),
        Err(IdTokenError::IssuedInFuture)
    );
}

#[test]
fn a_token_with_another_logins_nonce_or_none_is_refused() {
    let k = key("k1");
    let other = with(json!({"nonce": "nonce-of-another-login"}));
    assert_eq!(check(&sign(&k, &other), &k), Err(IdTokenError::Nonce));
    let missing = with(json!({"nonce": null}));
    assert_eq!(check(&sign(&k, &missing), &k), Err(IdTokenError::Nonce));
}

#[test]
fn a_token_without_expiry_or_subject_is_malformed() {
    let k = key("k1");
    for change in [
        json!({"exp": null}),
        json!({"sub": null}),
        json!({"sub": " "}),
    ] {
        let token = sign(&k, &with(change.clone()));
        assert!(
            matches!(check(&token, &k), Err(IdTokenError::Malformed(_))),
            "{change}"
        );
    }
    assert!(matches!(
        check("not-a-jwt", &k),
        Err(IdTokenError::Malformed(_))
    ));
}

#[test]
fn an_unverified_email_is_read_as_unverified_whatever_its_spelling() {
    let k = key("k1");
    for (flag, verified) in [
        (json!(false), false),
        (json!("false"), false),
        (json!("true"), true),
        (Value::Null, false),
    ] {
        let token = sign(&k, &with(json!({"email_verified": flag})));
        assert_eq!(
            check(&token, &k).unwrap().email_verified,
            verified,
            "{flag}"
        );
    }
}
