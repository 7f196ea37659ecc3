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

/// How long one start of the provider may take before it is given up and
/// started again. Node.js loads `oidc-provider` and listens in well under
/// 10 s even on a machine busy with the rest of the suite; a start that is
/// silent for this long is stuck, and a new process is the fastest way on.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How many starts are tried before the tests give up.
const ATTEMPTS: usize = 3;
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
    ///
    /// A start that prints nothing within [`ATTEMPT_TIMEOUT`] is killed and
    /// tried again, up to [`ATTEMPTS`] times; the error of a provider that
    /// never started describes every attempt (why it failed, its stderr, the
    /// process's state and, where Node.js could write one, its diagnostic
    /// report's stacks).
    pub async fn start(
        redirect_uri: &str,
        users: &serde_json::Value,
    ) -> anyhow::Result<OidcProvider> {
        let dir = provider_dir();
        ensure_node_modules(&dir).await?;
        let users_file = tempfile::NamedTempFile::new()?;
        std::fs::write(users_file.path(), users.to_string())?;
        let mut failures = Vec::new();
        for attempt in 1..=ATTEMPTS {
            match start_once(&dir, redirect_uri, users_file.path()).await {
                Ok((issuer, process)) => {
                    if !failures.is_empty() {
                        eprintln!(
                            "oidc: the provider started on attempt {attempt}; before:\n{}",
                            failures.join("\n")
                        );
                    }
                    return Ok(OidcProvider {
                        issuer,
                        users: users_file,
                        _process: process,
                    });
                }
                Err(e) => failures.push(format!("attempt {attempt}: {e:#}")),
            }
        }
        bail!(
            "provider.mjs did not start in {ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        )
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

/// Runs `provider.mjs` once and waits for its issuer line.
async fn start_once(
    dir: &Path,
    redirect_uri: &str,
    users_file: &Path,
) -> anyhow::Result<(String, tokio::process::Child)> {
    let reports = tempfile::tempdir()?;
    let mut child = tokio::process::Command::new("node")
        // SIGUSR2 makes Node.js write a diagnostic report: a stuck start
        // says where it is stuck.
        .arg("--report-on-signal")
        .arg("--report-signal=SIGUSR2")
        .arg("--report-compact")
        .arg(format!("--report-directory={}", reports.path().display()))
        .arg("provider.mjs")
        .current_dir(dir)
        .env("OIDC_CLIENT_ID", CLIENT_ID)
        .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env("OIDC_REDIRECT_URIS", redirect_uri)
        .env("OIDC_USERS_FILE", users_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| node_missing("node", e))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let stderr = child.stderr.take().context("no stderr")?;
    // Read stderr from the start, so a provider that never listens can say
    // why, and so it never blocks on a full pipe.
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
    let waited = tokio::time::timeout(ATTEMPT_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(issuer) = line.strip_prefix("issuer=") {
                return Ok::<_, std::io::Error>(Some(issuer.trim().to_string()));
            }
        }
        Ok(None)
    })
    .await;
    let why = match waited {
        Ok(Ok(Some(issuer))) => {
            // Keep draining stdout, so the provider never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok((issuer, child));
        }
        Err(_) => format!(
            "printed no issuer within {ATTEMPT_TIMEOUT:?}; {}",
            stuck_process(&child, reports.path()).await
        ),
        Ok(Err(e)) => format!("could not be read ({e})"),
        Ok(Ok(None)) => format!("stopped before listening ({:?})", child.try_wait()),
    };
    let _ = child.start_kill();
    let errors = tokio::time::timeout(Duration::from_secs(5), errors)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    bail!("provider.mjs {why}; its stderr: {errors}")
}

/// What a provider that is alive but silent is doing: its state and kernel
/// wait channel from `/proc`, and the JavaScript stack and libuv handles of
/// the diagnostic report
/// Node.js writes on SIGUSR2 (when it gets to it within 5 s).
async fn stuck_process(child: &tokio::process::Child, reports: &Path) -> String {
    let Some(pid) = child.id() else {
        return "it has exited".into();
    };
    let proc_file = |name: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/{name}")).unwrap_or_else(|e| e.to_string())
    };
    let state = proc_file("status")
        .lines()
        .find_map(|l| l.strip_prefix("State:"))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let mut said = format!("state {state}, wchan {}", proc_file("wchan"));
    let signalled = tokio::process::Command::new("kill")
        .args(["-USR2", &pid.to_string()])
        .status()
        .await;
    if !matches!(signalled, Ok(s) if s.success()) {
        return said;
    }
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Some(report) = std::fs::read_dir(reports)
            .ok()
            .and_then(|mut entries| entries.next())
            .and_then(Result::ok)
        else {
            continue;
        };
        let Ok(report) = std::fs::read_to_string(report.path()) else {
            continue;
        };
        let Ok(report) = serde_json::from_str::<serde_json::Value>(&report) else {
            continue;
        };
        let list = |items: &serde_json::Value, show: &dyn Fn(&serde_json::Value) -> String| {
            items.as_array().map_or_else(String::new, |items| {
                items
                    .iter()
                    .take(30)
                    .map(show)
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
        };
        let stack = list(&report["javascriptStack"]["stack"], &|frame| {
            frame.as_str().unwrap_or_default().trim().to_string()
        });
        // Each libuv handle as its type, what it is for and whether it is
        // active: a start stuck before listening has no TCP handle.
        let handles = list(&report["libuv"], &|handle| {
            let field = |name: &str| handle[name].as_str().map(|v| format!(" {v}"));
            format!(
                "{}{}{}",
                handle["type"].as_str().unwrap_or("?"),
                field("stdio")
                    .or_else(|| field("signal"))
                    .or_else(|| handle["localEndpoint"]["port"]
                        .as_u64()
                        .map(|p| format!(" :{p}")))
                    .unwrap_or_default(),
                if handle["is_active"] == true {
                    ""
                } else {
                    " (inactive)"
                },
            )
        });
        said.push_str(&format!(
            "; JavaScript stack: [{stack}]; libuv handles: [{handles}]"
        ));
        return said;
    }
    said.push_str("; Node.js wrote no diagnostic report within 5 s");
    said
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
