//! `GET /healthz` (the gateway itself) and `GET /readyz` (the gateway can
//! serve: at least one upstream SERVING over gRPC health).
//!
//! One service down does not take the gateway out of its load balancer:
//! routes of that service answer 503 with a clear message while the others
//! keep working, and `/readyz` says `degraded` and names who is down.

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::{app::AppState, upstream::Upstream};

/// Body of `/healthz` and `/readyz`.
#[derive(Debug, Serialize)]
pub struct HealthBody {
    /// `ok`, `degraded` (some upstream down) or `unavailable` (all down).
    pub status: &'static str,
    /// Per upstream: `SERVING`, `NOT_SERVING`, `UNREACHABLE`… (readiness only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<UpstreamHealth>,
}

/// One upstream's readiness.
#[derive(Debug, Serialize)]
pub struct UpstreamHealth {
    /// Short name.
    pub name: &'static str,
    /// What its health service said.
    pub status: String,
}

/// The gateway process is up.
pub async fn healthz() -> Json<HealthBody> {
    Json(HealthBody {
        status: "ok",
        upstreams: Vec::new(),
    })
}

/// 200 `ok` when every upstream answers SERVING, 200 `degraded` naming who
/// does not when some do, 503 `unavailable` when none does.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthBody>) {
    let timeout = state.config.upstream_timeout;
    let checks = state.upstreams.all().map(|u| check(u.clone(), timeout));
    let upstreams: Vec<UpstreamHealth> = futures::future::join_all(checks).await;
    let serving = upstreams.iter().filter(|u| u.status == "SERVING").count();
    let (code, status) = match serving {
        0 => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        n if n == upstreams.len() => (StatusCode::OK, "ok"),
        _ => (StatusCode::OK, "degraded"),
    };
    (code, Json(HealthBody { status, upstreams }))
}

async fn check(upstream: Upstream, timeout: Duration) -> UpstreamHealth {
    let mut client = HealthClient::new(upstream.channel);
    let request = HealthCheckRequest {
        service: upstream.service.to_string(),
    };
    let status = match tokio::time::timeout(timeout, client.check(request)).await {
        Err(_) => "TIMEOUT".to_string(),
        Ok(Err(e)) if e.code() == tonic::Code::Unavailable => "UNREACHABLE".to_string(),
        Ok(Err(e)) => format!("ERROR: {}", e.code()),
        Ok(Ok(answer)) => ServingStatus::try_from(answer.into_inner().status)
            .map(|s| s.as_str_name().to_string())
            .unwrap_or_else(|_| "UNKNOWN".to_string()),
    };
    UpstreamHealth {
        name: upstream.name,
        status,
    }
}
