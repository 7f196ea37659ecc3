//! Every text field of a JSON body has a length limit (security: a 900 KB
//! sync-source name was once accepted): the first string over its field's
//! limit answers 400 with a field violation naming it, before any service
//! sees the request. The services check the fields they store as well.

use axum::{
    body::Body,
    extract::{Request, State},
    http::header::CONTENT_TYPE,
    middleware::Next,
    response::{IntoResponse, Response},
};
use homeroom_platform::text::{BODY, NAME, SHORT, SUBJECT, URL};
use serde_json::Value;

use super::error::ApiError;
use crate::app::AppState;

/// The limit of a field, by its JSON name.
fn limit(field: &str) -> usize {
    match field {
        "body" => BODY,
        "subject" => SUBJECT,
        "displayName" | "name" | "givenName" | "middleName" | "familyName" => NAME,
        "location" | "baseUrl" | "tokenUrl" | "redirectUri" => URL,
        _ => SHORT,
    }
}

/// The first string of `value` over its limit: its path and the violation.
fn over_limit(value: &Value, path: &str, field: &str) -> Option<(String, String)> {
    match value {
        Value::String(s) => homeroom_platform::text::within(path, s, limit(field))
            .err()
            .map(|e| (path.to_string(), e)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| over_limit(v, &format!("{path}[{i}]"), field)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let path = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            over_limit(v, &path, k)
        }),
        _ => None,
    }
}

/// Middleware: checks JSON bodies (up to the body limit; a larger one is
/// left to the route's own limit and answer).
pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut e = ApiError::new(
                tonic::Code::ResourceExhausted,
                "the request body is too large",
            );
            e.status = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
            return e.into_response();
        }
    };
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes)
        && let Some((field, violation)) = over_limit(&value, "", "")
    {
        let mut e = ApiError::bad_request(violation.clone());
        e.details = vec![serde_json::json!({"field": field, "description": violation})];
        return e.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_long_string_is_named_by_its_path() {
        let long = "x".repeat(201);
        let v = serde_json::json!({"displayName": "SIS", "settings": {"note": "ok"}});
        assert_eq!(over_limit(&v, "", ""), None);
        let v = serde_json::json!({"displayName": long});
        let (field, e) = over_limit(&v, "", "").unwrap();
        assert_eq!(field, "displayName");
        assert!(e.starts_with("displayName: at most 200 characters"), "{e}");
        let v = serde_json::json!({"variants": [{"body": "fine"}, {"subject": "y".repeat(999)}]});
        assert_eq!(over_limit(&v, "", "").unwrap().0, "variants[1].subject");
        let v = serde_json::json!({"body": "z".repeat(50_000)});
        assert_eq!(over_limit(&v, "", ""), None, "a message body may be long");
    }
}
