//! ID-5: the rules an OpenID Connect ID token must pass before anyone is signed
//! in with it (OIDC Core §3.1.3.7): an asymmetric signature by the provider's
//! key, the issuer, the audience (and `azp` when there are several), expiry and
//! issue time with a small leeway, and the login's nonce.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind, jwk::Jwk};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// Clock skew tolerated on `exp` and `iat`, in seconds.
pub const LEEWAY_SECONDS: i64 = 60;

/// Signature algorithms accepted: asymmetric only (never `none` or HMAC with
/// the client secret).
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why an ID token was refused. Logged, never shown: the caller gets one
/// generic message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not a JWT, or claims of the wrong shape.
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    /// `alg` is not an accepted asymmetric algorithm, or not the key's.
    #[error("the ID token's algorithm is not accepted")]
    Algorithm,
    /// No key of the provider's JWKS has the token's `kid`.
    #[error("the ID token is signed by an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the ID token's signature does not verify")]
    Signature,
    /// `iss` is not the provider's issuer.
    #[error("the ID token's issuer is not the provider's")]
    Issuer,
    /// `aud` does not contain the client id.
    #[error("the ID token is not for this client")]
    Audience,
    /// Several audiences and no `azp`, or an `azp` that is not the client.
    #[error("the ID token's authorized party is not this client")]
    AuthorizedParty,
    /// `exp` has passed (beyond the leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("the ID token is issued in the future")]
    IssuedInFuture,
    /// `nonce` is missing or not this login's.
    #[error("the ID token's nonce is not this login's")]
    Nonce,
}

/// One or several audiences.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// `email_verified` as a boolean, or as the string some providers send.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<Flag>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

/// The claims of a verified ID token.
#[derive(Debug, Clone, PartialEq)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the person at this issuer, for good.
    pub sub: String,
    /// Audiences.
    pub aud: Vec<String>,
    /// Email, as the provider states it.
    pub email: Option<String>,
    /// Whether the provider verified that email.
    pub email_verified: bool,
    /// Every other claim.
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl IdTokenClaims {
    /// A claim as text (strings as they are, numbers written out).
    pub fn text_claim(&self, name: &str) -> Option<String> {
        if name == "sub" {
            return Some(self.sub.clone());
        }
        match self.other.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// What the token must match.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// Accepted `iss` values.
    pub issuers: &'a [String],
    /// The client id (audience).
    pub client_id: &'a str,
    /// The login's nonce.
    pub nonce: &'a str,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// The `kid` and `alg` of a token's header, to find its key; refuses tokens
/// signed with an algorithm that is not accepted.
pub fn key_id(token: &str) -> Result<(Option<String>, Algorithm), IdTokenError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| IdTokenError::Malformed(format!("header: {e}")))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(IdTokenError::Algorithm);
    }
    Ok((header.kid, header.alg))
}

/// Verifies `token` with the provider's `key` and checks its claims.
pub fn verify(
    token: &str,
    key: &Jwk,
    expected: &Expected<'_>,
) -> Result<IdTokenClaims, IdTokenError> {
    let (_, alg) = key_id(token)?;
    if key
        .common
        .key_algorithm
        .is_some_and(|a| a != jsonwebtoken::jwk::KeyAlgorithm::from(alg))
    {
        return Err(IdTokenError::Algorithm);
    }
    let decoding = DecodingKey::from_jwk(key).map_err(|_| IdTokenError::UnknownKey)?;
    // The signature only: the claims are checked below, against `expected.now`.
    let mut signature_only = Validation::new(alg);
    signature_only.required_spec_claims.clear();
    signature_only.validate_exp = false;
    signature_only.validate_aud = false;
    let raw = jsonwebtoken::decode::<RawClaims>(token, &decoding, &signature_only)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => IdTokenError::Signature,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey
            | ErrorKind::InvalidRsaKey(_) => IdTokenError::Algorithm,
            _ => IdTokenError::Malformed(e.to_string()),
        })?
        .claims;
    check(raw, expected)
}

fn check(raw: RawClaims, expected: &Expected<'_>) -> Result<IdTokenClaims, IdTokenError> {
    if !expected.issuers.contains(&raw.iss) {
        return Err(IdTokenError::Issuer);
    }
    let aud = match raw.aud {
        Audience::One(a) => vec![a],
        Audience::Many(list) => list,
    };
    if !aud.iter().any(|a| a == expected.client_id) {
        return Err(IdTokenError::Audience);
    }
    let azp_ok = match raw.azp.as_deref() {
        Some(azp) => azp == expected.client_id,
        None => aud.len() == 1,
    };
    if !azp_ok {
        return Err(IdTokenError::AuthorizedParty);
    }
    if raw.exp + LEEWAY_SECONDS <= expected.now {
        return Err(IdTokenError::Expired);
    }
    if raw.iat - LEEWAY_SECONDS > expected.now {
        return Err(IdTokenError::IssuedInFuture);
    }
    let nonce_ok = raw
        .nonce
        .is_some_and(|n| bool::from(n.as_bytes().ct_eq(expected.nonce.as_bytes())));
    if !nonce_ok {
        return Err(IdTokenError::Nonce);
    }
    if raw.sub.trim().is_empty() {
        return Err(IdTokenError::Malformed("sub is empty".into()));
    }
    let email_verified = match raw.email_verified {
        Some(Flag::Bool(b)) => b,
        Some(Flag::Text(t)) => t.eq_ignore_ascii_case("true"),
        None => false,
    };
    Ok(IdTokenClaims {
        iss: raw.iss,
        sub: raw.sub,
        aud,
        email: raw.email,
        email_verified,
        other: raw.other,
    })
}
