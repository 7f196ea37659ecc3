//! Access-token verification: EdDSA-signed JWTs checked against identity-svc's
//! JWKS, turned into a [`Principal`] by a tower layer in front of every service.
//!
//! Handlers read the caller with [`principal`]; a request without a token reaches
//! the handler with no principal (and is refused there with UNAUTHENTICATED),
//! a request with a bad token never reaches it.

use std::{
    collections::HashMap,
    fmt,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

use crate::forwarded::{ClientAddress, FORWARDER, FORWARDING_SERVICE, forwarded};

/// Issuer written into, and required of, every access token.
pub const ISSUER: &str = "homeroom-identity";
/// Audience written into, and required of, every access token.
pub const AUDIENCE: &str = "homeroom";

/// A role, granted for a whole district or for one school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in the district.
    DistrictAdmin,
    /// Sync sources, uploads, roster reports, Reset Status.
    RosteringAdmin,
    /// Communications and Reset Status.
    CommunicationsAdmin,
    /// Edits users' contact details (when the sync does not manage them), Reset Status.
    UserManager,
    /// Teaches classes.
    Teacher,
    /// Other school staff.
    Staff,
    /// A parent or other guardian.
    Guardian,
}

/// One role grant; `school_id` is `None` for a district-wide grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    /// The role.
    pub role: Role,
    /// The school it is limited to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
}

/// The claims of a Homeroom access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer ([`ISSUER`]).
    pub iss: String,
    /// Audience ([`AUDIENCE`]).
    pub aud: String,
    /// Account id, or the service client id for a service token.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Token id.
    pub jti: String,
    /// The account's district.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_id: Option<String>,
    /// Role grants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleGrant>,
    /// Set on service tokens: the calling service's name (`roster`, `messaging`, `gateway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// Who is calling, as proven by a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in person.
    Account {
        /// The account.
        account_id: String,
        /// Its district.
        district_id: String,
        /// Its role grants.
        roles: Vec<RoleGrant>,
    },
    /// Another Homeroom service.
    Service {
        /// `roster`, `messaging` or `gateway`.
        name: String,
    },
}

/// Roles that may reset a bad address (MS-7), district-wide: messaging-svc
/// enforces it; the console shows Reset Status only to them.
pub const ADDRESS_RESETTERS: [Role; 4] = [
    Role::RosteringAdmin,
    Role::CommunicationsAdmin,
    Role::UserManager,
    Role::DistrictAdmin,
];

/// Roles that may list a district's accounts (ID-1), for the whole district
/// or, granted for a school, that school's: identity enforces it; the
/// console shows People only to them.
pub const ACCOUNT_LISTERS: [Role; 4] = [
    Role::DistrictAdmin,
    Role::UserManager,
    Role::RosteringAdmin,
    Role::CommunicationsAdmin,
];

impl Principal {
    /// True when the account holds one of `roles`, in any scope.
    pub fn holds_any(&self, roles: &[Role]) -> bool {
        match self {
            Principal::Account { roles: grants, .. } => {
                grants.iter().any(|g| roles.contains(&g.role))
            }
            Principal::Service { .. } => false,
        }
    }

    /// Whether this is a person who may reset the addresses of `district_id`.
    pub fn may_reset_addresses(&self, district_id: &str) -> bool {
        matches!(self, Principal::Account { .. })
            && ADDRESS_RESETTERS
                .iter()
                .any(|r| self.has_district_role(district_id, *r))
    }

    /// Builds the principal from verified claims.
    pub fn from_claims(claims: AccessClaims) -> Result<Principal, AuthError> {
        match (claims.service, claims.district_id) {
            (Some(name), _) => Ok(Principal::Service { name }),
            (None, Some(district_id)) => Ok(Principal::Account {
                account_id: claims.sub,
                district_id,
                roles: claims.roles,
            }),
            (None, None) => Err(AuthError::Invalid("token has no district".into())),
        }
    }

    /// True for a service caller with one of the given names.
    pub fn is_service(&self, names: &[&str]) -> bool {
        matches!(self, Principal::Service { name } if names.contains(&name.as_str()))
    }

    /// The account itself, for account callers.
    pub fn account_id(&self) -> Option<&str> {
        match self {
            Principal::Account { account_id, .. } => Some(account_id),
            Principal::Service { .. } => None,
        }
    }

    /// The account's district, for account callers.
    pub fn district_id(&self) -> Option<&str> {
        match self {
            Principal::Account { district_id, .. } => Some(district_id),
            Principal::Service { .. } => None,
        }
    }

    /// True when the account holds `role` for the whole of `district_id`.
    pub fn has_district_role(&self, district_id: &str, role: Role) -> bool {
        match self {
            Principal::Account {
                district_id: d,
                roles,
                ..
            } => {
                d == district_id
                    && roles
                        .iter()
                        .any(|g| g.role == role && g.school_id.is_none())
            }
            Principal::Service { .. } => false,
        }
    }

    /// True when the account holds `role` for `school_id` (a district-wide grant counts).
    pub fn has_school_role(&self, district_id: &str, school_id: &str, role: Role) -> bool {
        match self {
            Principal::Account {
                district_id: d,
                roles,
                ..
            } => {
                d == district_id
                    && roles.iter().any(|g| {
                        g.role == role && g.school_id.as_deref().is_none_or(|s| s == school_id)
                    })
            }
            Principal::Service { .. } => false,
        }
    }
}

/// Why a token was refused. Messages never echo the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The `authorization` metadata is not `Bearer <token>`.
    #[error("authorization must be \"Bearer <access token>\"")]
    Malformed,
    /// Signature, issuer, audience, expiry or claims do not verify.
    #[error("access token is not valid: {0}")]
    Invalid(String),
    /// The token's `kid` is not among the signing keys.
    #[error("access token is signed by an unknown key")]
    UnknownKey,
    /// The signing keys could not be fetched.
    #[error("signing keys are unavailable")]
    KeysUnavailable,
}

impl From<AuthError> for tonic::Status {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::KeysUnavailable => tonic::Status::unavailable(e.to_string()),
            _ => tonic::Status::unauthenticated(e.to_string()),
        }
    }
}

/// Where the public signing keys come from.
pub trait KeySource: Send + Sync + 'static {
    /// Fetches the current JWKS.
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>>;
}

/// A fixed JWKS (identity-svc's own keys, or tests).
#[derive(Debug, Clone)]
pub struct StaticKeys(pub JwkSet);

impl KeySource for StaticKeys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        let keys = self.0.clone();
        Box::pin(async move { Ok(keys) })
    }
}

/// Shortest pause between two JWKS fetches caused by unknown `kid`s.
const REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Verifies access tokens; caches keys by `kid` and refetches on an unknown `kid`.
pub struct Verifier {
    source: Box<dyn KeySource>,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When a refetch last failed, or did not find the `kid` it was made for.
    last_miss: Mutex<Option<Instant>>,
    validation: Validation,
    /// Tokens already verified, with their caller and expiry: a client sends
    /// the same access token for minutes, and its signature is checked once.
    verified: std::sync::Mutex<HashMap<String, (Principal, i64)>>,
}

/// Most verified tokens remembered; past it the expired ones are dropped, and
/// if none are, all of them.
const VERIFIED_CAPACITY: usize = 10_000;

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier over the given key source.
    pub fn new(source: impl KeySource) -> Verifier {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Verifier {
            source: Box::new(source),
            keys: RwLock::new(HashMap::new()),
            last_miss: Mutex::new(None),
            validation,
            verified: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The caller of a token verified before that has not expired yet.
    fn remembered(&self, token: &str, now: i64) -> Option<Principal> {
        let verified = self.verified.lock().ok()?;
        let (principal, exp) = verified.get(token)?;
        (*exp + self.validation.leeway as i64 > now).then(|| principal.clone())
    }

    fn remember(&self, token: &str, principal: &Principal, exp: i64, now: i64) {
        let Ok(mut verified) = self.verified.lock() else {
            return;
        };
        if verified.len() >= VERIFIED_CAPACITY {
            verified.retain(|_, (_, e)| *e > now);
            if verified.len() >= VERIFIED_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(token.to_string(), (principal.clone(), exp));
    }

    /// Verifies a token and returns its caller.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let now = chrono::Utc::now().timestamp();
        if let Some(principal) = self.remembered(token, now) {
            return Ok(principal);
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("no kid".into()))?;
        if !self.keys.read().await.contains_key(&kid) {
            self.refresh(&kid).await?;
        }
        let keys = self.keys.read().await;
        let key = keys.get(&kid).ok_or(AuthError::UnknownKey)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let exp = data.claims.exp;
        let principal = Principal::from_claims(data.claims)?;
        self.remember(token, &principal, exp, now);
        Ok(principal)
    }

    /// Refetches the JWKS for a `kid` not seen yet — unless a refetch less
    /// than [`REFRESH_INTERVAL`] ago failed or did not find the `kid` it was
    /// made for,
    /// so unknown keys cannot make the verifier fetch over and over while a
    /// rotated key is picked up at once.
    async fn refresh(&self, kid: &str) -> Result<(), AuthError> {
        let mut last_miss = self.last_miss.lock().await;
        if last_miss.is_some_and(|t| t.elapsed() < REFRESH_INTERVAL) {
            return Ok(());
        }
        let set = self.source.fetch().await.map_err(|e| {
            tracing::warn!(error = %e, "fetching signing keys failed");
            AuthError::KeysUnavailable
        });
        let set = match set {
            Ok(set) => set,
            Err(e) => {
                *last_miss = Some(Instant::now());
                return Err(e);
            }
        };
        let mut fresh = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                tracing::warn!("skipping a signing key without kid or of an unusable type");
                continue;
            };
            fresh.insert(kid, key);
        }
        if !fresh.contains_key(kid) {
            *last_miss = Some(Instant::now());
        }
        *self.keys.write().await = fresh;
        // A key may have been withdrawn: verify every token again.
        if let Ok(mut verified) = self.verified.lock() {
            verified.clear();
        }
        Ok(())
    }
}

/// The verified caller of a request, or UNAUTHENTICATED.
pub fn principal<T>(request: &tonic::Request<T>) -> Result<Principal, tonic::Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| tonic::Status::unauthenticated("sign in first: no access token was sent"))
}

/// Tower layer that verifies `authorization: Bearer` tokens into a [`Principal`] extension.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    verifier: Arc<Verifier>,
}

impl AuthLayer {
    /// A layer sharing one verifier.
    pub fn new(verifier: Arc<Verifier>) -> AuthLayer {
        AuthLayer { verifier }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    verifier: Arc<Verifier>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for AuthService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        // The ready service is the one that must serve this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let open_path = request.uri().path().starts_with("/grpc.");
            let header = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .map(|v| v.to_str().map(str::to_owned));
            let mut caller = None;
            match (open_path, header) {
                (true, _) | (false, None) => {}
                (false, Some(value)) => {
                    let verified = match value.ok().as_deref().and_then(bearer) {
                        Some(token) => verifier.verify(token).await,
                        None => Err(AuthError::Malformed),
                    };
                    match verified {
                        Ok(principal) => caller = Some(principal),
                        Err(e) => return Ok(tonic::Status::from(e).into_http()),
                    }
                }
            }
            let claim = AddressClaim::of(&request);
            let address = claim.decide(caller.as_ref(), &verifier).await;
            if let Some(address) = address {
                request.extensions_mut().insert(address);
            }
            if let Some(principal) = caller {
                request.extensions_mut().insert(principal);
            }
            inner.call(request).await
        })
    }
}

/// What a call says about its caller's address: the TCP peer, the
/// forwarded address and the token that would prove it.
struct AddressClaim {
    peer: Option<ClientAddress>,
    forwarded: Option<std::net::IpAddr>,
    forwarder: Option<String>,
}

impl AddressClaim {
    fn of<B>(request: &http::Request<B>) -> AddressClaim {
        AddressClaim {
            peer: request
                .extensions()
                .get::<tonic::transport::server::TcpConnectInfo>()
                .and_then(|info| info.remote_addr())
                .map(|a| ClientAddress(a.ip())),
            forwarded: forwarded(request.headers()),
            forwarder: request
                .headers()
                .get(FORWARDER)
                .and_then(|v| v.to_str().ok())
                .and_then(bearer)
                .map(str::to_owned),
        }
    }

    /// The address the call is accounted to: the forwarded one when the
    /// gateway proves it sent it (its own token, or its token in
    /// [`FORWARDER`]), else the TCP peer.
    async fn decide(
        self,
        caller: Option<&Principal>,
        verifier: &Verifier,
    ) -> Option<ClientAddress> {
        let Some(forwarded) = self.forwarded else {
            return self.peer;
        };
        let gateway = [FORWARDING_SERVICE];
        let proven = if caller.is_some_and(|p| p.is_service(&gateway)) {
            true
        } else if let Some(token) = &self.forwarder {
            verifier
                .verify(token)
                .await
                .is_ok_and(|p| p.is_service(&gateway))
        } else {
            false
        };
        if proven {
            Some(ClientAddress(forwarded))
        } else {
            self.peer
        }
    }
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(roles: Vec<RoleGrant>) -> Principal {
        Principal::Account {
            account_id: "a".into(),
            district_id: "d1".into(),
            roles,
        }
    }

    #[test]
    fn a_district_grant_covers_every_school_but_a_school_grant_only_its_own() {
        let district = account(vec![RoleGrant {
            role: Role::UserManager,
            school_id: None,
        }]);
        let school = account(vec![RoleGrant {
            role: Role::UserManager,
            school_id: Some("s1".into()),
        }]);
        assert!(district.has_school_role("d1", "s9", Role::UserManager));
        assert!(district.has_district_role("d1", Role::UserManager));
        assert!(school.has_school_role("d1", "s1", Role::UserManager));
        assert!(!school.has_school_role("d1", "s2", Role::UserManager));
        assert!(!school.has_district_role("d1", Role::UserManager));
        assert!(!district.has_district_role("d2", Role::UserManager));
    }

    #[test]
    fn bearer_requires_the_scheme_and_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer  "), None);
    }
}
