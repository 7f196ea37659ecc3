//! Wiring: database, gRPC host, the roster service and its sync runners.

use std::{future::Future, net::SocketAddr, sync::Arc};

use homeroom_platform::{
    db::Db,
    grpc::{GrpcHost, ServiceSpec, lazy_channel},
    service_token::ServiceTokens,
};
use homeroom_proto::roster::v1 as pb;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    MIGRATIONS,
    config::Config,
    grpc::RosterApi,
    ops::{Ctx, clients::GrpcClients, engine::Engine, runner::Runner, schedule::Scheduler},
    secrets::KeyOrigin,
};

/// A bound roster-svc, ready to run: the gRPC server, its sync runners and
/// the daily scheduler.
pub struct App {
    host: GrpcHost,
    runners: Vec<Runner>,
    scheduler: Scheduler,
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
        let identity = lazy_channel(&config.identity_url)?;
        let clients = GrpcClients::new(
            identity.clone(),
            lazy_channel(&config.messaging_url)?,
            ServiceTokens::new(identity, "roster", config.service_secret.clone()),
        );
        let secrets = config.secrets_key();
        match secrets.origin() {
            KeyOrigin::Configured => {}
            KeyOrigin::ServiceSecret => tracing::warn!(
                "HOMEROOM_SECRETS_KEY is not set: source credentials are encrypted with a key derived from HOMEROOM_SERVICE_SECRET; set the key in production"
            ),
            KeyOrigin::Development => tracing::warn!(
                "HOMEROOM_SECRETS_KEY and HOMEROOM_SERVICE_SECRET are not set: source credentials are encrypted with a development key"
            ),
        }
        let wake = Arc::new(Notify::new());
        let engine = Engine::new(db.clone(), clients.clone(), clients.clone())
            .with_secrets(secrets.clone())
            .with_boundary(config.boundary.clone());
        let runners = (0..config.sync_workers.max(1))
            .map(|_| Runner::new(db.clone(), engine.clone(), wake.clone()))
            .collect();
        let scheduler = Scheduler::new(db.clone(), wake.clone());
        let ctx = Ctx {
            db: db.clone(),
            accounts: clients,
            wake,
            secrets,
            boundary: config.boundary.clone(),
            duplicate_reports: Arc::new(crate::ops::duplicates::cache()),
        };
        let spec = ServiceSpec {
            routes: Routes::new(
                pb::roster_service_server::RosterServiceServer::new(RosterApi::new(ctx))
                    .max_decoding_message_size(16 * 1024 * 1024),
            ),
            names: vec![pb::SERVICE_NAME],
            descriptor_sets: vec![pb::FILE_DESCRIPTOR_SET],
            verifier: Some(homeroom_platform::identity_keys::IdentityKeys::verifier(
                &config.identity_url,
            )?),
            migrations: &MIGRATIONS,
        };
        Ok(App {
            host: GrpcHost::on(listener, config.service, db, spec).await?,
            runners,
            scheduler,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.host.local_addr()
    }

    /// Serves, schedules and syncs until `shutdown` resolves; a run in hand
    /// finishes (its lease covers it if the process dies first).
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        // Runners and the scheduler start once migrations ran and the service serves.
        let started = self.host.started();
        let mut runners: Vec<_> = self
            .runners
            .into_iter()
            .map(|r| {
                let work = r.run_until(stop.clone());
                tokio::spawn(started.clone().then(stop.clone(), work))
            })
            .collect();
        let scheduler = self.scheduler.run_until(stop.clone());
        runners.push(tokio::spawn(started.then(stop.clone(), scheduler)));
        let served = self.host.run_until(shutdown).await;
        stop.cancel();
        for r in runners {
            r.await.ok();
        }
        served
    }
}

/// Runs roster-svc's pending migrations and returns how many ran.
pub async fn migrate(config: &Config) -> anyhow::Result<usize> {
    Db::new(&config.service.database)?
        .migrate(&MIGRATIONS)
        .await
}
