//! My account (every user, guardians included): name, roles, the emails and
//! phones with their "shared with N other accounts" mark (seed 000), the
//! prompt to confirm a contact the school changed (dismissible, never
//! required; a code confirms it), notification preferences per channel
//! (seed 000: parents sharing an email and a phone choose text or email),
//! changing email, phone and language (refused with seed 002's explanation
//! while the sync manages them), linked students, change password, sign out
//! everywhere.

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
    api::{
        cookies,
        error::ApiError,
        my_contacts::{self, ChannelPreferenceView, ContactBody},
        session::client,
    },
    app::AppState,
};

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    csrf: String,
    account: AccountModel,
    /// None when messaging did not answer.
    preferences: Option<Vec<PreferenceItem>>,
    /// The key of this rendering's "send me a code" forms.
    idempotency_key: String,
    notice: Option<String>,
    error: Option<String>,
}

/// A channel's checkbox.
struct PreferenceItem {
    name: &'static str,
    label: &'static str,
    enabled: bool,
}

/// The code field of one credential.
struct CodePrompt {
    kind: String,
    text: String,
}

/// What a form did, said in the account's language (which the form may
/// just have changed).
#[derive(Clone, Copy)]
enum Done {
    Password,
    Preferences,
    Contact,
    Confirmed,
}

impl Done {
    fn from_query(done: &str) -> Option<Done> {
        match done {
            "password" => Some(Done::Password),
            "preferences" => Some(Done::Preferences),
            "contact" => Some(Done::Contact),
            "confirmed" => Some(Done::Confirmed),
            _ => None,
        }
    }

    fn text(self, t: &Text) -> &'static str {
        match self {
            Done::Password => t.password_changed,
            Done::Preferences => t.preferences_saved,
            Done::Contact => t.contact_saved,
            Done::Confirmed => t.confirmed,
        }
    }
}

/// What the page says after a form.
#[derive(Default)]
struct Feedback {
    notice: Option<Done>,
    error: Option<String>,
    code_for: Option<CodePrompt>,
}

impl Feedback {
    fn error(text: impl Into<String>) -> Feedback {
        Feedback {
            error: Some(text.into()),
            ..Feedback::default()
        }
    }
}

struct AccountModel {
    name: String,
    kind: &'static str,
    roles: Vec<String>,
    language: String,
    /// `en` or `es`, for the language choice.
    language_code: &'static str,
    credentials: Vec<CredentialItem>,
    any_shared: bool,
    contact_editable: bool,
    email: String,
    mobile_phone: String,
    students: Vec<String>,
    has_password: bool,
}

struct CredentialItem {
    kind: &'static str,
    /// `EMAIL` or `MOBILE_PHONE` when a code can confirm it.
    confirmable: Option<&'static str>,
    /// After "send me a code": the code field, with where the code went.
    awaiting_code: Option<String>,
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
                    confirmable: match c.kind() {
                        idpb::CredentialKind::Email => Some("EMAIL"),
                        idpb::CredentialKind::MobilePhone => Some("MOBILE_PHONE"),
                        _ => None,
                    },
                    awaiting_code: None,
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
        let value_of = |kind: idpb::CredentialKind| {
            account
                .credentials
                .iter()
                .find(|c| c.kind() == kind)
                .map(|c| c.value.clone())
                .unwrap_or_default()
        };
        AccountModel {
            email: value_of(idpb::CredentialKind::Email),
            mobile_phone: value_of(idpb::CredentialKind::MobilePhone),
            language_code: super::text::for_language(&account.preferred_language).code,
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
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// `GET /account`.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<DoneQuery>,
) -> Response {
    let feedback = Feedback {
        notice: Done::from_query(&done.done),
        ..Feedback::default()
    };
    show(&state, &signed, StatusCode::OK, feedback).await
}

/// The page, after fetching the account and its preferences.
async fn show(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    feedback: Feedback,
) -> Response {
    let mut identity = state.identity();
    let (answer, preferences) = tokio::join!(
        identity.get_me(signed.caller.request(idpb::GetMeRequest {})),
        my_contacts::get_preferences(state, &signed.caller),
    );
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
    let preferences = preferences.ok().map(|p| {
        [
            ("email", language.channel_email),
            ("sms", language.channel_sms),
            ("voice", language.channel_voice),
        ]
        .into_iter()
        .map(|(name, label)| PreferenceItem {
            name,
            label,
            // A channel messaging does not list was never turned off.
            enabled: p
                .channels
                .iter()
                .find(|c| c.channel == name)
                .is_none_or(|c| c.enabled),
        })
        .collect()
    });
    let mut account = AccountModel::of(account, language);
    if let Some(prompt) = feedback.code_for {
        for c in &mut account.credentials {
            if c.confirmable == Some(prompt.kind.as_str()) {
                c.awaiting_code = Some(prompt.text.clone());
            }
        }
    }
    let page = AccountPage {
        account,
        chrome,
        csrf: signed.csrf.clone(),
        preferences,
        idempotency_key: cookies::random_token(),
        notice: feedback.notice.map(|d| d.text(language).to_owned()),
        error: feedback.error,
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

/// The page again with `error`, in the status of the failure.
async fn refused(state: &AppState, signed: &Signed, e: ApiError, text: String) -> Response {
    show(state, signed, e.status, Feedback::error(text)).await
}

/// What a person reads for a service's refusal of a form on this page.
fn refusal(t: &Text, e: &ApiError) -> String {
    match e.status.as_u16() {
        429 => Text::with_n(t.throttled, e.retry_after.unwrap_or(60).div_ceil(60).max(1)),
        400 => super::for_people(&e.message),
        _ => t.unavailable.to_owned(),
    }
}

/// A form with an expired or forged CSRF field.
async fn expired(state: &AppState, signed: &Signed) -> Response {
    let t = super::language(&signed.headers);
    show(
        state,
        signed,
        StatusCode::FORBIDDEN,
        Feedback::error(t.expired_form),
    )
    .await
}

/// The notification preferences form: a checked box is present.
#[derive(Debug, Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    sms: Option<String>,
    #[serde(default)]
    voice: Option<String>,
}

/// `POST /account/preferences`.
pub async fn save_preferences(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<PreferencesForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return expired(&state, &signed).await;
    }
    let channels = [
        ("email", form.email.is_some()),
        ("sms", form.sms.is_some()),
        ("voice", form.voice.is_some()),
    ]
    .map(|(channel, enabled)| ChannelPreferenceView {
        channel: channel.into(),
        enabled,
    });
    match my_contacts::set_preferences(&state, &signed.caller, &channels).await {
        Ok(_) => Redirect::to("/account?done=preferences").into_response(),
        Err(e) => {
            let text = refusal(super::language(&signed.headers), &e);
            refused(&state, &signed, e, text).await
        }
    }
}

/// The contact form: email and phone only when the page offered them.
#[derive(Debug, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    csrf: String,
    email: Option<String>,
    mobile_phone: Option<String>,
    language: Option<String>,
}

/// `POST /account/contact`: a new email, phone or language. Identity
/// refuses a changed email or phone while the sync manages them (seed 002),
/// and the page says why in the person's words.
pub async fn save_contact(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<ContactForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return expired(&state, &signed).await;
    }
    // An emptied field keeps the value: removing a contact is the school's.
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let body = ContactBody {
        email: given(form.email),
        mobile_phone: given(form.mobile_phone),
        preferred_language: given(form.language),
        ..ContactBody::default()
    };
    match my_contacts::edit_contact(&state, &signed.caller, &signed.headers, body).await {
        Ok(_) => Redirect::to("/account?done=contact").into_response(),
        Err(e) => {
            let t = super::language(&signed.headers);
            let text = if e.code == "FAILED_PRECONDITION" {
                t.contact_refused.to_owned()
            } else {
                refusal(t, &e)
            };
            refused(&state, &signed, e, text).await
        }
    }
}

/// "Send me a code" and "Confirm".
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    idempotency_key: String,
    #[serde(default)]
    code: String,
}

/// `POST /account/confirm/send`: a code to one of the account's contacts;
/// the page then asks for it next to that contact.
pub async fn send_confirmation(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return expired(&state, &signed).await;
    }
    let t = super::language(&signed.headers);
    let sent = my_contacts::send_code(
        &state,
        &signed.caller,
        &signed.headers,
        &form.kind,
        form.idempotency_key,
    )
    .await;
    match sent {
        Ok(sent) => {
            let feedback = Feedback {
                code_for: Some(CodePrompt {
                    kind: form.kind,
                    text: t
                        .confirm_code_sent
                        .replace("{dest}", &sent.masked_destination),
                }),
                ..Feedback::default()
            };
            show(&state, &signed, StatusCode::OK, feedback).await
        }
        Err(e) => {
            let text = refusal(t, &e);
            refused(&state, &signed, e, text).await
        }
    }
}

/// `POST /account/confirm`: the code back.
pub async fn confirm(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return expired(&state, &signed).await;
    }
    let t = super::language(&signed.headers);
    let code = form.code.trim().to_owned();
    match my_contacts::confirm_with_code(&state, &signed.caller, &signed.headers, &form.kind, code)
        .await
    {
        Ok(_) => Redirect::to("/account?done=confirmed").into_response(),
        Err(e) => {
            let text = match e.status.as_u16() {
                400 | 401 | 404 => t.confirm_code_wrong.to_owned(),
                _ => refusal(t, &e),
            };
            // The code field stays open for another try.
            let feedback = Feedback {
                error: Some(text),
                code_for: Some(CodePrompt {
                    kind: form.kind,
                    text: String::new(),
                }),
                ..Feedback::default()
            };
            show(&state, &signed, e.status, feedback).await
        }
    }
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
    if !signed.csrf_ok(&form.csrf) {
        return expired(&state, &signed).await;
    }
    let t = super::language(&signed.headers);
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
                Feedback::error(t.something_wrong),
            )
            .await
        }
        Err(e) => {
            let text = if e.status.as_u16() == 401 {
                t.current_password_wrong.to_owned()
            } else {
                refusal(t, &e)
            };
            refused(&state, &signed, e, text).await
        }
    }
}
