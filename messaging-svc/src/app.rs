//! Wiring: database, gRPC host, the messaging service, its delivery workers
//! and the audit forwarder.

use std::{future::Future, net::SocketAddr};

use homeroom_platform::{
    db::Db,
    grpc::{GrpcHost, ServiceSpec},
};
use homeroom_proto::messaging::v1 as pb;
use tonic::service::Routes;

use std::sync::Arc;

use homeroom_platform::grpc::lazy_channel;
use tokio_util::sync::CancellationToken;

use crate::{
    MIGRATIONS,
    config::Config,
    grpc::MessagingApi,
    ops::{audit::AuditOutbox, directory::GrpcDirectory},
    providers::{
        EmailProvider, PhoneProvider,
        outbox::OutboxPhoneProvider,
        smtp::{FileProvider, SmtpProvider},
        twilio::TwilioProvider,
    },
    queue::{
        audit::{AuditForwarder, ForwarderSettings},
        worker::{Worker, WorkerSettings},
    },
};

/// A bound messaging-svc, ready to run: the gRPC server, its delivery
/// workers and the audit forwarder.
pub struct App {
    host: GrpcHost,
    db: Db,
    workers: Vec<Worker>,
    audit: AuditForwarder,
}

/// How often the delivery backlog is measured for metrics.
const BACKLOG_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

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
        config.check_delivery()?;
        let db = Db::new(&config.service.database)?;
        let (email, phone) = providers(&config)?;
        let workers = (0..config.workers)
            .map(|_| {
                Worker::new(
                    db.clone(),
                    email.clone(),
                    phone.clone(),
                    WorkerSettings::default(),
                )
            })
            .collect();
        let directory = GrpcDirectory::new(
            lazy_channel(&config.identity_url)?,
            lazy_channel(&config.roster_url)?,
            config.service_secret.clone(),
        );
        let outbox = AuditOutbox::default();
        let audit = AuditForwarder::new(
            db.clone(),
            directory.clone(),
            outbox.clone(),
            ForwarderSettings::default(),
        );
        let api = MessagingApi::new(db.clone(), directory, outbox);
        let spec = ServiceSpec {
            routes: Routes::new(pb::messaging_service_server::MessagingServiceServer::new(
                api,
            )),
            names: vec![pb::SERVICE_NAME],
            descriptor_sets: vec![pb::FILE_DESCRIPTOR_SET],
            verifier: Some(homeroom_platform::identity_keys::IdentityKeys::verifier(
                &config.identity_url,
            )?),
            migrations: &MIGRATIONS,
        };
        Ok(App {
            host: GrpcHost::on(listener, config.service, db.clone(), spec).await?,
            db,
            workers,
            audit,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.host.local_addr()
    }

    /// Serves, delivers and forwards audit events until `shutdown` resolves;
    /// workers finish the batch in hand (their claims' leases cover the rest)
    /// while the server drains.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        // Workers start once migrations ran and the service serves.
        let started = self.host.started();
        let mut workers: Vec<_> = self
            .workers
            .into_iter()
            .map(|w| {
                let work = w.run_until(stop.clone());
                tokio::spawn(started.clone().then(stop.clone(), work))
            })
            .collect();
        let backlog = crate::queue::worker::watch_backlog(self.db, BACKLOG_EVERY, stop.clone());
        workers.push(tokio::spawn(started.clone().then(stop.clone(), backlog)));
        let audit = self.audit.run_until(stop.clone());
        workers.push(tokio::spawn(started.then(stop.clone(), audit)));
        let served = self.host.run_until(shutdown).await;
        stop.cancel();
        for w in workers {
            w.await.ok();
        }
        served
    }
}

/// The configured providers: SMTP and Twilio when set, else (when chosen) the outbox.
fn providers(config: &Config) -> anyhow::Result<(Arc<dyn EmailProvider>, Arc<dyn PhoneProvider>)> {
    let email: Arc<dyn EmailProvider> = match &config.smtp {
        Some(smtp) => Arc::new(SmtpProvider::new(smtp.clone())?),
        None => Arc::new(FileProvider::new(
            &config.outbox_dir,
            &config.email_from.0,
            &config.email_from.1,
        )?),
    };
    let phone: Arc<dyn PhoneProvider> = match &config.twilio {
        Some(twilio) => Arc::new(TwilioProvider::new(twilio.clone())?),
        None => Arc::new(OutboxPhoneProvider::new(&config.outbox_dir)?),
    };
    Ok((email, phone))
}

/// Runs messaging-svc's pending migrations and returns how many ran.
pub async fn migrate(config: &Config) -> anyhow::Result<usize> {
    Db::new(&config.service.database)?
        .migrate(&MIGRATIONS)
        .await
}
