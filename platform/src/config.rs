//! Configuration from the environment: `HOMEROOM_`-prefixed variables and `DATABASE_URL`.
//!
//! Variables every gRPC service reads (see [`ServiceSettings::from_env`]):
//! - `HOMEROOM_LISTEN_ADDR`: address to bind (port 0 picks a free port)
//! - `DATABASE_URL`: `postgres://…` or a SQLite file path (default `./data/<service>.db`)
//! - `HOMEROOM_DB_POOL_SIZE`: most pooled connections (default 10)
//! - `HOMEROOM_DRAIN_SECONDS`: how long in-flight requests may finish after SIGTERM (default 10)
//! - `HOMEROOM_MAX_CONNECTION_AGE_SECONDS`: connections are recycled after this (default 300),
//!   so clients rebalance over new replicas
//! - `HOMEROOM_MIGRATE_ON_START`: run pending migrations at start (default true)
//! - `HOMEROOM_METRICS_ADDR`: where Prometheus text is served at `/metrics`
//!   (default unset: no endpoint; `0.0.0.0:9090` in the Kubernetes manifests)
//!
//! Telemetry reads `HOMEROOM_LOG_FORMAT` (`pretty` or `json`) and `HOMEROOM_LOG_LEVEL`.

use std::{collections::HashMap, fmt::Display, net::SocketAddr, str::FromStr, time::Duration};

use anyhow::{Context, anyhow};

use crate::db::DbSettings;

/// The prefix of every Homeroom variable but `DATABASE_URL`.
pub const PREFIX: &str = "HOMEROOM_";

/// A source of configuration values: the process environment, or a fixed map in tests.
#[derive(Debug, Clone, Default)]
pub struct Env {
    fixed: Option<HashMap<String, String>>,
}

impl Env {
    /// Reads the process environment.
    pub fn process() -> Env {
        Env { fixed: None }
    }

    /// Reads only the given pairs (full variable names, prefix included).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            fixed: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// The value of a variable by its full name; empty values count as unset.
    pub fn var(&self, full_name: &str) -> Option<String> {
        let value = match &self.fixed {
            Some(map) => map.get(full_name).cloned(),
            None => std::env::var(full_name).ok(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// The value of `HOMEROOM_<name>`.
    pub fn get(&self, name: &str) -> Option<String> {
        self.var(&format!("{PREFIX}{name}"))
    }

    /// `HOMEROOM_<name>` parsed, or `default` when unset; a bad value names the variable.
    pub fn parse_or<T>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e| anyhow!("{PREFIX}{name}={raw:?} is not valid: {e}")),
        }
    }

    /// `HOMEROOM_<name>` as whole seconds.
    pub fn seconds_or(&self, name: &str, default: Duration) -> anyhow::Result<Duration> {
        self.parse_or(name, default.as_secs())
            .map(Duration::from_secs)
    }
}

/// Settings every gRPC service shares.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Short service name (`identity`, `roster`, `messaging`).
    pub name: &'static str,
    /// Address to bind.
    pub listen_addr: SocketAddr,
    /// The service's own database.
    pub database: DbSettings,
    /// Bounded drain after SIGTERM.
    pub drain_timeout: Duration,
    /// Connection recycling age.
    pub max_connection_age: Duration,
    /// Run pending migrations at start.
    pub migrate_on_start: bool,
    /// Where Prometheus scrapes `/metrics` (`HOMEROOM_METRICS_ADDR`; unset: off).
    pub metrics_addr: Option<SocketAddr>,
}

impl ServiceSettings {
    /// Settings with laptop defaults: loopback `default_addr`, SQLite at `./data/<name>.db`.
    pub fn defaults(name: &'static str, default_addr: SocketAddr) -> ServiceSettings {
        let mut database = DbSettings::new(format!("data/{name}.db"));
        database.name = name;
        ServiceSettings {
            name,
            listen_addr: default_addr,
            database,
            drain_timeout: Duration::from_secs(10),
            max_connection_age: Duration::from_secs(300),
            migrate_on_start: true,
            metrics_addr: None,
        }
    }

    /// Reads the variables listed in this module's documentation over the defaults.
    pub fn from_env(
        env: &Env,
        name: &'static str,
        default_addr: SocketAddr,
    ) -> anyhow::Result<ServiceSettings> {
        let mut s = ServiceSettings::defaults(name, default_addr);
        s.listen_addr = env.parse_or("LISTEN_ADDR", s.listen_addr)?;
        if let Some(url) = env.var("DATABASE_URL") {
            s.database.url = url;
        }
        s.database.max_connections = env.parse_or("DB_POOL_SIZE", s.database.max_connections)?;
        s.drain_timeout = env.seconds_or("DRAIN_SECONDS", s.drain_timeout)?;
        s.max_connection_age =
            env.seconds_or("MAX_CONNECTION_AGE_SECONDS", s.max_connection_age)?;
        s.migrate_on_start = env.parse_or("MIGRATE_ON_START", s.migrate_on_start)?;
        s.metrics_addr = metrics_addr(env)?;
        Ok(s)
    }
}

/// `HOMEROOM_METRICS_ADDR`: where `/metrics` is served (unset or `off`: nowhere).
pub fn metrics_addr(env: &Env) -> anyhow::Result<Option<SocketAddr>> {
    match env.get("METRICS_ADDR").as_deref().map(str::trim) {
        None | Some("off") => Ok(None),
        Some(_) => env.parse_or("METRICS_ADDR", loopback(0)).map(Some),
    }
}

/// Parses a loopback default address written as a literal.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Reads a URL-valued variable, checking it parses as a URI.
pub fn uri_or(env: &Env, name: &str, default: &str) -> anyhow::Result<String> {
    let value = env.get(name).unwrap_or_else(|| default.to_string());
    value
        .parse::<http::Uri>()
        .with_context(|| format!("{PREFIX}{name}={value:?} is not a URL"))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_the_variable() {
        let env = Env::from_pairs([("HOMEROOM_DRAIN_SECONDS", "soon")]);
        let err = env
            .seconds_or("DRAIN_SECONDS", Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("HOMEROOM_DRAIN_SECONDS"), "{err}");
    }

    #[test]
    fn unset_and_empty_values_take_the_default() {
        let env = Env::from_pairs([("HOMEROOM_LISTEN_ADDR", " ")]);
        let s = ServiceSettings::from_env(&env, "identity", loopback(50051)).unwrap();
        assert_eq!(s.listen_addr, loopback(50051));
        assert_eq!(s.database.url, "data/identity.db");
    }

    #[test]
    fn database_url_has_no_prefix() {
        let env = Env::from_pairs([
            ("DATABASE_URL", "postgres://u@h/db"),
            ("HOMEROOM_LISTEN_ADDR", "0.0.0.0:0"),
        ]);
        let s = ServiceSettings::from_env(&env, "roster", loopback(50052)).unwrap();
        assert_eq!(s.database.url, "postgres://u@h/db");
        assert_eq!(s.listen_addr.port(), 0);
    }
}
