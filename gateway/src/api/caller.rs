//! Who is calling: an `Authorization: Bearer` access token verified against
//! identity-svc's JWKS (cached by `kid`), and the request id and trace every
//! call to a service carries.

use axum::{extract::FromRequestParts, http::request::Parts};
use homeroom_platform::auth::Principal;

use super::error::ApiError;
use crate::app::AppState;

/// What every call to a service carries: the request id the gateway set or
/// took from `x-request-id`, the caller's address (see [`crate::client_ip`])
/// and the gateway's service token that proves the address to the service.
#[derive(Debug, Clone, Default)]
pub struct RequestId {
    /// The request id.
    pub id: String,
    /// The caller's address.
    pub client: Option<std::net::IpAddr>,
    /// The W3C `traceparent` (the client's, or the one the gateway started).
    pub traceparent: Option<String>,
    /// The gateway's service token, when it has one.
    forwarder: Option<String>,
}

impl FromRequestParts<AppState> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let client = parts
            .extensions
            .get::<crate::client_ip::ClientIp>()
            .map(|c| c.0);
        Ok(RequestId {
            id: parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            traceparent: homeroom_platform::request_context::RequestContext::of_headers(
                &parts.headers,
            )
            .traceparent,
            client,
            // Without a service token (no secret set, identity down) the
            // services account the call to the gateway's own address.
            forwarder: state.service_tokens.token().await.ok(),
        })
    }
}

impl RequestId {
    /// A request id alone (no caller address), e.g. in tests.
    pub fn new(id: impl Into<String>) -> RequestId {
        RequestId {
            id: id.into(),
            ..RequestId::default()
        }
    }

    /// A gRPC request carrying the request id and the caller's address.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        self.carry(&mut request);
        homeroom_platform::forwarded::forward(
            &mut request,
            self.client,
            self.forwarder.as_deref().unwrap_or_default(),
        );
        request
    }

    /// A gRPC request sent as the gateway itself (its service token), for
    /// webhooks and for reads another service already authorised.
    pub async fn as_gateway<T>(
        &self,
        state: &AppState,
        message: T,
    ) -> Result<tonic::Request<T>, ApiError> {
        let mut request = state.service_tokens.request(message).await?;
        self.carry(&mut request);
        Ok(request)
    }

    /// Puts the request id and the trace on a gRPC request.
    fn carry<T>(&self, request: &mut tonic::Request<T>) {
        if let Ok(v) = self.id.parse() {
            request.metadata_mut().insert("x-request-id", v);
        }
        if let Some(v) = self.traceparent.as_deref().and_then(|t| t.parse().ok()) {
            request.metadata_mut().insert("traceparent", v);
        }
    }
}

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who it is.
    pub principal: Principal,
    token: String,
    request_id: RequestId,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let request_id = RequestId::from_request_parts(parts, state).await?;
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from);
        // A browser session: the access token in its cookie, and on unsafe
        // methods the CSRF token echoed in a header.
        let token = match bearer {
            Some(t) => t,
            None => {
                let t = super::cookies::get(&parts.headers, super::cookies::ACCESS)
                    .ok_or_else(ApiError::unauthenticated)?;
                if !super::cookies::csrf_ok(&parts.method, &parts.headers) {
                    return Err(ApiError::new(
                        tonic::Code::PermissionDenied,
                        "the x-csrf-token header is missing or does not match the session",
                    ));
                }
                t
            }
        };
        Caller::verified(state, token, request_id).await
    }
}

impl Caller {
    /// The caller an access token names, once verified and within the
    /// per-account rate limit (the console's pages, which take the token from
    /// the cookie and check their forms' CSRF field themselves).
    pub async fn verified(
        state: &AppState,
        token: String,
        request_id: RequestId,
    ) -> Result<Caller, ApiError> {
        let principal = state
            .verifier
            .verify(&token)
            .await
            .map_err(|_| ApiError::unauthenticated())?;
        let account = match &principal {
            Principal::Account { account_id, .. } => account_id.clone(),
            Principal::Service { name } => format!("service:{name}"),
        };
        state
            .limits
            .per_account
            .take(&account, std::time::Instant::now())
            .map_err(crate::limits::too_many)?;
        Ok(Caller {
            principal,
            token,
            request_id,
        })
    }

    /// The request id of the call.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// A gRPC request on the caller's behalf: their token and the request id.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = self.request_id.request(message);
        if let Ok(v) = format!("Bearer {}", self.token).parse() {
            request.metadata_mut().insert("authorization", v);
        }
        request
    }
}
