//! ID-3 / ID-6 over REST: sign in with an email or phone and a password (with
//! the account choice when several accounts share it), refresh, sign out.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
};
use homeroom_proto::identity::v1 as idpb;
use serde::{Deserialize, Serialize};

use super::{caller::RequestId, error::ApiError, json::timestamp};
use crate::app::AppState;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginBody {
    /// Email or phone number, in any common form.
    pub identifier: String,
    /// The password.
    pub password: String,
    /// Only accounts of this district (a district-branded sign-in page).
    #[serde(default)]
    pub district_id: String,
    /// Region for phone numbers without a country code, e.g. `US`.
    #[serde(default)]
    pub phone_region: String,
    /// A browser: keep the tokens in HttpOnly cookies (answered as `session`).
    #[serde(default)]
    pub use_cookies: bool,
}

/// A browser session kept in cookies: the page sends `csrfToken` back in
/// `x-csrf-token` on every unsafe request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CookieSession {
    pub account_id: String,
    pub access_token_expires_at: Option<String>,
    pub csrf_token: String,
}

/// Access and refresh tokens.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub access_token: String,
    pub access_token_expires_at: Option<String>,
    pub refresh_token: String,
    pub refresh_token_expires_at: Option<String>,
    pub token_type: String,
    pub account_id: String,
    /// This client's device token (ID-3): send it back in `x-device-token`
    /// when signing in again, so guessing at your address never slows you
    /// down. Browsers keep it in a cookie instead.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub device_token: String,
}

/// One account to choose from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    pub account_id: String,
    pub display_name: String,
    pub kind: String,
    pub role: String,
    pub school_id: String,
    pub school_name: String,
    pub district_id: String,
}

/// Several accounts share the identifier: pick one with `select-account`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountChoice {
    pub selection_token: String,
    pub expires_at: Option<String>,
    pub choices: Vec<Choice>,
}

/// Signed in (tokens, or a cookie session), or a choice to make.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<CookieSession>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_choice: Option<AccountChoice>,
}

fn tokens(t: idpb::AuthTokens) -> Tokens {
    Tokens {
        access_token: t.access_token,
        access_token_expires_at: t.access_token_expires_at.as_ref().and_then(timestamp),
        refresh_token: t.refresh_token,
        refresh_token_expires_at: t.refresh_token_expires_at.as_ref().and_then(timestamp),
        token_type: t.token_type,
        account_id: t.account_id,
        device_token: t.device_token,
    }
}

/// The tokens identity issued: as JSON, or for a browser as cookies with a
/// CSRF token.
pub(crate) fn issued(t: Option<idpb::AuthTokens>, cookies: bool) -> Result<Response, ApiError> {
    let t = t.ok_or_else(|| ApiError::new(tonic::Code::Internal, "no tokens were issued"))?;
    Ok(if cookies {
        let csrf = super::cookies::new_csrf();
        let headers = super::cookies::session(&t, &csrf);
        (headers, Json(cookie_session(&t, csrf))).into_response()
    } else {
        Json(tokens(t)).into_response()
    })
}

fn cookie_session(t: &idpb::AuthTokens, csrf: String) -> CookieSession {
    CookieSession {
        account_id: t.account_id.clone(),
        access_token_expires_at: t.access_token_expires_at.as_ref().and_then(timestamp),
        csrf_token: csrf,
    }
}

pub(crate) fn client(headers: &HeaderMap, id: &RequestId) -> Option<idpb::ClientInfo> {
    Some(idpb::ClientInfo {
        ip_address: id.client.map(|ip| ip.to_string()).unwrap_or_default(),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(256)
            .collect(),
        request_id: id.id.clone(),
        device_token: super::cookies::device_token(headers),
    })
}

/// `POST /api/v1/auth/login`: one account signs in; several sharing the
/// identifier give an account choice. Wrong credentials and unknown
/// identifiers answer alike.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "sessions",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in, or a choice of accounts", body = LoginAnswer),
        (status = 400, description = "The body cannot be read", body = super::error::ErrorBody),
        (status = 401, description = "Wrong identifier or password", body = super::error::ErrorBody),
        (status = 429, description = "Too many attempts", body = super::error::ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    body: Result<Json<LoginBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let use_cookies = body.use_cookies;
    let answer = state
        .identity()
        .login(id.request(idpb::LoginRequest {
            identifier: body.identifier,
            password: body.password,
            phone_region: body.phone_region,
            district_id: body.district_id,
            client: client(&headers, &id),
        }))
        .await?
        .into_inner();
    signed_in(
        match answer.outcome {
            Some(idpb::login_response::Outcome::Tokens(t)) => SignedIn::Tokens(t),
            Some(idpb::login_response::Outcome::AccountChoice(c)) => SignedIn::Choice(c),
            None => SignedIn::Nothing,
        },
        use_cookies,
    )
}

/// What a proof of identity (password, one-time code, SSO) gave.
pub(crate) enum SignedIn {
    /// One account: its tokens.
    Tokens(idpb::AuthTokens),
    /// Several accounts: a choice.
    Choice(idpb::AccountChoice),
    /// identity answered neither (a bug upstream).
    Nothing,
}

/// The answer to a sign-in: tokens (or for a browser a cookie session), or an
/// account choice.
pub(crate) fn signed_in(outcome: SignedIn, use_cookies: bool) -> Result<Response, ApiError> {
    Ok(match outcome {
        SignedIn::Tokens(t) if use_cookies => {
            let csrf = super::cookies::new_csrf();
            let headers = super::cookies::session(&t, &csrf);
            let answer = LoginAnswer {
                tokens: None,
                session: Some(cookie_session(&t, csrf)),
                account_choice: None,
            };
            (headers, Json(answer)).into_response()
        }
        SignedIn::Tokens(t) => Json(LoginAnswer {
            tokens: Some(tokens(t)),
            session: None,
            account_choice: None,
        })
        .into_response(),
        SignedIn::Choice(c) => Json(LoginAnswer {
            tokens: None,
            session: None,
            account_choice: Some(AccountChoice {
                selection_token: c.selection_token,
                expires_at: c.expires_at.as_ref().and_then(timestamp),
                choices: c
                    .choices
                    .into_iter()
                    .map(|o| Choice {
                        kind: o.kind().as_str_name().to_string(),
                        role: o.role().as_str_name().to_string(),
                        account_id: o.account_id,
                        display_name: o.display_name,
                        school_id: o.school_id,
                        school_name: o.school_name,
                        district_id: o.district_id,
                    })
                    .collect(),
            }),
        })
        .into_response(),
        SignedIn::Nothing => {
            return Err(ApiError::new(
                tonic::Code::Internal,
                "sign-in gave no answer",
            ));
        }
    })
}

/// `POST /api/v1/auth/select-account`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectBody {
    pub selection_token: String,
    pub account_id: String,
    /// A browser: keep the tokens in HttpOnly cookies.
    #[serde(default)]
    pub use_cookies: bool,
}

/// `POST /api/v1/auth/select-account`: the chosen account's tokens.
#[utoipa::path(
    post,
    path = "/auth/select-account",
    tag = "sessions",
    request_body = SelectBody,
    responses(
        (status = 200, description = "The chosen account's tokens", body = Tokens),
        (status = 400, description = "The body cannot be read", body = super::error::ErrorBody),
        (status = 401, description = "The selection token is spent, expired or not for this account", body = super::error::ErrorBody),
    )
)]
pub async fn select_account(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    body: Result<Json<SelectBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let use_cookies = body.use_cookies;
    let answer = state
        .identity()
        .select_account(id.request(idpb::SelectAccountRequest {
            selection_token: body.selection_token,
            account_id: body.account_id,
            client: client(&headers, &id),
        }))
        .await?
        .into_inner();
    issued(answer.tokens, use_cookies)
}

/// `POST /api/v1/auth/refresh` and `/auth/logout`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token; empty for a browser session (its cookie is used,
    /// with the CSRF header).
    #[serde(default)]
    pub refresh_token: String,
    /// Logout only: end every session of the account.
    #[serde(default)]
    pub all_sessions: bool,
}

/// `POST /api/v1/auth/refresh`: new tokens; the old refresh token is spent.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "sessions",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "New tokens", body = Tokens),
        (status = 400, description = "The body cannot be read", body = super::error::ErrorBody),
        (status = 401, description = "The refresh token is spent, revoked or expired", body = super::error::ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    id: RequestId,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<RefreshBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let (refresh_token, cookies) = refresh_token(body.refresh_token, &method, &headers)?;
    let answer = state
        .identity()
        .refresh_token(id.request(idpb::RefreshTokenRequest {
            refresh_token,
            client: client(&headers, &id),
        }))
        .await?
        .into_inner();
    issued(answer.tokens, cookies)
}

/// The refresh token of the body, or of the browser session's cookie (which
/// needs the CSRF header); and whether it came from the cookie.
fn refresh_token(
    given: String,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(String, bool), ApiError> {
    if !given.is_empty() {
        return Ok((given, false));
    }
    let token = super::cookies::get(headers, super::cookies::REFRESH).ok_or_else(|| {
        ApiError::bad_request("refreshToken: required (or sign in with useCookies)")
    })?;
    if !super::cookies::csrf_ok(method, headers) {
        return Err(ApiError::new(
            tonic::Code::PermissionDenied,
            "the x-csrf-token header is missing or does not match the session",
        ));
    }
    Ok((token, true))
}

/// `POST /api/v1/auth/logout`: ends the session (idempotent).
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "sessions",
    request_body = RefreshBody,
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "The body cannot be read", body = super::error::ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    id: RequestId,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<RefreshBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let (refresh_token, cookies) = refresh_token(body.refresh_token, &method, &headers)?;
    state
        .identity()
        .logout(id.request(idpb::LogoutRequest {
            refresh_token,
            all_sessions: body.all_sessions,
            client: client(&headers, &id),
        }))
        .await?;
    let cleared = if cookies {
        super::cookies::cleared()
    } else {
        HeaderMap::new()
    };
    Ok((axum::http::StatusCode::NO_CONTENT, cleared).into_response())
}
