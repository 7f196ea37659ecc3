//! A local Twilio for tests: the real `Messages.json` and `Calls.json` paths,
//! basic auth, form fields, 201 JSON answers, Twilio's error bodies, the
//! idempotency token, and failures scripted per `To` number.

// A test double: a mock that cannot bind or lock should fail the test at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The account the mock accepts.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Its auth token.
pub const AUTH_TOKEN: &str = "mock-auth-token";

/// Messages or calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Message,
    Call,
}

/// One accepted request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub resource: Resource,
    pub sid: String,
    /// The basic-auth user.
    pub account_sid: String,
    /// The form exactly as posted, in order.
    pub form: Vec<(String, String)>,
    pub idempotency_token: Option<String>,
    /// When it arrived (tokio time).
    pub at: Instant,
}

impl Recorded {
    /// The first value of a form field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the mock answers requests to one number.
#[derive(Debug, Clone)]
pub enum Failure {
    /// A Twilio REST error: HTTP status and error code.
    Error {
        status: u16,
        code: u32,
        message: String,
    },
    /// 429 (code 20429) with `Retry-After`.
    TooManyRequests { retry_after_secs: u64 },
    /// A bare 500.
    ServerError,
    /// Answer nothing for this long.
    Hang(Duration),
}

#[derive(Default)]
struct Inner {
    recorded: Vec<Recorded>,
    by_token: HashMap<String, Value>,
    failures: HashMap<String, Failure>,
    requests: usize,
}

type Shared = Arc<Mutex<Inner>>;

/// The running mock; stops when dropped.
pub struct MockTwilio {
    addr: SocketAddr,
    inner: Shared,
    task: JoinHandle<()>,
}

impl MockTwilio {
    /// Serves on 127.0.0.1:0.
    pub async fn start() -> MockTwilio {
        let inner = Shared::default();
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(|s, p, h, f| create(Resource::Message, s, p, h, f)),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/Calls.json",
                post(|s, p, h, f| create(Resource::Call, s, p, h, f)),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockTwilio { addr, inner, task }
    }

    /// What `TwilioSettings::base_url` should be.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers every request to `to` with `failure` until cleared.
    pub fn fail(&self, to: &str, failure: Failure) {
        self.lock().failures.insert(to.to_owned(), failure);
    }

    /// Accepts requests to `to` again.
    pub fn clear_failure(&self, to: &str) {
        self.lock().failures.remove(to);
    }

    /// Every accepted message and call, in arrival order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.lock().recorded.clone()
    }

    /// Accepted messages.
    pub fn messages(&self) -> Vec<Recorded> {
        self.of(Resource::Message)
    }

    /// Accepted calls.
    pub fn calls(&self) -> Vec<Recorded> {
        self.of(Resource::Call)
    }

    /// Every request that reached a route, accepted or not.
    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    fn of(&self, resource: Resource) -> Vec<Recorded> {
        let all = self.recorded();
        all.into_iter().filter(|r| r.resource == resource).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }
}

impl Drop for MockTwilio {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn create(
    resource: Resource,
    State(inner): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(user) = authenticated(&headers).filter(|user| *user == sid) else {
        return error(401, 20003, "Authenticate");
    };
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let to = field("To").unwrap_or_default();
    let failure = {
        let mut inner = inner.lock().unwrap();
        inner.requests += 1;
        inner.failures.get(&to).cloned()
    };
    if let Some(failure) = failure {
        return fail(failure).await;
    }
    if let Some(missing) = missing_field(resource, &field) {
        return missing;
    }
    let token = headers
        .get("I-Twilio-Idempotency-Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = inner.lock().unwrap();
    if let Some(answer) = token.as_ref().and_then(|t| inner.by_token.get(t)) {
        return (StatusCode::CREATED, Json(answer.clone())).into_response();
    }
    let prefix = match resource {
        Resource::Message => "SM",
        Resource::Call => "CA",
    };
    let new_sid = format!("{prefix}{:032x}", inner.recorded.len() + 1);
    let answer = answer(resource, &new_sid, &user, &field);
    if let Some(token) = &token {
        inner.by_token.insert(token.clone(), answer.clone());
    }
    inner.recorded.push(Recorded {
        resource,
        sid: new_sid,
        account_sid: user,
        form,
        idempotency_token: token,
        at: Instant::now(),
    });
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// The basic-auth user when the password is [`AUTH_TOKEN`] for [`ACCOUNT_SID`].
fn authenticated(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    (user == ACCOUNT_SID && password == AUTH_TOKEN).then(|| user.to_owned())
}

fn missing_field(resource: Resource, field: &dyn Fn(&str) -> Option<String>) -> Option<Response> {
    if field("To").is_none() {
        return Some(error(400, 21604, "A 'To' phone number is required."));
    }
    match resource {
        Resource::Message if field("From").is_none() && field("MessagingServiceSid").is_none() => {
            Some(error(400, 21603, "A 'From' phone number is required."))
        }
        Resource::Message if field("Body").is_none() => {
            Some(error(400, 21602, "Message body is required."))
        }
        Resource::Call if field("From").is_none() => {
            Some(error(400, 21603, "A 'From' phone number is required."))
        }
        Resource::Call if field("Twiml").is_none() && field("Url").is_none() => {
            Some(error(400, 21205, "Url parameter is required."))
        }
        _ => None,
    }
}

fn answer(
    resource: Resource,
    sid: &str,
    account: &str,
    field: &dyn Fn(&str) -> Option<String>,
) -> Value {
    let now = chrono::Utc::now().to_rfc2822();
    let (collection, mut answer) = match resource {
        Resource::Message => (
            "Messages",
            json!({
                "body": field("Body"),
                "num_segments": "1",
                "num_media": "0",
                "direction": "outbound-api",
                "messaging_service_sid": field("MessagingServiceSid"),
                "date_sent": null,
                "error_code": null,
                "error_message": null,
            }),
        ),
        Resource::Call => (
            "Calls",
            json!({
                "direction": "outbound-api",
                "start_time": null,
                "end_time": null,
                "duration": null,
            }),
        ),
    };
    let common = json!({
        "sid": sid,
        "account_sid": account,
        "api_version": "2010-04-01",
        "status": "queued",
        "to": field("To"),
        "from": field("From"),
        "date_created": now,
        "date_updated": now,
        "price": null,
        "price_unit": "USD",
        "uri": format!("/2010-04-01/Accounts/{account}/{collection}/{sid}.json"),
    });
    if let (Some(answer), Value::Object(common)) = (answer.as_object_mut(), common) {
        answer.extend(common);
    }
    answer
}

async fn fail(failure: Failure) -> Response {
    match failure {
        Failure::Error {
            status,
            code,
            message,
        } => error(status, code, &message),
        Failure::TooManyRequests { retry_after_secs } => {
            let mut response = error(429, 20429, "Too Many Requests");
            let retry_after = HeaderValue::from(retry_after_secs);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after);
            response
        }
        Failure::ServerError => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Failure::Hang(duration) => {
            tokio::time::sleep(duration).await;
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Twilio's REST error body.
fn error(status: u16, code: u32, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}
