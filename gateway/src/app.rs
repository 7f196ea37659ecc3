//! Wiring: the HTTP router, its state and a bounded graceful shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{Router, routing::get};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{config::Config, health, upstream::Upstreams};

/// State every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// Upstream channels.
    pub upstreams: Upstreams,
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

/// The gateway's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state)
}
