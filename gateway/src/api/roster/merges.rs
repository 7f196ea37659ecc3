//! RO-8 over REST: merging duplicate guardians from the duplicate-guardian
//! report — preview, merge, undo (30 days).

use axum::{
    Json,
    extract::{
        Path, State,
        rejection::{JsonRejection, PathRejection},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
};
use homeroom_proto::roster::v1 as pb;
use serde::{Deserialize, Serialize};

use super::params::{self, BadRequest, Forbidden, NotFound, Unauthenticated, id, path_id};
use crate::{
    api::{caller::Caller, error::ApiError, json::timestamp},
    app::AppState,
};

/// `POST /api/v1/guardian-merges` and `…/preview`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MergeBody {
    pub district_id: String,
    /// The account that stays.
    pub survivor_account_id: String,
    /// The accounts merged into it (1 to 9).
    pub merged_account_ids: Vec<String>,
    /// The email to keep (one of the preview's candidates); omitted: the default.
    pub email: Option<String>,
    /// The mobile phone to keep.
    pub mobile_phone: Option<String>,
    /// The home phone to keep (a home phone, or a mobile phone not kept as the mobile).
    pub home_phone: Option<String>,
}

/// `POST /api/v1/guardian-merges/{mergeId}/undo`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UndoBody {
    pub district_id: String,
}

/// A guardian record (one per source supplying it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuardianRecordView {
    pub guardian_id: String,
    pub sync_source_id: String,
    pub source_id: String,
}

/// One account of a merge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeAccountView {
    pub account_id: String,
    pub display_name: String,
    /// `invitee` or `active` (before the merge).
    pub status: String,
    pub records: Vec<GuardianRecordView>,
}

/// A value some of the accounts hold.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeCandidateView {
    pub value: String,
    pub account_ids: Vec<String>,
}

/// The survivor's email, mobile or home phone after the merge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeFieldView {
    /// `email`, `mobile_phone` or `home_phone`.
    pub kind: String,
    pub candidates: Vec<MergeCandidateView>,
    /// The value kept; `null` when none.
    pub chosen: Option<String>,
    /// More than one value: pick one.
    pub conflict: bool,
}

/// A student the survivor is linked to afterwards.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeStudentView {
    pub student_id: String,
    pub display_name: String,
}

/// What a merge does (or did).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergePreviewView {
    pub survivor: Option<MergeAccountView>,
    pub merged: Vec<MergeAccountView>,
    pub fields: Vec<MergeFieldView>,
    pub students: Vec<MergeStudentView>,
    pub sso_links_moved: u32,
    pub role_grants_added: u32,
}

/// A merge made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeView {
    pub merge_id: String,
    pub preview: MergePreviewView,
    /// The same accounts were merged before: this is that merge.
    pub replayed: bool,
    /// RFC 3339: the last moment it can be undone.
    pub undo_until: Option<String>,
}

impl From<pb::GuardianMergePreview> for MergePreviewView {
    fn from(p: pb::GuardianMergePreview) -> Self {
        let account = |a: pb::GuardianMergeAccount| MergeAccountView {
            account_id: a.account_id,
            display_name: a.display_name,
            status: a.status,
            records: a
                .records
                .into_iter()
                .map(|r| GuardianRecordView {
                    guardian_id: r.guardian_id,
                    sync_source_id: r.sync_source_id,
                    source_id: r.source_id,
                })
                .collect(),
        };
        MergePreviewView {
            survivor: p.survivor.map(account),
            merged: p.merged.into_iter().map(account).collect(),
            fields: p
                .fields
                .into_iter()
                .map(|f| MergeFieldView {
                    kind: f.kind,
                    candidates: f
                        .candidates
                        .into_iter()
                        .map(|c| MergeCandidateView {
                            value: c.value,
                            account_ids: c.account_ids,
                        })
                        .collect(),
                    chosen: Some(f.chosen).filter(|c| !c.is_empty()),
                    conflict: f.conflict,
                })
                .collect(),
            students: p
                .student_ids
                .into_iter()
                .zip(p.student_names)
                .map(|(student_id, display_name)| MergeStudentView {
                    student_id,
                    display_name,
                })
                .collect(),
            sso_links_moved: p.sso_links_moved,
            role_grants_added: p.role_grants_added,
        }
    }
}

fn request(body: MergeBody) -> Result<pb::GuardianMerge, ApiError> {
    Ok(pb::GuardianMerge {
        district_id: id("districtId", &body.district_id)?,
        survivor_account_id: id("survivorAccountId", &body.survivor_account_id)?,
        merged_account_ids: body
            .merged_account_ids
            .iter()
            .map(|a| id("mergedAccountIds", a))
            .collect::<Result<_, _>>()?,
        email: body.email,
        mobile_phone: body.mobile_phone,
        home_phone: body.home_phone,
    })
}

/// `POST /api/v1/guardian-merges/preview`: what merging would do; changes nothing.
#[utoipa::path(
    post,
    operation_id = "preview_guardian_merge",
    path = "/guardian-merges/preview",
    tag = "reports",
    request_body = MergeBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the merge would do", body = MergePreviewView),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<MergePreviewView>, ApiError> {
    let body: MergeBody = params::body(body)?;
    let answer = state
        .roster()
        .preview_guardian_merge(caller.request(pb::PreviewGuardianMergeRequest {
            merge: Some(request(body)?),
        }))
        .await?
        .into_inner();
    Ok(Json(answer.preview.unwrap_or_default().into()))
}

/// `POST /api/v1/guardian-merges`: merges duplicate guardians into the
/// survivor; 201, or 200 when the same accounts were merged before.
#[utoipa::path(
    post,
    operation_id = "merge_guardians",
    path = "/guardian-merges",
    tag = "reports",
    request_body = MergeBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Merged", body = MergeView),
        (status = 200, description = "Merged before with the same accounts", body = MergeView),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body: MergeBody = params::body(body)?;
    let answer = state
        .roster()
        .merge_guardians(caller.request(pb::MergeGuardiansRequest {
            merge: Some(request(body)?),
        }))
        .await?
        .into_inner();
    let status = if answer.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let view = MergeView {
        merge_id: answer.merge_id,
        preview: answer.preview.unwrap_or_default().into(),
        replayed: answer.replayed,
        undo_until: answer.undo_until.as_ref().and_then(timestamp),
    };
    Ok((status, Json(view)).into_response())
}

/// `POST /api/v1/guardian-merges/{mergeId}/undo`: separates the guardians
/// again (within 30 days; the newest merge into an account first).
#[utoipa::path(
    post,
    operation_id = "undo_guardian_merge",
    path = "/guardian-merges/{mergeId}/undo",
    tag = "reports",
    params(("mergeId" = String, Path, description = "The merge")),
    request_body = UndoBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The accounts are separate again", body = MergePreviewView),
        BadRequest, Unauthenticated, Forbidden, NotFound,
    )
)]
pub async fn undo(
    State(state): State<AppState>,
    caller: Caller,
    merge_id: Result<Path<String>, PathRejection>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<MergePreviewView>, ApiError> {
    let merge_id = path_id(merge_id, "mergeId")?;
    let body: UndoBody = params::body(body)?;
    let answer = state
        .roster()
        .undo_guardian_merge(caller.request(pb::UndoGuardianMergeRequest {
            district_id: id("districtId", &body.district_id)?,
            merge_id,
        }))
        .await?
        .into_inner();
    Ok(Json(answer.preview.unwrap_or_default().into()))
}
