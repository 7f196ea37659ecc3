//! RO-2 / RO-6 over REST: a district's sync sources — list, create, read,
//! change, delete.

use axum::{
    Json,
    extract::{
        Path, Query, State,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use homeroom_proto::roster::v1 as pb;
use serde::{Deserialize, Serialize};

use super::{
    enums::SourceKind,
    params::{
        self, BadRequest, Forbidden, NotFound, Unauthenticated, id, next_page, optional_id, path_id,
    },
    source_input::{Mask, NewSyncSource, SyncSourcePatch},
    source_view::SyncSourceView,
};
use crate::{
    api::{caller::Caller, error::ApiError},
    app::AppState,
};

/// `GET /api/v1/sync-sources`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SourcesQuery {
    /// The district.
    pub district_id: String,
    /// Only the sources of this school.
    pub school_id: Option<String>,
    /// Only sources of this kind.
    #[param(inline)]
    pub kind: Option<SourceKind>,
}

/// One page of sources, by name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSourcePage {
    pub sync_sources: Vec<SyncSourceView>,
    /// `null` on the last page.
    pub next_page_token: Option<String>,
}

/// `GET /api/v1/sync-sources`: a district's sync sources, paged.
#[utoipa::path(
    get,
    operation_id = "list_sync_sources",
    path = "/sync-sources",
    tag = "sync",
    params(SourcesQuery, params::Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of sources", body = SyncSourcePage),
        BadRequest, Unauthenticated, Forbidden,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    filter: Result<Query<SourcesQuery>, QueryRejection>,
    page: Result<Query<params::Page>, QueryRejection>,
) -> Result<Json<SyncSourcePage>, ApiError> {
    let filter = params::query(filter)?;
    let page = params::page(page)?;
    let answer = state
        .roster()
        .list_sync_sources(caller.request(pb::ListSyncSourcesRequest {
            district_id: id("districtId", &filter.district_id)?,
            school_id: optional_id("schoolId", filter.school_id.as_deref())?,
            kinds: filter.kind.map(i32::from).into_iter().collect(),
            page_size: page.size,
            page_token: page.token,
        }))
        .await?
        .into_inner();
    Ok(Json(SyncSourcePage {
        sync_sources: answer.sync_sources.into_iter().map(Into::into).collect(),
        next_page_token: next_page(answer.next_page_token),
    }))
}

/// `POST /api/v1/sync-sources`: a new source (RO-2); answers 201 with it and
/// its `Location`.
#[utoipa::path(
    post,
    operation_id = "create_sync_source",
    path = "/sync-sources",
    tag = "sync",
    request_body = NewSyncSource,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = SyncSourceView,
            headers(("location" = String, description = "The new source's URL"))),
        BadRequest, Unauthenticated, Forbidden,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body: NewSyncSource = params::body(body)?;
    let mut ignored = Mask::default();
    let source = pb::SyncSource {
        district_id: id("districtId", &body.district_id)?,
        school_id: optional_id("schoolId", body.school_id.as_deref())?,
        display_name: body.display_name,
        kind: body.kind.into(),
        connector: body
            .connector
            .map(|c| c.into_pb(&mut ignored))
            .transpose()?,
        schedule: body.schedule.map(|s| s.into_pb(&mut ignored)),
        settings: body.settings.map(|s| s.into_pb(&mut ignored)),
        ..Default::default()
    };
    let created = state
        .roster()
        .create_sync_source(caller.request(pb::CreateSyncSourceRequest {
            sync_source: Some(source),
        }))
        .await?
        .into_inner()
        .sync_source
        .unwrap_or_default();
    let location =
        HeaderValue::from_str(&format!("/api/v1/sync-sources/{}", created.sync_source_id)).ok();
    let mut response = (StatusCode::CREATED, Json(SyncSourceView::from(created))).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /api/v1/sync-sources/{sourceId}`: one source.
#[utoipa::path(
    get,
    operation_id = "get_sync_source",
    path = "/sync-sources/{sourceId}",
    tag = "sync",
    params(("sourceId" = String, Path, description = "The source")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The source", body = SyncSourceView),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    source_id: Result<Path<String>, PathRejection>,
) -> Result<Json<SyncSourceView>, ApiError> {
    let answer = state
        .roster()
        .get_sync_source(caller.request(pb::GetSyncSourceRequest {
            sync_source_id: path_id(source_id, "sourceId")?,
        }))
        .await?
        .into_inner();
    Ok(Json(answer.sync_source.unwrap_or_default().into()))
}

/// `PATCH /api/v1/sync-sources/{sourceId}`: changes the fields given —
/// name, schedule and pause, settings (RO-6's policy included), connector
/// settings and secrets.
#[utoipa::path(
    patch,
    operation_id = "update_sync_source",
    path = "/sync-sources/{sourceId}",
    tag = "sync",
    params(("sourceId" = String, Path, description = "The source")),
    request_body = SyncSourcePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The source after the change", body = SyncSourceView),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    source_id: Result<Path<String>, PathRejection>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<SyncSourceView>, ApiError> {
    let sync_source_id = path_id(source_id, "sourceId")?;
    let patch: SyncSourcePatch = params::body(body)?;
    let mut mask = Mask::default();
    if patch.display_name.is_some() {
        mask.0.push("display_name".into());
    }
    let source = pb::SyncSource {
        sync_source_id,
        display_name: patch.display_name.unwrap_or_default(),
        connector: patch.connector.map(|c| c.into_pb(&mut mask)).transpose()?,
        schedule: patch.schedule.map(|s| s.into_pb(&mut mask)),
        settings: patch.settings.map(|s| s.into_pb(&mut mask)),
        ..Default::default()
    };
    if mask.0.is_empty() {
        return Err(ApiError::bad_request(
            "name at least one field to change: displayName, connector, schedule or settings",
        ));
    }
    let answer = state
        .roster()
        .update_sync_source(caller.request(pb::UpdateSyncSourceRequest {
            sync_source: Some(source),
            update_mask: Some(prost_types::FieldMask { paths: mask.0 }),
        }))
        .await?
        .into_inner();
    Ok(Json(answer.sync_source.unwrap_or_default().into()))
}

/// `DELETE /api/v1/sync-sources/{sourceId}`: no more runs and its secrets
/// erased; what it rostered, its runs and reports stay, nobody is
/// deactivated.
#[utoipa::path(
    delete,
    operation_id = "delete_sync_source",
    path = "/sync-sources/{sourceId}",
    tag = "sync",
    params(("sourceId" = String, Path, description = "The source")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    source_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    state
        .roster()
        .delete_sync_source(caller.request(pb::DeleteSyncSourceRequest {
            sync_source_id: path_id(source_id, "sourceId")?,
        }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
