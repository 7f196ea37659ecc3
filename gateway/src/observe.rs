//! One access-log line and the HTTP metrics of every request: method, route
//! template (never the raw path or query, which can carry names, addresses
//! and tokens), status, duration and request id.

use std::time::Instant;

use tracing::Instrument;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};

/// The middleware; outside routing's own layers, inside the request id. A
/// request without a well-formed W3C `traceparent` gets a new one here (the
/// gateway starts the trace), which every service call then carries.
///
/// With traces exported, the request runs in an `http` span that adopts that
/// `traceparent`, and the header is rewritten to name this span, so the
/// services' spans are its children.
pub async fn observe(mut request: Request, next: Next) -> Response {
    use homeroom_platform::{
        request_context::{TRACEPARENT, is_traceparent, new_traceparent},
        telemetry,
    };
    let header = |request: &Request, name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let carried = header(&request, TRACEPARENT).filter(|t| is_traceparent(t));
    let traceparent = carried.unwrap_or_else(new_traceparent);
    let trace_id = traceparent.get(3..35).unwrap_or("-").to_owned();
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = header(&request, "x-request-id").unwrap_or_else(|| "-".to_owned());
    let span =
        tracing::info_span!("http", method = %method, route = %route, request_id = %request_id);
    telemetry::adopt_parent(&span, Some(&traceparent));
    let onward = span
        .in_scope(telemetry::current_traceparent)
        .unwrap_or(traceparent);
    if let Ok(value) = onward.parse() {
        request.headers_mut().insert(TRACEPARENT, value);
    }
    let response = next.run(request).instrument(span).await;
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
