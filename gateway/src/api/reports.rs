//! GW-1: the shared-credential report (ID-9) — every email and phone held by
//! more than one account, with its holders — as JSON pages and as a CSV
//! download. (The duplicate-guardian report, RO-8, is a roster route.)

use axum::{
    Json,
    extract::{Query, State},
    response::Response,
};
use homeroom_proto::identity::v1 as idpb;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    caller::Caller,
    download::download,
    error::ApiError,
    json::{listed, page_size},
    me::{RoleView, StudentView},
};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(shared_credentials))
        .routes(routes!(shared_credentials_csv))
}

/// Which shared credentials to report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SharedQuery {
    /// The district.
    pub district_id: String,
    /// Only credentials with a holder in this school.
    #[serde(default)]
    pub school_id: String,
    /// Only these kinds, comma separated: `email`, `mobile_phone`,
    /// `home_phone` (default: email and mobile phone).
    #[serde(default)]
    pub kinds: String,
    /// Also report home phones (kept on record only).
    #[serde(default)]
    pub include_home_phones: bool,
    /// JSON pages only: 1–500, default 100.
    #[serde(default)]
    pub page_size: Option<i32>,
    /// JSON pages only: the previous page's `nextPageToken`.
    #[serde(default)]
    pub page_token: String,
}

/// An account holding a shared credential.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HolderView {
    pub account_id: String,
    pub display_name: String,
    pub kind: String,
    pub status: String,
    pub roles: Vec<RoleView>,
    pub linked_students: Vec<StudentView>,
    /// Whether this holder confirmed the credential (ID-7).
    pub confirmed: bool,
}

/// An email or phone held by more than one account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedCredentialView {
    pub kind: String,
    pub value: String,
    /// Active and invited holders (deactivated ones are listed, not counted).
    pub shared_count: u32,
    pub holders: Vec<HolderView>,
}

/// A page of the report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedCredentialPage {
    pub shared_credentials: Vec<SharedCredentialView>,
    pub next_page_token: String,
    pub total_size: i32,
}

fn kinds(names: &str) -> Result<Vec<i32>, ApiError> {
    listed(
        "kinds",
        names,
        "CREDENTIAL_KIND_",
        &["email", "mobile_phone", "home_phone"],
        idpb::CredentialKind::from_str_name,
    )
}

fn holder(h: idpb::SharedCredentialHolder) -> HolderView {
    HolderView {
        kind: h.kind().as_str_name().to_string(),
        status: h.status().as_str_name().to_string(),
        roles: h.roles.iter().map(RoleView::from).collect(),
        linked_students: h
            .linked_students
            .into_iter()
            .map(StudentView::from)
            .collect(),
        account_id: h.account_id,
        display_name: h.display_name,
        confirmed: h.confirmed,
    }
}

/// `GET /api/v1/reports/shared-credentials`: a page of the emails and phones
/// more than one account holds, with every holder.
#[utoipa::path(
    get,
    path = "/reports/shared-credentials",
    tag = "reports",
    params(SharedQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the report", body = SharedCredentialPage),
        (status = 400, description = "A parameter is missing or not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not see this district's or school's report", body = super::error::ErrorBody),
    )
)]
pub async fn shared_credentials(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SharedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SharedCredentialPage>, ApiError> {
    let q = super::params::query(query)?;
    Ok(Json(shared_credentials_page(&state, &caller, q).await?))
}

/// A page of the shared-credential report as `caller` may see it (the REST
/// route and the console's page).
pub async fn shared_credentials_page(
    state: &AppState,
    caller: &Caller,
    q: SharedQuery,
) -> Result<SharedCredentialPage, ApiError> {
    let answer = state
        .identity()
        .list_shared_credentials(caller.request(idpb::ListSharedCredentialsRequest {
            kinds: kinds(&q.kinds)?,
            page_size: page_size(q.page_size, 100, 500)?,
            district_id: q.district_id,
            school_id: q.school_id,
            include_home_phones: q.include_home_phones,
            page_token: q.page_token,
        }))
        .await?
        .into_inner();
    Ok(SharedCredentialPage {
        shared_credentials: answer
            .shared_credentials
            .into_iter()
            .map(|c| SharedCredentialView {
                kind: c.kind().as_str_name().to_string(),
                value: c.value,
                shared_count: c.shared_count,
                holders: c.holders.into_iter().map(holder).collect(),
            })
            .collect(),
        next_page_token: answer.next_page_token,
        total_size: answer.total_size,
    })
}

/// `GET /api/v1/reports/shared-credentials.csv`: the whole report as CSV,
/// one row per holder, streamed.
#[utoipa::path(
    get,
    path = "/reports/shared-credentials.csv",
    tag = "reports",
    params(SharedQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report as CSV", content_type = "text/csv", body = String),
        (status = 400, description = "A parameter is missing or not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not see this district's or school's report", body = super::error::ErrorBody),
    )
)]
pub async fn shared_credentials_csv(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SharedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = super::params::query(query)?;
    let stream = state
        .identity()
        .download_shared_credentials_report(caller.request(
            idpb::DownloadSharedCredentialsReportRequest {
                kinds: kinds(&q.kinds)?,
                district_id: q.district_id,
                school_id: q.school_id,
                include_home_phones: q.include_home_phones,
            },
        ))
        .await?
        .into_inner();
    download(stream).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_reports_are_documented() {
        super::super::assert_documents(
            &super::super::document(),
            &[
                "/reports/shared-credentials",
                "/reports/shared-credentials.csv",
            ],
        );
    }

    #[test]
    fn kinds_are_named_and_anything_else_is_refused() {
        assert_eq!(super::kinds("").ok(), Some(vec![]));
        assert_eq!(super::kinds("email, mobile_phone").ok(), Some(vec![1, 2]));
        assert_eq!(
            super::kinds("fax").unwrap_err().message,
            "kinds: one of email, mobile_phone, home_phone"
        );
    }
}
