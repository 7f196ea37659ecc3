//! Wiring: database, gRPC host and the identity service.

use std::{future::Future, net::SocketAddr};

use std::sync::Arc;

use homeroom_platform::{
    auth::Verifier,
    db::Db,
    grpc::{GrpcHost, ServiceSpec},
};
use homeroom_proto::identity::v1 as pb;
use tonic::service::Routes;

use crate::{
    MIGRATIONS,
    config::Config,
    grpc::IdentityApi,
    ops::{Ctx, messenger::GrpcMessenger, tokens::OwnKeys},
};

/// A bound identity-svc, ready to run.
pub struct App {
    host: GrpcHost,
    background: tokio_util::task::TaskTracker,
    drain: std::time::Duration,
}

impl App {
    /// Opens the database pool and binds the listener (port 0 works).
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let listener = homeroom_platform::grpc::bind(&config.service).await?;
        App::build_on(listener, config).await
    }

    /// Like [`App::build`], on a listener bound earlier.
    pub async fn build_on(
        listener: tokio::net::TcpListener,
        config: Config,
    ) -> anyhow::Result<App> {
        let db = Db::new(&config.service.database)?;
        let messaging = homeroom_platform::grpc::lazy_channel(&config.messaging_url)?;
        let ctx = Ctx::new(db.clone(), |tokens| {
            Arc::new(GrpcMessenger::new(messaging, tokens))
        })?
        .with_sso(config.sso.clone())
        .with_public_url(config.public_url.clone());
        let verifier = Arc::new(Verifier::new(OwnKeys(ctx.tokens.clone())));
        let background = ctx.background.clone();
        let api = IdentityApi::new(ctx, config.service_secret.clone());
        let spec = ServiceSpec {
            routes: Routes::new(pb::identity_service_server::IdentityServiceServer::new(api)),
            names: vec![pb::SERVICE_NAME],
            descriptor_sets: vec![pb::FILE_DESCRIPTOR_SET],
            verifier: Some(verifier),
            migrations: &MIGRATIONS,
        };
        Ok(App {
            drain: config.service.drain_timeout,
            host: GrpcHost::on(listener, config.service, db, spec).await?,
            background,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.host.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains; messages owed after
    /// answers (one-time codes) are still sent, within the drain time.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let served = self.host.run_until(shutdown).await;
        self.background.close();
        if tokio::time::timeout(self.drain, self.background.wait())
            .await
            .is_err()
        {
            tracing::warn!("messages owed at shutdown were not all sent in the drain time");
        }
        served
    }
}

/// Runs identity-svc's pending migrations and returns how many ran.
pub async fn migrate(config: &Config) -> anyhow::Result<usize> {
    Db::new(&config.service.database)?
        .migrate(&MIGRATIONS)
        .await
}
