//! End-to-end harness: every service for real, on loopback ports, each on its
//! own fresh database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).

use std::net::SocketAddr;

use homeroom_platform::{
    config::{ServiceSettings, loopback},
    db::DbSettings,
    grpc::bind,
    testing::TestDb,
};
use tokio_util::sync::CancellationToken;

/// The secret the stack's services share for service tokens.
pub const SERVICE_SECRET: &str = "e2e-service-secret";

/// The running stack; stops (and drops its databases) when dropped.
pub struct Stack {
    /// identity-svc's address.
    pub identity: SocketAddr,
    /// roster-svc's address.
    pub roster: SocketAddr,
    /// messaging-svc's address.
    pub messaging: SocketAddr,
    /// The gateway's address.
    pub gateway: SocketAddr,
    /// Where messaging-svc writes email (`.eml`) and SMS (`sms.jsonl`).
    pub outbox: std::path::PathBuf,
    stop: CancellationToken,
    _dbs: Vec<TestDb>,
    _outbox: tempfile::TempDir,
}

fn settings(name: &'static str, db: &TestDb) -> ServiceSettings {
    let mut s = ServiceSettings::defaults(name, loopback(0));
    s.database = DbSettings::new(db.url.clone());
    s.database.max_connections = 5;
    s
}

impl Stack {
    /// Starts identity, roster, messaging and the gateway.
    pub async fn start() -> anyhow::Result<Stack> {
        let (identity_db, roster_db, messaging_db) = (
            TestDb::empty().await?,
            TestDb::empty().await?,
            TestDb::empty().await?,
        );
        let stop = CancellationToken::new();
        let outbox = tempfile::tempdir()?;

        let (identity_settings, roster_settings, messaging_settings) = (
            settings("identity", &identity_db),
            settings("roster", &roster_db),
            settings("messaging", &messaging_db),
        );
        let identity_listener = bind(&identity_settings).await?;
        let roster_listener = bind(&roster_settings).await?;
        let messaging_listener = bind(&messaging_settings).await?;
        let messaging_url = format!("http://{}", messaging_listener.local_addr()?);
        let identity_url = format!("http://{}", identity_listener.local_addr()?);
        let roster_url = format!("http://{}", roster_listener.local_addr()?);
        let identity = identity_svc::app::App::build_on(
            identity_listener,
            identity_svc::config::Config {
                service: identity_settings,
                service_secret: Some(SERVICE_SECRET.into()),
                messaging_url,
            },
        )
        .await?;
        let roster = roster_svc::app::App::build_on(
            roster_listener,
            roster_svc::config::Config {
                service: roster_settings,
                identity_url: identity_url.clone(),
            },
        )
        .await?;
        let messaging = messaging_svc::app::App::build_on(
            messaging_listener,
            messaging_svc::config::Config {
                service: messaging_settings,
                identity_url,
                outbox_dir: outbox.path().to_path_buf(),
                roster_url: roster_url.clone(),
                service_secret: Some(SERVICE_SECRET.into()),
                ..messaging_svc::config::Config::defaults()
            },
        )
        .await?;
        let (identity_addr, roster_addr, messaging_addr) = (
            identity.local_addr()?,
            roster.local_addr()?,
            messaging.local_addr()?,
        );
        let gateway = gateway::app::App::build(gateway::config::Config {
            listen_addr: loopback(0),
            identity_url: format!("http://{identity_addr}"),
            roster_url: format!("http://{roster_addr}"),
            messaging_url: format!("http://{messaging_addr}"),
            ..gateway::config::Config::defaults()
        })
        .await?;
        let gateway_addr = gateway.local_addr()?;

        tokio::spawn(identity.run_until(stop.clone().cancelled_owned()));
        tokio::spawn(roster.run_until(stop.clone().cancelled_owned()));
        tokio::spawn(messaging.run_until(stop.clone().cancelled_owned()));
        tokio::spawn(gateway.run_until(stop.clone().cancelled_owned()));
        Ok(Stack {
            identity: identity_addr,
            roster: roster_addr,
            messaging: messaging_addr,
            gateway: gateway_addr,
            outbox: outbox.path().to_path_buf(),
            stop,
            _dbs: vec![identity_db, roster_db, messaging_db],
            _outbox: outbox,
        })
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
