//! ID-5 over REST: OpenID Connect sign-in (authorization code flow with PKCE).
//!
//! `start` asks identity-svc to begin a login and sends the browser to the
//! provider with the login's state bound to it in an HttpOnly, Secure,
//! SameSite=Lax cookie (Lax, because the provider's redirect back is a
//! cross-site top-level navigation). `callback` refuses a state that is not
//! that cookie's before anything reaches identity-svc, then completes the
//! login: a browser gets the session cookies of `POST /auth/login` with
//! `useCookies` and is sent to the public URL; `Accept: application/json` gets
//! the JSON answer of `/auth/login` instead.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use homeroom_proto::identity::v1 as idpb;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    caller::RequestId,
    cookies,
    error::ApiError,
    session::{SignedIn, client, signed_in},
};
use crate::app::AppState;

/// The cookie binding a login's state to the browser that began it.
pub const STATE_COOKIE: &str = "homeroom_sso_state";
/// A readable cookie with an SSO account choice, for the page to list it.
pub const CHOICE_COOKIE: &str = "homeroom_sso_choice";
/// Where providers send the browser back, under the public URL.
const CALLBACK_PATH: &str = "/api/v1/sso/callback";
/// The longest choice cookie written (browsers keep 4 KiB per cookie).
const CHOICE_COOKIE_MAX: usize = 3_500;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(providers))
        .routes(routes!(start))
        .routes(routes!(callback))
}

/// `GET /api/v1/sso/providers`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProvidersQuery {
    /// The district whose sign-in page is shown.
    pub district_id: String,
}

/// One provider of a district's sign-in page (no secrets).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoProviderView {
    pub provider_id: String,
    pub district_id: String,
    /// `SSO_PROVIDER_KIND_GOOGLE`, `…_MICROSOFT`, `…_CLEVER`, `…_CLASSLINK`, `…_GENERIC_OIDC`.
    pub kind: String,
    pub display_name: String,
    pub issuer: String,
    /// Where the sign-in button sends the browser.
    pub start_path: String,
}

/// The providers of a district.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoProvidersAnswer {
    pub providers: Vec<SsoProviderView>,
}

/// `GET /api/v1/sso/providers`: the district's SSO providers, for its sign-in page.
#[utoipa::path(
    get,
    path = "/sso/providers",
    tag = "sso",
    params(ProvidersQuery),
    responses(
        (status = 200, description = "The district's providers, in display order", body = SsoProvidersAnswer),
        (status = 400, description = "districtId is missing", body = super::error::ErrorBody),
    )
)]
pub async fn providers(
    State(state): State<AppState>,
    id: RequestId,
    query: Result<Query<ProvidersQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SsoProvidersAnswer>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(SsoProvidersAnswer {
        providers: district_providers(&state, &id, q.district_id).await?,
    }))
}

/// A district's SSO providers, in display order (the REST route and the
/// console's sign-in buttons).
pub async fn district_providers(
    state: &AppState,
    id: &RequestId,
    district_id: String,
) -> Result<Vec<SsoProviderView>, ApiError> {
    let answer = state
        .identity()
        .list_sso_providers(id.request(idpb::ListSsoProvidersRequest { district_id }))
        .await?
        .into_inner();
    Ok(answer
        .providers
        .into_iter()
        .map(|p| SsoProviderView {
            kind: p.kind().as_str_name().to_string(),
            start_path: format!("/api/v1/sso/{}/start", path_segment(&p.provider_id)),
            provider_id: p.provider_id,
            district_id: p.district_id,
            display_name: p.display_name,
            issuer: p.issuer,
        })
        .collect())
}

/// `GET /api/v1/sso/{providerId}/start`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// Passed to the provider as `login_hint` (e.g. the email typed so far).
    #[serde(default)]
    pub login_hint: String,
}

/// `GET /api/v1/sso/{providerId}/start`: begins a login and sends the browser
/// to the provider's authorization URL, with the login's state in an
/// HttpOnly, Secure, SameSite=Lax cookie for the callback.
#[utoipa::path(
    get,
    path = "/sso/{providerId}/start",
    tag = "sso",
    params(("providerId" = String, Path, description = "The provider"), StartQuery),
    responses(
        (status = 303, description = "To the provider's authorization URL",
            headers(
                ("Location" = String, description = "The provider's authorization URL"),
                ("Set-Cookie" = String, description = "homeroom_sso_state: binds the login to this browser"),
            )),
        (status = 400, description = "A parameter or the Host header is not valid", body = super::error::ErrorBody),
        (status = 404, description = "No such provider", body = super::error::ErrorBody),
        (status = 503, description = "The provider cannot be reached", body = super::error::ErrorBody),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(provider_id) = path.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let begun = state
        .identity()
        .begin_sso_login(id.request(idpb::BeginSsoLoginRequest {
            provider_id,
            redirect_uri: redirect_uri(&state, &headers)?,
            login_hint: q.login_hint,
            client: client(&headers, &id),
        }))
        .await?
        .into_inner();
    let max_age = begun
        .expires_at
        .map_or(600, |t| (t.seconds - chrono::Utc::now().timestamp()).max(0));
    let mut answer = HeaderMap::new();
    answer.insert(header::LOCATION, header_value(&begun.authorization_url)?);
    answer.insert(
        header::SET_COOKIE,
        header_value(&state_cookie(&begun.state, max_age))?,
    );
    Ok((StatusCode::SEE_OTHER, answer).into_response())
}

/// What the provider sends back. Not `deny_unknown_fields`: providers add
/// parameters of their own (`iss`, `scope`, `session_state`, `authuser`, …).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The state of the login, as the start route set it.
    pub state: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// The provider's error code (e.g. `access_denied`) instead of a code.
    pub error: Option<String>,
    /// The provider's error description.
    pub error_description: Option<String>,
}

/// `GET /api/v1/sso/callback`: where the provider sends the browser back.
#[utoipa::path(
    get,
    path = "/sso/callback",
    tag = "sso",
    params(CallbackQuery),
    description = "The `state` must equal the `homeroom_sso_state` cookie the start route set \
        (else 403 and nothing reaches identity-svc); each login completes once. A browser \
        that signed in gets the session cookies of `POST /auth/login` with `useCookies` and \
        a 303 to the public URL `/`. When the verified email is shared by several accounts, \
        a browser gets a 303 to `/?ssoChoice=<selectionToken>` and a readable \
        `homeroom_sso_choice` cookie (base64url of the JSON answer of `/auth/login`, with \
        the `accountChoice`) for the page to list the accounts; the choice is made with \
        `POST /auth/select-account`, which also links the chosen account. With \
        `Accept: application/json` the answer is the JSON of `/auth/login` (tokens or \
        accountChoice) instead of a redirect.",
    responses(
        (status = 200, description = "Accept: application/json: signed in, or a choice of accounts", body = super::session::LoginAnswer),
        (status = 303, description = "A browser: to the public URL, signed in (or with an account choice)",
            headers(("Location" = String, description = "The public URL"))),
        (status = 400, description = "state or code is missing", body = super::error::ErrorBody),
        (status = 401, description = "The login expired, was used already, or matched no account", body = super::error::ErrorBody),
        (status = 403, description = "The state is not this browser's, or the provider refused", body = super::error::ErrorBody),
        (status = 503, description = "The provider cannot be reached", body = super::error::ErrorBody),
    )
)]
pub async fn callback(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let login_state = q
        .state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("state: required"))?;
    if q.code.as_deref().is_none_or(str::is_empty) && q.error.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request("code: required"));
    }
    let bound = cookies::get(&headers, STATE_COOKIE)
        .is_some_and(|c| bool::from(c.as_bytes().ct_eq(login_state.as_bytes())));
    if !bound {
        return Err(ApiError::new(
            tonic::Code::PermissionDenied,
            "this sign-in was not started in this browser; start again",
        ));
    }
    let base = public_base(&state, &headers)?;
    let completed = state
        .identity()
        .complete_sso_login(id.request(idpb::CompleteSsoLoginRequest {
            state: login_state,
            code: q.code.unwrap_or_default(),
            error: q.error.unwrap_or_default(),
            error_description: q.error_description.unwrap_or_default(),
            redirect_uri: format!("{base}{CALLBACK_PATH}"),
            client: client(&headers, &id),
        }))
        .await;
    // The login is spent whatever identity answered: forget its cookie.
    let mut answer = match completed {
        Ok(c) => {
            let outcome = match c.into_inner().outcome {
                Some(idpb::complete_sso_login_response::Outcome::Tokens(t)) => SignedIn::Tokens(t),
                Some(idpb::complete_sso_login_response::Outcome::AccountChoice(c)) => {
                    SignedIn::Choice(c)
                }
                None => SignedIn::Nothing,
            };
            if wants_json(&headers) {
                signed_in(outcome, false)?
            } else {
                browser_answer(outcome, &base).await?
            }
        }
        Err(status) => ApiError::from(status).into_response(),
    };
    answer
        .headers_mut()
        .append(header::SET_COOKIE, header_value(&state_cookie("", 0))?);
    Ok(answer)
}

/// A browser: the session cookies and the public URL, or the choice.
async fn browser_answer(outcome: SignedIn, base: &str) -> Result<Response, ApiError> {
    let mut answer = match outcome {
        SignedIn::Tokens(t) => {
            let mut answer = cookies::session(&t, &cookies::new_csrf());
            answer.insert(header::LOCATION, header_value(&format!("{base}/"))?);
            answer
        }
        SignedIn::Choice(c) => {
            let token =
                form_urlencoded::byte_serialize(c.selection_token.as_bytes()).collect::<String>();
            let max_age = c
                .expires_at
                .map_or(300, |t| (t.seconds - chrono::Utc::now().timestamp()).max(0));
            // The page lists the accounts from the same JSON `/auth/login` answers.
            let json = signed_in(SignedIn::Choice(c), false)?;
            // A choice too large for a cookie is still offered through the token.
            let body = axum::body::to_bytes(json.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let mut answer = HeaderMap::new();
            answer.insert(
                header::LOCATION,
                header_value(&format!("{base}/?ssoChoice={token}"))?,
            );
            let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&body);
            if !body.is_empty() && value.len() <= CHOICE_COOKIE_MAX {
                let cookie = format!(
                    "{CHOICE_COOKIE}={value}; Path=/; Max-Age={max_age}; Secure; SameSite=Lax"
                );
                answer.insert(header::SET_COOKIE, header_value(&cookie)?);
            }
            answer
        }
        SignedIn::Nothing => return signed_in(SignedIn::Nothing, false),
    };
    answer.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((StatusCode::SEE_OTHER, answer).into_response())
}

/// `Set-Cookie` of the login's state (an empty value with age 0 forgets it).
fn state_cookie(value: &str, max_age: i64) -> String {
    format!(
        "{STATE_COOKIE}={value}; Path={CALLBACK_PATH}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax"
    )
}

/// Whether the caller asked for JSON rather than a browser's redirect.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// The external base URL: the configured public URL, else the request's
/// `Host` over http (a laptop).
fn public_base(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(url) = &state.config.public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .ok_or_else(|| ApiError::bad_request("the Host header is missing or not valid"))?;
    Ok(format!("http://{host}"))
}

/// The callback URL providers send the browser back to.
fn redirect_uri(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    Ok(format!("{}{CALLBACK_PATH}", public_base(state, headers)?))
}

/// `text` percent-encoded for one path segment.
fn path_segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn header_value(text: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(text)
        .map_err(|_| ApiError::new(tonic::Code::Internal, "a header could not be written"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sso_routes_are_documented() {
        super::super::assert_documents(
            &super::super::document(),
            &["/sso/providers", "/sso/{providerId}/start", "/sso/callback"],
        );
    }

    #[test]
    fn the_state_cookie_is_http_only_secure_lax_and_only_sent_to_the_callback() {
        let cookie = state_cookie("abc", 600);
        assert_eq!(
            cookie,
            "homeroom_sso_state=abc; Path=/api/v1/sso/callback; Max-Age=600; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn json_is_answered_only_when_asked_for() {
        let mut h = HeaderMap::new();
        assert!(!wants_json(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html,*/*"));
        assert!(!wants_json(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("Application/JSON"));
        assert!(wants_json(&h));
    }
}
