//! The signed-in account's own contact settings over REST: notification
//! preferences per channel (MS-3), editing names, email, phone and language
//! (ID-8, refused with the RO-6 setting's explanation while the sync manages
//! them), and confirming an email or phone with a code sent to it (ID-7).
//! The console's "My account" page calls the same RPCs.

use axum::{Json, extract::State, http::HeaderMap};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    caller::Caller,
    error::ApiError,
    json::{enum_value, timestamp},
    me::{AccountView, CredentialView},
    session::client,
};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(preferences, update_preferences))
        .routes(routes!(update_contact))
        .routes(routes!(send_confirmation_code))
        .routes(routes!(confirm))
}

/// Channels by their REST names.
pub const CHANNELS: &[&str] = &["email", "sms", "voice"];

/// Whether the account receives messages on one channel.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelPreferenceView {
    /// `email`, `sms` or `voice`.
    pub channel: String,
    /// Receive messages on it (emergencies are sent regardless).
    pub enabled: bool,
}

/// An account's notification preferences.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesView {
    /// One entry per channel.
    pub channels: Vec<ChannelPreferenceView>,
    /// Whether the account ever saved a choice (if not, every channel is on).
    pub customized: bool,
    /// RFC 3339; empty if never changed.
    pub updated_at: String,
}

impl From<mpb::Preferences> for PreferencesView {
    fn from(p: mpb::Preferences) -> PreferencesView {
        PreferencesView {
            channels: p
                .channels
                .iter()
                .map(|c| ChannelPreferenceView {
                    channel: channel_name(c.channel()).into(),
                    enabled: c.enabled,
                })
                .collect(),
            customized: p.customized,
            updated_at: p
                .updated_at
                .as_ref()
                .and_then(timestamp)
                .unwrap_or_default(),
        }
    }
}

/// The REST name of a channel.
pub fn channel_name(channel: mpb::Channel) -> &'static str {
    match channel {
        mpb::Channel::Sms => "sms",
        mpb::Channel::Voice => "voice",
        _ => "email",
    }
}

/// The signed-in account, or 403 for a service token.
fn own_account(caller: &Caller) -> Result<String, ApiError> {
    caller
        .principal
        .account_id()
        .map(str::to_owned)
        .ok_or_else(|| ApiError::new(tonic::Code::PermissionDenied, "sign in as a person"))
}

/// The signed-in account's preferences as messaging holds them.
pub async fn get_preferences(
    state: &AppState,
    caller: &Caller,
) -> Result<PreferencesView, ApiError> {
    let account_id = own_account(caller)?;
    let answer = state
        .messaging()
        .get_preferences(caller.request(mpb::GetPreferencesRequest { account_id }))
        .await?
        .into_inner();
    Ok(answer.preferences.unwrap_or_default().into())
}

/// Changes the signed-in account's preferences (channels not named keep
/// their value).
pub async fn set_preferences(
    state: &AppState,
    caller: &Caller,
    channels: &[ChannelPreferenceView],
) -> Result<PreferencesView, ApiError> {
    let account_id = own_account(caller)?;
    let channels = channels
        .iter()
        .map(|c| {
            Ok(mpb::ChannelPreference {
                channel: enum_value(
                    "channels.channel",
                    &c.channel,
                    "CHANNEL_",
                    CHANNELS,
                    mpb::Channel::from_str_name,
                )?,
                enabled: c.enabled,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let answer = state
        .messaging()
        .update_preferences(caller.request(mpb::UpdatePreferencesRequest {
            account_id,
            channels,
        }))
        .await?
        .into_inner();
    Ok(answer.preferences.unwrap_or_default().into())
}

/// `GET /api/v1/me/preferences`.
#[utoipa::path(
    get,
    path = "/me/preferences",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in account's notification preferences", body = PreferencesView),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "A service token, not a person", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn preferences(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PreferencesView>, ApiError> {
    Ok(Json(get_preferences(&state, &caller).await?))
}

/// `PUT /api/v1/me/preferences`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesBody {
    /// The channels to change; the others keep their value.
    pub channels: Vec<ChannelPreferenceView>,
}

/// `PUT /api/v1/me/preferences`: which channels the signed-in account
/// receives messages on (seed 000: parents sharing an email and a phone
/// each choose text or email).
#[utoipa::path(
    put,
    path = "/me/preferences",
    tag = "accounts",
    request_body = PreferencesBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The preferences after the change", body = PreferencesView),
        (status = 400, description = "The body cannot be read or names an unknown channel", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "A service token, not a person", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn update_preferences(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<PreferencesBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<PreferencesView>, ApiError> {
    let Json(body) = body?;
    Ok(Json(
        set_preferences(&state, &caller, &body.channels).await?,
    ))
}

/// `PATCH /api/v1/me/contact`: the fields to change; absent ones keep their
/// value.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactBody {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Any common form; stored trimmed and lower-cased, unconfirmed.
    pub email: Option<String>,
    /// Any common form; stored as E.164, unconfirmed.
    pub mobile_phone: Option<String>,
    /// `en` or `es` (BCP 47).
    pub preferred_language: Option<String>,
}

/// The account after a contact edit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub account: AccountView,
    /// `EMAIL` or `MOBILE_PHONE`: changed, and now awaiting confirmation.
    pub unconfirmed: Vec<String>,
}

/// Changes the signed-in account's names, email, phone or language.
pub async fn edit_contact(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: ContactBody,
) -> Result<ContactView, ApiError> {
    let account_id = own_account(caller)?;
    let answer = state
        .identity()
        .update_contact_details(caller.request(idpb::UpdateContactDetailsRequest {
            account_id,
            given_name: body.given_name,
            family_name: body.family_name,
            email: body.email,
            mobile_phone: body.mobile_phone,
            preferred_language: body.preferred_language,
            client: client(headers, caller.request_id()),
            ..Default::default()
        }))
        .await?
        .into_inner();
    let unconfirmed = answer
        .unconfirmed()
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("CREDENTIAL_KIND_")
                .to_owned()
        })
        .collect();
    let account = answer
        .account
        .ok_or_else(|| ApiError::new(tonic::Code::Internal, "no account in the answer"))?;
    Ok(ContactView {
        account: account.into(),
        unconfirmed,
    })
}

/// `PATCH /api/v1/me/contact`: edits the signed-in account's names, email,
/// mobile phone or language (ID-8). A changed email or phone is unconfirmed
/// until its code comes back. While the sync manages the contact details of
/// an active user (RO-6), names, email and phone are refused with the
/// setting's name.
#[utoipa::path(
    patch,
    path = "/me/contact",
    tag = "accounts",
    request_body = ContactBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account after the change", body = ContactView),
        (status = 400, description = "A field cannot be read (the message names it), or the sync manages these contact details (RO-6, FAILED_PRECONDITION)", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "A service token, not a person", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn update_contact(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Json<ContactBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ContactView>, ApiError> {
    let Json(body) = body?;
    Ok(Json(edit_contact(&state, &caller, &headers, body).await?))
}

/// `EMAIL` or `MOBILE_PHONE`, as the wire value.
pub fn credential_kind(name: &str) -> Result<i32, ApiError> {
    enum_value(
        "kind",
        name,
        "CREDENTIAL_KIND_",
        &["EMAIL", "MOBILE_PHONE"],
        idpb::CredentialKind::from_str_name,
    )
}

/// `POST /api/v1/me/credentials/confirmation-code`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeBody {
    /// `EMAIL` or `MOBILE_PHONE`.
    pub kind: String,
    /// A retry with the same key sends nothing new.
    #[serde(default)]
    pub idempotency_key: String,
}

/// Where a confirmation code went.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeSentView {
    /// Masked, e.g. `s•••@mail.com`.
    pub masked_destination: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Sends a code to the signed-in account's email or phone.
pub async fn send_code(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    kind: &str,
    idempotency_key: String,
) -> Result<CodeSentView, ApiError> {
    let account_id = own_account(caller)?;
    let kind = credential_kind(kind)?;
    let answer = state
        .identity()
        .send_credential_confirmation_code(caller.request(
            idpb::SendCredentialConfirmationCodeRequest {
                account_id,
                kind,
                idempotency_key,
                client: client(headers, caller.request_id()),
            },
        ))
        .await?
        .into_inner();
    Ok(CodeSentView {
        masked_destination: answer.masked_destination,
        expires_at: answer
            .expires_at
            .as_ref()
            .and_then(timestamp)
            .unwrap_or_default(),
    })
}

/// `POST /api/v1/me/credentials/confirmation-code`: sends a code to the
/// signed-in account's email or mobile phone (ID-7).
#[utoipa::path(
    post,
    path = "/me/credentials/confirmation-code",
    tag = "accounts",
    request_body = CodeBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent", body = CodeSentView),
        (status = 400, description = "The body cannot be read, or the account has no such credential", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "A service token, not a person", body = super::error::ErrorBody),
        (status = 404, description = "The account has no credential of this kind", body = super::error::ErrorBody),
        (status = 429, description = "Too many codes", body = super::error::ErrorBody),
    )
)]
pub async fn send_confirmation_code(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Json<CodeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<CodeSentView>, ApiError> {
    let Json(body) = body?;
    Ok(Json(
        send_code(&state, &caller, &headers, &body.kind, body.idempotency_key).await?,
    ))
}

/// `POST /api/v1/me/credentials/confirm`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmBody {
    /// `EMAIL` or `MOBILE_PHONE`.
    pub kind: String,
    /// The 6-digit code.
    pub code: String,
}

/// Confirms the signed-in account's email or phone with its code.
pub async fn confirm_with_code(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    kind: &str,
    code: String,
) -> Result<CredentialView, ApiError> {
    let account_id = own_account(caller)?;
    let kind = credential_kind(kind)?;
    let answer = state
        .identity()
        .confirm_credential(caller.request(idpb::ConfirmCredentialRequest {
            account_id,
            kind,
            code,
            client: client(headers, caller.request_id()),
        }))
        .await?
        .into_inner();
    let credential = answer
        .credential
        .ok_or_else(|| ApiError::new(tonic::Code::Internal, "no credential in the answer"))?;
    Ok(CredentialView::from(&credential))
}

/// `POST /api/v1/me/credentials/confirm`: confirms the email or phone with
/// the code sent to it (ID-7).
#[utoipa::path(
    post,
    path = "/me/credentials/confirm",
    tag = "accounts",
    request_body = ConfirmBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Confirmed", body = CredentialView),
        (status = 400, description = "The body cannot be read", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token, or the code is not right or expired", body = super::error::ErrorBody),
        (status = 403, description = "A service token, not a person", body = super::error::ErrorBody),
        (status = 404, description = "The account has no credential of this kind", body = super::error::ErrorBody),
        (status = 429, description = "Too many wrong codes", body = super::error::ErrorBody),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Json<ConfirmBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<CredentialView>, ApiError> {
    let Json(body) = body?;
    Ok(Json(
        confirm_with_code(&state, &caller, &headers, &body.kind, body.code).await?,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_lists_the_contact_routes() {
        super::super::assert_documents(
            &super::super::document(),
            &[
                "/me/preferences",
                "/me/contact",
                "/me/credentials/confirmation-code",
                "/me/credentials/confirm",
            ],
        );
    }

    #[test]
    fn credential_kinds_are_named_and_others_refused() {
        assert!(super::credential_kind("email").is_ok());
        assert!(super::credential_kind("MOBILE_PHONE").is_ok());
        let e = super::credential_kind("home_phone").unwrap_err();
        assert!(e.message.contains("kind"), "{}", e.message);
    }
}
