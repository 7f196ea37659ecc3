//! End-to-end harness: every service for real, on loopback ports, each on its
//! own fresh database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).

use std::net::SocketAddr;

use homeroom_platform::{
    config::{ServiceSettings, loopback},
    db::DbSettings,
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
    stop: CancellationToken,
    _dbs: Vec<TestDb>,
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

        let identity = identity_svc::app::App::build(identity_svc::config::Config {
            service: settings("identity", &identity_db),
            service_secret: Some(SERVICE_SECRET.into()),
        })
        .await?;
        let roster = roster_svc::app::App::build(roster_svc::config::Config {
            service: settings("roster", &roster_db),
        })
        .await?;
        let messaging = messaging_svc::app::App::build(messaging_svc::config::Config {
            service: settings("messaging", &messaging_db),
        })
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
            stop,
            _dbs: vec![identity_db, roster_db, messaging_db],
        })
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
