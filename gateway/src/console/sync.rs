//! SIS Rostering → sources (RO-2 … RO-6, seeds 002 and 003): the
//! district's sync sources with their last and next runs and a link to add
//! one; a source's page with its settings, Edit, Pause or Resume, the
//! seed-002 setting "Allow the sync to update contact details of active
//! users" as a switch in the page's own words, Run now and Dry run, a
//! OneRoster CSV bundle's upload, and its runs. The form is
//! [`super::source_edit`]'s, the upload [`super::bundle`]'s, a run's page
//! [`super::run_report`]'s. roster decides who may see and do what.

use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::roster::v1 as rpb;
use serde::Deserialize;

use super::{Chrome, MessagePage, Signed, render, text::Text, when};
use crate::{
    api::{cookies, error::ApiError, json::timestamp},
    app::AppState,
};

/// A source as the list shows it.
struct SourceRow {
    id: String,
    name: String,
    kind: String,
    last_run: String,
    next_run: String,
}

#[derive(askama::Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    chrome: Chrome,
    sources: Vec<SourceRow>,
    error: Option<String>,
}

/// A source kind in words.
pub(super) fn kind_words(t: &Text, kind: rpb::SyncSourceKind) -> &'static str {
    let r = t.rostering;
    match kind {
        rpb::SyncSourceKind::OnerosterCsv => "OneRoster CSV",
        rpb::SyncSourceKind::OnerosterRest => r.kind_rest,
        rpb::SyncSourceKind::Clever => "Clever",
        rpb::SyncSourceKind::Upload => r.kind_upload,
        rpb::SyncSourceKind::Unspecified => "—",
    }
}

/// A run status in words.
pub(super) fn run_status_words(t: &Text, status: rpb::SyncRunStatus) -> &'static str {
    let r = t.rostering;
    match status {
        rpb::SyncRunStatus::Queued => r.queued,
        rpb::SyncRunStatus::Running => r.running,
        rpb::SyncRunStatus::Completed => r.completed,
        rpb::SyncRunStatus::Failed => r.failed,
        rpb::SyncRunStatus::Unspecified => r.never_run,
    }
}

fn time(t: Option<&prost_types::Timestamp>) -> String {
    when(t.and_then(timestamp).as_deref())
}

/// A page saying why something of a source cannot be shown or done.
pub(super) fn refused(signed: &Signed, e: &ApiError) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let (status, text) = match e.status.as_u16() {
        403 | 404 => (StatusCode::NOT_FOUND, t.rostering.no_such_source.to_owned()),
        400 | 409 => (e.status, super::for_people(&e.message)),
        _ => (e.status, t.unavailable.to_owned()),
    };
    render(
        status,
        MessagePage {
            chrome,
            title: t.rostering.sources.into(),
            text,
            tone: "bad",
            link: "/rostering/sources".into(),
            link_text: t.rostering.sources.into(),
        },
    )
}

/// `GET /rostering/sources`: the district's sync sources.
pub async fn sources(State(state): State<AppState>, signed: Signed) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let answer = state
        .roster()
        .list_sync_sources(signed.caller.request(rpb::ListSyncSourcesRequest {
            district_id: signed.district_id(),
            ..Default::default()
        }))
        .await;
    let (sources, error, status) = match answer {
        Ok(a) => (
            a.into_inner()
                .sync_sources
                .into_iter()
                .filter(|s| s.kind() != rpb::SyncSourceKind::Upload)
                .map(|s| SourceRow {
                    kind: kind_words(t, s.kind()).to_owned(),
                    last_run: match s.last_run_status() {
                        rpb::SyncRunStatus::Unspecified => t.rostering.never_run.to_owned(),
                        status => format!(
                            "{} {}",
                            run_status_words(t, status),
                            time(s.last_run_finished_at.as_ref())
                        ),
                    },
                    next_run: match &s.schedule {
                        Some(schedule) if schedule.paused => t.rostering.paused.to_owned(),
                        Some(schedule) => time(schedule.next_run_at.as_ref()),
                        None => "—".to_owned(),
                    },
                    name: s.display_name,
                    id: s.sync_source_id,
                })
                .collect(),
            None,
            StatusCode::OK,
        ),
        Err(e) => {
            let e = ApiError::from(e);
            let text = match e.status.as_u16() {
                403 => t.rostering.sources_forbidden.to_owned(),
                _ => t.unavailable.to_owned(),
            };
            (Vec::new(), Some(text), e.status)
        }
    };
    render(
        status,
        SourcesPage {
            chrome,
            sources,
            error,
        },
    )
}

/// A run as a source's page lists it.
struct RunRow {
    id: String,
    status: String,
    started: String,
    dry_run: bool,
    forced: bool,
}

#[derive(askama::Template)]
#[template(path = "source.html")]
struct SourcePage {
    chrome: Chrome,
    csrf: String,
    idempotency_key: String,
    id: String,
    name: String,
    kind: String,
    schedule: String,
    /// Paused: the button resumes it.
    paused: bool,
    /// (setting, on) pairs of the source's other settings.
    settings: Vec<(&'static str, bool)>,
    contact_updates: bool,
    /// A OneRoster CSV source: the bundle upload form.
    takes_bundles: bool,
    /// Why the last bundle upload was refused.
    bundle_error: Option<String>,
    last_run_id: String,
    runs: Vec<RunRow>,
    notice: Option<&'static str>,
}

/// `?done=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /rostering/sources/{id}`.
pub async fn source(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let t = super::language(&signed.headers);
    let notice = match done.done.as_str() {
        "setting" => Some(t.rostering.setting_saved),
        "created" => Some(t.sync.created),
        "saved" => Some(t.sync.saved),
        "paused" => Some(t.sync.paused_done),
        "resumed" => Some(t.sync.resumed_done),
        _ => None,
    };
    source_page(&state, &signed, id, notice, None, StatusCode::OK).await
}

/// A source's page with `notice` on top, or with `bundle_error` at the
/// bundle form (answered with `status`).
pub(super) async fn source_page(
    state: &AppState,
    signed: &Signed,
    id: String,
    notice: Option<&'static str>,
    bundle_error: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let r = t.rostering;
    let (mut roster, mut runs) = (state.roster(), state.roster());
    let (source, listed) = tokio::join!(
        roster.get_sync_source(signed.caller.request(rpb::GetSyncSourceRequest {
            sync_source_id: id.clone(),
        })),
        runs.list_sync_runs(signed.caller.request(rpb::ListSyncRunsRequest {
            district_id: signed.district_id(),
            sync_source_id: id.clone(),
            page_size: 10,
            ..Default::default()
        })),
    );
    let source = match source {
        Ok(a) => a.into_inner().sync_source.unwrap_or_default(),
        Err(e) => return refused(signed, &ApiError::from(e)),
    };
    let settings = source.settings.clone().unwrap_or_default();
    let schedule = source.schedule.clone().unwrap_or_default();
    let daily = if schedule.daily_time.is_empty() {
        r.no_schedule.to_owned()
    } else {
        r.daily_at
            .replace("{time}", &schedule.daily_time)
            .replace("{zone}", &schedule.time_zone)
    };
    let page = SourcePage {
        csrf: signed.csrf.clone(),
        idempotency_key: cookies::random_token(),
        kind: kind_words(t, source.kind()).to_owned(),
        schedule: if schedule.paused {
            format!("{} · {daily}", t.sync.paused_note)
        } else {
            daily
        },
        paused: schedule.paused,
        settings: vec![
            (r.manages_guardians, settings.manages_guardians),
            (r.sends_invitations, settings.send_invitations),
            (r.unarchives_classes, settings.unarchive_classes),
        ],
        contact_updates: settings.update_active_user_contacts,
        takes_bundles: source.kind() == rpb::SyncSourceKind::OnerosterCsv,
        bundle_error,
        runs: listed
            .map(|l| {
                l.into_inner()
                    .sync_runs
                    .into_iter()
                    .map(|run| RunRow {
                        status: run_status_words(t, run.status()).to_owned(),
                        started: time(run.created_at.as_ref()),
                        dry_run: run.dry_run,
                        forced: run.forced,
                        id: run.sync_run_id,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        notice,
        last_run_id: source.last_run_id,
        name: source.display_name,
        id,
        chrome,
    };
    render(status, page)
}

/// The seed-002 switch.
#[derive(Debug, Deserialize)]
pub struct SettingForm {
    #[serde(default)]
    csrf: String,
    /// `on` or `off`.
    #[serde(default)]
    value: String,
}

/// `POST /rostering/sources/{id}/contact-updates`: turns the seed-002
/// setting on or off.
pub async fn contact_updates(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<SettingForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return refused(
            &signed,
            &ApiError::bad_request(super::language(&signed.headers).expired_form),
        );
    }
    let answer = state
        .roster()
        .update_sync_source(signed.caller.request(rpb::UpdateSyncSourceRequest {
            sync_source: Some(rpb::SyncSource {
                sync_source_id: id.clone(),
                settings: Some(rpb::SyncSettings {
                    update_active_user_contacts: form.value == "on",
                    ..Default::default()
                }),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["settings.update_active_user_contacts".into()],
            }),
        }))
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("/rostering/sources/{id}?done=setting")).into_response(),
        Err(e) => refused(&signed, &ApiError::from(e)),
    }
}

/// Run now, Dry run or Force.
#[derive(Debug, Deserialize)]
pub struct RunForm {
    #[serde(default)]
    csrf: String,
    /// `run`, `dry_run` or `force`.
    #[serde(default)]
    mode: String,
    /// Force's confirmation box.
    #[serde(default)]
    confirm: Option<String>,
    #[serde(default)]
    idempotency_key: String,
}

/// `POST /rostering/sources/{id}/runs`: starts a run, then its page.
pub async fn start(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<RunForm>,
) -> Response {
    let t = super::language(&signed.headers);
    if !signed.csrf_ok(&form.csrf) {
        return refused(&signed, &ApiError::bad_request(t.expired_form));
    }
    let force = form.mode == "force";
    if force && form.confirm.is_none() {
        return refused(
            &signed,
            &ApiError::bad_request(t.rostering.force_unconfirmed),
        );
    }
    let answer = state
        .roster()
        .start_sync(signed.caller.request(rpb::StartSyncRequest {
            sync_source_id: id,
            dry_run: form.mode == "dry_run",
            force,
            idempotency_key: form.idempotency_key,
            ..Default::default()
        }))
        .await;
    match answer {
        Ok(a) => {
            let run = a.into_inner().sync_run.unwrap_or_default();
            Redirect::to(&format!("/rostering/runs/{}", run.sync_run_id)).into_response()
        }
        Err(e) => refused(&signed, &ApiError::from(e)),
    }
}
