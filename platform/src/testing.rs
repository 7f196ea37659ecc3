//! Test support: a fresh database per test, and running service binaries as
//! processes on free ports.
//!
//! [`TestDb`] is a SQLite file in a temporary directory by default; when
//! `TEST_DATABASE_URL` points at a PostgreSQL server it is a new database there
//! (`CREATE DATABASE`), dropped when the `TestDb` is.

pub mod smtp;
pub mod twilio;

use std::{
    collections::HashMap,
    net::SocketAddr,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use diesel::{Connection, PgConnection, connection::SimpleConnection};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::db::{Backend, Db, DbSettings, Migrations};

/// A database that exists for one test.
pub struct TestDb {
    /// Pool over the database.
    pub db: Db,
    /// Its URL (a file path for SQLite).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("url", &self.url).finish()
    }
}

impl TestDb {
    /// A fresh, empty database on the backend the environment selects.
    pub async fn empty() -> anyhow::Result<TestDb> {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => Self::postgres(admin_url).await,
            None => Self::sqlite(),
        }
    }

    /// A fresh database with the service's migrations applied.
    pub async fn migrated(migrations: &'static Migrations) -> anyhow::Result<TestDb> {
        let test_db = Self::empty().await?;
        test_db.db.migrate(migrations).await?;
        Ok(test_db)
    }

    /// Which backend the test runs on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    fn sqlite() -> anyhow::Result<TestDb> {
        let dir = tempfile::tempdir()?;
        let url = dir.path().join("test.db").to_string_lossy().into_owned();
        let db = Db::new(&DbSettings::new(url.clone()))?;
        Ok(TestDb {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        })
    }

    async fn postgres(admin_url: String) -> anyhow::Result<TestDb> {
        if Backend::of_url(&admin_url) != Backend::Postgres {
            bail!("TEST_DATABASE_URL must be a postgres:// URL, got {admin_url:?}");
        }
        let name = format!("homeroom_test_{}", uuid::Uuid::now_v7().simple());
        let admin = admin_url.clone();
        let create = format!("CREATE DATABASE \"{name}\"");
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = PgConnection::establish(&admin)
                .with_context(|| "cannot reach TEST_DATABASE_URL".to_string())?;
            conn.batch_execute(&create)?;
            Ok(())
        })
        .await??;
        let url = with_database(&admin_url, &name)?;
        let mut settings = DbSettings::new(url.clone());
        settings.max_connections = 5;
        Ok(TestDb {
            db: Db::new(&settings)?,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let drop_sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let admin_url = admin_url.clone();
            // A plain thread: Drop may run inside or outside a runtime.
            let done = std::thread::spawn(move || {
                PgConnection::establish(&admin_url)
                    .map_err(anyhow::Error::from)
                    .and_then(|mut c| c.batch_execute(&drop_sql).map_err(anyhow::Error::from))
            })
            .join();
            if !matches!(done, Ok(Ok(()))) {
                eprintln!("warning: could not drop test database {name}");
            }
        }
    }
}

/// Replaces the database name (the URL path) of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").context("URL has no scheme")? + 3;
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// A Homeroom binary running as a child process; killed when dropped.
pub struct ServiceProcess {
    /// The child process.
    pub child: tokio::process::Child,
    /// `name → address` from the `<name> listening on <addr>` lines it printed.
    pub addrs: HashMap<String, SocketAddr>,
}

impl ServiceProcess {
    /// Starts `program args` with `env`, and waits (up to a minute) until it has
    /// printed a `<name> listening on <addr>` line for every name in `expect`.
    pub async fn spawn(
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
        expect: &[&str],
    ) -> anyhow::Result<ServiceProcess> {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut addrs = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !expect.iter().all(|n| addrs.contains_key(*n)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, lines.next_line())
                .await
                .with_context(|| format!("{program} did not print its addresses in time"))??
                .with_context(|| format!("{program} exited before printing its addresses"))?;
            if let Some((name, addr)) = parse_listening(&line) {
                addrs.insert(name, addr);
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServiceProcess { child, addrs })
    }

    /// The address printed for `name`.
    pub fn addr(&self, name: &str) -> anyhow::Result<SocketAddr> {
        self.addrs
            .get(name)
            .copied()
            .with_context(|| format!("no address for {name}"))
    }
}

/// Parses `<name> listening on <addr>` (an `http://` prefix is allowed).
pub fn parse_listening(line: &str) -> Option<(String, SocketAddr)> {
    let (name, rest) = line.trim().split_once(" listening on ")?;
    let addr = rest
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    Some((name.to_string(), addr.parse().ok()?))
}

/// Polls gRPC health of `service` at `addr` until SERVING, for up to `timeout`.
pub async fn wait_serving(
    addr: SocketAddr,
    service: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let deadline = Instant::now() + timeout;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await;
        if let Ok(channel) = channel {
            let mut client = HealthClient::new(channel);
            match client
                .check(HealthCheckRequest {
                    service: service.to_string(),
                })
                .await
            {
                Ok(r) if r.get_ref().status == ServingStatus::Serving as i32 => return Ok(()),
                Ok(r) => last = format!("status {}", r.get_ref().status),
                Err(e) => last = e.to_string(),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{service} at {addr} not SERVING after {timeout:?}: {last}")
}

/// Lists the services a server exposes through gRPC reflection (v1).
pub async fn reflected_services(addr: SocketAddr) -> anyhow::Result<Vec<String>> {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let answer = answers
        .message()
        .await?
        .context("reflection sent no answer")?;
    match answer.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            Ok(list.service.into_iter().map(|s| s.name).collect())
        }
        other => bail!("unexpected reflection answer: {other:?}"),
    }
}

/// Checks that a service's two migration trees carry the same names, in order.
pub fn assert_migration_trees_match(migrations: &Migrations) -> anyhow::Result<()> {
    let (postgres, sqlite) = migrations.names()?;
    if postgres.is_empty() {
        bail!("no migrations embedded");
    }
    if postgres != sqlite {
        bail!("migration trees differ:\n postgres: {postgres:?}\n sqlite:   {sqlite:?}");
    }
    Ok(())
}

/// A minimal HTTP/1.1 GET for tests: returns the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").context("no HTTP header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .context("no status line")?
        .parse()?;
    Ok((status, body.to_string()))
}

/// An Ed25519 signing key that mints access tokens, with the JWKS to verify them.
pub struct TestSigner {
    kid: String,
    encoding: jsonwebtoken::EncodingKey,
    public_x: String,
}

impl TestSigner {
    /// A fresh random key with a random `kid`.
    pub fn new() -> anyhow::Result<TestSigner> {
        use base64::Engine;
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let der = key
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding test key: {e}"))?;
        Ok(TestSigner {
            kid: uuid::Uuid::new_v4().to_string(),
            encoding: jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
            public_x: base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(key.verifying_key().as_bytes()),
        })
    }

    /// The JWKS holding this key's public half.
    pub fn jwks(&self) -> anyhow::Result<jsonwebtoken::jwk::JwkSet> {
        Ok(serde_json::from_value(serde_json::json!({
            "keys": [{"kty": "OKP", "crv": "Ed25519", "x": self.public_x, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]
        }))?)
    }

    /// Signs `claims` with this key (and its `kid`).
    pub fn sign(&self, claims: &crate::auth::AccessClaims) -> anyhow::Result<String> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    /// Claims of a valid 15-minute token for an account with the given grants.
    pub fn account_claims(
        account_id: &str,
        district_id: &str,
        roles: Vec<crate::auth::RoleGrant>,
    ) -> crate::auth::AccessClaims {
        let now = chrono::Utc::now().timestamp();
        crate::auth::AccessClaims {
            iss: crate::auth::ISSUER.into(),
            aud: crate::auth::AUDIENCE.into(),
            sub: account_id.into(),
            exp: now + 900,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            district_id: Some(district_id.into()),
            roles,
            service: None,
        }
    }
}

/// Starts a service binary on a free port with a fresh database, waits until
/// it reports SERVING (for `service` and overall), and checks that reflection
/// lists `service` and the health service. Fails with what went wrong.
/// `extra` adds variables the service needs (messaging-svc's delivery mode).
pub async fn assert_binary_serves(
    program: &str,
    name: &str,
    service: &str,
    extra: &[(&str, &str)],
) -> anyhow::Result<()> {
    let test_db = TestDb::empty().await?;
    let mut env = vec![
        ("HOMEROOM_LISTEN_ADDR", "127.0.0.1:0"),
        ("DATABASE_URL", test_db.url.as_str()),
    ];
    env.extend_from_slice(extra);
    let process = ServiceProcess::spawn(program, &[], &env, &[name]).await?;
    let addr = process.addr(name)?;
    wait_serving(addr, service, Duration::from_secs(30)).await?;
    wait_serving(addr, "", Duration::from_secs(5)).await?;
    let listed = reflected_services(addr).await?;
    for expected in [service, "grpc.health.v1.Health"] {
        if !listed.iter().any(|s| s == expected) {
            bail!("reflection does not list {expected}: {listed:?}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "t1"
            )
            .unwrap(),
            "postgres://postgres@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432", "t1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
    }

    #[test]
    fn listening_lines_parse() {
        let (name, addr) = parse_listening("gateway listening on http://127.0.0.1:8080").unwrap();
        assert_eq!(name, "gateway");
        assert_eq!(addr.port(), 8080);
        assert!(parse_listening("something else").is_none());
    }
}
