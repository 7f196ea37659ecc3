//! GW-1: every error as `{ "code", "message", "details" }`, with one table from
//! gRPC codes to HTTP statuses.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// An error answer of the REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The gRPC code's name, e.g. `INVALID_ARGUMENT`.
    pub code: &'static str,
    /// What a person can act on.
    pub message: String,
    /// Structured details (field violations …); empty when none.
    pub details: Vec<serde_json::Value>,
    /// For 429: seconds to wait, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    details: &'a [serde_json::Value],
}

/// How every error reads (for the OpenAPI document).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The gRPC code's name, e.g. `INVALID_ARGUMENT`.
    pub code: String,
    /// What a person can act on.
    pub message: String,
    /// Structured details; empty when none.
    pub details: Vec<serde_json::Value>,
}

/// The HTTP status and the code name of a gRPC code: the one table.
pub fn http_status(code: tonic::Code) -> (StatusCode, &'static str) {
    use tonic::Code as C;
    match code {
        C::Ok => (StatusCode::OK, "OK"),
        C::Cancelled => (client_closed(), "CANCELLED"),
        C::Unknown => (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN"),
        C::InvalidArgument => (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT"),
        C::DeadlineExceeded => (StatusCode::GATEWAY_TIMEOUT, "DEADLINE_EXCEEDED"),
        C::NotFound => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        C::AlreadyExists => (StatusCode::CONFLICT, "ALREADY_EXISTS"),
        C::PermissionDenied => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
        C::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED"),
        C::FailedPrecondition => (StatusCode::BAD_REQUEST, "FAILED_PRECONDITION"),
        C::Aborted => (StatusCode::CONFLICT, "ABORTED"),
        C::OutOfRange => (StatusCode::BAD_REQUEST, "OUT_OF_RANGE"),
        C::Unimplemented => (StatusCode::NOT_IMPLEMENTED, "UNIMPLEMENTED"),
        C::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        C::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
        C::DataLoss => (StatusCode::INTERNAL_SERVER_ERROR, "DATA_LOSS"),
        C::Unauthenticated => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
    }
}

/// 499, the status proxies use for a client that went away.
fn client_closed() -> StatusCode {
    StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST)
}

impl ApiError {
    /// An error of a gRPC code with a message.
    pub fn new(code: tonic::Code, message: impl Into<String>) -> ApiError {
        let (status, name) = http_status(code);
        ApiError {
            status,
            code: name,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 for a request body or parameter the gateway cannot read.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(tonic::Code::InvalidArgument, message)
    }

    /// 401: no usable access token.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            tonic::Code::Unauthenticated,
            "sign in: the access token is missing, expired or not valid",
        )
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> ApiError {
        // The services' messages are written for people and never carry
        // internals; an unreachable upstream (the transport's own error,
        // "tcp connect error" and the like) says so plainly.
        let from_transport =
            status.message().is_empty() || std::error::Error::source(&status).is_some();
        // A call the upstream cancelled, or whose connection failed under it
        // (a pod stopping during a rollout closes its connections: a broken
        // pipe, a reset stream): the upstream is going away, not wrong, so
        // the answer is to try again shortly, as for one that is down. A
        // status a service wrote itself (no transport error under it) keeps
        // its code. (Our client cancelling would leave no one to answer.)
        let unserved = status.code() == tonic::Code::Cancelled;
        let went_away = from_transport
            && matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Internal
            );
        if unserved || went_away {
            tracing::warn!(
                code = ?status.code(),
                message = %status.message(),
                "an upstream call ended without an answer; the caller may try again"
            );
            let mut error = ApiError::new(
                tonic::Code::Unavailable,
                "the service is unavailable; try again shortly",
            );
            error.retry_after = Some(1);
            return error;
        }
        let mut error = ApiError::new(status.code(), status.message());
        // A throttled service says how long to wait; so does the answer.
        error.retry_after = status
            .metadata()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            code: self.code,
            message: &self.message,
            details: &self.details,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after
            && let Ok(v) = wait.to_string().parse()
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    /// An unreadable body: 400 naming the problem, 413 when it is too large,
    /// 415 when it is not JSON.
    fn from(r: axum::extract::rejection::JsonRejection) -> ApiError {
        let mut e = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                tonic::Code::ResourceExhausted,
                "the request body is too large",
            ),
            _ => ApiError::bad_request(r.body_text()),
        };
        if matches!(
            r.status(),
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE
        ) {
            e.status = r.status();
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grpc_code_has_one_http_status() {
        use tonic::Code as C;
        let table = [
            (C::InvalidArgument, 400),
            (C::FailedPrecondition, 400),
            (C::OutOfRange, 400),
            (C::Unauthenticated, 401),
            (C::PermissionDenied, 403),
            (C::NotFound, 404),
            (C::AlreadyExists, 409),
            (C::Aborted, 409),
            (C::ResourceExhausted, 429),
            (C::Cancelled, 499),
            (C::Internal, 500),
            (C::Unknown, 500),
            (C::DataLoss, 500),
            (C::Unimplemented, 501),
            (C::Unavailable, 503),
            (C::DeadlineExceeded, 504),
        ];
        for (code, status) in table {
            assert_eq!(http_status(code).0.as_u16(), status, "{code:?}");
        }
    }

    #[tokio::test]
    async fn a_services_retry_after_becomes_the_answers_retry_after() {
        let mut status = tonic::Status::resource_exhausted("too many attempts");
        status
            .metadata_mut()
            .insert("retry-after", "17".parse().unwrap());
        let response = ApiError::from(status).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "17");
    }

    #[test]
    fn an_upstream_call_cancelled_in_a_rollout_is_a_503_to_try_again() {
        let error = ApiError::from(tonic::Status::cancelled("operation was canceled"));
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.retry_after, Some(1));
        assert_eq!(
            error.message,
            "the service is unavailable; try again shortly"
        );
        // The connection failed under the call: the same.
        let broken = tonic::Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "broken pipe",
        )));
        let error = ApiError::from(broken);
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.retry_after, Some(1));
        // A service's own INTERNAL stays a 500.
        let error = ApiError::from(tonic::Status::internal("the database refused the write"));
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn an_error_is_code_message_and_details_in_json() {
        let response = ApiError::from(tonic::Status::not_found("no such account")).into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "NOT_FOUND", "message": "no such account", "details": []})
        );
    }
}
