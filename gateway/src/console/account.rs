//! My account (every user, guardians included): name, roles, the emails and
//! phones with their "shared with N other accounts" mark (seed 000), the
//! prompt to confirm a contact the school changed (dismissible, never
//! required), linked students, change password, sign out everywhere.

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::identity::v1 as idpb;
use serde::Deserialize;

use super::{Chrome, LANG_COOKIE, Signed, render, text::Text};
use crate::{
    api::{cookies, error::ApiError, session::client},
    app::AppState,
};

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    csrf: String,
    account: AccountModel,
    notice: Option<String>,
    error: Option<String>,
}

struct AccountModel {
    name: String,
    kind: &'static str,
    roles: Vec<String>,
    language: String,
    credentials: Vec<CredentialItem>,
    any_shared: bool,
    contact_editable: bool,
    students: Vec<String>,
    has_password: bool,
}

struct CredentialItem {
    kind: &'static str,
    value: String,
    /// Other accounts with the same value.
    others: u32,
    shared_text: String,
    confirmed: bool,
}

fn language_name(code: &str) -> String {
    match code.split(['-', '_']).next().unwrap_or_default() {
        "" | "en" => "English".into(),
        "es" => "Español".into(),
        _ => code.to_owned(),
    }
}

impl AccountModel {
    fn of(account: idpb::Account, t: &Text) -> AccountModel {
        let credentials: Vec<CredentialItem> = account
            .credentials
            .iter()
            .map(|c| {
                let others = c.shared_count.saturating_sub(1);
                CredentialItem {
                    kind: match c.kind() {
                        idpb::CredentialKind::MobilePhone => t.phone,
                        _ => t.email,
                    },
                    value: c.value.clone(),
                    others,
                    shared_text: t.shared_with(others),
                    confirmed: c.confirmed,
                }
            })
            .collect();
        let mut roles: Vec<String> = account
            .roles
            .iter()
            .map(|r| {
                if r.school_id.is_empty() {
                    format!("{} ({})", t.role(r.role()), t.in_district)
                } else {
                    t.role(r.role()).to_owned()
                }
            })
            .collect();
        roles.dedup();
        AccountModel {
            name: account.display_name.clone(),
            kind: t.kind(account.kind()),
            roles,
            language: language_name(&account.preferred_language),
            any_shared: credentials.iter().any(|c| c.others > 0),
            credentials,
            contact_editable: account.contact_details_editable,
            students: account
                .linked_students
                .iter()
                .map(|s| s.display_name.clone())
                .collect(),
            has_password: account.has_password,
        }
    }
}

/// `?done=password`: what the page confirms after a form.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /account`.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    let t = super::language(&signed.headers);
    let notice = (done.done == "password").then(|| t.password_changed.to_owned());
    show(&state, &signed, StatusCode::OK, notice, None).await
}

/// The page, after fetching the account.
async fn show(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let answer = state
        .identity()
        .get_me(signed.caller.request(idpb::GetMeRequest {}))
        .await
        .map_err(ApiError::from);
    let account = match answer.map(|a| a.into_inner().account) {
        Ok(Some(account)) => account,
        Ok(None) | Err(_) => {
            let chrome = signed.chrome("account");
            let t = chrome.t;
            return render(
                StatusCode::SERVICE_UNAVAILABLE,
                super::MessagePage {
                    chrome,
                    title: t.my_account.into(),
                    text: t.unavailable.into(),
                    tone: "bad",
                    link: "/account".into(),
                    link_text: t.my_account.into(),
                },
            );
        }
    };
    // The frame speaks the account's language from now on.
    let language = super::text::for_language(&account.preferred_language);
    let remembered = cookies::get(&signed.headers, LANG_COOKIE);
    let mut chrome = signed.chrome("account");
    chrome.t = language;
    chrome.lang = language.code;
    let page = AccountPage {
        account: AccountModel::of(account, language),
        chrome,
        csrf: signed.csrf.clone(),
        notice,
        error,
    };
    let mut response = render(status, page);
    if remembered.as_deref() != Some(language.code)
        && let Ok(cookie) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; Secure; SameSite=Lax",
            language.code
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The change-password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /account/password`: a new password; the other sessions end and
/// this one gets fresh tokens.
pub async fn change_password(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<PasswordForm>,
) -> Response {
    let t = super::language(&signed.headers);
    if !signed.csrf_ok(&form.csrf) {
        return show(
            &state,
            &signed,
            StatusCode::FORBIDDEN,
            None,
            Some(t.expired_form.into()),
        )
        .await;
    }
    let answer = state
        .identity()
        .change_password(signed.caller.request(idpb::ChangePasswordRequest {
            current_password: form.current_password,
            new_password: form.new_password,
            client: client(&signed.headers, signed.caller.request_id()),
        }))
        .await
        .map_err(ApiError::from);
    match answer.map(|a| a.into_inner().tokens) {
        Ok(Some(tokens)) => (
            cookies::session(&tokens, &signed.csrf),
            Redirect::to("/account?done=password"),
        )
            .into_response(),
        Ok(None) => {
            show(
                &state,
                &signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                Some(t.something_wrong.into()),
            )
            .await
        }
        Err(e) => {
            let text = match e.status.as_u16() {
                401 => t.current_password_wrong.to_owned(),
                429 => Text::with_n(t.throttled, e.retry_after.unwrap_or(60).div_ceil(60).max(1)),
                400 => super::for_people(&e.message),
                _ => t.unavailable.to_owned(),
            };
            show(&state, &signed, e.status, None, Some(text)).await
        }
    }
}
