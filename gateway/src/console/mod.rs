//! The web console (GW-3): server-rendered pages at `/` for district staff
//! and for guardians on phones. The REST API stays under `/api/v1`.
//!
//! How it is built:
//! - **Pages** are askama templates (`templates/`, checked at compile time),
//!   one per page, all extending `base.html`; one module per area renders
//!   them: [`sign_in`] (sign in, the account choice, joining), [`account`]
//!   (my account), [`people`] (search), [`profile`] (user and student
//!   profiles, Reset Status), [`roles`] (staff roles on a profile),
//!   [`reports`] (the list, shared credentials), [`duplicates`] (duplicate
//!   guardians), [`audit`] (the audit log), [`rostering`] (SIS Rostering:
//!   Upload Guardians, streamed to roster-svc like the REST upload), [`sync`]
//!   (sync sources and a source's page with the seed-002 setting),
//!   [`source_edit`] (a source's form, [`source_form`] and [`source_fields`],
//!   and Pause), [`bundle`] (a OneRoster CSV bundle's upload, streamed like
//!   the REST one), [`run_report`] (a run and its report), [`messages`]
//!   (communications, Compose with its preview, a communication's
//!   deliveries). Every form posts to the console and works without
//!   JavaScript;
//!   `assets/console.js` only asks before destructive forms, stops double
//!   submits and shows an upload's progress.
//! - **Access** is the services' business: a page calls the same RPCs as
//!   the REST routes, with the signed-in user's access token, and shows what
//!   they answer. The console never widens what a user may see.
//! - **Session** ([`session`]): the REST API's HttpOnly, Secure,
//!   SameSite=Strict cookies (access, refresh, CSRF). Every form carries the
//!   CSRF token in a hidden field, checked against the cookie; a page whose
//!   access token expired refreshes it (`/session/refresh`) and comes back.
//! - **Headers**: a Content-Security-Policy without inline script or style,
//!   `X-Frame-Options: DENY`, no referrer (join links carry codes), and
//!   `no-store` on pages; assets ([`assets`]) are embedded and served under
//!   hashed names, cached for a year.
//! - **Words** ([`text`], the staff pages' in [`text::staff`], SIS
//!   Rostering's in [`text::rostering`], Messages' in [`text::messages`])
//!   in English and Spanish, by the account's language (remembered in a
//!   `homeroom_lang` cookie) or the browser's.

mod account;
mod assets;
mod audit;
mod bundle;
mod duplicates;
mod messages;
mod people;
mod profile;
mod reports;
mod roles;
mod rostering;
mod run_report;
mod session;
mod sign_in;
mod source_edit;
mod source_fields;
mod source_form;
mod sync;
pub mod text;

use axum::{
    Router,
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::app::AppState;
pub use session::Signed;
use text::Text;

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-in/choose", post(sign_in::choose))
        .route(
            "/sign-in/code",
            get(sign_in::code_form).post(sign_in::send_code),
        )
        .route("/sign-in/code/verify", post(sign_in::verify_code))
        .route("/join", get(sign_in::join_form).post(sign_in::join))
        .route("/session/refresh", get(session::refresh))
        .route("/sign-out", post(session::sign_out))
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/preferences", post(account::save_preferences))
        .route("/account/contact", post(account::save_contact))
        .route("/account/confirm/send", post(account::send_confirmation))
        .route("/account/confirm", post(account::confirm))
        .route("/people", get(people::search))
        .route("/accounts/{id}", get(profile::account))
        .route("/accounts/{id}/reset-status", post(profile::reset_status))
        .route("/accounts/{id}/roles", post(roles::change))
        .route("/students/{id}", get(profile::student))
        .route(
            "/reports/shared-credentials",
            get(reports::shared_credentials),
        )
        .route("/reports", get(reports::index))
        .route("/reports/audit", get(audit::page))
        .route("/reports/duplicate-guardians", get(duplicates::page))
        .route("/rostering", get(rostering::index))
        .route(
            "/rostering/upload-guardians",
            get(rostering::form).post(rostering::upload).layer(
                axum::extract::DefaultBodyLimit::max(rostering::MAX_FORM_BYTES),
            ),
        )
        .route(
            "/rostering/upload-guardians/template.csv",
            get(rostering::template),
        )
        .route("/rostering/uploads/{id}", get(rostering::status))
        .route(
            "/rostering/sources",
            get(sync::sources).post(source_edit::create),
        )
        .route("/rostering/sources/new", get(source_edit::new_form))
        .route("/rostering/sources/{id}", get(sync::source))
        .route(
            "/rostering/sources/{id}/edit",
            get(source_edit::edit_form).post(source_edit::update),
        )
        .route("/rostering/sources/{id}/pause", post(source_edit::pause))
        .route(
            "/rostering/sources/{id}/contact-updates",
            post(sync::contact_updates),
        )
        .route("/rostering/sources/{id}/runs", post(sync::start))
        .route(
            "/rostering/sources/{id}/bundles",
            post(bundle::upload)
                .layer(axum::extract::DefaultBodyLimit::max(bundle::MAX_FORM_BYTES)),
        )
        .route("/rostering/runs/{id}", get(run_report::run))
        .route("/messages", get(messages::list).post(messages::send))
        .route("/messages/new", get(messages::compose))
        .route("/messages/preview", post(messages::preview))
        .route("/messages/{id}", get(messages::detail))
        .route("/assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(security_headers))
}

/// `/`: my account when signed in, else sign-in (the extractor redirects).
async fn home(_signed: Signed) -> Redirect {
    Redirect::to("/account")
}

/// What every page's frame needs: language, words, assets, and for a
/// signed-in user the CSRF token of the sign-out form.
pub struct Chrome {
    pub lang: &'static str,
    pub t: &'static Text,
    pub css: &'static str,
    pub js: &'static str,
    pub user: Option<UserChrome>,
    /// The navigation entry of this page (`aria-current`).
    pub here: &'static str,
}

/// The signed-in part of the frame.
pub struct UserChrome {
    pub csrf: String,
    /// A district administrator: the reports are in the menu.
    pub reports: bool,
    /// Staff who may search for people.
    pub people: bool,
    /// Rostering and district administrators: SIS Rostering is in the menu.
    pub rostering: bool,
    /// Communications and district administrators: Messages is in the menu.
    pub messages: bool,
}

impl Chrome {
    /// The frame of a page shown before sign-in.
    pub fn anonymous(headers: &HeaderMap) -> Chrome {
        Chrome::new(language(headers), None, "")
    }

    fn new(t: &'static Text, user: Option<UserChrome>, here: &'static str) -> Chrome {
        Chrome {
            lang: t.code,
            t,
            css: assets::css(),
            js: assets::js(),
            user,
            here,
        }
    }
}

/// The cookie remembering the account's language for the frame.
pub const LANG_COOKIE: &str = "homeroom_lang";

/// The words for this browser: the account's language (cookie), else the
/// browser's.
pub fn language(headers: &HeaderMap) -> &'static Text {
    match crate::api::cookies::get(headers, LANG_COOKIE) {
        Some(code) => text::for_language(&code),
        None => text::for_accept_language(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        ),
    }
}

/// A rendered page with its status.
pub fn render(status: StatusCode, page: impl askama::Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// A short page saying one thing, with one link onwards.
#[derive(askama::Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub title: String,
    pub text: String,
    /// `good`, `bad` or `note`.
    pub tone: &'static str,
    pub link: String,
    pub link_text: String,
}

/// The console's answer to a path nothing serves (the API keeps its JSON).
pub async fn not_found(headers: HeaderMap) -> Response {
    let chrome = Chrome::anonymous(&headers);
    let t = chrome.t;
    let page = MessagePage {
        chrome,
        title: t.not_found.into(),
        text: t.not_found_text.into(),
        tone: "note",
        link: "/".into(),
        link_text: t.go_home.into(),
    };
    with_security_headers(render(StatusCode::NOT_FOUND, page))
}

/// The headers of every console answer.
async fn security_headers(request: Request, next: Next) -> Response {
    with_security_headers(next.run(request).await)
}

fn with_security_headers(mut response: Response) -> Response {
    const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    let is_asset = response
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().starts_with(b"public"));
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// "Parent/guardian", "Staff, Teacher": an account's kind and roles in
/// words, each once (a guardian's guardian role is their kind).
pub fn kind_and_roles(
    t: &Text,
    kind: homeroom_proto::identity::v1::AccountKind,
    roles: impl Iterator<Item = homeroom_proto::identity::v1::Role>,
) -> Vec<String> {
    let mut what = vec![t.kind(kind).to_owned()];
    for role in roles.map(|r| t.role(r).to_owned()) {
        if !what.contains(&role) {
            what.push(role);
        }
    }
    what
}

/// When, for a person: `2026-12-07 13:05 UTC`.
pub fn when(rfc3339: Option<&str>) -> String {
    rfc3339
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_default()
}

/// `ACCOUNT_STATUS_ACTIVE` → "Active": a protobuf enum name in words.
pub fn words(name: &str, prefix: &str) -> String {
    let rest = name.strip_prefix(prefix).unwrap_or(name).replace('_', " ");
    let lower = rest.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "—".into(),
    }
}

/// A service's message for a person: without the leading field name the API
/// keeps for programs (`new_password: use at least 8 characters` reads "Use
/// at least 8 characters").
pub fn for_people(message: &str) -> String {
    let text = message
        .split_once(": ")
        .filter(|(field, _)| {
            !field.is_empty()
                && field
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.[]".contains(c))
        })
        .map_or(message, |(_, rest)| rest);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Where to go after signing in: a path of this site, never another host.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 512;
    if ok && next != "/" {
        next.to_owned()
    } else {
        "/account".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{for_people, safe_next};

    #[test]
    fn messages_for_people_lose_the_field_name() {
        assert_eq!(
            for_people("new_password: use at least 8 characters"),
            "Use at least 8 characters"
        );
        assert_eq!(for_people("Try again: later"), "Try again: later");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/account"), "/account");
        for outside in [
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "",
            "account",
            "/\tx",
        ] {
            assert_eq!(safe_next(outside), "/account", "{outside:?}");
        }
    }
}
