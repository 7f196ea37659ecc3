//! Hosting a gRPC service the Homeroom way: health (NOT_SERVING until migrations
//! ran and the database answers, NOT_SERVING again on shutdown), reflection,
//! request spans, token verification, connection recycling and a bounded drain.

use std::{
    future::Future,
    net::SocketAddr,
    pin::pin,
    sync::Arc,
    task::{Context as TaskContext, Poll},
    time::Duration,
};

use anyhow::Context;
use futures::future::{Either, Ready, ready};
use tokio::{net::TcpListener, sync::watch};
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::{service::Routes, transport::Server};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    auth::{AuthLayer, Verifier},
    config::ServiceSettings,
    db::{Db, Migrations},
};

/// How often a ready service re-checks its database.
const DB_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// What a service contributes: its routes, names and descriptors.
pub struct ServiceSpec {
    /// The service's tonic servers.
    pub routes: Routes,
    /// Fully qualified names of those services, for health.
    pub names: Vec<&'static str>,
    /// Encoded descriptor sets of their packages, for reflection.
    pub descriptor_sets: Vec<&'static [u8]>,
    /// Token verifier; `None` leaves every caller unauthenticated.
    pub verifier: Option<Arc<Verifier>>,
    /// The service's migrations, run before it reports SERVING.
    pub migrations: &'static Migrations,
}

/// A bound, not yet serving, gRPC server.
pub struct GrpcHost {
    settings: ServiceSettings,
    listener: TcpListener,
    db: Db,
    spec: ServiceSpec,
    health: HealthReporter,
    started: watch::Sender<bool>,
}

/// Resolves once a host has run its migrations and reported SERVING: a
/// service's own workers wait for it, so none touches a table before it
/// exists.
#[derive(Debug, Clone)]
pub struct Started(watch::Receiver<bool>);

impl Started {
    /// Waits for the first SERVING (returns at once if it came already, or
    /// if the host stopped before it came: the caller's stop signal decides
    /// then).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|started| *started).await;
    }

    /// Runs `work` once the host started, or nothing if `stop` comes first.
    pub async fn then<F: Future<Output = ()>>(self, stop: CancellationToken, work: F) {
        tokio::select! {
            () = stop.cancelled() => {}
            () = self.wait() => work.await,
        }
    }
}

impl GrpcHost {
    /// Binds the listen address (port 0 picks a free port); health starts NOT_SERVING.
    pub async fn bind(
        settings: ServiceSettings,
        db: Db,
        spec: ServiceSpec,
    ) -> anyhow::Result<GrpcHost> {
        let listener = bind(&settings).await?;
        GrpcHost::on(listener, settings, db, spec).await
    }

    /// A host on a listener bound earlier (a launcher binds every service's
    /// port before building any, so each can be told the others' addresses).
    pub async fn on(
        listener: TcpListener,
        settings: ServiceSettings,
        db: Db,
        mut spec: ServiceSpec,
    ) -> anyhow::Result<GrpcHost> {
        let (health, health_server) = tonic_health::server::health_reporter();
        for name in spec.names.iter().copied().chain([""]) {
            health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        let reflection_v1 = reflection(&spec.descriptor_sets)
            .build_v1()
            .context("building reflection v1")?;
        let reflection_v1alpha = reflection(&spec.descriptor_sets)
            .build_v1alpha()
            .context("building reflection v1alpha")?;
        spec.routes = spec
            .routes
            .add_service(health_server)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);
        Ok(GrpcHost {
            settings,
            listener,
            db,
            spec,
            health,
            started: watch::Sender::new(false),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Resolves once migrations ran and the service reports SERVING.
    pub fn started(&self) -> Started {
        Started(self.started.subscribe())
    }

    /// Serves until `shutdown` resolves, then reports NOT_SERVING and drains
    /// in-flight calls for at most the configured drain timeout.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let GrpcHost {
            settings,
            listener,
            db,
            spec,
            health,
            started,
        } = self;
        let name = settings.name;
        let gate = StartGateLayer(started.subscribe());
        let metrics_stop = CancellationToken::new();
        let metrics = crate::metrics::spawn_if(settings.metrics_addr, metrics_stop.clone()).await?;
        let pool_watch = tokio::spawn(crate::metrics::watch_pool(
            db.clone(),
            name,
            metrics_stop.clone(),
        ));
        // However this ends, the metrics endpoint and the pool watch end with it.
        let metrics_guard = metrics_stop.drop_guard();

        let stop_serving = CancellationToken::new();
        let stop_checks = CancellationToken::new();
        let mut readiness = pin!(readiness(
            db,
            spec.migrations,
            settings.migrate_on_start,
            health.clone(),
            spec.names.clone(),
            stop_checks.clone(),
            started,
        ));
        let server = Server::builder()
            .max_connection_age(settings.max_connection_age)
            .trace_fn(request_span)
            .layer(crate::metrics::GrpcMetricsLayer::new(name))
            .layer(crate::request_context::RequestContextLayer)
            .layer(gate)
            .layer(tower::util::option_layer(spec.verifier.map(AuthLayer::new)))
            .add_routes(spec.routes)
            .serve_with_incoming_shutdown(
                // No Nagle: an answer written in two parts (headers, then
                // the message and trailers) would wait for the caller's
                // delayed ACK, 40 ms on Linux, on every small answer.
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                stop_serving.clone().cancelled_owned(),
            );
        let mut server = pin!(server);
        let mut shutdown = pin!(shutdown);

        let mut failure = None;
        let mut ready_done = false;
        loop {
            tokio::select! {
                result = &mut server => {
                    result.with_context(|| format!("{name} server stopped"))?;
                    return Ok(());
                }
                () = &mut shutdown => break,
                result = &mut readiness, if !ready_done => {
                    ready_done = true;
                    if let Err(e) = result {
                        tracing::error!(service = name, error = %format!("{e:#}"), "service cannot become ready");
                        failure = Some(e);
                        break;
                    }
                }
            }
        }

        stop_checks.cancel();
        if !ready_done {
            readiness.await.ok();
        }
        for n in spec.names.iter().copied().chain([""]) {
            health
                .set_service_status(n, ServingStatus::NotServing)
                .await;
        }
        tracing::info!(
            service = name,
            drain_seconds = settings.drain_timeout.as_secs(),
            "draining"
        );
        stop_serving.cancel();
        match tokio::time::timeout(settings.drain_timeout, server).await {
            Ok(result) => result.with_context(|| format!("{name} server failed while draining"))?,
            Err(_) => tracing::warn!(service = name, "drain deadline passed, closing open calls"),
        }
        drop(metrics_guard);
        pool_watch.await.ok();
        if let Some(metrics) = metrics {
            metrics.await.ok();
        }
        tracing::info!(service = name, "stopped");
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A channel to another service, connected on first use (so services can
/// start in any order); a bad URL is an error naming it.
pub fn lazy_channel(url: &str) -> anyhow::Result<tonic::transport::Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.to_string())
        .with_context(|| format!("{url:?} is not a valid URL"))?
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        .connect_lazy())
}

/// Binds a service's listen address, naming the service on failure.
pub async fn bind(settings: &ServiceSettings) -> anyhow::Result<TcpListener> {
    TcpListener::bind(settings.listen_addr)
        .await
        .with_context(|| {
            format!(
                "{} cannot listen on {}",
                settings.name, settings.listen_addr
            )
        })
}

/// Reflection for the given packages plus health (reflection adds its own).
fn reflection(sets: &[&'static [u8]]) -> tonic_reflection::server::Builder<'static> {
    sets.iter().fold(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
        |b, set| b.register_encoded_file_descriptor_set(set),
    )
}

fn request_span(request: &http::Request<()>) -> tracing::Span {
    let context = crate::request_context::RequestContext::of_headers(request.headers());
    let span = tracing::info_span!(
        "grpc",
        method = %request.uri().path(),
        request_id = %context.request_id.as_deref().unwrap_or("-"),
        trace_id = %context.trace_id().unwrap_or("-"),
    );
    crate::telemetry::adopt_parent(&span, context.traceparent.as_deref());
    span
}

/// Waits for the database, runs migrations, reports SERVING, then keeps checking
/// the database until `stop`, flipping health with it.
async fn readiness(
    db: Db,
    migrations: &'static Migrations,
    migrate: bool,
    health: HealthReporter,
    names: Vec<&'static str>,
    stop: CancellationToken,
    started: watch::Sender<bool>,
) -> anyhow::Result<()> {
    let set_all = |status: ServingStatus| {
        let health = health.clone();
        let names = names.clone();
        async move {
            for n in names.iter().copied().chain([""]) {
                health.set_service_status(n, status).await;
            }
        }
    };
    let mut delay = Duration::from_millis(100);
    while let Err(e) = db.ping().await {
        tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    if migrate {
        let ran = db.migrate(migrations).await?;
        tracing::info!(ran, backend = %db.backend(), "migrations applied");
    }
    set_all(ServingStatus::Serving).await;
    started.send_replace(true);
    tracing::info!("serving");
    let mut serving = true;
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(DB_CHECK_INTERVAL) => {}
        }
        let ok = db.ping().await.is_ok();
        if ok != serving {
            serving = ok;
            if ok {
                tracing::info!("database is back, serving");
                set_all(ServingStatus::Serving).await;
            } else {
                tracing::warn!("database stopped answering, not serving");
                set_all(ServingStatus::NotServing).await;
            }
        }
    }
}

/// Answers UNAVAILABLE to every call but health and reflection until the
/// service started: a call that reached the database before its migrations
/// ran would fail on a missing table and be logged as an internal error;
/// UNAVAILABLE is what callers already retry.
#[derive(Debug, Clone)]
struct StartGateLayer(watch::Receiver<bool>);

impl<S> tower::Layer<S> for StartGateLayer {
    type Service = StartGate<S>;

    fn layer(&self, inner: S) -> StartGate<S> {
        StartGate {
            inner,
            started: self.0.clone(),
        }
    }
}

/// The service [`StartGateLayer`] wraps around.
#[derive(Debug, Clone)]
struct StartGate<S> {
    inner: S,
    started: watch::Receiver<bool>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for StartGate<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<S::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        if *self.started.borrow() || request.uri().path().starts_with("/grpc.") {
            return Either::Right(self.inner.call(request));
        }
        let status = tonic::Status::unavailable(
            "the service is starting (running its migrations); try again shortly",
        );
        Either::Left(ready(Ok(status.into_http())))
    }
}
