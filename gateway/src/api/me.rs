//! ID-11 over REST: the signed-in account.

use axum::{Json, extract::State};
use homeroom_proto::identity::v1 as idpb;
use serde::Serialize;

use super::{caller::Caller, error::ApiError};
use crate::app::AppState;

/// A role of the account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    pub role: String,
    pub district_id: String,
    pub school_id: String,
    /// A sync or upload manages it (the next run replaces it); false when an
    /// administrator assigned it.
    pub sync_managed: bool,
}

/// An email or phone of the account, with how many accounts share it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialView {
    pub kind: String,
    pub value: String,
    pub shared: bool,
    pub shared_count: u32,
    pub confirmed: bool,
}

impl From<&idpb::RoleAssignment> for RoleView {
    fn from(r: &idpb::RoleAssignment) -> RoleView {
        RoleView {
            role: r.role().as_str_name().to_string(),
            district_id: r.district_id.clone(),
            school_id: r.school_id.clone(),
            sync_managed: r.sync_managed,
        }
    }
}

impl From<idpb::LinkedStudent> for StudentView {
    fn from(s: idpb::LinkedStudent) -> StudentView {
        StudentView {
            student_id: s.student_id,
            display_name: s.display_name,
            school_id: s.school_id,
        }
    }
}

impl From<&idpb::Credential> for CredentialView {
    fn from(c: &idpb::Credential) -> CredentialView {
        CredentialView {
            kind: c.kind().as_str_name().to_string(),
            value: c.value.clone(),
            shared: c.shared,
            shared_count: c.shared_count,
            confirmed: c.confirmed,
        }
    }
}

/// A student the account is linked to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentView {
    pub student_id: String,
    pub display_name: String,
    pub school_id: String,
}

/// An account: `GET /api/v1/me`, and the head of a profile.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub account_id: String,
    pub district_id: String,
    pub kind: String,
    pub status: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub roles: Vec<RoleView>,
    pub credentials: Vec<CredentialView>,
    pub linked_students: Vec<StudentView>,
    pub has_password: bool,
    /// Issuers of the SSO identities linked to the account (ID-5), e.g.
    /// `https://accounts.google.com`.
    pub sso_issuers: Vec<String>,
    pub contact_details_editable: bool,
}

/// `GET /api/v1/me`: the caller's account as identity holds it.
#[utoipa::path(
    get,
    path = "/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in account", body = AccountView),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AccountView>, ApiError> {
    let account = state
        .identity()
        .get_me(caller.request(idpb::GetMeRequest {}))
        .await?
        .into_inner()
        .account
        .ok_or_else(|| ApiError::new(tonic::Code::NotFound, "no account"))?;
    Ok(Json(AccountView::from(account)))
}

impl From<idpb::Account> for AccountView {
    fn from(account: idpb::Account) -> AccountView {
        AccountView {
            kind: account.kind().as_str_name().to_string(),
            status: account.status().as_str_name().to_string(),
            roles: account.roles.iter().map(RoleView::from).collect(),
            credentials: account
                .credentials
                .iter()
                .map(CredentialView::from)
                .collect(),
            linked_students: account
                .linked_students
                .into_iter()
                .map(StudentView::from)
                .collect(),
            account_id: account.account_id,
            district_id: account.district_id,
            given_name: account.given_name,
            family_name: account.family_name,
            display_name: account.display_name,
            preferred_language: account.preferred_language,
            has_password: account.has_password,
            sso_issuers: account.sso_issuers,
            contact_details_editable: account.contact_details_editable,
        }
    }
}

/// `POST /api/v1/me/password`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordBody {
    /// The current password (may be empty when the account has none yet).
    #[serde(default)]
    pub current_password: String,
    /// The new password (checked against the password policy).
    pub new_password: String,
    /// A browser: keep the new tokens in HttpOnly cookies.
    #[serde(default)]
    pub use_cookies: bool,
}

/// `POST /api/v1/me/password`: changes the signed-in account's password,
/// ends its other sessions and answers fresh tokens for this one.
#[utoipa::path(
    post,
    path = "/me/password",
    tag = "accounts",
    request_body = PasswordBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed; fresh tokens", body = super::session::Tokens),
        (status = 400, description = "The body cannot be read, or the new password breaks the policy", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token, or the current password is not right", body = super::error::ErrorBody),
        (status = 429, description = "Too many wrong current passwords", body = super::error::ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: Result<Json<PasswordBody>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Json(body) = body?;
    let answer = state
        .identity()
        .change_password(caller.request(idpb::ChangePasswordRequest {
            current_password: body.current_password,
            new_password: body.new_password,
            client: super::session::client(&headers, caller.request_id()),
        }))
        .await?
        .into_inner();
    super::session::issued(answer.tokens, body.use_cookies)
}
