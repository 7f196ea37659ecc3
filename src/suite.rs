//! The whole suite in one process: three gRPC services on SQLite files and the
//! gateway in front of them, on loopback ports it prints.
//!
//! Each component's settings are read by that component's own loader, exactly
//! as `homeroom serve <component>` reads them (providers, limits, SSO, import
//! root, trusted proxies …); the suite then decides only what one process
//! must: where each listens (`HOMEROOM_IDENTITY_ADDR` `127.0.0.1:50051`,
//! `HOMEROOM_ROSTER_ADDR` `…:50052`, `HOMEROOM_MESSAGING_ADDR` `…:50053`,
//! `HOMEROOM_GATEWAY_ADDR` `127.0.0.1:8080`), their databases (SQLite files in
//! `HOMEROOM_DATA_DIR`, default `./data`, or for a single-box production
//! install on PostgreSQL one database each: `HOMEROOM_IDENTITY_DATABASE_URL`,
//! `HOMEROOM_ROSTER_DATABASE_URL`, `HOMEROOM_MESSAGING_DATABASE_URL`;
//! `DATABASE_URL` is not used, it would put the three in one database), how they reach each other, and one service
//! secret (`HOMEROOM_SERVICE_SECRET`, random per run when unset). Defaults the
//! suite sets when their variable is unset: channels without a provider write
//! to the outbox (`HOMEROOM_DELIVERY=outbox`), which is
//! (`HOMEROOM_OUTBOX_DIR`) `<data dir>/outbox`, the import root
//! (`HOMEROOM_IMPORT_ROOT`) `<data dir>/imports`. `HOMEROOM_DEMO_STUDENTS`
//! (500) is the size of the demo district a fresh suite loads (0 for none).
//! Port 0 picks free ports.

use std::{future::Future, net::SocketAddr, path::PathBuf, time::Duration};

use homeroom_platform::{
    config::{Env, ServiceSettings, loopback},
    service::{announce, dialable},
};
use secrecy::SecretString;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Where the suite keeps its files and which addresses it binds, and each
/// component's own settings.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// SQLite files live here.
    pub data_dir: PathBuf,
    /// Bounded drain after Ctrl-C or SIGTERM.
    pub drain_timeout: Duration,
    /// What the services present to identity for service tokens
    /// (`HOMEROOM_SERVICE_SECRET`, else a random one per run).
    pub service_secret: SecretString,
    /// Students of the demo district loaded into a fresh suite
    /// (`HOMEROOM_DEMO_STUDENTS`, default 500; 0 loads none).
    pub demo_students: usize,
    /// identity-svc's settings, as `homeroom serve identity` reads them.
    pub identity: identity_svc::config::Config,
    /// roster-svc's settings, as `homeroom serve roster` reads them.
    pub roster: roster_svc::config::Config,
    /// messaging-svc's settings, as `homeroom serve messaging` reads them.
    pub messaging: messaging_svc::config::Config,
    /// The gateway's settings, as `homeroom serve gateway` reads them.
    pub gateway: gateway::config::Config,
    /// One `/metrics` endpoint for the four components
    /// (`HOMEROOM_METRICS_ADDR`, default off).
    pub metrics_addr: Option<SocketAddr>,
}

impl SuiteConfig {
    /// Reads the variables listed in this module's documentation, and every
    /// component's own.
    pub fn from_env(env: &Env) -> anyhow::Result<SuiteConfig> {
        let data_dir: PathBuf = env.get("DATA_DIR").unwrap_or_else(|| "data".into()).into();
        let drain_timeout = env.seconds_or("DRAIN_SECONDS", Duration::from_secs(10))?;
        let service_secret: SecretString = env
            .get("SERVICE_SECRET")
            .unwrap_or_else(|| {
                format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                )
            })
            .into();
        // One process: each component's address, database and upstreams are
        // the suite's, whatever the shared variables say.
        let service = |name: &'static str, addr_var: &str, port: u16| {
            let mut s = ServiceSettings::from_env(env, name, loopback(port))?;
            s.listen_addr = env.parse_or(addr_var, loopback(port))?;
            // One process, one metrics endpoint: the suite's.
            s.metrics_addr = None;
            s.database.url = match env.get(&format!("{}_DATABASE_URL", name.to_uppercase())) {
                Some(url) => url,
                None => data_dir
                    .join(format!("{name}.db"))
                    .to_string_lossy()
                    .into_owned(),
            };
            anyhow::Ok(s)
        };
        let mut identity = identity_svc::config::Config::from_env(env)?;
        identity.service = service(
            "identity",
            "IDENTITY_ADDR",
            identity_svc::config::DEFAULT_PORT,
        )?;
        identity.service_secret = Some(service_secret.clone());
        let mut roster = roster_svc::config::Config::from_env(env)?;
        roster.service = service("roster", "ROSTER_ADDR", roster_svc::config::DEFAULT_PORT)?;
        roster.service_secret = Some(service_secret.clone());
        roster
            .boundary
            .import_root
            .get_or_insert_with(|| data_dir.join("imports"));
        let mut messaging = messaging_svc::config::Config::from_env(env)?;
        messaging.service = service(
            "messaging",
            "MESSAGING_ADDR",
            messaging_svc::config::DEFAULT_PORT,
        )?;
        messaging.service_secret = Some(service_secret.clone());
        // One box on a laptop: a channel without a provider writes files.
        if env.get("DELIVERY").is_none() {
            messaging.delivery = messaging_svc::config::Delivery::Outbox;
        }
        if env.get("OUTBOX_DIR").is_none() {
            messaging.outbox_dir = data_dir.join("outbox");
        }
        let mut gateway = gateway::config::Config::from_env(env)?;
        gateway.listen_addr =
            env.parse_or("GATEWAY_ADDR", loopback(gateway::config::DEFAULT_PORT))?;
        gateway.drain_timeout = drain_timeout;
        gateway.metrics_addr = None;
        gateway.service_secret = Some(service_secret.clone());
        Ok(SuiteConfig {
            metrics_addr: homeroom_platform::config::metrics_addr(env)?,
            demo_students: env.parse_or("DEMO_STUDENTS", 500)?,
            data_dir,
            drain_timeout,
            service_secret,
            identity,
            roster,
            messaging,
            gateway,
        })
    }
}

/// The four components, bound and ready to run.
pub struct Suite {
    metrics: Option<homeroom_platform::metrics::MetricsServer>,
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
        let gateway_public = config.gateway.public_url.clone();
        let metrics = match config.metrics_addr {
            Some(addr) => Some(homeroom_platform::metrics::MetricsServer::bind(addr).await?),
            None => None,
        };
        let SuiteConfig {
            identity: identity_config,
            roster: roster_config,
            messaging: messaging_config,
            gateway: gateway_config,
            ..
        } = config;
        // Bind every port first, so each service can be told the others' addresses.
        let identity_listener = homeroom_platform::grpc::bind(&identity_config.service).await?;
        let roster_listener = homeroom_platform::grpc::bind(&roster_config.service).await?;
        let messaging_listener = homeroom_platform::grpc::bind(&messaging_config.service).await?;
        let url = |addr: SocketAddr| format!("http://{}", dialable(addr));
        let identity_url = url(identity_listener.local_addr()?);
        let roster_url = url(roster_listener.local_addr()?);
        let messaging_url = url(messaging_listener.local_addr()?);

        let gateway = gateway::app::App::build(gateway::config::Config {
            identity_url: identity_url.clone(),
            roster_url: roster_url.clone(),
            messaging_url: messaging_url.clone(),
            ..gateway_config
        })
        .await?;
        // Join links in invitations open the console this suite serves,
        // unless a public URL is set.
        let public_url = identity_config.public_url.clone().or_else(|| {
            gateway_public
                .clone()
                .or_else(|| gateway.local_addr().ok().map(url))
        });
        let identity = identity_svc::app::App::build_on(
            identity_listener,
            identity_svc::config::Config {
                messaging_url: messaging_url.clone(),
                public_url,
                ..identity_config
            },
        )
        .await?;
        let roster = roster_svc::app::App::build_on(
            roster_listener,
            roster_svc::config::Config {
                identity_url: identity_url.clone(),
                messaging_url: messaging_url.clone(),
                ..roster_config
            },
        )
        .await?;
        let messaging = messaging_svc::app::App::build_on(
            messaging_listener,
            messaging_svc::config::Config {
                identity_url: identity_url.clone(),
                roster_url: roster_url.clone(),
                ..messaging_config
            },
        )
        .await?;

        if let Some(m) = &metrics {
            announce("metrics", format!("http://{}", m.local_addr()?));
        }
        let suite = Suite {
            metrics,
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
        if let Some(metrics) = self.metrics {
            tasks.spawn(metrics.run_until(stop.clone()));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_component_reads_its_own_variables_as_serve_would() {
        let env = Env::from_pairs([
            ("HOMEROOM_DATA_DIR", "/srv/homeroom"),
            ("HOMEROOM_SMTP_HOST", "smtp.district.org"),
            ("HOMEROOM_SMTP_PORT", "2525"),
            ("HOMEROOM_SMTP_TLS", "none"),
            ("HOMEROOM_SMTP_MAX_PER_SECOND", "5"),
            ("HOMEROOM_EMAIL_FROM", "office@district.org"),
            ("HOMEROOM_TWILIO_ACCOUNT_SID", "AC1"),
            ("HOMEROOM_TWILIO_AUTH_TOKEN", "token"),
            ("HOMEROOM_TWILIO_FROM", "+15550001111"),
            ("HOMEROOM_TWILIO_MAX_PER_SECOND", "3"),
            ("HOMEROOM_WORKERS", "4"),
            ("HOMEROOM_DB_POOL_SIZE", "7"),
            ("HOMEROOM_OUTBOUND_ALLOW", "10.0.0.0/8"),
            ("HOMEROOM_TRUSTED_PROXIES", "10.1.0.0/16"),
            ("HOMEROOM_RATE_PER_IP", "42"),
            ("DATABASE_URL", "postgres://elsewhere/db"),
        ]);
        let c = SuiteConfig::from_env(&env).unwrap();
        let smtp = c.messaging.smtp.clone().unwrap();
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.from_address.as_str()),
            ("smtp.district.org", 2525, "office@district.org")
        );
        assert_eq!(smtp.max_per_second.map(|n| n.get()), Some(5));
        let twilio = c.messaging.twilio.clone().unwrap();
        assert_eq!(twilio.from.as_deref(), Some("+15550001111"));
        assert_eq!(twilio.max_per_second.map(|n| n.get()), Some(3));
        assert_eq!(c.messaging.workers, 4);
        assert_eq!(
            c.messaging.outbox_dir,
            PathBuf::from("/srv/homeroom/outbox")
        );
        assert_eq!(
            c.roster.boundary.import_root,
            Some(PathBuf::from("/srv/homeroom/imports"))
        );
        assert_eq!(c.gateway.rate_per_ip, 42);
        for s in [&c.identity.service, &c.roster.service, &c.messaging.service] {
            assert_eq!(s.database.max_connections, 7, "{}", s.name);
            assert_eq!(
                s.database.url,
                format!("/srv/homeroom/{}.db", s.name),
                "one process keeps the three databases apart"
            );
        }
        let own = Env::from_pairs([
            ("HOMEROOM_OUTBOX_DIR", "/var/mail/homeroom"),
            ("HOMEROOM_IMPORT_ROOT", "/srv/sis"),
        ]);
        let c = SuiteConfig::from_env(&own).unwrap();
        assert_eq!(c.messaging.outbox_dir, PathBuf::from("/var/mail/homeroom"));
        assert_eq!(
            c.roster.boundary.import_root,
            Some(PathBuf::from("/srv/sis"))
        );
    }
}
