//! RO-2 … RO-5 over REST: run a source now (or as a dry run), the sync
//! history, one run's status and totals, its report rows, and the report as
//! CSV or XLSX.

use axum::{
    Json,
    extract::{
        Path, Query, State,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::StatusCode,
    response::Response,
};
use homeroom_proto::roster::v1 as pb;
use serde::{Deserialize, Serialize};

use super::{
    download::download,
    enums::{Action, Entity, Format, RunStatus},
    params::{
        self, BadRequest, Conflict, Forbidden, NotFound, Unauthenticated, next_page, optional_id,
        path_id,
    },
    run_view::{ReportRowView, RunView},
};
use crate::{
    api::{caller::Caller, error::ApiError},
    app::AppState,
};

/// `POST /api/v1/sync-sources/{sourceId}/runs`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRunBody {
    /// RO-4: report only, change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// RO-3: apply even if the deactivation guard trips.
    #[serde(default)]
    pub force: bool,
    /// Read a full snapshot even where the source could sync incrementally.
    #[serde(default)]
    pub full_sync: bool,
    /// A retry with the same key starts nothing new and answers the first run.
    pub idempotency_key: Option<String>,
}

/// `GET /api/v1/sync-runs`: the district, the source or both.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// The district (optional when `sourceId` is given).
    pub district_id: Option<String>,
    /// Only the runs of this source.
    pub source_id: Option<String>,
    /// Only runs with this status.
    #[param(inline)]
    pub status: Option<RunStatus>,
}

/// One page of runs, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunPage {
    pub sync_runs: Vec<RunView>,
    /// `null` on the last page.
    pub next_page_token: Option<String>,
}

/// Filters of a run's report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    /// Only rows about this kind of record.
    #[param(inline)]
    pub entity: Option<Entity>,
    /// Only rows with this action.
    #[param(inline)]
    pub action: Option<Action>,
    /// Free text over source id and name.
    pub q: Option<String>,
}

/// One page of report rows, by row number.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRowPage {
    pub rows: Vec<ReportRowView>,
    /// `null` on the last page.
    pub next_page_token: Option<String>,
    /// Rows matching the filters.
    pub total_size: i64,
}

/// `GET /api/v1/sync-runs/{runId}/report`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `csv` (the default) or `xlsx` (with a totals sheet).
    #[param(inline)]
    pub format: Option<Format>,
    /// Only rows about this kind of record.
    #[param(inline)]
    pub entity: Option<Entity>,
    /// Only rows with this action.
    #[param(inline)]
    pub action: Option<Action>,
}

/// `POST /api/v1/sync-sources/{sourceId}/runs`: runs the source now (the
/// body is optional); answers at once with the queued run (one run per source
/// executes at a time).
#[utoipa::path(
    post,
    operation_id = "start_sync_run",
    path = "/sync-sources/{sourceId}/runs",
    tag = "sync",
    params(("sourceId" = String, Path, description = "The source (not an UPLOAD source)")),
    request_body = Option<StartRunBody>,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued; follow it at /sync-runs/{runId}", body = RunView),
        BadRequest, Unauthenticated, Forbidden, NotFound, Conflict,
    )
)]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    source_id: Result<Path<String>, PathRejection>,
    body: Result<Option<Json<serde_json::Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let sync_source_id = path_id(source_id, "sourceId")?;
    // No body at all is a plain "run now".
    let body: StartRunBody = match body.transpose() {
        Some(body) => params::body(body)?,
        None => StartRunBody::default(),
    };
    let run = state
        .roster()
        .start_sync(caller.request(pb::StartSyncRequest {
            sync_source_id,
            dry_run: body.dry_run,
            force: body.force,
            full_sync: body.full_sync,
            idempotency_key: optional_id("idempotencyKey", body.idempotency_key.as_deref())?,
        }))
        .await?
        .into_inner()
        .sync_run
        .unwrap_or_default();
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// `GET /api/v1/sync-runs`: the sync history of a district or a source,
/// newest first, paged.
#[utoipa::path(
    get,
    operation_id = "list_sync_runs",
    path = "/sync-runs",
    tag = "sync",
    params(RunsQuery, params::Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of runs", body = RunPage),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    filter: Result<Query<RunsQuery>, QueryRejection>,
    page: Result<Query<params::Page>, QueryRejection>,
) -> Result<Json<RunPage>, ApiError> {
    let filter = params::query(filter)?;
    let page = params::page(page)?;
    let sync_source_id = optional_id("sourceId", filter.source_id.as_deref())?;
    let mut district_id = optional_id("districtId", filter.district_id.as_deref())?;
    if district_id.is_empty() {
        if sync_source_id.is_empty() {
            return Err(ApiError::bad_request(
                "districtId or sourceId: give at least one",
            ));
        }
        // The service lists by district: the source's.
        district_id = state
            .roster()
            .get_sync_source(caller.request(pb::GetSyncSourceRequest {
                sync_source_id: sync_source_id.clone(),
            }))
            .await?
            .into_inner()
            .sync_source
            .unwrap_or_default()
            .district_id;
    }
    let answer = state
        .roster()
        .list_sync_runs(caller.request(pb::ListSyncRunsRequest {
            district_id,
            sync_source_id,
            statuses: filter.status.map(i32::from).into_iter().collect(),
            page_size: page.size,
            page_token: page.token,
        }))
        .await?
        .into_inner();
    Ok(Json(RunPage {
        sync_runs: answer.sync_runs.into_iter().map(Into::into).collect(),
        next_page_token: next_page(answer.next_page_token),
    }))
}

/// `GET /api/v1/sync-runs/{runId}`: status, progress, totals and why it
/// failed.
#[utoipa::path(
    get,
    operation_id = "get_sync_run",
    path = "/sync-runs/{runId}",
    tag = "sync",
    params(("runId" = String, Path, description = "The run")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The run", body = RunView),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    run_id: Result<Path<String>, PathRejection>,
) -> Result<Json<RunView>, ApiError> {
    let run = state
        .roster()
        .get_sync_run(caller.request(pb::GetSyncRunRequest {
            sync_run_id: path_id(run_id, "runId")?,
        }))
        .await?
        .into_inner()
        .sync_run
        .unwrap_or_default();
    Ok(Json(run.into()))
}

/// `GET /api/v1/sync-runs/{runId}/rows`: the report's rows (RO-5),
/// filtered, paged.
#[utoipa::path(
    get,
    operation_id = "list_sync_report_rows",
    path = "/sync-runs/{runId}/rows",
    tag = "sync",
    params(("runId" = String, Path, description = "The run"), RowsQuery, params::Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of rows", body = ReportRowPage),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn rows(
    State(state): State<AppState>,
    caller: Caller,
    run_id: Result<Path<String>, PathRejection>,
    filter: Result<Query<RowsQuery>, QueryRejection>,
    page: Result<Query<params::Page>, QueryRejection>,
) -> Result<Json<ReportRowPage>, ApiError> {
    let sync_run_id = path_id(run_id, "runId")?;
    let filter = params::query(filter)?;
    let page = params::page(page)?;
    let answer = state
        .roster()
        .list_sync_report_rows(caller.request(pb::ListSyncReportRowsRequest {
            sync_run_id,
            entities: filter.entity.map(i32::from).into_iter().collect(),
            actions: filter.action.map(i32::from).into_iter().collect(),
            query: optional_id("q", filter.q.as_deref())?,
            page_size: page.size,
            page_token: page.token,
            ..Default::default()
        }))
        .await?
        .into_inner();
    Ok(Json(ReportRowPage {
        rows: answer.rows.into_iter().map(Into::into).collect(),
        next_page_token: next_page(answer.next_page_token),
        total_size: answer.total_size,
    }))
}

/// `GET /api/v1/sync-runs/{runId}/report`: the report file (RO-5), streamed.
#[utoipa::path(
    get,
    operation_id = "download_sync_report",
    path = "/sync-runs/{runId}/report",
    tag = "sync",
    params(("runId" = String, Path, description = "The run"), ReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report as an attachment",
            content(
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    run_id: Result<Path<String>, PathRejection>,
    filter: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let sync_run_id = path_id(run_id, "runId")?;
    let filter = params::query(filter)?;
    let stream = state
        .roster()
        .download_sync_report(caller.request(pb::DownloadSyncReportRequest {
            sync_run_id,
            format: filter.format.unwrap_or(Format::Csv).into(),
            entities: filter.entity.map(i32::from).into_iter().collect(),
            actions: filter.action.map(i32::from).into_iter().collect(),
        }))
        .await?
        .into_inner();
    download(stream).await
}
