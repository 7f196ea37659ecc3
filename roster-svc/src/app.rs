//! Wiring: database, gRPC host and the roster service.

use std::{future::Future, net::SocketAddr};

use homeroom_platform::{
    db::Db,
    grpc::{GrpcHost, ServiceSpec},
};
use homeroom_proto::roster::v1 as pb;
use tonic::service::Routes;

use crate::{MIGRATIONS, config::Config, grpc::RosterApi};

/// A bound roster-svc, ready to run.
pub struct App {
    host: GrpcHost,
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
        let api = RosterApi::new(db.clone());
        let spec = ServiceSpec {
            routes: Routes::new(pb::roster_service_server::RosterServiceServer::new(api)),
            names: vec![pb::SERVICE_NAME],
            descriptor_sets: vec![pb::FILE_DESCRIPTOR_SET],
            verifier: Some(homeroom_platform::identity_keys::IdentityKeys::verifier(
                &config.identity_url,
            )?),
            migrations: &MIGRATIONS,
        };
        Ok(App {
            host: GrpcHost::on(listener, config.service, db, spec).await?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.host.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.host.run_until(shutdown).await
    }
}

/// Runs roster-svc's pending migrations and returns how many ran.
pub async fn migrate(config: &Config) -> anyhow::Result<usize> {
    Db::new(&config.service.database)?
        .migrate(&MIGRATIONS)
        .await
}
