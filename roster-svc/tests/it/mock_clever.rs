//! A local Clever Data API v3.0 (Clever/swagger-api v3.0.yml, v3.0-events.yml):
//! `/v3.0/{districts,schools,terms,courses,sections,users,events}` behind a
//! district bearer token, `limit` / `starting_after` paging with `links`
//! `rel=next`, and switches for the failures real districts see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::connectors::district::{District, Kind, Person};

/// The token the mock accepts.
pub const TOKEN: &str = "clever-district-token-7f3a9c";

const STAMP: &str = "2025-08-01T12:00:00.000Z";

/// A failure the mock answers with, `times` times, on one page (1-based) of one
/// list (`"sections"`, `"users"`, `"users?role=contact"`, `"token"` …).
#[derive(Debug, Clone)]
pub struct Failure {
    pub list: &'static str,
    pub page: usize,
    pub status: u16,
    pub retry_after: Option<u64>,
    pub times: usize,
    /// The error body quotes the request's `Authorization` header back, as a
    /// careless server might.
    pub echo_authorization: bool,
}

impl Failure {
    /// `status` once on `page` of `list`.
    pub fn once(list: &'static str, page: usize, status: u16) -> Self {
        Failure {
            list,
            page,
            status,
            retry_after: None,
            times: 1,
            echo_authorization: false,
        }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    pub fn echoing_authorization(mut self) -> Self {
        self.echo_authorization = true;
        self
    }
}

/// How a page is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformation {
    /// The body stops halfway.
    BadJson,
    /// The first record has no id (`id` / `sourcedId`).
    MissingId,
}

/// How the event feed refuses a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsGone {
    /// 404, as for a district without events.
    NotFound,
    /// 410.
    Gone,
    /// 400 saying the event id is too old.
    TooOld,
}

/// The switches.
#[derive(Debug, Default)]
pub struct Quirks {
    pub failures: Vec<Failure>,
    pub malformed: Option<(&'static str, usize, Malformation)>,
    pub events_gone: Option<EventsGone>,
}

/// The records the mock serves, each as Clever writes it.
#[derive(Debug, Clone, Default)]
pub struct CleverData {
    pub districts: Vec<Value>,
    pub schools: Vec<Value>,
    pub terms: Vec<Value>,
    pub courses: Vec<Value>,
    pub sections: Vec<Value>,
    pub users: Vec<Value>,
    pub events: Vec<Value>,
}

impl CleverData {
    /// `district` in Clever's shapes. With `full_name_in_last`, contacts carry
    /// their whole name in `name.last` and no first name, as Clever documents.
    pub fn from_district(d: &District, full_name_in_last: bool) -> Self {
        let districts = vec![json!({
            "id": d.id, "name": d.name, "state": "success", "sis_type": "SFTP",
            "last_sync": STAMP, "launch_date": "2025-07-01", "login_methods": ["clever"],
            "portal_url": "https://clever.com/in/springfield",
        })];
        let schools = d.schools.iter().map(|s| json!({
            "id": s.id, "district": d.id, "name": s.name, "school_number": s.number,
            "sis_id": s.number, "low_grade": "Kindergarten", "high_grade": "8",
            "principal": {"name": "Seymour Skinner", "email": "skinner@springfield.example"},
            "location": {"address": "19 Plympton St", "city": "Springfield", "state": "OR", "zip": "97403"},
            "created": STAMP, "last_modified": STAMP, "ext": {},
        }));
        let terms = d.terms.iter().map(|t| json!({
            "id": t.id, "district": d.id, "name": t.name, "start_date": t.start, "end_date": t.end,
        }));
        let courses = d.courses.iter().map(|c| {
            json!({
                "id": c.id, "district": d.id, "name": c.name, "number": c.number,
            })
        });
        let sections = d.sections.iter().map(|s| {
            let mut teachers = vec![s.teacher];
            teachers.extend(&s.co_teachers);
            json!({
                "id": s.id, "district": d.id, "school": s.school, "course": s.course,
                "term_id": s.term, "name": s.name, "section_number": s.number, "sis_id": s.id,
                "grade": clever_grade(s.grade), "subject": "math", "period": "1",
                "teacher": s.teacher, "teachers": teachers, "students": s.students,
                "created": STAMP, "last_modified": STAMP, "ext": {},
            })
        });
        let users = d.people.iter().map(|p| user(d, p, full_name_in_last));
        let mut data = CleverData {
            districts,
            schools: schools.collect(),
            terms: terms.collect(),
            courses: courses.collect(),
            sections: sections.collect(),
            users: users.collect(),
            events: Vec::new(),
        };
        for list in [&mut data.schools, &mut data.sections, &mut data.users] {
            list.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        }
        data
    }
}

/// One person as a Clever user.
pub fn user(d: &District, p: &Person, full_name_in_last: bool) -> Value {
    let name = if p.kind == Kind::Guardian && full_name_in_last {
        json!({"first": "", "last": format!("{} {}", p.given, p.family)})
    } else {
        json!({"first": p.given, "middle": null, "last": p.family})
    };
    let credentials = json!({"district_username": p.username});
    let school = p.schools.first().copied();
    let role = match p.kind {
        Kind::Student => json!({"student": {
            "school": school, "schools": p.schools, "grade": p.grade.map(clever_grade),
            "student_number": format!("SN-{}", p.id), "sis_id": p.id, "legacy_id": p.id,
            "credentials": credentials, "gender": "", "dob": "1/2/2016",
            "enrollments": [{"school": school, "start_date": STAMP, "end_date": null}],
        }}),
        Kind::Teacher => json!({"teacher": {
            "school": school, "schools": p.schools, "teacher_number": format!("TN-{}", p.id),
            "sis_id": p.id, "legacy_id": p.id, "credentials": credentials, "title": "Teacher",
        }}),
        Kind::Staff => json!({"staff": {
            "schools": p.schools, "staff_id": p.id, "legacy_id": p.id,
            "roles": ["Principal"], "title": "Principal", "credentials": credentials,
        }}),
        Kind::Guardian => {
            let (phone, phone_type) = match (p.cell, p.home) {
                (Some(cell), _) => (Some(cell), "Cell"),
                (None, Some(home)) => (Some(home), "Home"),
                (None, None) => (None, ""),
            };
            let relationships: Vec<Value> = p
                .children
                .iter()
                .map(|c| json!({"student": c.student, "relationship": c.relationship, "type": c.kind}))
                .collect();
            json!({"contact": {
                "legacy_id": p.id, "sis_id": null, "phone": phone, "phone_type": phone_type,
                "student_relationships": relationships,
            }})
        }
    };
    json!({
        "id": p.id, "district": d.id, "email": p.email, "name": name,
        "created": STAMP, "last_modified": STAMP, "roles": role,
    })
}

/// Clever's grade names for CEDS codes.
fn clever_grade(ceds: &str) -> String {
    match ceds {
        "KG" => "Kindergarten".to_owned(),
        "PK" => "PreKindergarten".to_owned(),
        number => number.trim_start_matches('0').to_owned(),
    }
}

#[derive(Debug)]
struct Mock {
    data: CleverData,
    quirks: Quirks,
    failed: HashMap<(String, usize), usize>,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<Mock>>;

/// A running mock on 127.0.0.1; it stops when dropped.
#[derive(Debug)]
pub struct MockClever {
    pub base_url: String,
    state: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for MockClever {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl MockClever {
    pub async fn start(data: CleverData) -> MockClever {
        let state: Shared = Arc::new(Mutex::new(Mock {
            data,
            quirks: Quirks::default(),
            failed: HashMap::new(),
            requests: Vec::new(),
        }));
        let app = Router::new()
            .route("/v3.0/{list}", get(list))
            .route("/v3.1/{list}", get(list))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        MockClever {
            base_url,
            state,
            server,
        }
    }

    /// Changes the switches.
    pub fn quirks(&self, change: impl FnOnce(&mut Quirks)) {
        change(&mut self.state.lock().unwrap().quirks);
    }

    /// Changes the data.
    pub fn data(&self, change: impl FnOnce(&mut CleverData)) {
        change(&mut self.state.lock().unwrap().data);
    }

    /// Every request so far, as `path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Appends an event; `previous` goes in `previous_attributes`. Returns its id.
    pub fn push_event(&self, kind: &str, object: Value, previous: Option<Value>) -> String {
        let mut mock = self.state.lock().unwrap();
        let id = format!("ev{:05}", mock.data.events.len() + 1);
        let mut event =
            json!({"id": id, "type": kind, "created": STAMP, "data": {"object": object}});
        if let Some(previous) = previous {
            event["previous_attributes"] = previous;
        }
        mock.data.events.push(event);
        id
    }
}

async fn list(
    State(state): State<Shared>,
    Path(list): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut mock = state.lock().unwrap();
    mock.requests.push(uri.to_string());
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if authorization != format!("Bearer {TOKEN}") {
        return message(StatusCode::UNAUTHORIZED, "invalid or revoked token");
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100);
    let role = query.get("role").cloned();
    let records: Vec<Value> = match list.as_str() {
        "districts" => mock.data.districts.clone(),
        "schools" => mock.data.schools.clone(),
        "terms" => mock.data.terms.clone(),
        "courses" => mock.data.courses.clone(),
        "sections" => mock.data.sections.clone(),
        "users" => mock
            .data
            .users
            .iter()
            .filter(|u| {
                role.as_ref()
                    .is_none_or(|r| !u["roles"][r.as_str()].is_null())
            })
            .cloned()
            .collect(),
        "events" => return events(&mut mock, &query, limit),
        _ => return message(StatusCode::NOT_FOUND, "Not Found"),
    };
    let start = match query.get("starting_after") {
        None => 0,
        Some(after) => match records.iter().position(|r| r["id"] == after.as_str()) {
            Some(at) => at + 1,
            None => return message(StatusCode::BAD_REQUEST, "starting_after is not a known id"),
        },
    };
    let key = match &role {
        Some(role) => format!("{list}?role={role}"),
        None => list.clone(),
    };
    let page_number = start / limit.max(1) + 1;
    if let Some(failure) = fail(
        &mut mock,
        &[key.as_str(), list.as_str()],
        page_number,
        &authorization,
    ) {
        return failure;
    }
    let page: Vec<Value> = records.iter().skip(start).take(limit).cloned().collect();
    let mut links = vec![json!({"rel": "self", "uri": uri.to_string()})];
    if page.len() == limit
        && let Some(last) = page.last()
    {
        let mut next = format!(
            "/v3.0/{list}?limit={limit}&starting_after={}",
            last["id"].as_str().unwrap_or_default()
        );
        if let Some(role) = &role {
            next.push_str(&format!("&role={role}"));
        }
        links.push(json!({"rel": "next", "uri": next}));
    }
    let keys = [key.as_str(), list.as_str()];
    page_body(&mock, &keys, page_number, page, links)
}

/// `/v3.0/events`: ascending ids; `ending_before=last` gives the newest.
fn events(mock: &mut Mock, query: &HashMap<String, String>, limit: usize) -> Response {
    match mock.quirks.events_gone {
        Some(EventsGone::NotFound) => return message(StatusCode::NOT_FOUND, "Not Found"),
        Some(EventsGone::Gone) => return message(StatusCode::GONE, "events expired"),
        Some(EventsGone::TooOld) => {
            return message(
                StatusCode::BAD_REQUEST,
                "starting_after event ID is too old; events are kept for 30 days",
            );
        }
        None => {}
    }
    let all = &mock.data.events;
    let page: Vec<Value> = if query.get("ending_before").map(String::as_str) == Some("last") {
        all.iter().rev().take(limit).rev().cloned().collect()
    } else {
        let start = match query.get("starting_after") {
            None => 0,
            Some(after) => match all.iter().position(|e| e["id"] == after.as_str()) {
                Some(at) => at + 1,
                None => return message(StatusCode::NOT_FOUND, "event not found"),
            },
        };
        all.iter().skip(start).take(limit).cloned().collect()
    };
    let mut links = Vec::new();
    if page.len() == limit
        && query.get("ending_before").is_none()
        && let Some(last) = page.last()
    {
        let next = format!(
            "/v3.0/events?limit={limit}&starting_after={}",
            last["id"].as_str().unwrap_or_default()
        );
        links.push(json!({"rel": "next", "uri": next}));
    }
    let events: Vec<Value> = page.into_iter().map(|e| json!({"data": e})).collect();
    axum::Json(json!({"data": events, "links": links})).into_response()
}

/// The failure switched on for this page, if any is left.
pub fn fail_for(
    failures: &[Failure],
    failed: &mut HashMap<(String, usize), usize>,
    keys: &[&str],
    page: usize,
    authorization: &str,
) -> Option<Response> {
    let failure = failures
        .iter()
        .find(|f| keys.contains(&f.list) && f.page == page)?;
    let count = failed.entry((failure.list.to_owned(), page)).or_default();
    if *count >= failure.times {
        return None;
    }
    *count += 1;
    let status = StatusCode::from_u16(failure.status).unwrap();
    let text = if failure.echo_authorization {
        format!("cannot use the credentials {authorization}")
    } else {
        format!("injected failure {}", failure.status)
    };
    let mut response = message(status, &text);
    if let Some(seconds) = failure.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Some(response)
}

fn fail(mock: &mut Mock, keys: &[&str], page: usize, authorization: &str) -> Option<Response> {
    let Mock { quirks, failed, .. } = mock;
    fail_for(&quirks.failures, failed, keys, page, authorization)
}

fn page_body(
    mock: &Mock,
    keys: &[&str],
    page_number: usize,
    page: Vec<Value>,
    links: Vec<Value>,
) -> Response {
    let broken = mock
        .quirks
        .malformed
        .filter(|(list, page, _)| keys.contains(list) && *page == page_number)
        .map(|(_, _, how)| how);
    let mut data: Vec<Value> = page.into_iter().map(|r| json!({"data": r})).collect();
    match broken {
        Some(Malformation::BadJson) => {
            let text = json!({"data": data}).to_string();
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                text[..text.len() / 2].to_owned(),
            )
                .into_response()
        }
        Some(Malformation::MissingId) => {
            if let Some(first) = data.first_mut() {
                first["data"].as_object_mut().unwrap().remove("id");
            }
            axum::Json(json!({"data": data, "links": links})).into_response()
        }
        None => axum::Json(json!({"data": data, "links": links})).into_response(),
    }
}

/// A Clever error: `{"message": …}`.
pub fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({"message": text}))).into_response()
}
