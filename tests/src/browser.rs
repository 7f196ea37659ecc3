//! The console in a real browser: Debian's headless Chromium driven through
//! ChromeDriver (WebDriver, with fantoccini), axe-core's accessibility
//! checks on each page, and a full-page screenshot of each under
//! `target/console-screenshots/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`) and axe-core's `axe.min.js`
//! (`HOMEROOM_AXE_JS`, else `.ci/.tools/node_modules/axe-core/axe.min.js`,
//! which `.ci/run` installs from npm). Without them a test skips with a
//! notice, unless `CI=true` or `HOMEROOM_REQUIRE_BROWSER=1` (`.ci/run`),
//! where that is a failure.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A browser session and the ChromeDriver behind it (killed on drop).
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
    axe: String,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Where the screenshots go.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("console-screenshots")
}

fn axe_path() -> PathBuf {
    std::env::var_os("HOMEROOM_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".ci/.tools/node_modules/axe-core/axe.min.js"))
}

impl Browser {
    /// A fresh headless Chromium (empty profile) with a desktop-sized window;
    /// `None` (with a notice) when the browser or axe-core is missing outside
    /// CI.
    pub async fn start() -> Option<Browser> {
        Browser::launch(None).await
    }

    /// The same as a small phone: a 320 px wide viewport (device emulation;
    /// a headless window cannot be made that narrow).
    pub async fn phone() -> Option<Browser> {
        Browser::launch(Some(json!({
            "deviceMetrics": {"width": 320, "height": 640, "pixelRatio": 1.0, "touch": true},
        })))
        .await
    }

    async fn launch(mobile: Option<Value>) -> Option<Browser> {
        let axe = std::fs::read_to_string(axe_path());
        let missing: Vec<String> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|p| !std::path::Path::new(p).exists())
            .map(str::to_owned)
            .chain(axe.is_err().then(|| axe_path().display().to_string()))
            .collect();
        if !missing.is_empty() {
            let say = format!(
                "browser tests need {}: apt-get install -y chromium chromium-driver; \
                 npm install --prefix .ci/.tools axe-core (or run .ci/run)",
                missing.join(", ")
            );
            let required = std::env::var("CI").as_deref() == Ok("true")
                || std::env::var("HOMEROOM_REQUIRE_BROWSER").as_deref() == Ok("1");
            assert!(!required, "{say}");
            eprintln!("notice: skipped: {say}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver did not start: {e}"));
        let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--window-size=1280,900", "--lang=en-US",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if let Some(mobile) = mobile {
            options["mobileEmulation"] = mobile;
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no browser session: {e}"),
            }
        };
        Some(Browser {
            client,
            driver,
            _profile: profile,
            axe: axe.unwrap_or_default(),
        })
    }

    /// Opens `url` and waits for the page.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    /// The current path (and query).
    pub async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("no url: {e}"));
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.client.find(Locator::Css("body")).await {
                Ok(body) => return body.text().await.unwrap_or_default(),
                // Between two documents (a page refreshing itself, a
                // redirect): the next one has a body.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("no body: {e}"),
            }
        }
    }

    /// Types `value` into the field labelled by id `id`.
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        field.clear().await.ok();
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
    }

    /// Clicks the element `css` selects and waits for the next page.
    pub async fn click(&self, css: &str) {
        let before = self.page_token().await;
        self.touch(css).await;
        self.wait_for_new_page(before).await;
    }

    /// Clicks the element `css` selects on this page (a checkbox, a
    /// disclosure): no navigation follows.
    pub async fn touch(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    /// Clicks the button whose text is `text` and waits for the next page.
    pub async fn press(&self, text: &str) {
        let xpath = format!("//button[normalize-space(.)=\"{text}\"]");
        let before = self.page_token().await;
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text:?}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        self.wait_for_new_page(before).await;
    }

    /// Marks the current document, so a navigation is seen.
    async fn page_token(&self) -> String {
        let token = uuid_like();
        let _ = self
            .client
            .execute("window.__homeroomPage = arguments[0];", vec![json!(token)])
            .await;
        token
    }

    async fn wait_for_new_page(&self, before: String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = self
                .client
                .execute(
                    "return document.readyState === 'complete' ? (window.__homeroomPage || '') : null;",
                    vec![],
                )
                .await
                .ok();
            if let Some(Value::String(token)) = now
                && token != before
            {
                return;
            }
            assert!(Instant::now() < deadline, "no new page after 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// axe-core's serious and critical violations on the current page.
    pub async fn axe_violations(&self) -> Vec<String> {
        self.client
            .execute(&self.axe, vec![])
            .await
            .unwrap_or_else(|e| panic!("axe-core did not load: {e}"));
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {resultTypes: ['violations']})\
                   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,\
                      nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))\
                   .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("axe-core did not run: {e}"));
        result
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                format!(
                    "{} ({}): {} at {}",
                    v["id"], v["impact"], v["help"], v["nodes"]
                )
            })
            .collect()
    }

    /// Checks the page with axe-core (no serious or critical violation) and
    /// saves a full-page screenshot as `<name>.png`.
    pub async fn check(&self, name: &str) {
        let violations = self.axe_violations().await;
        assert!(
            violations.is_empty(),
            "{name}: accessibility violations:\n{}",
            violations.join("\n")
        );
        self.screenshot(name).await;
    }

    /// A full-page screenshot (Chrome's DevTools capture beyond the
    /// viewport, through ChromeDriver) saved as `<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let answer = self
            .client
            .issue_cmd(Cdp {
                cmd: "Page.captureScreenshot",
                params: json!({"format": "png", "captureBeyondViewport": true}),
            })
            .await
            .unwrap_or_else(|e| panic!("{name}: no screenshot: {e}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(answer["data"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{name}: the screenshot is not base64: {e}"));
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        std::fs::write(dir.join(format!("{name}.png")), png)
            .unwrap_or_else(|e| panic!("{name}.png: {e}"));
    }

    /// Resizes the window (e.g. 320 px wide, a small phone).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize: {e}"));
    }

    /// Whether the page is wider than the window (it scrolls sideways).
    pub async fn scrolls_sideways(&self) -> bool {
        self.client
            .execute(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true)
    }

    /// Signs in on the sign-in page that is open.
    pub async fn sign_in(&self, identifier: &str, password: &str) {
        self.fill("identifier", identifier).await;
        self.fill("password", password).await;
        self.press("Sign in").await;
    }

    /// Waits until the page (one that updates itself while a run, an upload
    /// or a message is under way) says one of `done`; its text.
    pub async fn until_says(&self, done: &[&str]) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let page = self.text().await;
            if done.iter().any(|d| page.contains(d)) {
                return page;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still not {done:?}:\n{page}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }

    /// Marks the current document (a page that reloads loses the mark).
    pub async fn mark(&self) {
        self.client
            .execute("window.homeroomMark = true;", vec![])
            .await
            .unwrap_or_else(|e| panic!("mark: {e}"));
    }

    /// Whether the document is still the one [`Browser::mark`] marked.
    pub async fn marked(&self) -> bool {
        self.client
            .execute("return window.homeroomMark === true;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// Ends the session and ChromeDriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// A Chrome DevTools command sent through ChromeDriver's
/// `goog/cdp/execute` (WebDriver has no full-page screenshot).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

fn uuid_like() -> String {
    use std::time::SystemTime;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("p{nanos:x}")
}
