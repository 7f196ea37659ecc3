//! RO-7: a guardian upload and its result rows as JSON.

use homeroom_proto::roster::v1 as pb;
use serde::Serialize;

use super::{
    enums::{Action, RowResult, UploadStatus},
    params::non_empty,
};
use crate::api::json::timestamp;

/// A guardian upload and its progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadView {
    pub upload_id: String,
    pub district_id: String,
    /// `null` for a district upload.
    pub school_id: Option<String>,
    /// The scope's UPLOAD source (its settings apply).
    pub sync_source_id: String,
    /// The run the upload is processed as.
    pub sync_run_id: String,
    pub filename: String,
    pub size_bytes: u64,
    /// "utf-8" or "windows-1252".
    pub encoding: Option<String>,
    pub dry_run: bool,
    pub abandon: bool,
    pub forced: bool,
    pub status: Option<UploadStatus>,
    pub rows_done: u64,
    /// 0 until counted.
    pub rows_total: u64,
    pub counts: CountsView,
    /// For FAILED: why, e.g. the expected headers.
    pub failure_message: Option<String>,
    pub requested_by_account_id: Option<String>,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// Counts of an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CountsView {
    pub rows_succeeded: u64,
    pub rows_failed: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub links_abandoned: u64,
    pub accounts_deactivated: u64,
    pub invitations_sent: u64,
}

/// One row of the result: every input column plus result, action, error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadRowView {
    /// Line in the file (the header is 1); 0 for ABANDONED rows.
    pub line_number: u64,
    pub student_code: String,
    pub parent_code: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub home_phone: String,
    pub language: String,
    pub result: Option<RowResult>,
    /// CREATED, UPDATED, UNCHANGED or ABANDONED; `null` on ERROR.
    pub action: Option<Action>,
    /// For ERROR: why.
    pub error: Option<String>,
    pub account_id: Option<String>,
}

/// `202` to an upload: its id and status; follow it at
/// `/guardian-uploads/{uploadId}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadAccepted {
    pub upload_id: String,
    pub status: Option<UploadStatus>,
    pub upload: UploadView,
}

impl From<pb::GuardianUpload> for UploadView {
    fn from(u: pb::GuardianUpload) -> UploadView {
        let c = u.counts.unwrap_or_default();
        UploadView {
            status: UploadStatus::of(u.status),
            created_at: u.created_at.as_ref().and_then(timestamp),
            started_at: u.started_at.as_ref().and_then(timestamp),
            finished_at: u.finished_at.as_ref().and_then(timestamp),
            counts: CountsView {
                rows_succeeded: c.rows_succeeded,
                rows_failed: c.rows_failed,
                created: c.created,
                updated: c.updated,
                unchanged: c.unchanged,
                links_abandoned: c.links_abandoned,
                accounts_deactivated: c.accounts_deactivated,
                invitations_sent: c.invitations_sent,
            },
            upload_id: u.upload_id,
            district_id: u.district_id,
            school_id: non_empty(u.school_id),
            sync_source_id: u.sync_source_id,
            sync_run_id: u.sync_run_id,
            filename: u.filename,
            size_bytes: u.size_bytes,
            encoding: non_empty(u.encoding),
            dry_run: u.dry_run,
            abandon: u.abandon,
            forced: u.forced,
            rows_done: u.rows_done,
            rows_total: u.rows_total,
            failure_message: non_empty(u.failure_message),
            requested_by_account_id: non_empty(u.requested_by_account_id),
        }
    }
}

impl From<pb::GuardianUploadRow> for UploadRowView {
    fn from(r: pb::GuardianUploadRow) -> UploadRowView {
        UploadRowView {
            result: RowResult::of(r.result),
            action: Action::of(r.action),
            line_number: r.line_number,
            student_code: r.student_code,
            parent_code: r.parent_code,
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
            phone: r.phone,
            home_phone: r.home_phone,
            language: r.language,
            error: non_empty(r.error),
            account_id: non_empty(r.account_id),
        }
    }
}
