//! `GET /healthz` (the gateway itself) and `GET /readyz` (every upstream SERVING
//! over gRPC health).

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
    /// `ok` or `unavailable`.
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

/// 200 when every upstream answers SERVING, else 503 naming who is not.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthBody>) {
    let timeout = state.config.upstream_timeout;
    let checks = state.upstreams.all().map(|u| check(u.clone(), timeout));
    let upstreams: Vec<UpstreamHealth> = futures::future::join_all(checks).await;
    let ready = upstreams.iter().all(|u| u.status == "SERVING");
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let status = if ready { "ok" } else { "unavailable" };
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
