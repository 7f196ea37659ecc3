//! RO-7 over REST: the upload history of a district or school, one upload's
//! status and progress, its result rows, and the result file. (The upload
//! itself is in [`super::upload_form`].)

use axum::{
    Json,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    response::Response,
};
use homeroom_proto::roster::v1 as pb;
use serde::{Deserialize, Serialize};

use super::{
    download::download,
    enums::{Format, RowResult, UploadStatus},
    params::{
        self, BadRequest, Forbidden, NotFound, Unauthenticated, id, next_page, optional_id, path_id,
    },
    upload_view::{UploadRowView, UploadView},
};
use crate::{
    api::{caller::Caller, error::ApiError},
    app::AppState,
};

/// `GET /api/v1/guardian-uploads`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UploadsQuery {
    /// The district.
    pub district_id: String,
    /// Only the uploads of this school.
    pub school_id: Option<String>,
    /// Only uploads with this status.
    #[param(inline)]
    pub status: Option<UploadStatus>,
}

/// One page of uploads, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadPage {
    pub uploads: Vec<UploadView>,
    /// `null` on the last page.
    pub next_page_token: Option<String>,
}

/// `GET /api/v1/guardian-uploads/{uploadId}/rows`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UploadRowsQuery {
    /// Only rows with this result.
    #[param(inline)]
    pub result: Option<RowResult>,
}

/// One page of result rows, in file order (ABANDONED rows last).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadRowPage {
    pub rows: Vec<UploadRowView>,
    /// `null` on the last page.
    pub next_page_token: Option<String>,
    /// Rows matching the filter.
    pub total_size: i64,
}

/// `GET /api/v1/guardian-uploads/{uploadId}/result`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ResultQuery {
    /// `xlsx` (the default) or `csv`.
    #[param(inline)]
    pub format: Option<Format>,
}

/// `GET /api/v1/guardian-uploads`: the upload history, newest first, paged.
#[utoipa::path(
    get,
    operation_id = "list_guardian_uploads",
    path = "/guardian-uploads",
    tag = "uploads",
    params(UploadsQuery, params::Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of uploads", body = UploadPage),
        BadRequest, Unauthenticated, Forbidden,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    filter: Result<Query<UploadsQuery>, QueryRejection>,
    page: Result<Query<params::Page>, QueryRejection>,
) -> Result<Json<UploadPage>, ApiError> {
    let filter = params::query(filter)?;
    let page = params::page(page)?;
    let answer = state
        .roster()
        .list_guardian_uploads(caller.request(pb::ListGuardianUploadsRequest {
            district_id: id("districtId", &filter.district_id)?,
            school_id: optional_id("schoolId", filter.school_id.as_deref())?,
            statuses: filter.status.map(i32::from).into_iter().collect(),
            page_size: page.size,
            page_token: page.token,
        }))
        .await?
        .into_inner();
    Ok(Json(UploadPage {
        uploads: answer.uploads.into_iter().map(Into::into).collect(),
        next_page_token: next_page(answer.next_page_token),
    }))
}

/// `GET /api/v1/guardian-uploads/{uploadId}`: status, progress and counts.
#[utoipa::path(
    get,
    operation_id = "get_guardian_upload",
    path = "/guardian-uploads/{uploadId}",
    tag = "uploads",
    params(("uploadId" = String, Path, description = "The upload")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The upload", body = UploadView),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    upload_id: Result<Path<String>, PathRejection>,
) -> Result<Json<UploadView>, ApiError> {
    let upload = state
        .roster()
        .get_guardian_upload(caller.request(pb::GetGuardianUploadRequest {
            upload_id: path_id(upload_id, "uploadId")?,
        }))
        .await?
        .into_inner()
        .upload
        .unwrap_or_default();
    Ok(Json(upload.into()))
}

/// `GET /api/v1/guardian-uploads/{uploadId}/rows`: result rows, paged.
#[utoipa::path(
    get,
    operation_id = "list_guardian_upload_rows",
    path = "/guardian-uploads/{uploadId}/rows",
    tag = "uploads",
    params(("uploadId" = String, Path, description = "The upload"), UploadRowsQuery, params::Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of rows", body = UploadRowPage),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn rows(
    State(state): State<AppState>,
    caller: Caller,
    upload_id: Result<Path<String>, PathRejection>,
    filter: Result<Query<UploadRowsQuery>, QueryRejection>,
    page: Result<Query<params::Page>, QueryRejection>,
) -> Result<Json<UploadRowPage>, ApiError> {
    let upload_id = path_id(upload_id, "uploadId")?;
    let filter = params::query(filter)?;
    let page = params::page(page)?;
    let answer = state
        .roster()
        .list_guardian_upload_rows(caller.request(pb::ListGuardianUploadRowsRequest {
            upload_id,
            result: filter.result.map_or(0, i32::from),
            page_size: page.size,
            page_token: page.token,
        }))
        .await?
        .into_inner();
    Ok(Json(UploadRowPage {
        rows: answer.rows.into_iter().map(Into::into).collect(),
        next_page_token: next_page(answer.next_page_token),
        total_size: answer.total_size,
    }))
}

/// `GET /api/v1/guardian-uploads/{uploadId}/result`: the result file —
/// every input column plus result, action and error — streamed.
#[utoipa::path(
    get,
    operation_id = "download_guardian_upload_result",
    path = "/guardian-uploads/{uploadId}/result",
    tag = "uploads",
    params(("uploadId" = String, Path, description = "The upload (COMPLETED)"), ResultQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The result as an attachment",
            content(
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv"),
            )),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn result(
    State(state): State<AppState>,
    caller: Caller,
    upload_id: Result<Path<String>, PathRejection>,
    query: Result<Query<ResultQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let upload_id = path_id(upload_id, "uploadId")?;
    let query = params::query(query)?;
    let stream = state
        .roster()
        .download_guardian_upload_result(caller.request(pb::DownloadGuardianUploadResultRequest {
            upload_id,
            format: query.format.unwrap_or(Format::Xlsx).into(),
        }))
        .await?
        .into_inner();
    download(stream).await
}
