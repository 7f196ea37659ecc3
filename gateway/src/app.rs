//! Wiring: the HTTP router, its state and a bounded graceful shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{Router, routing::get};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use homeroom_proto::{
    identity::v1::identity_service_client::IdentityServiceClient,
    messaging::v1::messaging_service_client::MessagingServiceClient,
    roster::v1::roster_service_client::RosterServiceClient,
};
use tonic::transport::Channel;

use crate::{config::Config, health, upstream::Upstreams};

/// State every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// Upstream channels.
    pub upstreams: Upstreams,
    /// Verifies access tokens against identity-svc's JWKS (cached by `kid`,
    /// refetched on an unknown one).
    pub verifier: Arc<homeroom_platform::auth::Verifier>,
    /// The gateway's own service tokens (for service-only RPCs).
    pub service_tokens: Arc<homeroom_platform::service_token::ServiceTokens>,
    /// Rate limits per client address and per account.
    pub limits: Arc<crate::limits::Limits>,
}

/// Clients of the upstreams, over their shared channels.
impl AppState {
    /// identity-svc's client.
    pub fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.upstreams.identity.channel.clone())
    }

    /// roster-svc's client.
    pub fn roster(&self) -> RosterServiceClient<Channel> {
        RosterServiceClient::new(self.upstreams.roster.channel.clone())
    }

    /// messaging-svc's client.
    pub fn messaging(&self) -> MessagingServiceClient<Channel> {
        MessagingServiceClient::new(self.upstreams.messaging.channel.clone())
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// A bound gateway, ready to run.
pub struct App {
    listener: TcpListener,
    router: Router,
    config: Arc<Config>,
}

impl App {
    /// Binds the listener (port 0 works) and builds the router.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .with_context(|| format!("gateway cannot listen on {}", config.listen_addr))?;
        let config = Arc::new(config);
        let state = AppState {
            upstreams: Upstreams::connect_lazy(&config)?,
            verifier: homeroom_platform::identity_keys::IdentityKeys::verifier(
                &config.identity_url,
            )?,
            service_tokens: Arc::new(homeroom_platform::service_token::ServiceTokens::new(
                homeroom_platform::grpc::lazy_channel(&config.identity_url)?,
                "gateway",
                config.service_secret.clone(),
            )),
            limits: Arc::new(crate::limits::Limits::new(
                config.rate_per_ip,
                config.rate_per_account,
            )),
            config: config.clone(),
        };
        Ok(App {
            listener,
            router: router(state),
            config,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, then drains for at most the drain timeout.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let metrics_stop = CancellationToken::new();
        let _metrics_guard = metrics_stop.clone().drop_guard();
        homeroom_platform::metrics::spawn_if(self.config.metrics_addr, metrics_stop).await?;
        // No Nagle on the clients' connections (see the services' servers).
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        let server = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stopped.cancelled_owned())
        .into_future();
        let mut server = std::pin::pin!(server);
        tokio::select! {
            result = &mut server => return result.context("gateway server stopped"),
            () = shutdown => {}
        }
        stop.cancel();
        tracing::info!(
            drain_seconds = self.config.drain_timeout.as_secs(),
            "gateway draining"
        );
        if tokio::time::timeout(self.config.drain_timeout, server)
            .await
            .is_err()
        {
            tracing::warn!("gateway drain deadline passed, closing open connections");
        }
        tracing::info!("gateway stopped");
        Ok(())
    }
}

/// gRPC-Web on the same port: `/<package>.<Service>/<Method>` of the three
/// services, translated by tonic-web and forwarded through the allow-list.
fn grpc_web_routes(state: &AppState) -> Router<AppState> {
    use tower::Layer as _;
    let proxy = tonic_web::GrpcWebLayer::new().layer(crate::grpc_web::GrpcProxy::new(
        state.upstreams.clone(),
        state.service_tokens.clone(),
    ));
    state
        .upstreams
        .all()
        .into_iter()
        .fold(Router::new(), |router, u| {
            router.route_service(&format!("/{}/{{method}}", u.service), proxy.clone())
        })
}

/// 504 when a request takes longer than the configured timeout: a guardian
/// upload (up to 50 MB) or a bundle (up to 512 MiB), maybe on a slow link,
/// gets the upload timeout, every
/// other request the request timeout. A streamed download only has to start
/// in time.
async fn timeout(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    let upload = request.method() == axum::http::Method::POST
        && (path == "/api/v1/guardian-uploads"
            || path == "/rostering/upload-guardians"
            || (path.starts_with("/api/v1/sync-sources/") && path.ends_with("/bundles"))
            || (path.starts_with("/rostering/sources/") && path.ends_with("/bundles")));
    let limit = if upload {
        state.config.upload_timeout
    } else {
        state.config.request_timeout
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => crate::api::error::ApiError::new(
            tonic::Code::DeadlineExceeded,
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

/// The gateway's routes: health, the REST API under `/api/v1` and the
/// console at `/`; every
/// answer carries an `x-request-id` (the caller's, or a new one), which the
/// services receive too. Bodies are limited in size, requests in time, browser
/// origins by the CORS allow-list, and callers by the rate limits.
pub fn router(state: AppState) -> Router {
    use axum::http::{HeaderName, Method, header};
    use tower_http::{
        cors::{AllowOrigin, CorsLayer},
        request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    };
    let request_id = HeaderName::from_static("x-request-id");
    let origins: Vec<axum::http::HeaderValue> = state
        .config
        .cors_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            request_id.clone(),
            HeaderName::from_static("x-csrf-token"),
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("x-user-agent"),
            HeaderName::from_static("grpc-timeout"),
        ])
        .expose_headers([
            request_id.clone(),
            header::RETRY_AFTER,
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
        ])
        .allow_credentials(true);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest(
            "/api/v1",
            crate::api::routes().layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::api::text_limits::check,
            )),
        )
        .merge(grpc_web_routes(&state))
        .merge(crate::webhooks::routes())
        .merge(crate::console::routes())
        .fallback(crate::console::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::per_ip,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::client_ip::decide,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timeout))
        .layer(axum::middleware::from_fn(crate::observe::observe))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
