//! RO-3 / RO-5: a sync run and its report rows as JSON.

use homeroom_proto::roster::v1 as pb;
use serde::Serialize;

use super::{
    enums::{Action, Entity, FailureKind, Mode, Phase, RunStatus, SourceKind, Trigger},
    params::non_empty,
};
use crate::api::json::timestamp;

/// One run of a source: a sync, a bundle import or an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub sync_run_id: String,
    pub sync_source_id: String,
    pub source_kind: Option<SourceKind>,
    pub district_id: String,
    pub school_id: Option<String>,
    pub status: Option<RunStatus>,
    pub trigger: Option<Trigger>,
    /// Known once reading starts.
    pub mode: Option<Mode>,
    /// RO-4: a dry run writes nothing; the report says what would happen.
    pub dry_run: bool,
    /// RO-3: the deactivation guard was overridden.
    pub forced: bool,
    pub requested_by_account_id: Option<String>,
    pub progress: Option<ProgressView>,
    /// RO-5: totals per entity.
    pub totals: Vec<TotalsView>,
    pub deactivation_guard: Option<GuardView>,
    pub failure_kind: Option<FailureKind>,
    /// Why it failed, for people.
    pub failure_message: Option<String>,
    pub oneroster_version: Option<String>,
    pub filename: Option<String>,
    /// The guardian upload, for upload runs.
    pub upload_id: Option<String>,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// Progress of a running run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    pub phase: Option<Phase>,
    pub records_done: u64,
    /// 0 while unknown.
    pub records_total: u64,
}

/// RO-5: one entity's totals.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotalsView {
    pub entity: Option<Entity>,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deactivated: u64,
    pub skipped: u64,
    pub errors: u64,
    pub abandoned: u64,
}

/// RO-3: the numbers behind the deactivation guard.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuardView {
    pub people_total: u64,
    pub would_deactivate: u64,
    pub threshold_percent: u32,
    pub exceeded: bool,
}

/// RO-5: one row of a sync report — one record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRowView {
    pub row_number: u64,
    pub entity: Option<Entity>,
    pub source_id: String,
    pub name: String,
    pub action: Option<Action>,
    pub changed_fields: Vec<String>,
    /// e.g. RO-6's "Active user has a new email in the SIS import - …".
    pub notes: Vec<String>,
    pub record_id: Option<String>,
    pub account_id: Option<String>,
}

impl From<pb::SyncRun> for RunView {
    fn from(r: pb::SyncRun) -> RunView {
        RunView {
            source_kind: SourceKind::of(r.source_kind),
            status: RunStatus::of(r.status),
            trigger: Trigger::of(r.trigger),
            mode: Mode::of(r.mode),
            failure_kind: FailureKind::of(r.failure_kind),
            created_at: r.created_at.as_ref().and_then(timestamp),
            started_at: r.started_at.as_ref().and_then(timestamp),
            finished_at: r.finished_at.as_ref().and_then(timestamp),
            progress: r.progress.map(|p| ProgressView {
                phase: Phase::of(p.phase),
                records_done: p.records_done,
                records_total: p.records_total,
            }),
            totals: r.totals.into_iter().map(totals).collect(),
            deactivation_guard: r.deactivation_guard.map(|g| GuardView {
                people_total: g.people_total,
                would_deactivate: g.would_deactivate,
                threshold_percent: g.threshold_percent,
                exceeded: g.exceeded,
            }),
            sync_run_id: r.sync_run_id,
            sync_source_id: r.sync_source_id,
            district_id: r.district_id,
            school_id: non_empty(r.school_id),
            dry_run: r.dry_run,
            forced: r.forced,
            requested_by_account_id: non_empty(r.requested_by_account_id),
            failure_message: non_empty(r.failure_message),
            oneroster_version: non_empty(r.oneroster_version),
            filename: non_empty(r.filename),
            upload_id: non_empty(r.upload_id),
        }
    }
}

fn totals(t: pb::EntityTotals) -> TotalsView {
    TotalsView {
        entity: Entity::of(t.entity),
        created: t.created,
        updated: t.updated,
        unchanged: t.unchanged,
        deactivated: t.deactivated,
        skipped: t.skipped,
        errors: t.errors,
        abandoned: t.abandoned,
    }
}

impl From<pb::SyncReportRow> for ReportRowView {
    fn from(r: pb::SyncReportRow) -> ReportRowView {
        ReportRowView {
            row_number: r.row_number,
            entity: Entity::of(r.entity),
            action: Action::of(r.action),
            source_id: r.source_id,
            name: r.name,
            changed_fields: r.changed_fields,
            notes: r.notes,
            record_id: non_empty(r.record_id),
            account_id: non_empty(r.account_id),
        }
    }
}
