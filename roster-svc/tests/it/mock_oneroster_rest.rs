//! A local OneRoster REST 1.1 server shaped like ClassLink's roster servers:
//! `/ims/oneroster/v1p1/{orgs,academicSessions,courses,classes,users,enrollments}`
//! with `limit` / `offset` paging (`Link` and `X-Total-Count` headers, or
//! neither), checked OAuth 1.0a HMAC-SHA256 signatures, an OAuth 2 client
//! credentials token endpoint, or a static bearer; and the failure switches
//! the Clever mock has.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::connectors::district::{District, Kind};
use crate::mock_clever::{Failure, Malformation, fail_for};

/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/oauth/token";

const ROOT: &str = "/ims/oneroster/v1p1";
const STAMP: &str = "2025-08-01T12:00:00.000Z";
const COLLECTIONS: [&str; 6] = [
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
];

/// Where the guardian links are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agents {
    /// On the student (`agents` = their guardians).
    StudentToGuardian,
    /// On the guardian (`agents` = their students).
    GuardianToStudent,
    /// On both.
    Both,
}

/// How booleans (`enabledUser`, `primary`) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnabledAs {
    /// `"true"`, as ClassLink does.
    String,
    /// `true`.
    Bool,
}

/// The server's credentials.
#[derive(Debug, Clone)]
pub enum MockAuth {
    OAuth2 {
        client_id: &'static str,
        client_secret: &'static str,
        expires_in: u64,
        /// Tokens stop working after this many requests (the server's clock).
        uses_per_token: Option<usize>,
    },
    OAuth1 {
        key: &'static str,
        secret: &'static str,
    },
    Bearer(&'static str),
}

/// How pages say there is more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paging {
    /// `Link` with `rel="next"` and `X-Total-Count`.
    #[default]
    LinkAndTotal,
    /// `X-Total-Count` only.
    TotalOnly,
    /// Nothing: the client stops at a short or empty page.
    Bare,
}

/// The switches.
#[derive(Debug, Default)]
pub struct Quirks {
    pub failures: Vec<Failure>,
    pub malformed: Option<(&'static str, usize, Malformation)>,
    pub paging: Paging,
}

/// The six collections, each record as a OneRoster 1.1 REST server writes it.
#[derive(Debug, Clone, Default)]
pub struct RestData {
    pub collections: HashMap<&'static str, Vec<Value>>,
}

fn guid(kind: &str, path: &str, id: &str) -> Value {
    json!({"href": format!("{ROOT}/{path}/{id}"), "sourcedId": id, "type": kind})
}

impl RestData {
    /// `district` as ClassLink writes it: empty strings for blank values,
    /// booleans per `enabled`, guardian links per `agents`.
    pub fn from_district(d: &District, agents: Agents, enabled: EnabledAs) -> Self {
        let flag = |b: bool| match enabled {
            EnabledAs::String => json!(b.to_string()),
            EnabledAs::Bool => json!(b),
        };
        let org = |id: &str| guid("org", "orgs", id);
        let mut orgs = vec![json!({
            "sourcedId": d.id, "status": "active", "dateLastModified": STAMP, "name": d.name,
            "type": "district", "identifier": "", "parent": null,
            "children": d.schools.iter().map(|s| org(s.id)).collect::<Vec<_>>(),
        })];
        orgs.extend(d.schools.iter().map(|s| {
            json!({
                "sourcedId": s.id, "status": "active", "dateLastModified": STAMP, "name": s.name,
                "type": "school", "identifier": s.number, "parent": org(d.id), "children": null,
            })
        }));
        let sessions = d.terms.iter().map(|t| json!({
            "sourcedId": t.id, "status": "active", "dateLastModified": STAMP, "title": t.name,
            "type": "term", "startDate": t.start, "endDate": t.end, "parent": null, "schoolYear": "2026",
        }));
        let courses = d.courses.iter().map(|c| json!({
            "sourcedId": c.id, "status": "active", "dateLastModified": STAMP, "title": c.name,
            "courseCode": c.number, "grades": [], "subjects": [], "org": org(d.id), "schoolYear": null,
        }));
        let classes = d.sections.iter().map(|s| json!({
            "sourcedId": s.id, "status": "active", "dateLastModified": STAMP, "title": s.name,
            "classCode": s.number, "classType": "scheduled", "location": "", "grades": [s.grade],
            "subjects": [], "course": guid("course", "courses", s.course), "school": org(s.school),
            "terms": [guid("academicSession", "academicSessions", s.term)], "periods": ["1"],
        }));
        let users = d.people.iter().map(|p| {
            let agent_ids = match (p.kind, agents) {
                (Kind::Student, Agents::StudentToGuardian | Agents::Both) => d.guardians_of(p.id),
                (Kind::Guardian, Agents::GuardianToStudent | Agents::Both) => p.students(),
                _ => Vec::new(),
            };
            json!({
                "sourcedId": p.id, "status": "active", "dateLastModified": STAMP,
                "username": p.username.unwrap_or_default(),
                "userIds": [{"type": "LDAP", "identifier": p.id}],
                "enabledUser": flag(true), "givenName": p.given, "familyName": p.family,
                "middleName": "", "role": p.oneroster_role(), "identifier": p.id,
                "email": p.email.unwrap_or_default(), "sms": p.cell.unwrap_or_default(),
                "phone": p.home.unwrap_or_default(),
                "agents": agent_ids.iter().map(|a| guid("user", "users", a)).collect::<Vec<_>>(),
                "orgs": p.schools.iter().map(|s| org(s)).collect::<Vec<_>>(),
                "grades": p.grade.into_iter().collect::<Vec<_>>(), "password": "",
            })
        });
        let enrollments = d.sections.iter().flat_map(|s| {
            let teachers = std::iter::once((s.teacher, "teacher", true))
                .chain(s.co_teachers.iter().map(|t| (*t, "teacher", false)));
            let students = s.students.iter().map(|st| (*st, "student", false));
            teachers.chain(students).map(move |(user, role, primary)| json!({
                "sourcedId": format!("e-{}-{user}", s.id), "status": "active",
                "dateLastModified": STAMP, "user": guid("user", "users", user),
                "class": guid("class", "classes", s.id), "school": org(s.school),
                "role": role, "primary": flag(primary), "beginDate": "2025-08-20", "endDate": "2026-06-12",
            }))
        });
        let mut collections = HashMap::new();
        collections.insert("orgs", orgs);
        collections.insert("academicSessions", sessions.collect());
        collections.insert("courses", courses.collect());
        collections.insert("classes", classes.collect());
        collections.insert("users", users.collect());
        collections.insert("enrollments", enrollments.collect());
        RestData { collections }
    }

    /// The libre-oneroster sample payloads (`{name}.json`), as they are.
    pub fn from_samples(dir: &Path) -> Self {
        let mut collections = HashMap::new();
        for name in COLLECTIONS {
            let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
            let json: Value = serde_json::from_str(&text).unwrap();
            collections.insert(name, json[name].as_array().cloned().unwrap_or_default());
        }
        RestData { collections }
    }
}

#[derive(Debug)]
struct Mock {
    data: RestData,
    auth: MockAuth,
    base_url: String,
    quirks: Quirks,
    failed: HashMap<(String, usize), usize>,
    requests: Vec<String>,
    token_requests: usize,
    tokens: HashMap<String, usize>,
    nonces: HashSet<String>,
}

type Shared = Arc<Mutex<Mock>>;

/// A running mock on 127.0.0.1; it stops when dropped.
#[derive(Debug)]
pub struct MockRest {
    pub base_url: String,
    state: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for MockRest {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl MockRest {
    pub async fn start(data: RestData, auth: MockAuth) -> MockRest {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state: Shared = Arc::new(Mutex::new(Mock {
            data,
            auth,
            base_url: base_url.clone(),
            quirks: Quirks::default(),
            failed: HashMap::new(),
            requests: Vec::new(),
            token_requests: 0,
            tokens: HashMap::new(),
            nonces: HashSet::new(),
        }));
        let app = Router::new()
            .route(&format!("{ROOT}/{{collection}}"), get(collection))
            .route(TOKEN_PATH, post(token))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        MockRest {
            base_url,
            state,
            server,
        }
    }

    pub fn quirks(&self, change: impl FnOnce(&mut Quirks)) {
        change(&mut self.state.lock().unwrap().quirks);
    }

    pub fn data(&self, change: impl FnOnce(&mut RestData)) {
        change(&mut self.state.lock().unwrap().data);
    }

    /// Every collection request so far, as `path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// How many tokens were handed out.
    pub fn token_requests(&self) -> usize {
        self.state.lock().unwrap().token_requests
    }
}

#[derive(Debug, serde::Deserialize)]
struct TokenForm {
    grant_type: String,
    #[serde(default)]
    scope: Option<String>,
}

/// RFC 6749 §4.4: client credentials in HTTP Basic.
async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let mut mock = state.lock().unwrap();
    let MockAuth::OAuth2 {
        client_id,
        client_secret,
        expires_in,
        ..
    } = mock.auth.clone()
    else {
        return (StatusCode::NOT_FOUND, "no token endpoint").into_response();
    };
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    if let Some(failure) = fail(&mut mock, "token", 1, "") {
        return failure;
    }
    if basic != Some(format!("{client_id}:{client_secret}")) {
        let body =
            json!({"error": "invalid_client", "error_description": "client authentication failed"});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    if form.grant_type != "client_credentials" {
        let body = json!({"error": "unsupported_grant_type"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    mock.token_requests += 1;
    let access_token = format!("access-{}-{}", mock.token_requests, std::process::id());
    mock.tokens.insert(access_token.clone(), 0);
    let body = json!({
        "access_token": access_token, "token_type": "bearer", "expires_in": expires_in,
        "scope": form.scope.unwrap_or_default(),
    });
    axum::Json(body).into_response()
}

async fn collection(
    State(state): State<Shared>,
    UrlPath(name): UrlPath<String>,
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
    let url = reqwest::Url::parse(&format!("{}{uri}", mock.base_url)).unwrap();
    if let Err(why) = check_auth(&mut mock, &authorization, &url) {
        return ims_error(StatusCode::UNAUTHORIZED, "unauthorized", &why);
    }
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let offset: usize = query
        .get("offset")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let Some(records) = mock.data.collections.get(name.as_str()).cloned() else {
        return ims_error(
            StatusCode::NOT_FOUND,
            "unknown object",
            "no such collection",
        );
    };
    let page_number = offset / limit + 1;
    if let Some(failure) = fail(&mut mock, &name, page_number, &authorization) {
        return failure;
    }
    let mut page: Vec<Value> = records.iter().skip(offset).take(limit).cloned().collect();
    let broken = mock
        .quirks
        .malformed
        .filter(|(list, page, _)| *list == name && *page == page_number)
        .map(|(_, _, how)| how);
    let mut response = match broken {
        Some(Malformation::BadJson) => {
            let text = json!({ name.as_str(): page }).to_string();
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                text[..text.len() / 2].to_owned(),
            )
                .into_response()
        }
        Some(Malformation::MissingId) => {
            if let Some(first) = page.first_mut() {
                first.as_object_mut().unwrap().remove("sourcedId");
            }
            axum::Json(json!({ name.as_str(): page })).into_response()
        }
        None => axum::Json(json!({ name.as_str(): page })).into_response(),
    };
    let total = records.len();
    let headers = response.headers_mut();
    if mock.quirks.paging != Paging::Bare {
        headers.insert("x-total-count", HeaderValue::from(total));
    }
    if mock.quirks.paging == Paging::LinkAndTotal {
        let at = |offset: usize| {
            format!(
                "<{}{ROOT}/{name}?limit={limit}&offset={offset}>",
                mock.base_url
            )
        };
        let mut links = vec![format!("{}; rel=\"first\"", at(0))];
        if offset + limit < total {
            links.push(format!("{}; rel=\"next\"", at(offset + limit)));
        }
        headers.insert(
            header::LINK,
            HeaderValue::from_str(&links.join(", ")).unwrap(),
        );
    }
    response
}

fn fail(mock: &mut Mock, list: &str, page: usize, authorization: &str) -> Option<Response> {
    let Mock { quirks, failed, .. } = mock;
    fail_for(&quirks.failures, failed, &[list], page, authorization)
}

fn check_auth(mock: &mut Mock, authorization: &str, url: &reqwest::Url) -> Result<(), String> {
    match mock.auth.clone() {
        MockAuth::Bearer(token) => (authorization == format!("Bearer {token}"))
            .then_some(())
            .ok_or_else(|| "bad bearer token".to_owned()),
        MockAuth::OAuth2 { uses_per_token, .. } => {
            let token = authorization
                .strip_prefix("Bearer ")
                .ok_or("no bearer token")?;
            let uses = mock.tokens.get_mut(token).ok_or("unknown token")?;
            *uses += 1;
            match uses_per_token {
                Some(limit) if *uses > limit => Err("token expired".to_owned()),
                _ => Ok(()),
            }
        }
        MockAuth::OAuth1 { key, secret } => {
            let params = verify_oauth1(authorization, url, key, secret)?;
            let nonce = params.get("oauth_nonce").cloned().unwrap_or_default();
            if !mock.nonces.insert(nonce) {
                return Err("nonce used before".to_owned());
            }
            Ok(())
        }
    }
}

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// Checks an `Authorization: OAuth …` header the way a OneRoster 1.1 server
/// does (RFC 5849 with HMAC-SHA256); the header's fields on success.
fn verify_oauth1(
    authorization: &str,
    url: &reqwest::Url,
    key: &str,
    secret: &str,
) -> Result<HashMap<String, String>, String> {
    let fields = authorization
        .strip_prefix("OAuth ")
        .ok_or("not an OAuth header")?;
    let mut params = HashMap::new();
    for field in fields.split(',') {
        let (name, value) = field.trim().split_once('=').ok_or("bad field")?;
        let value = value.trim_matches('"');
        let value = percent_decode_str(value)
            .decode_utf8()
            .map_err(|e| e.to_string())?;
        params.insert(name.to_owned(), value.into_owned());
    }
    let get = |name: &str| params.get(name).cloned().unwrap_or_default();
    if get("oauth_consumer_key") != key {
        return Err("unknown consumer key".to_owned());
    }
    if get("oauth_signature_method") != "HMAC-SHA256" || get("oauth_version") != "1.0" {
        return Err("unsupported signature method or version".to_owned());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let timestamp: u64 = get("oauth_timestamp")
        .parse()
        .map_err(|_| "bad timestamp")?;
    if timestamp.abs_diff(now) > 300 {
        return Err("stale timestamp".to_owned());
    }
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (enc(&k), enc(&v)))
        .chain(
            params
                .iter()
                .filter(|(k, _)| k.as_str() != "oauth_signature")
                .map(|(k, v)| (enc(k), enc(v))),
        )
        .collect();
    pairs.sort();
    let normalized: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let base_uri = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    );
    let base = format!(
        "GET&{}&{}",
        enc(&format!("{base_uri}{}", url.path())),
        enc(&normalized.join("&"))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(format!("{}&", enc(secret)).as_bytes()).unwrap();
    mac.update(base.as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    if get("oauth_signature") != expected {
        return Err("signature does not match".to_owned());
    }
    Ok(params)
}

/// A OneRoster status payload.
fn ims_error(status: StatusCode, minor: &str, description: &str) -> Response {
    let body = json!({
        "imsx_codeMajor": "failure", "imsx_severity": "error",
        "imsx_CodeMinor": {"imsx_codeMinorFieldValue": minor}, "imsx_description": description,
    });
    (status, axum::Json(body)).into_response()
}
