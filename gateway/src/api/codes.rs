//! ID-4 over REST: one-time codes — sign in without a password, and join
//! (an invitation code plus a new password).

use axum::{Json, extract::State, http::HeaderMap, response::Response};
use homeroom_proto::identity::v1 as idpb;
use serde::{Deserialize, Serialize};

use super::{
    caller::RequestId,
    error::ApiError,
    json::timestamp,
    session::{SignedIn, client, issued, signed_in},
};
use crate::app::AppState;

/// `POST /api/v1/auth/codes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendCodeBody {
    /// Email or phone number, in any common form.
    pub identifier: String,
    /// Region for phone numbers without a country code, e.g. `US`.
    #[serde(default)]
    pub phone_region: String,
    /// Only accounts of this district.
    #[serde(default)]
    pub district_id: String,
    /// The code is for this account only (an invitation link names it).
    #[serde(default)]
    pub account_id: String,
    /// `login` (the default) or `invitation`.
    #[serde(default)]
    pub purpose: String,
    /// A retry with the same key sends nothing new.
    #[serde(default)]
    pub idempotency_key: String,
}

/// Where the code went (masked), and until when it is good. The same answer
/// whether or not the identifier is known.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeSent {
    pub masked_destination: String,
    pub expires_at: Option<String>,
}

/// `POST /api/v1/auth/codes/verify`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyCodeBody {
    /// The identifier the code was sent to.
    pub identifier: String,
    /// The 6-digit code.
    pub code: String,
    /// Region for phone numbers without a country code.
    #[serde(default)]
    pub phone_region: String,
    /// A browser: keep the tokens in HttpOnly cookies.
    #[serde(default)]
    pub use_cookies: bool,
}

/// `POST /api/v1/auth/accept-invitation`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptInvitationBody {
    /// The email or phone an invitation-purpose code was sent to; leave it out
    /// with a join link's `code`, which names its account.
    #[serde(default)]
    pub identifier: String,
    /// The `code` of the invitation's join link (`/join?code=…`), or a 6-digit
    /// code sent to `identifier`.
    pub code: String,
    /// The password to set.
    pub new_password: String,
    /// Region for phone numbers without a country code.
    #[serde(default)]
    pub phone_region: String,
    /// A browser: keep the tokens in HttpOnly cookies.
    #[serde(default)]
    pub use_cookies: bool,
}

fn purpose(name: &str) -> Result<idpb::OneTimeCodePurpose, ApiError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "" | "login" => Ok(idpb::OneTimeCodePurpose::Login),
        "invitation" => Ok(idpb::OneTimeCodePurpose::Invitation),
        _ => Err(ApiError::bad_request("purpose: one of login, invitation")),
    }
}

/// `POST /api/v1/auth/codes`: sends a one-time code to an email or phone.
#[utoipa::path(
    operation_id = "send_code",
    post,
    path = "/auth/codes",
    tag = "sessions",
    request_body = SendCodeBody,
    responses(
        (status = 200, description = "A code was sent if the address belongs to an account", body = CodeSent),
        (status = 400, description = "The body cannot be read or the identifier is not an email or phone", body = super::error::ErrorBody),
        (status = 429, description = "Too many codes asked for", body = super::error::ErrorBody),
    )
)]
pub async fn send(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    body: Result<Json<SendCodeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<CodeSent>, ApiError> {
    let Json(body) = body?;
    let answer = state
        .identity()
        .send_one_time_code(id.request(idpb::SendOneTimeCodeRequest {
            purpose: purpose(&body.purpose)? as i32,
            identifier: body.identifier,
            phone_region: body.phone_region,
            district_id: body.district_id,
            account_id: body.account_id,
            idempotency_key: body.idempotency_key,
            client: client(&headers, &id),
        }))
        .await?
        .into_inner();
    Ok(Json(CodeSent {
        expires_at: answer.expires_at.as_ref().and_then(timestamp),
        masked_destination: answer.masked_destination,
    }))
}

/// `POST /api/v1/auth/codes/verify`: signs in with a one-time code; several
/// accounts on the address give an account choice.
#[utoipa::path(
    operation_id = "verify_code",
    post,
    path = "/auth/codes/verify",
    tag = "sessions",
    request_body = VerifyCodeBody,
    responses(
        (status = 200, description = "Signed in, or a choice of accounts", body = super::session::LoginAnswer),
        (status = 400, description = "The body cannot be read", body = super::error::ErrorBody),
        (status = 401, description = "The code is wrong, spent or expired", body = super::error::ErrorBody),
        (status = 429, description = "Too many attempts", body = super::error::ErrorBody),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    body: Result<Json<VerifyCodeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    use idpb::verify_one_time_code_response::Outcome;
    let Json(body) = body?;
    let answer = state
        .identity()
        .verify_one_time_code(id.request(idpb::VerifyOneTimeCodeRequest {
            identifier: body.identifier,
            phone_region: body.phone_region,
            code: body.code,
            client: client(&headers, &id),
        }))
        .await?
        .into_inner();
    signed_in(
        match answer.outcome {
            Some(Outcome::Tokens(t)) => SignedIn::Tokens(t),
            Some(Outcome::AccountChoice(c)) => SignedIn::Choice(c),
            None => SignedIn::Nothing,
        },
        body.use_cookies,
    )
}

/// `POST /api/v1/auth/accept-invitation`: joins with the invitation's link
/// code (or a code sent to the address) and a new password; the account is
/// then active and signed in.
#[utoipa::path(
    operation_id = "accept_invitation",
    post,
    path = "/auth/accept-invitation",
    tag = "sessions",
    request_body = AcceptInvitationBody,
    responses(
        (status = 200, description = "Joined and signed in", body = super::session::Tokens),
        (status = 400, description = "The body cannot be read, or the password breaks the policy", body = super::error::ErrorBody),
        (status = 401, description = "The code is wrong, spent or expired", body = super::error::ErrorBody),
        (status = 429, description = "Too many attempts", body = super::error::ErrorBody),
    )
)]
pub async fn accept_invitation(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    body: Result<Json<AcceptInvitationBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let answer = state
        .identity()
        .accept_invitation(id.request(idpb::AcceptInvitationRequest {
            identifier: body.identifier,
            phone_region: body.phone_region,
            code: body.code,
            new_password: body.new_password,
            client: client(&headers, &id),
        }))
        .await?
        .into_inner();
    issued(answer.tokens, body.use_cookies)
}
