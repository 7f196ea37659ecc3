//! SIS Rostering → add or change a sync source (RO-2, RO-6):
//! `GET /rostering/sources/new` (the kind, then its form), `POST
//! /rostering/sources`, `GET|POST /rostering/sources/{id}/edit`, and Pause
//! or Resume (`POST /rostering/sources/{id}/pause`). A refused form comes
//! back with what was typed (never a secret) and the service's words above
//! it and next to the field they name. roster decides who may do what.

use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::roster::v1 as rpb;
use serde::Deserialize;

use super::{
    Chrome, MessagePage, Signed, render,
    source_fields::{self, Group, Layout},
    source_form::{Kind, Problem, SourceForm, Stored},
    sync,
};
use crate::{
    api::{
        error::ApiError,
        roster::source_input::{Mask, ScheduleInput},
    },
    app::AppState,
};

/// A kind the new-source page offers.
struct KindChoice {
    slug: &'static str,
    name: &'static str,
    why: &'static str,
}

#[derive(askama::Template)]
#[template(path = "source_kinds.html")]
struct KindsPage {
    chrome: Chrome,
    kinds: Vec<KindChoice>,
}

#[derive(askama::Template)]
#[template(path = "source_form.html")]
struct FormPage {
    chrome: Chrome,
    csrf: String,
    title: String,
    /// Where the form posts.
    action: String,
    /// A new source's kind, sent back with the form; empty when editing.
    kind: &'static str,
    kind_name: String,
    /// The source's page (editing) or the list (new): Cancel and the crumbs.
    back: String,
    back_name: String,
    submit: &'static str,
    groups: Vec<Group>,
    error: Option<String>,
}

/// Which form: a new source of a kind, or a stored source.
enum Target {
    New(Kind),
    Edit(Box<rpb::SyncSource>),
}

/// The form of `target` filled with `form`, `problem` above it and at its
/// field, answered with `status`.
async fn form_page(
    state: &AppState,
    signed: &Signed,
    target: &Target,
    form: &SourceForm,
    problem: Option<Problem>,
    status: StatusCode,
) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let csrf = signed.csrf.clone();
    let page = match target {
        Target::New(kind) => {
            let district_id = signed.district_id();
            let mut roster = state.roster();
            let (schools, district) = tokio::join!(
                super::roles::schools(state, &signed.caller, &district_id),
                roster.get_district(signed.caller.request(rpb::GetDistrictRequest {
                    district_id: district_id.clone(),
                })),
            );
            let district = district.ok().and_then(|d| d.into_inner().district);
            let zone = district
                .as_ref()
                .and_then(|d| d.settings.as_ref())
                .map(|s| s.time_zone.clone())
                .unwrap_or_default();
            let mut scopes = vec![(
                String::new(),
                district.map_or_else(|| t.staff.whole_district.to_owned(), |d| d.name),
            )];
            scopes.extend(schools);
            let layout = Layout {
                kind: Some(*kind),
                scopes: Some(scopes),
                stored: None,
                zone: &zone,
            };
            FormPage {
                title: t.sync.new_source.to_owned(),
                action: "/rostering/sources".to_owned(),
                kind: kind.slug(),
                kind_name: sync::kind_words(t, kind.proto()).to_owned(),
                back: "/rostering/sources".to_owned(),
                back_name: t.rostering.sources.to_owned(),
                submit: t.sync.create,
                groups: source_fields::groups(t, form, layout, problem.as_ref()),
                error: problem.map(|p| p.text),
                csrf,
                chrome,
            }
        }
        Target::Edit(source) => {
            let zone = source
                .schedule
                .as_ref()
                .map(|s| s.time_zone.clone())
                .unwrap_or_default();
            let id = &source.sync_source_id;
            let layout = Layout {
                kind: Kind::of(source.kind()),
                scopes: None,
                stored: Some(Stored::of(source)),
                zone: &zone,
            };
            FormPage {
                title: t.sync.edit_source.replace("{name}", &source.display_name),
                action: format!("/rostering/sources/{id}/edit"),
                kind: "",
                kind_name: sync::kind_words(t, source.kind()).to_owned(),
                back: format!("/rostering/sources/{id}"),
                back_name: source.display_name.clone(),
                submit: t.sync.save,
                groups: source_fields::groups(t, form, layout, problem.as_ref()),
                error: problem.map(|p| p.text),
                csrf,
                chrome,
            }
        }
    };
    render(status, page)
}

/// A page saying a source cannot be set up or changed here: not the
/// caller's to manage (403), not there (404), or the service unavailable.
fn cannot(signed: &Signed, e: &ApiError) -> Response {
    if e.status != StatusCode::FORBIDDEN {
        return sync::refused(signed, e);
    }
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    render(
        StatusCode::FORBIDDEN,
        MessagePage {
            title: t.rostering.sources.into(),
            text: t.rostering.sources_forbidden.into(),
            tone: "bad",
            link: "/rostering".into(),
            link_text: t.rostering.sis_rostering.into(),
            chrome,
        },
    )
}

/// A refused form: again with the service's words (400, 409), else a page
/// saying why not.
async fn again(
    state: &AppState,
    signed: &Signed,
    target: &Target,
    form: &SourceForm,
    e: &ApiError,
) -> Response {
    match e.status.as_u16() {
        400 | 409 => form_page(state, signed, target, form, Some(Problem::of(e)), e.status).await,
        _ => cannot(signed, e),
    }
}

/// `?kind=` of the new-source page.
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    kind: String,
}

/// `GET /rostering/sources/new`: the kinds, then the chosen kind's form.
pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<NewQuery>,
) -> Response {
    // Whoever may not list the district's sources may not add one; roster
    // says who that is, as for the list.
    let listed = state
        .roster()
        .list_sync_sources(signed.caller.request(rpb::ListSyncSourcesRequest {
            district_id: signed.district_id(),
            page_size: 1,
            ..Default::default()
        }))
        .await;
    if let Err(e) = listed {
        return cannot(&signed, &ApiError::from(e));
    }
    if let Some(kind) = Kind::parse(&query.kind) {
        let form = SourceForm::blank(kind);
        return form_page(
            &state,
            &signed,
            &Target::New(kind),
            &form,
            None,
            StatusCode::OK,
        )
        .await;
    }
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let kinds = Kind::ALL
        .into_iter()
        .map(|kind| KindChoice {
            slug: kind.slug(),
            name: sync::kind_words(t, kind.proto()),
            why: match kind {
                Kind::Csv => t.sync.kind_csv_why,
                Kind::Rest => t.sync.kind_rest_why,
                Kind::Clever => t.sync.kind_clever_why,
            },
        })
        .collect();
    render(StatusCode::OK, KindsPage { chrome, kinds })
}

/// `POST /rostering/sources`: creates the source, then its page.
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<SourceForm>,
) -> Response {
    let t = super::language(&signed.headers);
    if !signed.csrf_ok(&form.csrf) {
        return sync::refused(&signed, &ApiError::bad_request(t.expired_form));
    }
    let Some(kind) = Kind::parse(&form.kind) else {
        return Redirect::to("/rostering/sources/new").into_response();
    };
    let created = match form.new_source(t, kind, signed.district_id()) {
        Ok(source) => state
            .roster()
            .create_sync_source(signed.caller.request(rpb::CreateSyncSourceRequest {
                sync_source: Some(source),
            }))
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(answer) => {
            let id = answer
                .into_inner()
                .sync_source
                .unwrap_or_default()
                .sync_source_id;
            Redirect::to(&format!("/rostering/sources/{id}?done=created")).into_response()
        }
        Err(e) => again(&state, &signed, &Target::New(kind), &form, &e).await,
    }
}

/// The stored source `id`, as the caller may see it.
async fn stored(state: &AppState, signed: &Signed, id: &str) -> Result<rpb::SyncSource, ApiError> {
    state
        .roster()
        .get_sync_source(signed.caller.request(rpb::GetSyncSourceRequest {
            sync_source_id: id.to_owned(),
        }))
        .await
        .map(|a| a.into_inner().sync_source.unwrap_or_default())
        .map_err(ApiError::from)
}

/// `GET /rostering/sources/{id}/edit`: the source's form (secrets only
/// said to be set or not).
pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    match stored(&state, &signed, &id).await {
        Ok(source) => {
            let form = SourceForm::of(&source);
            form_page(
                &state,
                &signed,
                &Target::Edit(Box::new(source)),
                &form,
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => cannot(&signed, &e),
    }
}

/// `POST /rostering/sources/{id}/edit`: saves the form, then the source's
/// page.
pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<SourceForm>,
) -> Response {
    let t = super::language(&signed.headers);
    if !signed.csrf_ok(&form.csrf) {
        return sync::refused(&signed, &ApiError::bad_request(t.expired_form));
    }
    // The stored kind decides the connector fields, never the form.
    let source = match stored(&state, &signed, &id).await {
        Ok(source) => source,
        Err(e) => return cannot(&signed, &e),
    };
    let saved = match form.changes(t, id.clone(), Kind::of(source.kind())) {
        Ok(change) => state
            .roster()
            .update_sync_source(signed.caller.request(change))
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Redirect::to(&format!("/rostering/sources/{id}?done=saved")).into_response(),
        Err(e) => again(&state, &signed, &Target::Edit(Box::new(source)), &form, &e).await,
    }
}

/// Pause or Resume.
#[derive(Debug, Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    csrf: String,
    /// `true` pauses, `false` resumes.
    #[serde(default)]
    paused: String,
}

/// `POST /rostering/sources/{id}/pause`: stops or restarts the source's
/// scheduled runs (Run now works either way).
pub async fn pause(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<PauseForm>,
) -> Response {
    let t = super::language(&signed.headers);
    if !signed.csrf_ok(&form.csrf) {
        return sync::refused(&signed, &ApiError::bad_request(t.expired_form));
    }
    let paused = form.paused == "true";
    let mut mask = Mask::default();
    let schedule = ScheduleInput {
        daily_time: None,
        paused: Some(paused),
    }
    .into_pb(&mut mask);
    let answer = state
        .roster()
        .update_sync_source(signed.caller.request(rpb::UpdateSyncSourceRequest {
            sync_source: Some(rpb::SyncSource {
                sync_source_id: id.clone(),
                schedule: Some(schedule),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: mask.0 }),
        }))
        .await;
    let done = if paused { "paused" } else { "resumed" };
    match answer {
        Ok(_) => Redirect::to(&format!("/rostering/sources/{id}?done={done}")).into_response(),
        Err(e) => sync::refused(&signed, &ApiError::from(e)),
    }
}
