//! RO-8 over REST: likely duplicate guardians — groups of guardian records
//! that look like one person, with the students involved, so the district
//! can fix its SIS; as JSON pages or as a CSV download.

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    response::Response,
};
use homeroom_proto::roster::v1 as pb;
use serde::{Deserialize, Serialize};

use super::{
    download::download,
    enums::{DuplicateReason, RecordStatus, SourceKind},
    params::{self, BadRequest, Forbidden, Unauthenticated, id, next_page, non_empty, optional_id},
};
use crate::{
    api::{caller::Caller, error::ApiError},
    app::AppState,
};

/// The district, and optionally one school.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DuplicatesQuery {
    /// The district.
    pub district_id: String,
    /// Only groups with a student in this school.
    pub school_id: Option<String>,
}

/// One page of groups, by normalised name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuplicatePage {
    pub groups: Vec<DuplicateGroupView>,
    /// `null` on the last page.
    pub next_page_token: Option<String>,
    /// Groups in all.
    pub total_size: i32,
}

/// Guardian records that are likely one person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateGroupView {
    /// Stable key of the group.
    pub group_key: String,
    pub reasons: Vec<DuplicateReason>,
    /// The normalised name they share.
    pub normalized_name: String,
    /// The emails and phones they share.
    pub shared_values: Vec<String>,
    /// Two or more records.
    pub guardians: Vec<DuplicateMemberView>,
}

/// One guardian record of a group.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateMemberView {
    pub guardian_id: String,
    pub account_id: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub mobile_phone: Option<String>,
    pub status: Option<RecordStatus>,
    /// Where the record came from: the SIS ids to fix.
    pub sources: Vec<SourceRefView>,
    pub students: Vec<DuplicateStudentView>,
}

/// A record's id in one source.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceRefView {
    pub sync_source_id: String,
    pub kind: Option<SourceKind>,
    pub source_id: String,
}

/// A student linked to a record of the group.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateStudentView {
    pub student_id: String,
    pub display_name: String,
    pub student_code: String,
    pub school_id: String,
}

impl From<pb::DuplicateGuardianGroup> for DuplicateGroupView {
    fn from(g: pb::DuplicateGuardianGroup) -> DuplicateGroupView {
        DuplicateGroupView {
            reasons: g
                .reasons
                .iter()
                .filter_map(|r| DuplicateReason::of(*r))
                .collect(),
            group_key: g.group_key,
            normalized_name: g.normalized_name,
            shared_values: g.shared_values,
            guardians: g.guardians.into_iter().map(member).collect(),
        }
    }
}

fn member(m: pb::DuplicateGuardianMember) -> DuplicateMemberView {
    DuplicateMemberView {
        status: RecordStatus::of(m.status),
        guardian_id: m.guardian_id,
        account_id: non_empty(m.account_id),
        display_name: m.display_name,
        email: non_empty(m.email),
        mobile_phone: non_empty(m.mobile_phone),
        sources: m
            .sources
            .into_iter()
            .map(|s| SourceRefView {
                kind: SourceKind::of(s.kind),
                sync_source_id: s.sync_source_id,
                source_id: s.source_id,
            })
            .collect(),
        students: m
            .students
            .into_iter()
            .map(|s| DuplicateStudentView {
                student_id: s.student_id,
                display_name: s.display_name,
                student_code: s.student_code,
                school_id: s.school_id,
            })
            .collect(),
    }
}

/// `GET /api/v1/duplicate-guardians`: the report, paged.
#[utoipa::path(
    get,
    operation_id = "list_duplicate_guardians",
    path = "/duplicate-guardians",
    tag = "reports",
    params(DuplicatesQuery, params::Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of groups", body = DuplicatePage),
        BadRequest, Unauthenticated, Forbidden,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    scope: Result<Query<DuplicatesQuery>, QueryRejection>,
    page: Result<Query<params::Page>, QueryRejection>,
) -> Result<Json<DuplicatePage>, ApiError> {
    let scope = params::query(scope)?;
    let page = params::page(page)?;
    Ok(Json(duplicates_page(&state, &caller, scope, page).await?))
}

/// A page of the report as `caller` may see it (the REST route and the
/// console's page).
pub async fn duplicates_page(
    state: &AppState,
    caller: &Caller,
    scope: DuplicatesQuery,
    page: params::PageRequest,
) -> Result<DuplicatePage, ApiError> {
    let answer = state
        .roster()
        .list_duplicate_guardians(caller.request(pb::ListDuplicateGuardiansRequest {
            district_id: id("districtId", &scope.district_id)?,
            school_id: optional_id("schoolId", scope.school_id.as_deref())?,
            page_size: page.size,
            page_token: page.token,
        }))
        .await?
        .into_inner();
    Ok(DuplicatePage {
        groups: answer.groups.into_iter().map(Into::into).collect(),
        next_page_token: next_page(answer.next_page_token),
        total_size: answer.total_size,
    })
}

/// `GET /api/v1/duplicate-guardians/download`: the report as CSV (one line
/// per record per group), streamed.
#[utoipa::path(
    get,
    operation_id = "download_duplicate_guardians",
    path = "/duplicate-guardians/download",
    tag = "reports",
    params(DuplicatesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report as a CSV attachment", content_type = "text/csv", body = String),
        BadRequest, Unauthenticated, Forbidden,
    )
)]
pub async fn download_csv(
    State(state): State<AppState>,
    caller: Caller,
    scope: Result<Query<DuplicatesQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let scope = params::query(scope)?;
    let stream = state
        .roster()
        .download_duplicate_guardians(caller.request(pb::DownloadDuplicateGuardiansRequest {
            district_id: id("districtId", &scope.district_id)?,
            school_id: optional_id("schoolId", scope.school_id.as_deref())?,
        }))
        .await?
        .into_inner();
    download(stream).await
}
