//! The whole suite in one process: three gRPC services on SQLite files and the
//! gateway in front of them, on loopback ports it prints.
//!
//! Reads `HOMEROOM_DATA_DIR` (default `./data`), `HOMEROOM_IDENTITY_ADDR`
//! (`127.0.0.1:50051`), `HOMEROOM_ROSTER_ADDR` (`…:50052`),
//! `HOMEROOM_MESSAGING_ADDR` (`…:50053`), `HOMEROOM_GATEWAY_ADDR`
//! (`127.0.0.1:8080`), `HOMEROOM_DRAIN_SECONDS` (10), `HOMEROOM_SERVICE_SECRET`
//! (random per run), `HOMEROOM_DEMO_STUDENTS` (500: the size of the demo
//! district a fresh suite loads; 0 for none), `HOMEROOM_SSO_PROVIDERS_FILE`
//! (identity's SSO providers), roster-svc's variables (`HOMEROOM_IMPORT_ROOT`
//! defaults to `<data dir>/imports`) and the gateway's variables. Port 0
//! picks free ports.

use std::{future::Future, net::SocketAddr, path::PathBuf, time::Duration};

use homeroom_platform::{
    config::{Env, ServiceSettings, loopback},
    service::{announce, dialable},
};
use secrecy::SecretString;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Where the suite keeps its files and which addresses it binds.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// SQLite files live here.
    pub data_dir: PathBuf,
    /// identity-svc address.
    pub identity_addr: SocketAddr,
    /// roster-svc address.
    pub roster_addr: SocketAddr,
    /// messaging-svc address.
    pub messaging_addr: SocketAddr,
    /// Gateway address.
    pub gateway_addr: SocketAddr,
    /// Bounded drain after Ctrl-C or SIGTERM.
    pub drain_timeout: Duration,
    /// What the services present to identity for service tokens
    /// (`HOMEROOM_SERVICE_SECRET`, else a random one per run).
    pub service_secret: SecretString,
    /// Students of the demo district loaded into a fresh suite
    /// (`HOMEROOM_DEMO_STUDENTS`, default 500; 0 loads none).
    pub demo_students: usize,
    /// The gateway's own settings (webhook secrets, CORS, limits), read as
    /// `homeroom serve gateway` reads them.
    pub gateway: gateway::config::Config,
    /// The districts' SSO providers (`HOMEROOM_SSO_PROVIDERS_FILE`), as
    /// identity-svc reads them.
    pub sso: Vec<identity_svc::domain::sso::Provider>,
    /// roster-svc's own settings, read as `homeroom serve roster` reads them
    /// (its address, database and upstreams are the suite's).
    pub roster: roster_svc::config::Config,
}

impl SuiteConfig {
    /// Reads the variables listed in this module's documentation.
    pub fn from_env(env: &Env) -> anyhow::Result<SuiteConfig> {
        let data_dir: PathBuf = env.get("DATA_DIR").unwrap_or_else(|| "data".into()).into();
        let mut roster = roster_svc::config::Config::from_env(env)?;
        roster
            .boundary
            .import_root
            .get_or_insert_with(|| data_dir.join("imports"));
        Ok(SuiteConfig {
            data_dir,
            roster,
            identity_addr: env.parse_or(
                "IDENTITY_ADDR",
                loopback(identity_svc::config::DEFAULT_PORT),
            )?,
            roster_addr: env.parse_or("ROSTER_ADDR", loopback(roster_svc::config::DEFAULT_PORT))?,
            messaging_addr: env.parse_or(
                "MESSAGING_ADDR",
                loopback(messaging_svc::config::DEFAULT_PORT),
            )?,
            gateway_addr: env.parse_or("GATEWAY_ADDR", loopback(gateway::config::DEFAULT_PORT))?,
            drain_timeout: env.seconds_or("DRAIN_SECONDS", Duration::from_secs(10))?,
            demo_students: env.parse_or("DEMO_STUDENTS", 500)?,
            gateway: gateway::config::Config::from_env(env)?,
            sso: identity_svc::config::sso_from_env(env)?,
            service_secret: env
                .get("SERVICE_SECRET")
                .unwrap_or_else(|| {
                    format!(
                        "{}{}",
                        uuid::Uuid::new_v4().simple(),
                        uuid::Uuid::new_v4().simple()
                    )
                })
                .into(),
        })
    }

    fn service(&self, name: &'static str, addr: SocketAddr) -> ServiceSettings {
        let mut settings = ServiceSettings::defaults(name, addr);
        settings.database.url = self
            .data_dir
            .join(format!("{name}.db"))
            .to_string_lossy()
            .into_owned();
        settings.drain_timeout = self.drain_timeout;
        settings
    }
}

/// The four components, bound and ready to run.
pub struct Suite {
    identity: identity_svc::app::App,
    roster: roster_svc::app::App,
    messaging: messaging_svc::app::App,
    gateway: gateway::app::App,
}

/// Bound addresses of a started suite.
#[derive(Debug, Clone, Copy)]
pub struct SuiteAddrs {
    /// identity-svc.
    pub identity: SocketAddr,
    /// roster-svc.
    pub roster: SocketAddr,
    /// messaging-svc.
    pub messaging: SocketAddr,
    /// gateway.
    pub gateway: SocketAddr,
}

impl Suite {
    /// Binds the three services, then the gateway pointed at them, and prints
    /// a `<name> listening on <addr>` line for each.
    pub async fn start(config: SuiteConfig) -> anyhow::Result<Suite> {
        // Bind every port first, so each service can be told the others' addresses.
        let identity_settings = config.service("identity", config.identity_addr);
        let roster_settings = config.service("roster", config.roster_addr);
        let messaging_settings = config.service("messaging", config.messaging_addr);
        let identity_listener = homeroom_platform::grpc::bind(&identity_settings).await?;
        let roster_listener = homeroom_platform::grpc::bind(&roster_settings).await?;
        let messaging_listener = homeroom_platform::grpc::bind(&messaging_settings).await?;
        let messaging_url = format!("http://{}", dialable(messaging_listener.local_addr()?));
        let identity_url = format!("http://{}", dialable(identity_listener.local_addr()?));
        let roster_dial = dialable(roster_listener.local_addr()?);

        let identity = identity_svc::app::App::build_on(
            identity_listener,
            identity_svc::config::Config {
                service: identity_settings,
                service_secret: Some(config.service_secret.clone()),
                messaging_url: messaging_url.clone(),
                sso: config.sso.clone(),
            },
        )
        .await?;
        let roster = roster_svc::app::App::build_on(
            roster_listener,
            roster_svc::config::Config {
                service: roster_settings,
                identity_url: identity_url.clone(),
                messaging_url: messaging_url.clone(),
                service_secret: Some(config.service_secret.clone()),
                ..config.roster.clone()
            },
        )
        .await?;
        let messaging = messaging_svc::app::App::build_on(
            messaging_listener,
            messaging_svc::config::Config {
                service: messaging_settings,
                identity_url,
                outbox_dir: config.data_dir.join("outbox"),
                roster_url: format!("http://{roster_dial}"),
                service_secret: Some(config.service_secret.clone()),
                ..messaging_svc::config::Config::defaults()
            },
        )
        .await?;
        let url = |addr: SocketAddr| format!("http://{}", dialable(addr));
        let gateway = gateway::app::App::build(gateway::config::Config {
            listen_addr: config.gateway_addr,
            identity_url: url(identity.local_addr()?),
            roster_url: url(roster.local_addr()?),
            messaging_url: url(messaging.local_addr()?),
            drain_timeout: config.drain_timeout,
            service_secret: Some(config.service_secret.clone()),
            ..config.gateway.clone()
        })
        .await?;
        let suite = Suite {
            identity,
            roster,
            messaging,
            gateway,
        };
        let addrs = suite.addrs()?;
        announce("identity", addrs.identity);
        announce("roster", addrs.roster);
        announce("messaging", addrs.messaging);
        announce("gateway", format!("http://{}", addrs.gateway));
        Ok(suite)
    }

    /// Where each component listens.
    pub fn addrs(&self) -> anyhow::Result<SuiteAddrs> {
        Ok(SuiteAddrs {
            identity: self.identity.local_addr()?,
            roster: self.roster.local_addr()?,
            messaging: self.messaging.local_addr()?,
            gateway: self.gateway.local_addr()?,
        })
    }

    /// Runs every component until `shutdown` resolves or one of them fails;
    /// then all of them drain and stop.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let mut tasks = JoinSet::new();
        tasks.spawn(self.identity.run_until(stop.clone().cancelled_owned()));
        tasks.spawn(self.roster.run_until(stop.clone().cancelled_owned()));
        tasks.spawn(self.messaging.run_until(stop.clone().cancelled_owned()));
        tasks.spawn(self.gateway.run_until(stop.clone().cancelled_owned()));

        let mut first_error = None;
        tokio::select! {
            () = shutdown => {}
            Some(done) = tasks.join_next() => {
                first_error = flatten(done).err();
            }
        }
        stop.cancel();
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = flatten(done) {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn flatten(done: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    done.map_err(anyhow::Error::from).and_then(|r| r)
}
