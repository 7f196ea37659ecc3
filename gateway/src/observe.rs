//! One access-log line and the HTTP metrics of every request: method, route
//! template (never the raw path or query, which can carry names, addresses
//! and tokens), status, duration and request id.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};

/// The middleware; outside routing's own layers, inside the request id. A
/// request without a well-formed W3C `traceparent` gets a new one here (the
/// gateway starts the trace), which every service call then carries.
pub async fn observe(mut request: Request, next: Next) -> Response {
    use homeroom_platform::request_context::{TRACEPARENT, is_traceparent, new_traceparent};
    let carried = request
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_traceparent);
    if !carried && let Ok(value) = new_traceparent().parse() {
        request.headers_mut().insert(TRACEPARENT, value);
    }
    let trace_id = request
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.get(3..35))
        .unwrap_or("-")
        .to_owned();
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        target: "access",
        method = %method,
        route = %route,
        status,
        ms = elapsed.as_millis() as u64,
        request_id = %request_id,
        trace_id = %trace_id,
        "request"
    );
    metrics::counter!("homeroom_http_requests_total",
        "component" => "gateway", "route" => route.clone(), "method" => method.clone(),
        "status" => status.to_string())
    .increment(1);
    metrics::histogram!("homeroom_http_request_duration_seconds",
        "component" => "gateway", "route" => route, "method" => method)
    .record(elapsed.as_secs_f64());
    response
}
