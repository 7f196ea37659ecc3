//! Signing in (ID-3): email or phone in any common form and a password; the
//! account choice when several accounts share them (seed 003: a teacher who
//! is also a parent); joining with an invitation's link (`/join?code=`).
//! An unknown identifier and a wrong password read alike; throttling says
//! how long to wait.

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::identity::v1 as idpb;
use serde::Deserialize;

use super::{Chrome, render, safe_next, text::Text};
use crate::{
    api::{caller::RequestId, cookies, error::ApiError, session::client},
    app::AppState,
};

#[derive(askama::Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    /// The district of a sign-in link (`?district=`), for its SSO buttons.
    district: String,
    identifier: String,
    error: Option<String>,
    /// The district's SSO providers: (label, start path).
    providers: Vec<(String, String)>,
}

#[derive(askama::Template)]
#[template(path = "choose.html")]
struct ChoosePage {
    chrome: Chrome,
    csrf: String,
    selection: String,
    next: String,
    choices: Vec<ChoiceItem>,
}

struct ChoiceItem {
    account_id: String,
    name: String,
    role: &'static str,
    school: String,
}

#[derive(askama::Template)]
#[template(path = "join.html")]
struct JoinPage {
    chrome: Chrome,
    csrf: String,
    code: String,
    error: Option<String>,
}

/// `?next=` and `?code=`.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    next: String,
    #[serde(default)]
    code: String,
    /// A district's sign-in link: its SSO providers' buttons.
    #[serde(default)]
    district: String,
}

/// The SSO buttons of `district` (none without one, or when identity does
/// not answer: the password form still works).
async fn sso_buttons(state: &AppState, id: &RequestId, district: &str) -> Vec<(String, String)> {
    if district.trim().is_empty() {
        return Vec::new();
    }
    crate::api::sso::district_providers(state, id, district.trim().to_owned())
        .await
        .map(|providers| {
            providers
                .into_iter()
                .map(|p| (p.display_name, p.start_path))
                .collect()
        })
        .unwrap_or_default()
}

/// The CSRF token a form shown before sign-in carries: the cookie's, or a
/// new one set with the page.
fn pre_session_csrf(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookies::get(headers, cookies::CSRF) {
        Some(csrf) => (csrf, None),
        None => {
            let csrf = cookies::new_csrf();
            let cookie = cookies::csrf_cookie(&csrf);
            (csrf, cookie)
        }
    }
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /sign-in` (`?district=` adds the district's SSO buttons).
pub async fn form(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let (csrf, cookie) = pre_session_csrf(&headers);
    let page = SignInPage {
        chrome: Chrome::anonymous(&headers),
        csrf,
        next: safe_next(&params.next),
        providers: sso_buttons(&state, &id, &params.district).await,
        district: params.district,
        identifier: String::new(),
        error: None,
    };
    with_cookie(render(StatusCode::OK, page), cookie)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    district: String,
}

/// What a person reads for a failed sign-in, join or choice.
fn explain(t: &Text, e: &ApiError, unauthenticated: &str) -> String {
    match e.status.as_u16() {
        401 | 404 => unauthenticated.to_owned(),
        429 => {
            let minutes = e.retry_after.unwrap_or(60).div_ceil(60).max(1);
            Text::with_n(t.throttled, minutes)
        }
        502..=504 => t.unavailable.to_owned(),
        // The password policy and other checks name what to fix.
        400 => super::for_people(&e.message),
        _ => t.something_wrong.to_owned(),
    }
}

/// What the sign-in page shows again after a failed attempt.
struct Again<'a> {
    next: &'a str,
    identifier: &'a str,
    district: &'a str,
    providers: Vec<(String, String)>,
}

/// The sign-in page again, saying what went wrong.
fn sign_in_again(
    headers: &HeaderMap,
    chrome: Chrome,
    status: StatusCode,
    again: Again<'_>,
    error: &str,
) -> Response {
    let (csrf, cookie) = pre_session_csrf(headers);
    let page = SignInPage {
        chrome,
        csrf,
        next: again.next.to_owned(),
        district: again.district.to_owned(),
        identifier: again.identifier.to_owned(),
        error: Some(error.to_owned()),
        providers: again.providers,
    };
    with_cookie(render(status, page), cookie)
}

/// `POST /sign-in`.
pub async fn submit(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let chrome = Chrome::anonymous(&headers);
    let t = chrome.t;
    let next = safe_next(&form.next);
    // The SSO buttons are read only when the page is shown again, never on
    // the way to a successful sign-in.
    let again = async |chrome, status, error: &str| {
        let again = Again {
            next: &next,
            identifier: &form.identifier,
            district: &form.district,
            providers: sso_buttons(&state, &id, &form.district).await,
        };
        sign_in_again(&headers, chrome, status, again, error)
    };
    if !cookies::csrf_field_ok(&headers, &form.csrf) {
        return again(chrome, StatusCode::FORBIDDEN, t.expired_form).await;
    }
    if form.identifier.trim().is_empty() || form.password.is_empty() {
        return again(chrome, StatusCode::BAD_REQUEST, t.fill_both).await;
    }
    let answer = state
        .identity()
        .login(id.request(idpb::LoginRequest {
            identifier: form.identifier.clone(),
            password: form.password.clone(),
            phone_region: String::new(),
            district_id: String::new(),
            client: client(&headers, &id),
        }))
        .await
        .map_err(ApiError::from);
    match answer.map(|a| a.into_inner().outcome) {
        Ok(Some(idpb::login_response::Outcome::Tokens(tokens))) => signed_in(&tokens, &next),
        Ok(Some(idpb::login_response::Outcome::AccountChoice(choice))) => {
            choice_page(chrome, form.csrf.clone(), next.clone(), &choice)
        }
        Ok(None) => again(chrome, StatusCode::INTERNAL_SERVER_ERROR, t.something_wrong).await,
        Err(e) => {
            let text = explain(t, &e, t.wrong_credentials);
            again(chrome, e.status, &text).await
        }
    }
}

/// The account choice: one button per account (name, role or kind, school).
fn choice_page(
    chrome: Chrome,
    csrf: String,
    next: String,
    choice: &idpb::AccountChoice,
) -> Response {
    let t = chrome.t;
    let page = ChoosePage {
        csrf,
        selection: choice.selection_token.clone(),
        next,
        choices: choice
            .choices
            .iter()
            .map(|c| ChoiceItem {
                account_id: c.account_id.clone(),
                name: c.display_name.clone(),
                // A guardian's account has no role assignment: its kind says it.
                role: match c.role() {
                    idpb::Role::Unspecified => t.kind(c.kind()),
                    role => t.role(role),
                },
                school: c.school_name.clone(),
            })
            .collect(),
        chrome,
    };
    render(StatusCode::OK, page)
}

#[derive(askama::Template)]
#[template(path = "sign_in_code.html")]
struct CodePage {
    chrome: Chrome,
    csrf: String,
    next: String,
    identifier: String,
    /// A code went out (or would have): ask for it.
    sent: bool,
    error: Option<String>,
}

/// `GET /sign-in/code`: ask for the address a code goes to.
pub async fn code_form(headers: HeaderMap, Query(params): Query<Params>) -> Response {
    let (csrf, cookie) = pre_session_csrf(&headers);
    let page = CodePage {
        chrome: Chrome::anonymous(&headers),
        csrf,
        next: safe_next(&params.next),
        identifier: String::new(),
        sent: false,
        error: None,
    };
    with_cookie(render(StatusCode::OK, page), cookie)
}

/// The one-time-code forms.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    code: String,
}

fn code_page(
    headers: &HeaderMap,
    status: StatusCode,
    form: &CodeForm,
    sent: bool,
    error: Option<String>,
) -> Response {
    let (csrf, cookie) = pre_session_csrf(headers);
    let page = CodePage {
        chrome: Chrome::anonymous(headers),
        csrf,
        next: safe_next(&form.next),
        identifier: form.identifier.clone(),
        sent,
        error,
    };
    with_cookie(render(status, page), cookie)
}

/// `POST /sign-in/code`: sends a code (identity answers alike whether or
/// not the address has an account) and asks for it.
pub async fn send_code(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let t = super::language(&headers);
    if !cookies::csrf_field_ok(&headers, &form.csrf) {
        return code_page(
            &headers,
            StatusCode::FORBIDDEN,
            &form,
            false,
            Some(t.expired_form.into()),
        );
    }
    let answer = state
        .identity()
        .send_one_time_code(id.request(idpb::SendOneTimeCodeRequest {
            purpose: idpb::OneTimeCodePurpose::Login as i32,
            identifier: form.identifier.clone(),
            client: client(&headers, &id),
            ..Default::default()
        }))
        .await
        .map_err(ApiError::from);
    match answer {
        Ok(_) => code_page(&headers, StatusCode::OK, &form, true, None),
        Err(e) => {
            let text = explain(t, &e, t.fill_both);
            code_page(&headers, e.status, &form, false, Some(text))
        }
    }
}

/// `POST /sign-in/code/verify`: the code signs in (or offers the choice of
/// the accounts on the address).
pub async fn verify_code(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    use idpb::verify_one_time_code_response::Outcome;
    let t = super::language(&headers);
    if !cookies::csrf_field_ok(&headers, &form.csrf) {
        return code_page(
            &headers,
            StatusCode::FORBIDDEN,
            &form,
            true,
            Some(t.expired_form.into()),
        );
    }
    let answer = state
        .identity()
        .verify_one_time_code(id.request(idpb::VerifyOneTimeCodeRequest {
            identifier: form.identifier.clone(),
            code: form.code.chars().filter(char::is_ascii_digit).collect(),
            phone_region: String::new(),
            client: client(&headers, &id),
        }))
        .await
        .map_err(ApiError::from);
    let next = safe_next(&form.next);
    match answer.map(|a| a.into_inner().outcome) {
        Ok(Some(Outcome::Tokens(tokens))) => signed_in(&tokens, &next),
        Ok(Some(Outcome::AccountChoice(choice))) => choice_page(
            Chrome::anonymous(&headers),
            form.csrf.clone(),
            next,
            &choice,
        ),
        Ok(None) => code_page(
            &headers,
            StatusCode::INTERNAL_SERVER_ERROR,
            &form,
            true,
            Some(t.something_wrong.into()),
        ),
        Err(e) => {
            let text = explain(t, &e, t.code_wrong);
            code_page(&headers, e.status, &form, true, Some(text))
        }
    }
}

/// Session cookies (a fresh CSRF token), then on to `next`.
fn signed_in(tokens: &idpb::AuthTokens, next: &str) -> Response {
    let csrf = cookies::new_csrf();
    (cookies::session(tokens, &csrf), Redirect::to(next)).into_response()
}

/// The account choice form.
#[derive(Debug, Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    selection: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    next: String,
}

/// `POST /sign-in/choose`: the chosen account's session.
pub async fn choose(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Form(form): Form<ChooseForm>,
) -> Response {
    let chrome = Chrome::anonymous(&headers);
    let t = chrome.t;
    let next = safe_next(&form.next);
    let back = |chrome, status, error: &str| {
        let again = Again {
            next: &next,
            identifier: "",
            district: "",
            providers: Vec::new(),
        };
        sign_in_again(&headers, chrome, status, again, error)
    };
    if !cookies::csrf_field_ok(&headers, &form.csrf) {
        return back(chrome, StatusCode::FORBIDDEN, t.expired_form);
    }
    let answer = state
        .identity()
        .select_account(id.request(idpb::SelectAccountRequest {
            selection_token: form.selection,
            account_id: form.account,
            client: client(&headers, &id),
        }))
        .await
        .map_err(ApiError::from);
    match answer.map(|a| a.into_inner().tokens) {
        Ok(Some(tokens)) => signed_in(&tokens, &next),
        Ok(None) => back(chrome, StatusCode::INTERNAL_SERVER_ERROR, t.something_wrong),
        Err(e) => {
            let text = explain(t, &e, t.choice_expired);
            back(chrome, e.status, &text)
        }
    }
}

/// `GET /join?code=`: "Complete your profile" for an invitation's link.
pub async fn join_form(headers: HeaderMap, Query(params): Query<Params>) -> Response {
    let (csrf, cookie) = pre_session_csrf(&headers);
    let page = JoinPage {
        chrome: Chrome::anonymous(&headers),
        csrf,
        code: params.code,
        error: None,
    };
    with_cookie(render(StatusCode::OK, page), cookie)
}

/// The join form.
#[derive(Debug, Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /join`: sets the password, activates the account and signs in.
pub async fn join(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Form(form): Form<JoinForm>,
) -> Response {
    let chrome = Chrome::anonymous(&headers);
    let t = chrome.t;
    let again = |chrome, status, error: &str| {
        let (csrf, cookie) = pre_session_csrf(&headers);
        let page = JoinPage {
            chrome,
            csrf,
            code: form.code.clone(),
            error: Some(error.to_owned()),
        };
        with_cookie(render(status, page), cookie)
    };
    if !cookies::csrf_field_ok(&headers, &form.csrf) {
        return again(chrome, StatusCode::FORBIDDEN, t.expired_form);
    }
    let answer = state
        .identity()
        .accept_invitation(id.request(idpb::AcceptInvitationRequest {
            identifier: String::new(),
            phone_region: String::new(),
            code: form.code.clone(),
            new_password: form.new_password.clone(),
            client: client(&headers, &id),
        }))
        .await
        .map_err(ApiError::from);
    match answer.map(|a| a.into_inner().tokens) {
        Ok(Some(tokens)) => signed_in(&tokens, "/account"),
        Ok(None) => again(chrome, StatusCode::INTERNAL_SERVER_ERROR, t.something_wrong),
        Err(e) => {
            let text = explain(t, &e, t.join_link_bad);
            again(chrome, e.status, &text)
        }
    }
}
