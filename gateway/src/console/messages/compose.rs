//! Compose (MS-1, MS-2, seed 000): the form, its searches and its preview
//! (people, distinct addresses per channel, skips by reason, languages),
//! all posted back to the same page with what was typed; and the send, with
//! the key the form was first shown with, so a double click or a form sent
//! again sends once. An emergency needs its confirmation box.

use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::messaging::v1 as mpb;
use serde::Deserialize;

use super::{
    ChannelRow,
    audience::{self, Pickers},
    channel_row, expand,
    form::{ComposeForm, FieldErrors, GRADES, GUARDIAN_CONTACTS, ROLES},
    reach_sentence,
};
use crate::{
    api::{communications, cookies, error::ApiError, my_contacts::CHANNELS},
    app::AppState,
    console::{Chrome, Signed, language, render, text::Text},
};

/// The longest idempotency key messaging takes.
const MAX_KEY_CHARS: usize = 255;

/// The text in another language, as the form shows it.
struct VariantView {
    code: String,
    name: String,
    subject: String,
    body: String,
    error: Option<String>,
}

/// What a preview found.
struct PreviewView {
    /// "2 people → 1 email, 1 text message".
    reach: String,
    rows: Vec<ChannelRow>,
    /// Ids not found or out of reach, people without an account.
    notes: Vec<String>,
    /// (language, people).
    languages: Vec<(String, u64)>,
    languages_note: Option<&'static str>,
}

#[derive(askama::Template)]
#[template(path = "compose.html")]
struct ComposePage {
    chrome: Chrome,
    csrf: String,
    f: ComposeForm,
    pickers: Pickers,
    /// (code, words, ticked).
    grades: Vec<(&'static str, String, bool)>,
    /// (REST name, words, ticked).
    roles: Vec<(&'static str, &'static str, bool)>,
    /// (REST name, words).
    contacts: Vec<(&'static str, &'static str)>,
    /// (REST name, words, ticked).
    channels: Vec<(&'static str, &'static str, bool)>,
    variants: Vec<VariantView>,
    errors: FieldErrors,
    error: Option<String>,
    preview: Option<PreviewView>,
}

/// The compose page with `f` filled in.
async fn page(
    state: &AppState,
    signed: &Signed,
    f: ComposeForm,
    status: StatusCode,
    errors: FieldErrors,
    error: Option<String>,
    preview: Option<PreviewView>,
) -> Response {
    let chrome = signed.chrome("messages");
    let t = chrome.t;
    let m = t.messages;
    let pickers = audience::pickers(state, &signed.caller, &signed.district_id(), t, &f).await;
    let variants = pickers
        .languages
        .iter()
        .map(|(code, name)| {
            let typed = f.variant_of(code);
            VariantView {
                subject: typed.map(|v| v.subject.clone()).unwrap_or_default(),
                body: typed.map(|v| v.body.clone()).unwrap_or_default(),
                error: errors.variant(code),
                code: code.clone(),
                name: name.clone(),
            }
        })
        .collect();
    let role_words = [
        m.role_guardians,
        m.role_students,
        m.role_teachers,
        m.role_staff,
    ];
    let contact_words = [
        m.contacts_all,
        m.contacts_primary,
        m.contacts_without_emergency,
    ];
    let channel_words = [t.channel_email, t.channel_sms, t.channel_voice];
    let page = ComposePage {
        csrf: signed.csrf.clone(),
        grades: GRADES
            .iter()
            .map(|g| (*g, audience::grade_words(t, g), ticked(&f.grades, g)))
            .collect(),
        roles: ROLES
            .iter()
            .zip(role_words)
            .map(|(r, words)| (*r, words, ticked(&f.roles, r)))
            .collect(),
        contacts: GUARDIAN_CONTACTS
            .iter()
            .copied()
            .zip(contact_words)
            .collect(),
        channels: CHANNELS
            .iter()
            .zip(channel_words)
            .map(|(c, words)| (*c, words, ticked(&f.channels, c)))
            .collect(),
        pickers,
        variants,
        errors,
        error,
        preview,
        f,
        chrome,
    };
    render(status, page)
}

/// Whether `value` is among the ticked `list`.
fn ticked(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == value)
}

/// `?q=`: a class search to start with.
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    q: String,
}

/// `GET /messages/new`: an empty form with a new idempotency key.
pub async fn compose(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<NewQuery>,
) -> Response {
    let f = ComposeForm::fresh(cookies::random_token(), query.q);
    page(
        &state,
        &signed,
        f,
        StatusCode::OK,
        FieldErrors::default(),
        None,
        None,
    )
    .await
}

/// `POST /messages/preview`: the form again with a search's results, or
/// with the preview of its audience (sends nothing).
pub async fn preview(
    State(state): State<AppState>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let t = language(&signed.headers);
    let f = ComposeForm::parse(pairs);
    if !signed.csrf_ok(&f.csrf) {
        return expired(&state, &signed, f).await;
    }
    let nothing = FieldErrors::default();
    if f.step != "preview" {
        // A search: the same form, with what it found.
        return page(&state, &signed, f, StatusCode::OK, nothing, None, None).await;
    }
    let errors = f.check(t, false, &[]);
    if errors.any() {
        return page(
            &state,
            &signed,
            f,
            StatusCode::BAD_REQUEST,
            errors,
            None,
            None,
        )
        .await;
    }
    match preview_of(&state, &signed, t, &f).await {
        Ok(found) => {
            page(
                &state,
                &signed,
                f,
                StatusCode::OK,
                nothing,
                None,
                Some(found),
            )
            .await
        }
        Err(e) => refused(&state, &signed, f, &e).await,
    }
}

/// `POST /messages`: sends, then the communication's page. The form's key
/// makes a second arrival of the same form the first one's communication.
pub async fn send(
    State(state): State<AppState>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let t = language(&signed.headers);
    let f = ComposeForm::parse(pairs);
    if !signed.csrf_ok(&f.csrf)
        || f.idempotency_key.is_empty()
        || f.idempotency_key.chars().count() > MAX_KEY_CHARS
    {
        return expired(&state, &signed, f).await;
    }
    let district_id = signed.district_id();
    let offered = audience::offered_languages(&state, &signed.caller, &district_id).await;
    let errors = f.check(t, true, &offered);
    if errors.any() {
        return page(
            &state,
            &signed,
            f,
            StatusCode::BAD_REQUEST,
            errors,
            None,
            None,
        )
        .await;
    }
    let sent = async {
        let reached = audience_of(&state, &signed, t, &f).await?;
        let request = mpb::SendCommunicationRequest {
            idempotency_key: f.idempotency_key.clone(),
            district_id: district_id.clone(),
            sender_account_id: String::new(),
            subject: f.subject.trim().to_owned(),
            body: f.body.clone(),
            variants: f
                .variants_to_send(&offered)
                .into_iter()
                .map(|v| mpb::ContentVariant {
                    subject: v.subject.trim().to_owned(),
                    language: v.language,
                    body: v.body,
                })
                .collect(),
            channels: communications::channels(&f.channels)?,
            audience: Some(reached),
            emergency: f.emergency,
        };
        let answer = state
            .messaging()
            .send_communication(signed.caller.request(request))
            .await?
            .into_inner();
        Ok::<_, ApiError>(answer.communication_id)
    }
    .await;
    match sent {
        Ok(id) => Redirect::to(&format!("/messages/{id}")).into_response(),
        Err(e) => refused(&state, &signed, f, &e).await,
    }
}

/// The audience of `f`, its grades turned into their students, read as the
/// REST API reads one.
async fn audience_of(
    state: &AppState,
    signed: &Signed,
    t: &Text,
    f: &ComposeForm,
) -> Result<mpb::Audience, ApiError> {
    let grade_students =
        expand::grade_students(state, &signed.caller, &signed.district_id(), t, &f.grades).await?;
    communications::audience(f.audience_body(grade_students))
}

/// Seed 000's counts before sending, and the audience's languages.
async fn preview_of(
    state: &AppState,
    signed: &Signed,
    t: &Text,
    f: &ComposeForm,
) -> Result<PreviewView, ApiError> {
    let district_id = signed.district_id();
    let reached = audience_of(state, signed, t, f).await?;
    let channels = communications::channels(&f.channels)?;
    let mut messaging = state.messaging();
    let (counted, languages) = tokio::join!(
        messaging.preview_audience(signed.caller.request(mpb::PreviewAudienceRequest {
            district_id: district_id.clone(),
            audience: Some(reached.clone()),
            channels,
            emergency: f.emergency,
        })),
        expand::languages(state, &signed.caller, &district_id, &reached),
    );
    let counted = counted?.into_inner();
    let m = t.messages;
    let notes = [
        (counted.not_found_ids.len() as u64, m.not_found_ids),
        (counted.out_of_scope_ids.len() as u64, m.out_of_scope_ids),
        (counted.people_without_account, m.people_without_account),
        (counted.students_without_account, m.students_without_account),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, words)| Text::with_n(words, n))
    .collect();
    let (languages, languages_note) = match languages {
        Ok(found) => (
            found
                .counts
                .into_iter()
                .map(|(code, n)| (audience::language_name(t, &code), n))
                .collect(),
            found.sampled.then_some(m.languages_sampled),
        ),
        Err(_) => (Vec::new(), Some(m.languages_unavailable)),
    };
    Ok(PreviewView {
        reach: reach_sentence(t, counted.recipient_count, &counted.channel_counts),
        rows: counted
            .channel_counts
            .iter()
            .map(|c| channel_row(t, c))
            .collect(),
        notes,
        languages,
        languages_note,
    })
}

/// The form again after a forged or stale CSRF field (or a key that is not
/// one): nothing was sent; a new key for the next try.
async fn expired(state: &AppState, signed: &Signed, mut f: ComposeForm) -> Response {
    let t = language(&signed.headers);
    f.idempotency_key = cookies::random_token();
    page(
        state,
        signed,
        f,
        StatusCode::FORBIDDEN,
        FieldErrors::default(),
        Some(t.expired_form.into()),
        None,
    )
    .await
}

/// The form again with the services' answer in the page's words, next to
/// the field it names when it names one.
async fn refused(state: &AppState, signed: &Signed, mut f: ComposeForm, e: &ApiError) -> Response {
    let t = language(&signed.headers);
    let m = t.messages;
    let mut errors = FieldErrors::default();
    let mut error = None;
    match e.status.as_u16() {
        403 => error = Some(m.send_forbidden.to_owned()),
        // The key sent an earlier, different message (the form was changed
        // after sending): this one goes only with a new key, on purpose.
        409 => {
            error = Some(m.key_used.to_owned());
            f.idempotency_key = cookies::random_token();
        }
        400 | 404 => {
            let text = crate::console::for_people(&e.message);
            let field = e
                .message
                .split_once(':')
                .map_or("", |(field, _)| field.trim());
            match field {
                "subject" => errors.subject = Some(text),
                "body" => errors.body = Some(text),
                "channels" => errors.channels = Some(text),
                other if other.starts_with("audience") || other.ends_with("_ids") => {
                    errors.audience = Some(text);
                }
                _ => error = Some(text),
            }
        }
        _ => {
            tracing::warn!(status = %e.status, message = %e.message, "a compose step failed");
            error = Some(t.unavailable.to_owned());
        }
    }
    page(state, signed, f, e.status, errors, error, None).await
}
