//! Wiring: the HTTP router, its state and a bounded graceful shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{Router, routing::get};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

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
        let server = axum::serve(self.listener, self.router)
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

/// The gateway's routes: health, and the REST API under `/api/v1`; every
/// answer carries an `x-request-id` (the caller's, or a new one), which the
/// services receive too.
pub fn router(state: AppState) -> Router {
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", crate::api::routes())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
