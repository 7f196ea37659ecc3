//! SIS Rostering → a sync run (RO-3 … RO-5, seed 002): its progress
//! (refreshing itself while it runs), why it failed in words, the
//! deactivation guard's numbers with Force, totals per entity, and the
//! report's rows — filtered by entity and action, searched, ordered by row
//! or notes first (seed 002: "Active user has a new email in the SIS import
//! - …" rows together), paged; CSV and Excel. roster decides who may see it.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use homeroom_proto::roster::v1 as rpb;
use serde::Deserialize;

use super::{
    Chrome, Signed, render,
    sync::{refused, run_status_words},
    text::Text,
};
use crate::{
    api::{cookies, error::ApiError},
    app::AppState,
};

/// A report row as the run's page shows it.
struct ReportRow {
    entity: String,
    source_id: String,
    name: String,
    action: String,
    changed: String,
    notes: String,
}

#[derive(askama::Template)]
#[template(path = "run.html")]
struct RunPage {
    chrome: Chrome,
    csrf: String,
    idempotency_key: String,
    run_id: String,
    source_id: String,
    status: String,
    running: bool,
    failed: bool,
    dry_run: bool,
    forced: bool,
    progress: String,
    failure: String,
    notice: String,
    /// The deactivation guard stopped it: (would deactivate, of, threshold %).
    guard: Option<(u64, u64, u32)>,
    /// (entity, created, updated, unchanged, deactivated, errors).
    totals: Vec<(String, u64, u64, u64, u64, u64)>,
    rows: Vec<ReportRow>,
    total_rows: i64,
    entity: String,
    action: String,
    q: String,
    entities: Vec<(&'static str, String)>,
    actions: Vec<(&'static str, String)>,
    /// `notes`: rows with notes first; empty: by row number.
    sort: String,
    /// (value, words) of the orders.
    sorts: Vec<(&'static str, &'static str)>,
    next: Option<String>,
}

/// The report's filters.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    q: String,
    /// `notes`: rows with notes first, by note (seed 002).
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

/// The report's order a `sort` names.
fn order(sort: &str) -> rpb::SyncReportOrder {
    match sort {
        "notes" => rpb::SyncReportOrder::Notes,
        _ => rpb::SyncReportOrder::Unspecified,
    }
}

const ENTITIES: [&str; 6] = [
    "school",
    "class",
    "student",
    "staff",
    "guardian",
    "guardian_link",
];
const ACTIONS: [&str; 6] = [
    "created",
    "updated",
    "unchanged",
    "deactivated",
    "error",
    "abandoned",
];

/// `GET /rostering/runs/{id}`: a run, its totals and its report.
pub async fn run(
    State(state): State<AppState>,
    signed: Signed,
    Path(run_id): Path<String>,
    Query(filter): Query<ReportQuery>,
) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let r = t.rostering;
    let mut roster = state.roster();
    let run = match roster
        .get_sync_run(signed.caller.request(rpb::GetSyncRunRequest {
            sync_run_id: run_id.clone(),
        }))
        .await
    {
        Ok(a) => a.into_inner().sync_run.unwrap_or_default(),
        Err(e) => return refused(&signed, &ApiError::from(e)),
    };
    let status = run.status();
    let running = matches!(
        status,
        rpb::SyncRunStatus::Queued | rpb::SyncRunStatus::Running
    );
    let entity = rpb::RosterEntity::from_str_name(&format!(
        "ROSTER_ENTITY_{}",
        filter.entity.to_ascii_uppercase()
    ))
    .filter(|_| !filter.entity.is_empty());
    let action = rpb::RecordAction::from_str_name(&format!(
        "RECORD_ACTION_{}",
        filter.action.to_ascii_uppercase()
    ))
    .filter(|_| !filter.action.is_empty());
    let report = if running {
        None
    } else {
        roster
            .list_sync_report_rows(signed.caller.request(rpb::ListSyncReportRowsRequest {
                sync_run_id: run_id.clone(),
                entities: entity.map(|e| e as i32).into_iter().collect(),
                actions: action.map(|a| a as i32).into_iter().collect(),
                query: filter.q.trim().to_owned(),
                page_size: 100,
                page_token: filter.page.clone(),
                order: order(&filter.sort).into(),
            }))
            .await
            .ok()
            .map(tonic::Response::into_inner)
    };
    let progress = run.progress.unwrap_or_default();
    let guard = run
        .deactivation_guard
        .filter(|g| g.exceeded)
        .map(|g| (g.would_deactivate, g.people_total, g.threshold_percent));
    let (rows, total_rows, next) = match report {
        Some(report) => {
            let next = (!report.next_page_token.is_empty()).then(|| {
                let encode =
                    |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
                format!(
                    "/rostering/runs/{run_id}?entity={}&action={}&q={}&sort={}&page={}",
                    encode(&filter.entity),
                    encode(&filter.action),
                    encode(&filter.q),
                    encode(&filter.sort),
                    encode(&report.next_page_token)
                )
            });
            (
                report
                    .rows
                    .into_iter()
                    .map(|row| ReportRow {
                        entity: t
                            .staff
                            .enum_name(row.entity().as_str_name(), "ROSTER_ENTITY_"),
                        action: action_words(t, row.action(), run.dry_run),
                        changed: row.changed_fields.join(", "),
                        notes: row.notes.join(" · "),
                        source_id: row.source_id,
                        name: row.name,
                    })
                    .collect(),
                report.total_size,
                next,
            )
        }
        None => (Vec::new(), 0, None),
    };
    let page = RunPage {
        csrf: signed.csrf.clone(),
        idempotency_key: cookies::random_token(),
        status: run_status_words(t, status).to_owned(),
        running,
        failed: status == rpb::SyncRunStatus::Failed,
        dry_run: run.dry_run,
        forced: run.forced,
        progress: if progress.records_total > 0 {
            r.records_progress
                .replace("{done}", &progress.records_done.to_string())
                .replace("{total}", &progress.records_total.to_string())
        } else {
            String::new()
        },
        failure: run.failure_message,
        notice: run.notice,
        guard,
        totals: run
            .totals
            .iter()
            .map(|x| {
                (
                    t.staff
                        .enum_name(x.entity().as_str_name(), "ROSTER_ENTITY_"),
                    x.created,
                    x.updated,
                    x.unchanged,
                    x.deactivated,
                    x.errors,
                )
            })
            .collect(),
        rows,
        total_rows,
        entities: ENTITIES
            .iter()
            .map(|e| (*e, t.staff.enum_name(e, "ROSTER_ENTITY_")))
            .collect(),
        actions: ACTIONS
            .iter()
            .map(|a| (*a, t.staff.enum_name(a, "RECORD_ACTION_")))
            .collect(),
        sorts: vec![("", t.sync.sort_rows), ("notes", t.sync.sort_notes)],
        entity: filter.entity,
        action: filter.action,
        q: filter.q,
        sort: filter.sort,
        next,
        source_id: run.sync_source_id,
        run_id,
        chrome,
    };
    render(StatusCode::OK, page)
}

/// What happened to a record, or on a dry run what will (seed 003: a dry
/// run's report is the "Will be created" preview).
fn action_words(t: &Text, action: rpb::RecordAction, dry_run: bool) -> String {
    let s = t.sync;
    match (dry_run, action) {
        (true, rpb::RecordAction::Created) => s.will_be_created.to_owned(),
        (true, rpb::RecordAction::Updated) => s.will_be_updated.to_owned(),
        (true, rpb::RecordAction::Deactivated) => s.will_be_deactivated.to_owned(),
        _ => t.staff.enum_name(action.as_str_name(), "RECORD_ACTION_"),
    }
}
