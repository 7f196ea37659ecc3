//! Prometheus metrics: one recorder per process (the `metrics` facade with
//! `metrics-exporter-prometheus`), served as text on `HOMEROOM_METRICS_ADDR`
//! at `/metrics`, and the gRPC server layer that counts every RPC.
//!
//! Every series carries a `component` label (`identity`, `roster`,
//! `messaging`, `gateway`): the all-in-one serves the four from one endpoint.
//! Without a recorder (no metrics address) every `metrics::` call is a no-op.
//!
//! The series:
//! - `homeroom_grpc_requests_total{component,method,code}` and
//!   `homeroom_grpc_request_duration_seconds{component,method}`
//! - `homeroom_http_requests_total{component,route,method,status}` and
//!   `homeroom_http_request_duration_seconds{component,route,method}` (gateway)
//! - `homeroom_db_pool_connections{component,state=in_use|idle}`,
//!   `homeroom_db_pool_max_connections{component}`,
//!   `homeroom_db_pool_wait_seconds{component}`
//! - `homeroom_delivery_queue_due{component}`,
//!   `homeroom_delivery_queue_oldest_due_seconds{component}`,
//!   `homeroom_deliveries_total{component,channel,status}`,
//!   `homeroom_delivery_provider_seconds{component,channel}`
//! - `homeroom_sync_runs_total{component,status}`,
//!   `homeroom_sync_phase_seconds{component,phase}`,
//!   `homeroom_sync_records_total{component}`,
//!   `homeroom_sync_last_records_per_second{component}`
//! - `homeroom_logins_total{component,outcome=success|choice|failure|throttled|error}`

use std::{
    net::SocketAddr,
    sync::Mutex,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Latency buckets, in seconds: a millisecond to five minutes (sync phases).
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// How often histograms are compacted between scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// The process's recorder, installed on first use.
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    let mut slot = HANDLE
        .lock()
        .map_err(|_| anyhow::anyhow!("the metrics recorder's lock is poisoned"))?;
    if let Some(handle) = slot.as_ref() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .context("metrics buckets")?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder failed: {e}"))?;
    *slot = Some(handle.clone());
    Ok(handle)
}

/// A bound `/metrics` endpoint.
pub struct MetricsServer {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl MetricsServer {
    /// Installs the recorder (once per process) and binds `addr` (port 0 works).
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<MetricsServer> {
        let handle = recorder()?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("metrics cannot listen on {addr} (HOMEROOM_METRICS_ADDR)"))?;
        Ok(MetricsServer { listener, handle })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves `GET /metrics` until `stop`.
    pub async fn run_until(self, stop: CancellationToken) -> anyhow::Result<()> {
        let upkeep = {
            let handle = self.handle.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(UPKEEP) => handle.run_upkeep(),
                    }
                }
            })
        };
        let handle = self.handle;
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let text = handle.render();
                async move {
                    (
                        [(
                            http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        text,
                    )
                }
            }),
        );
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
            .context("the metrics endpoint stopped");
        upkeep.abort();
        served
    }
}

/// Binds and runs a metrics endpoint when `addr` is set, announcing it; the
/// task ends with `stop`. An address that cannot be bound is an error.
pub async fn spawn_if(
    addr: Option<SocketAddr>,
    stop: CancellationToken,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let server = MetricsServer::bind(addr).await?;
    crate::service::announce("metrics", format!("http://{}", server.local_addr()?));
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = server.run_until(stop).await {
            tracing::warn!(error = %format!("{e:#}"), "metrics endpoint failed");
        }
    })))
}

/// Counts every RPC a gRPC server answers: `homeroom_grpc_requests_total` by
/// method and status code, and its latency to the response headers.
///
/// The code is the `grpc-status` of a trailers-only answer (every error a
/// handler returns) or `OK`; a streaming call that fails after its first
/// message counts as OK here (its error still reaches the caller and the logs).
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    component: &'static str,
}

impl GrpcMetricsLayer {
    /// A layer labelling its series with `component`.
    pub fn new(component: &'static str) -> GrpcMetricsLayer {
        GrpcMetricsLayer { component }
    }
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> GrpcMetrics<S> {
        GrpcMetrics {
            inner,
            component: self.component,
        }
    }
}

/// The service [`GrpcMetricsLayer`] wraps around.
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    component: &'static str,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let component = self.component;
        let started = Instant::now();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            let code = match &answer {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map_or(tonic::Code::Ok, tonic::Code::from),
                Err(_) => tonic::Code::Unknown,
            };
            // A path no service has answers UNIMPLEMENTED: never a series
            // of its own, whatever a client makes up.
            let method = if code == tonic::Code::Unimplemented {
                "unimplemented".to_owned()
            } else {
                method
            };
            let code = code_name(code);
            metrics::counter!("homeroom_grpc_requests_total",
                "component" => component, "method" => method.clone(), "code" => code)
            .increment(1);
            metrics::histogram!("homeroom_grpc_request_duration_seconds",
                "component" => component, "method" => method)
            .record(started.elapsed().as_secs_f64());
            answer
        })
    }
}

/// The canonical upper-case name of a gRPC code (`NOT_FOUND`).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code as C;
    match code {
        C::Ok => "OK",
        C::Cancelled => "CANCELLED",
        C::Unknown => "UNKNOWN",
        C::InvalidArgument => "INVALID_ARGUMENT",
        C::DeadlineExceeded => "DEADLINE_EXCEEDED",
        C::NotFound => "NOT_FOUND",
        C::AlreadyExists => "ALREADY_EXISTS",
        C::PermissionDenied => "PERMISSION_DENIED",
        C::ResourceExhausted => "RESOURCE_EXHAUSTED",
        C::FailedPrecondition => "FAILED_PRECONDITION",
        C::Aborted => "ABORTED",
        C::OutOfRange => "OUT_OF_RANGE",
        C::Unimplemented => "UNIMPLEMENTED",
        C::Internal => "INTERNAL",
        C::Unavailable => "UNAVAILABLE",
        C::DataLoss => "DATA_LOSS",
        C::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Reports a pool's connections in use and idle every few seconds until `stop`.
pub async fn watch_pool(db: crate::db::Db, component: &'static str, stop: CancellationToken) {
    metrics::gauge!("homeroom_db_pool_max_connections", "component" => component)
        .set(f64::from(db.max_connections()));
    loop {
        let state = db.pool_state();
        metrics::gauge!("homeroom_db_pool_connections", "component" => component, "state" => "idle")
            .set(f64::from(state.idle_connections));
        metrics::gauge!("homeroom_db_pool_connections", "component" => component, "state" => "in_use")
            .set(f64::from(state.connections.saturating_sub(state.idle_connections)));
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(UPKEEP) => {}
        }
    }
}
