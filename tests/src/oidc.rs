//! A real OpenID Connect provider for the SSO tests: `tests/oidc/provider.mjs`
//! (the npm package `oidc-provider`) run with Node.js, and a client that
//! drives its authorization endpoint the way a browser would.
//!
//! The provider has no login form: the authorization request's `login_hint`
//! names the test user, who is signed in at once. Its users live in a JSON
//! file the provider reads on every lookup, so a test can change a user's
//! claims between two logins.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The one client the provider knows.
pub const CLIENT_ID: &str = "homeroom-e2e";
/// Its secret.
pub const CLIENT_SECRET: &str = "homeroom-e2e-secret";

/// How long Node.js may take to load `oidc-provider` and listen, on a
/// machine busy with the rest of the suite.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How much of the provider's stderr a start-up failure quotes.
const STDERR_KEPT: usize = 16 * 1024;

/// A running provider; killed when dropped.
pub struct OidcProvider {
    /// Its issuer URL, `http://127.0.0.1:<port>`.
    pub issuer: String,
    users: tempfile::NamedTempFile,
    _process: tokio::process::Child,
}

impl OidcProvider {
    /// Starts a provider whose client may redirect to `redirect_uri`, with
    /// `users` (`{ "<login>": { "sub"?, "email", "email_verified", "employee_id" } }`).
    pub async fn start(
        redirect_uri: &str,
        users: &serde_json::Value,
    ) -> anyhow::Result<OidcProvider> {
        let dir = provider_dir();
        ensure_node_modules(&dir).await?;
        let users_file = tempfile::NamedTempFile::new()?;
        std::fs::write(users_file.path(), users.to_string())?;
        let mut child = tokio::process::Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URIS", redirect_uri)
            .env("OIDC_USERS_FILE", users_file.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| node_missing("node", e))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let stderr = child.stderr.take().context("no stderr")?;
        // Read stderr from the start, so a provider that never listens can
        // say why, and so it never blocks on a full pipe.
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if text.len() < STDERR_KEPT {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            text
        });
        let mut lines = BufReader::new(stdout).lines();
        let waited = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(issuer) = line.strip_prefix("issuer=") {
                    return Ok::<_, std::io::Error>(Some(issuer.trim().to_string()));
                }
            }
            Ok(None)
        })
        .await;
        let issuer = match waited {
            Ok(Ok(Some(issuer))) => issuer,
            failed => {
                let why = match failed {
                    Err(_) => format!("did not print its issuer within {START_TIMEOUT:?}"),
                    Ok(Err(e)) => format!("could not be read ({e})"),
                    Ok(Ok(_)) => "stopped before listening".to_string(),
                };
                let _ = child.start_kill();
                let errors = tokio::time::timeout(Duration::from_secs(5), errors)
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                bail!("provider.mjs {why}; its stderr: {errors}");
            }
        };
        // Keep draining stdout, so the provider never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(OidcProvider {
            issuer,
            users: users_file,
            _process: child,
        })
    }

    /// Replaces the users (and their claims) from the next login on.
    pub fn set_users(&self, users: &serde_json::Value) -> anyhow::Result<()> {
        Ok(std::fs::write(self.users.path(), users.to_string())?)
    }

    /// Follows `authorization_url` through the provider as a browser would
    /// (keeping its cookies) until the provider sends the browser away; the
    /// URL it is sent to (the client's redirect URI with `code` and `state`,
    /// or `error`).
    pub async fn authorize(&self, authorization_url: &str) -> anyhow::Result<reqwest::Url> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let issuer = reqwest::Url::parse(&self.issuer)?;
        let mut url = reqwest::Url::parse(authorization_url)?;
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        for _ in 0..10 {
            if url.origin() != issuer.origin() {
                return Ok(url);
            }
            let mut request = http.get(url.clone());
            if !jar.is_empty() {
                let cookie: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
                request = request.header(reqwest::header::COOKIE, cookie.join("; "));
            }
            let answer = request.send().await?;
            for set in answer.headers().get_all(reqwest::header::SET_COOKIE) {
                let Some((name, value)) = set
                    .to_str()?
                    .split(';')
                    .next()
                    .and_then(|p| p.split_once('='))
                else {
                    continue;
                };
                if value.is_empty() {
                    jar.remove(name.trim());
                } else {
                    jar.insert(name.trim().to_string(), value.to_string());
                }
            }
            let Some(location) = answer.headers().get(reqwest::header::LOCATION) else {
                let status = answer.status();
                bail!(
                    "the provider answered {status} at {url}: {}",
                    answer.text().await?
                );
            };
            url = url.join(location.to_str()?)?;
        }
        bail!("the provider redirected more than 10 times")
    }
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

fn node_missing(tool: &str, e: std::io::Error) -> anyhow::Error {
    anyhow!(
        "cannot run `{tool}` ({e}): the SSO end-to-end tests run a real OpenID provider \
         (tests/oidc/provider.mjs) and need Node.js 20+ with npm on the PATH"
    )
}

/// Runs `npm ci` in `dir` once, unless a previous run finished: one test
/// process installs (it holds `.npm-ci.lock`), the others wait for it.
async fn ensure_node_modules(dir: &Path) -> anyhow::Result<()> {
    static IN_PROCESS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_here = IN_PROCESS.lock().await;
    let done = dir.join("node_modules").join(".homeroom-e2e-installed");
    let lock = dir.join(".npm-ci.lock");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if done.exists() {
            return Ok(());
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if Instant::now() > deadline {
                    bail!(
                        "{} is still held after 5 minutes; remove it if no npm runs",
                        lock.display()
                    );
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let installed = npm_ci(dir).await;
    if installed.is_ok() {
        std::fs::write(&done, b"")?;
    }
    std::fs::remove_file(&lock)?;
    installed
}

async fn npm_ci(dir: &Path) -> anyhow::Result<()> {
    let output = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| node_missing("npm", e))?;
    if !output.status.success() {
        bail!(
            "`npm ci` in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
