//! What every roster route reads the same way: path and query rejections as
//! 400s, ids, the page parameters of lists, and the error answers the OpenAPI
//! document lists.

use axum::{
    Json,
    extract::{
        Path, Query,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

use super::{
    error::{ApiError, ErrorBody},
    json,
};

/// The longest id or page token the gateway passes on.
const MAX_ID_CHARS: usize = 1_024;

/// A query string the gateway could read, or 400 naming the problem.
pub fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// A JSON body read as `T`, or 400 naming the problem. No string in it may
/// hold a control character: they have no place in a name, a URL or a
/// secret, and PostgreSQL cannot store NUL.
pub fn body<T: DeserializeOwned>(body: Result<Json<Value>, JsonRejection>) -> Result<T, ApiError> {
    let Json(value) = body?;
    if let Some(field) = control_character(&value, "body") {
        return Err(ApiError::bad_request(format!(
            "{field}: control characters are not allowed"
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("the body cannot be read: {e}")))
}

/// The field of the first string with a control character, if any.
fn control_character(value: &Value, field: &str) -> Option<String> {
    match value {
        Value::String(s) if s.chars().any(char::is_control) => Some(field.to_string()),
        Value::Array(items) => items.iter().find_map(|v| control_character(v, field)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(name, v)| control_character(v, name)),
        _ => None,
    }
}

/// The id in the path, or 400.
pub fn path_id(path: Result<Path<String>, PathRejection>, field: &str) -> Result<String, ApiError> {
    let Path(value) = path.map_err(|e| ApiError::bad_request(e.body_text()))?;
    id(field, &value)
}

/// A required id: trimmed, not empty, printable and of sane length.
pub fn id(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_request(format!("{field}: required")));
    }
    text(field, value)
}

/// An optional id or token: empty when absent.
pub fn optional_id(field: &str, value: Option<&str>) -> Result<String, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(field, v),
        None => Ok(String::new()),
    }
}

fn text(field: &str, value: &str) -> Result<String, ApiError> {
    if value.chars().count() > MAX_ID_CHARS || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field}: at most {MAX_ID_CHARS} printable characters"
        )));
    }
    Ok(value.to_string())
}

/// The page parameters every roster list takes.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// How many items to return, from 1 to 500 (the list's default when
    /// absent).
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<i32>,
    /// The `nextPageToken` of the previous page.
    pub page_token: Option<String>,
}

/// A page request as the RPCs take it: size (0 is the service's default)
/// and token.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub size: i32,
    pub token: String,
}

/// The page parameters of a request, checked (`pageSize` 1 to 500).
pub fn page(page: Result<Query<Page>, QueryRejection>) -> Result<PageRequest, ApiError> {
    let page = query(page)?;
    Ok(PageRequest {
        // 0 asks the service for its default.
        size: json::page_size(page.page_size, 0, 500)?,
        token: optional_id("pageToken", page.page_token.as_deref())?,
    })
}

/// The next page's token, `None` on the last page.
pub fn next_page(token: String) -> Option<String> {
    Some(token).filter(|t| !t.is_empty())
}

/// `None` for an empty proto string.
pub fn non_empty(value: String) -> Option<String> {
    Some(value).filter(|v| !v.is_empty())
}

/// 400 in the document.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 400,
    description = "A parameter or the body is missing or not valid; the message names it"
)]
pub struct BadRequest(pub ErrorBody);

/// 401 in the document.
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "No valid access token")]
pub struct Unauthenticated(pub ErrorBody);

/// 403 in the document.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 403,
    description = "Only district administrators and rostering administrators of the district (or school) may do this"
)]
pub struct Forbidden(pub ErrorBody);

/// 404 in the document.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 404,
    description = "No such source, run or upload in the caller's district"
)]
pub struct NotFound(pub ErrorBody);

/// 409 in the document.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 409,
    description = "The idempotency key was already used for a different request"
)]
pub struct Conflict(pub ErrorBody);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_trimmed_and_must_be_printable() {
        assert_eq!(id("sourceId", " s-1 ").unwrap(), "s-1");
        assert!(
            id("sourceId", "  ")
                .unwrap_err()
                .message
                .contains("required")
        );
        assert!(id("sourceId", "a\u{0}b").is_err());
        assert!(id("sourceId", &"x".repeat(MAX_ID_CHARS + 1)).is_err());
        assert_eq!(optional_id("schoolId", None).unwrap(), "");
        assert_eq!(optional_id("schoolId", Some(" ")).unwrap(), "");
    }

    #[test]
    fn a_body_with_a_control_character_anywhere_is_refused() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Named {
            #[allow(dead_code)]
            name: String,
        }
        let read = |v: Value| body::<Named>(Ok(Json(v)));
        assert!(read(serde_json::json!({"name": "Lincoln"})).is_ok());
        let e = read(serde_json::json!({"name": "Lin\u{0}coln"})).unwrap_err();
        assert_eq!(e.message, "name: control characters are not allowed");
        let e = read(serde_json::json!({"name": "x", "nmae": "y"})).unwrap_err();
        assert!(e.message.contains("unknown field `nmae`"), "{}", e.message);
    }

    #[test]
    fn a_page_size_outside_1_to_500_is_refused() {
        let ask = |q: &str| {
            let uri: axum::http::Uri = format!("/x?{q}").parse().unwrap();
            page(Query::try_from_uri(&uri))
        };
        assert_eq!(ask("").unwrap(), PageRequest::default());
        assert_eq!(
            ask("pageSize=20&pageToken=abc").unwrap(),
            PageRequest {
                size: 20,
                token: "abc".into()
            }
        );
        assert!(ask("pageSize=0").is_err());
        assert!(ask("pageSize=501").is_err());
        assert!(ask("pageSize=ten").is_err());
    }
}
