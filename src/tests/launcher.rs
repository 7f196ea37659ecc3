//! The `homeroom` binary as a user runs it: the whole suite in one process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use homeroom_platform::testing::{
    ServiceProcess, http_get,
    smtp::{mails, python_with_aiosmtpd, smtp_server},
};

const BIN: &str = env!("CARGO_BIN_EXE_homeroom");

async fn wait_ready(gateway: std::net::SocketAddr) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = http_get(gateway, "/readyz").await.unwrap();
        if answer.0 == 200 || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_suite_starts_all_four_and_stops_cleanly_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let mut suite = ServiceProcess::spawn(
        BIN,
        &[],
        &[
            ("HOMEROOM_DATA_DIR", data_dir),
            ("HOMEROOM_IDENTITY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_ROSTER_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_MESSAGING_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_GATEWAY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_DRAIN_SECONDS", "5"),
        ],
        &["identity", "roster", "messaging", "gateway"],
    )
    .await
    .unwrap();

    let (status, body) = wait_ready(suite.addr("gateway").unwrap()).await;
    assert_eq!(status, 200, "{body}");
    for db in ["identity.db", "roster.db", "messaging.db"] {
        assert!(data.path().join(db).exists(), "{db} was not created");
    }

    let pid = suite.child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let exit = tokio::time::timeout(Duration::from_secs(5 + 2), suite.child.wait())
        .await
        .expect("the suite did not exit within the drain deadline")
        .unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    assert!(started.elapsed() < Duration::from_secs(7));
}

#[tokio::test]
async fn migrate_applies_a_services_migrations_once() {
    let data = tempfile::tempdir().unwrap();
    let url = data.path().join("roster.db");
    let url = url.to_str().unwrap();
    let run = || {
        std::process::Command::new(BIN)
            .args(["migrate", "roster"])
            .env("DATABASE_URL", url)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let first = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.starts_with("roster: ") && !first.starts_with("roster: 0 "),
        "{first}"
    );
    let second = run();
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "roster: 0 migrations applied"
    );
}

#[test]
fn an_unknown_service_is_refused_with_the_valid_names() {
    let out = std::process::Command::new(BIN)
        .args(["serve", "payroll"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("identity") && err.contains("gateway"), "{err}");
}

/// Waits until the suite's demo district has loaded: its first completed
/// run's source and the district.
async fn demo_loaded(identity_url: &str, roster_url: &str, secret: &str) -> (String, String) {
    use homeroom_proto::{identity::v1 as idpb, roster::v1 as pb};
    let (identity_url, roster_url) = (identity_url.to_string(), roster_url.to_string());
    let bearer = |token: &str| -> tonic::metadata::MetadataValue<tonic::metadata::Ascii> {
        format!("Bearer {token}").parse().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(Instant::now() < deadline, "the demo district did not load");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(mut identity) =
            idpb::identity_service_client::IdentityServiceClient::connect(identity_url.clone())
                .await
        else {
            continue;
        };
        let Ok(token) = identity
            .issue_service_token(idpb::IssueServiceTokenRequest {
                client_id: "gateway".into(),
                client_secret: secret.into(),
                scopes: vec![],
            })
            .await
        else {
            continue;
        };
        let token = token.into_inner().access_token;
        let mut roster =
            pb::roster_service_client::RosterServiceClient::connect(roster_url.clone())
                .await
                .unwrap();
        let mut request = tonic::Request::new(pb::ListDistrictsRequest::default());
        request
            .metadata_mut()
            .insert("authorization", bearer(&token));
        let Ok(districts) = roster.list_districts(request).await else {
            continue;
        };
        let Some(district) = districts.into_inner().districts.pop() else {
            continue;
        };
        let mut request = tonic::Request::new(pb::ListSyncRunsRequest {
            district_id: district.district_id.clone(),
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("authorization", bearer(&token));
        let runs = roster.list_sync_runs(request).await.unwrap().into_inner();
        if let Some(run) = runs.sync_runs.first()
            && run.status() == pb::SyncRunStatus::Completed
        {
            break (run.sync_source_id.clone(), district.district_id.clone());
        }
    }
}

/// `cargo run` loads a demo district into a fresh data directory, and
/// `homeroom import-roster` pushes a bundle folder into its source: the same
/// bundle again changes nothing.
#[tokio::test]
async fn the_demo_district_loads_and_import_roster_pushes_a_folder() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let secret = "launcher-test-secret-0123456789abcdef";
    let suite = ServiceProcess::spawn(
        BIN,
        &[],
        &[
            ("HOMEROOM_DATA_DIR", data_dir),
            ("HOMEROOM_IDENTITY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_ROSTER_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_MESSAGING_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_GATEWAY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_SERVICE_SECRET", secret),
            ("HOMEROOM_DEMO_STUDENTS", "60"),
        ],
        &["identity", "roster", "messaging", "gateway"],
    )
    .await
    .unwrap();
    let identity_url = format!("http://{}", suite.addr("identity").unwrap());
    let roster_url = format!("http://{}", suite.addr("roster").unwrap());
    let (source, district_id) = demo_loaded(&identity_url, &roster_url, secret).await;
    // A fresh suite keeps its demo bundle in the district's import folder.
    let demo = data
        .path()
        .join("imports")
        .join(&district_id)
        .join("demo-bundle");
    let out = tokio::process::Command::new(BIN)
        .args([
            "import-roster",
            demo.to_str().unwrap(),
            "--source",
            &source,
            "--roster-url",
            &roster_url,
            "--identity-url",
            &identity_url,
        ])
        .env("HOMEROOM_SERVICE_SECRET", secret)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Completed"), "{stdout}");
    assert!(
        stdout.contains("Student: 0 created, 0 updated, 60 unchanged"),
        "{stdout}"
    );

    // `homeroom upload-guardians` streams a CSV and saves the result file.
    let users = std::fs::read_to_string(demo.join("users.csv")).unwrap();
    let student = users
        .lines()
        .find(|l| l.split(',').nth(5) == Some("student"))
        .and_then(|l| l.split(',').next())
        .unwrap()
        .to_string();
    let csv = data.path().join("parents.csv");
    std::fs::write(
        &csv,
        format!(
            "student_code,parent_code,first_name,last_name,email,phone,home_phone,language\n\
             {student},UP-1,Uma,Upload,uma.upload@example.com,,,\n\
             nobody,UP-2,Ned,Nobody,ned@example.com,,,\n"
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(BIN)
        .args([
            "upload-guardians",
            csv.to_str().unwrap(),
            "--district",
            &district_id,
            "--result",
            data.path().join("result.csv").to_str().unwrap(),
            "--roster-url",
            &roster_url,
            "--identity-url",
            &identity_url,
        ])
        .env("HOMEROOM_SERVICE_SECRET", secret)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Completed, 2 of 2 rows (1 succeeded, 1 failed); guardians: 1 created"),
        "{stdout}"
    );
    let result = std::fs::read_to_string(data.path().join("result.csv")).unwrap();
    assert!(
        result.contains("ERROR,,Unknown student code nobody"),
        "{result}"
    );
    drop(suite);
}

/// Issue 16: `homeroom run` reads messaging's providers as `homeroom serve
/// messaging` does. A one-time code to a demo guardian's email reaches a real
/// SMTP server from the configured sender; one to a phone reaches the Twilio
/// mock; nothing is written to the outbox folder.
#[tokio::test]
async fn the_all_in_one_sends_through_the_configured_smtp_server_and_twilio() {
    use homeroom_platform::testing::twilio::{ACCOUNT_SID, AUTH_TOKEN, MockTwilio};
    let Some(python) = python_with_aiosmtpd("the all-in-one provider test").unwrap() else {
        return;
    };
    let mail_root = tempfile::tempdir().unwrap();
    // aiosmtpd's Mailbox makes the Maildir itself.
    let maildir = mail_root.path().join("mail");
    let (_smtp, smtp_port) = smtp_server(&python, &maildir).await.unwrap();
    let twilio = MockTwilio::start().await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let secret = "launcher-test-secret-providers-0123456789";
    let smtp_port = smtp_port.to_string();
    let twilio_url = twilio.base_url();
    let suite = ServiceProcess::spawn(
        BIN,
        &[],
        &[
            ("HOMEROOM_DATA_DIR", data_dir),
            ("HOMEROOM_IDENTITY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_ROSTER_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_MESSAGING_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_GATEWAY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_SERVICE_SECRET", secret),
            ("HOMEROOM_DEMO_STUDENTS", "20"),
            ("HOMEROOM_SMTP_HOST", "127.0.0.1"),
            ("HOMEROOM_SMTP_PORT", smtp_port.as_str()),
            ("HOMEROOM_SMTP_TLS", "none"),
            ("HOMEROOM_EMAIL_FROM", "office@springfield.test"),
            ("HOMEROOM_EMAIL_FROM_NAME", "Springfield Schools"),
            ("HOMEROOM_TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("HOMEROOM_TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("HOMEROOM_TWILIO_FROM", "+15005550006"),
            ("HOMEROOM_TWILIO_BASE_URL", twilio_url.as_str()),
        ],
        &["identity", "roster", "messaging", "gateway"],
    )
    .await
    .unwrap();
    let identity_url = format!("http://{}", suite.addr("identity").unwrap());
    let roster_url = format!("http://{}", suite.addr("roster").unwrap());
    let (_, district_id) = demo_loaded(&identity_url, &roster_url, secret).await;

    // A guardian of the demo district with an email, and one with a mobile.
    let users = std::fs::read_to_string(
        data.path()
            .join("imports")
            .join(&district_id)
            .join("demo-bundle/users.csv"),
    )
    .unwrap();
    let mut rows = csv::ReaderBuilder::new().from_reader(users.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (role, email, sms) = (col("role"), col("email"), col("sms"));
    let guardians: Vec<csv::StringRecord> = rows
        .records()
        .map(Result::unwrap)
        .filter(|r| matches!(&r[role], "parent" | "guardian" | "relative"))
        .collect();
    let email = guardians.iter().find(|r| !r[email].is_empty()).unwrap()[email].to_string();
    let phone = guardians.iter().find(|r| !r[sms].is_empty()).unwrap()[sms].to_string();

    let gateway = suite.addr("gateway").unwrap();
    // reqwest is built without a TLS provider of its own: the project's is ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    for identifier in [&email, &phone] {
        let answer = http
            .post(format!("http://{gateway}/api/v1/auth/codes"))
            .json(&serde_json::json!({"identifier": identifier}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{identifier}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mail = loop {
        if let Some(m) = mails(&maildir)
            .into_iter()
            .find(|m| m.to_lowercase().contains(&email.to_lowercase()))
        {
            break m;
        }
        assert!(Instant::now() < deadline, "no mail reached the SMTP server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(mail.contains("office@springfield.test"), "{mail}");
    assert!(mail.contains("Springfield Schools"), "{mail}");
    while twilio.messages().is_empty() {
        assert!(Instant::now() < deadline, "no SMS reached Twilio");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sms = &twilio.messages()[0];
    assert_eq!(sms.field("From"), Some("+15005550006"));
    assert!(
        sms.field("Body").unwrap_or_default().contains("code"),
        "{sms:?}"
    );
    let outbox = data.path().join("outbox");
    let written: Vec<_> = std::fs::read_dir(&outbox)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        written.is_empty(),
        "nothing goes to the outbox: {written:?}"
    );
}

/// Runs the suite with a small demo district and `extra` variables, output
/// in `<dir>/suite.log`, until the demo district loaded and every worker had
/// a round; stops it with SIGTERM and returns what it logged.
async fn run_demo(dir: &std::path::Path, extra: &[(&str, &str)]) -> String {
    let log_path = dir.join("suite.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let data = dir.join("data");
    let mut child = tokio::process::Command::new(BIN)
        .envs([
            ("HOMEROOM_DATA_DIR", data.to_str().unwrap()),
            ("HOMEROOM_IDENTITY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_ROSTER_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_MESSAGING_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_GATEWAY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_DEMO_STUDENTS", "20"),
            ("HOMEROOM_DRAIN_SECONDS", "5"),
            ("HOMEROOM_LOG_LEVEL", "info"),
            ("HOMEROOM_LOG_FORMAT", "json"),
        ])
        .envs(extra.iter().copied())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    while !read().contains("demo district loaded") {
        assert!(
            Instant::now() < deadline,
            "the demo district never loaded:\n{}",
            read()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A moment for every worker's first round.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}\n{}", read());
    read()
}

#[tokio::test]
async fn a_fresh_suite_starts_without_errors_workers_wait_for_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let log = run_demo(dir.path(), &[]).await;
    for bad in ["no such table", "database is locked", "ERROR"] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(bad)).collect();
        assert!(lines.is_empty(), "{bad}:\n{}", lines.join("\n"));
    }
}

#[tokio::test]
async fn the_suite_runs_on_postgresql_with_a_database_per_service() {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |u| u.is_empty()) {
        eprintln!("notice: TEST_DATABASE_URL is not set; the PostgreSQL run covers this test");
        return;
    }
    let (identity, roster, messaging) = (
        homeroom_platform::testing::TestDb::empty().await.unwrap(),
        homeroom_platform::testing::TestDb::empty().await.unwrap(),
        homeroom_platform::testing::TestDb::empty().await.unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let log = run_demo(
        dir.path(),
        &[
            ("HOMEROOM_IDENTITY_DATABASE_URL", identity.url.as_str()),
            ("HOMEROOM_ROSTER_DATABASE_URL", roster.url.as_str()),
            ("HOMEROOM_MESSAGING_DATABASE_URL", messaging.url.as_str()),
        ],
    )
    .await;
    let migrated = log
        .lines()
        .filter(|l| l.contains("migrations applied") && l.contains("\"backend\":\"postgres\""))
        .count();
    assert_eq!(
        migrated, 3,
        "each service migrated its PostgreSQL database:\n{log}"
    );
    for db in ["identity.db", "roster.db", "messaging.db"] {
        assert!(
            !dir.path().join("data").join(db).exists(),
            "{db}: the suite used SQLite"
        );
    }
    for bad in ["no such table", "\"ERROR\""] {
        assert!(!log.contains(bad), "{bad}:\n{log}");
    }
}

/// ID-9: a fresh `homeroom run` prints the demo district's administrator,
/// who signs in; `homeroom create-admin` creates a district and its first
/// administrator, whose printed join link sets their password.
#[tokio::test]
async fn the_demo_administrator_signs_in_and_create_admin_makes_the_first_of_a_new_district() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("suite.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let secret = "launcher-test-secret-admins-0123456789";
    let data = dir.path().join("data");
    let _suite = tokio::process::Command::new(BIN)
        .envs([
            ("HOMEROOM_DATA_DIR", data.to_str().unwrap()),
            ("HOMEROOM_IDENTITY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_ROSTER_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_MESSAGING_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_GATEWAY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_DEMO_STUDENTS", "20"),
            ("HOMEROOM_SERVICE_SECRET", secret),
            ("HOMEROOM_LOG_LEVEL", "warn"),
        ])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !read().contains("  password: ") {
        assert!(
            Instant::now() < deadline,
            "no demo administrator:\n{}",
            read()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let printed = read();
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap()
    };
    let (email, password) = (field("email:"), field("password:"));
    let addr = |name: &str| {
        printed
            .lines()
            .filter_map(homeroom_platform::testing::parse_listening)
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
            .unwrap()
    };
    let gateway = format!("http://{}/api/v1", addr("gateway"));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let login = |identifier: String, password: String| {
        let (http, gateway) = (http.clone(), gateway.clone());
        async move {
            http.post(format!("{gateway}/auth/login"))
                .json(&serde_json::json!({"identifier": identifier, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        login(email.clone(), password.clone()).await,
        200,
        "{printed}"
    );

    // The first administrator of a new district.
    let out = std::process::Command::new(BIN)
        .args([
            "create-admin",
            "--district",
            "Shelbyville Unified",
            "--create-district",
            "--email",
            "principal@shelbyville.test",
            "--name",
            "Pat Principal",
            "--identity-url",
            &format!("http://{}", addr("identity")),
            "--roster-url",
            &format!("http://{}", addr("roster")),
        ])
        .env("HOMEROOM_SERVICE_SECRET", secret)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("district: Shelbyville Unified"), "{said}");
    let code = said
        .split("/join?code=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    let accepted = http
        .post(format!("{gateway}/auth/accept-invitation"))
        .json(&serde_json::json!({"code": code, "newPassword": "pat-strong-password"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(accepted, 200);
    assert_eq!(
        login(
            "principal@shelbyville.test".into(),
            "pat-strong-password".into()
        )
        .await,
        200
    );
    // Without the secret the command says what it needs.
    let refused = std::process::Command::new(BIN)
        .args(["create-admin", "--district", "x", "--email", "a@b.test"])
        .env_remove("HOMEROOM_SERVICE_SECRET")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("HOMEROOM_SERVICE_SECRET"));
}

/// A local OTLP/gRPC collector keeping every span it receives.
mod collector {
    use std::sync::{Arc, Mutex};

    use opentelemetry_proto::tonic::{
        collector::trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
        trace::v1::Span,
    };

    #[derive(Clone, Default)]
    pub struct Collector(pub Arc<Mutex<Vec<Span>>>);

    #[tonic::async_trait]
    impl TraceService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let spans = request
                .into_inner()
                .resource_spans
                .into_iter()
                .flat_map(|r| r.scope_spans)
                .flat_map(|s| s.spans);
            self.0.lock().unwrap().extend(spans);
            Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
        }
    }

    /// Serves on a free port; returns its address and what it received.
    pub async fn start() -> (std::net::SocketAddr, Collector) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let collector = Collector::default();
        let service = TraceServiceServer::new(collector.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        (addr, collector)
    }
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, a sign-in through the gateway is
/// one trace at the collector: the gateway's `http` span is a child of the
/// client's `traceparent`, and identity's `grpc` span of the gateway's.
#[tokio::test]
async fn spans_reach_an_otlp_collector_as_one_trace_from_the_client_through_the_gateway_to_identity()
 {
    let (collector_addr, collector) = collector::start().await;
    let data = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{collector_addr}");
    let suite = ServiceProcess::spawn(
        BIN,
        &[],
        &[
            ("HOMEROOM_DATA_DIR", data.path().to_str().unwrap()),
            ("HOMEROOM_IDENTITY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_ROSTER_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_MESSAGING_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_GATEWAY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_DEMO_STUDENTS", "0"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
        &["identity", "roster", "messaging", "gateway"],
    )
    .await
    .unwrap();
    let gateway = suite.addr("gateway").unwrap();
    assert_eq!(wait_ready(gateway).await.0, 200);

    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let _ = rustls::crypto::ring::default_provider().install_default();
    let status = reqwest::Client::new()
        .post(format!("http://{gateway}/api/v1/auth/login"))
        .header("traceparent", format!("00-{trace}-{client_span}-01"))
        .json(&serde_json::json!({"identifier": "nobody@example.com", "password": "wrong password 1"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let attribute = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_ref())
            .map(|v| format!("{:?}", v.value))
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let spans = collector.0.lock().unwrap().clone();
        let in_trace: Vec<_> = spans.iter().filter(|s| hex(&s.trace_id) == trace).collect();
        let http = in_trace
            .iter()
            .find(|s| s.name == "http" && hex(&s.parent_span_id) == client_span);
        let login = http.and_then(|http| {
            in_trace.iter().find(|s| {
                s.name == "grpc"
                    && s.parent_span_id == http.span_id
                    && attribute(s, "method").contains("/Login")
            })
        });
        if let (Some(http), Some(_)) = (http, login) {
            assert!(attribute(http, "route").contains("/api/v1/auth/login"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no gateway → identity trace; spans in the trace: {:?}",
            in_trace
                .iter()
                .map(|s| (&s.name, hex(&s.span_id), hex(&s.parent_span_id)))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One component of a rolling restart: `homeroom serve <name>` on a fixed
/// address, restarted in place.
struct Component {
    name: &'static str,
    env: Vec<(String, String)>,
    process: Option<ServiceProcess>,
}

impl Component {
    async fn start(&mut self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.process = Some(
            ServiceProcess::spawn(BIN, &["serve", self.name], &env, &[self.name])
                .await
                .unwrap(),
        );
    }

    /// SIGTERM, as the kubelet sends it, and the exit (after the drain).
    async fn stop(&mut self) -> Duration {
        let mut process = self.process.take().unwrap();
        let pid = process.child.id().unwrap().to_string();
        let started = Instant::now();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = tokio::time::timeout(Duration::from_secs(30), process.child.wait())
            .await
            .expect("no exit within the drain")
            .unwrap();
        assert!(status.success(), "{} exited with {status}", self.name);
        started.elapsed()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What the steady load saw.
#[derive(Debug, Default)]
struct Load {
    ok: u64,
    /// 503s and refused connections, retried.
    retried: u64,
    /// Anything else: a lost request.
    lost: Vec<String>,
    /// Idempotency keys of the sends that were accepted.
    sent: Vec<String>,
}

/// Every component restarted one after the other (SIGTERM, drain, start
/// again) under a steady load of sign-ins, profile reads and sends through
/// the gateway: no request is lost beyond the 503s and refused connections a
/// client retries, and every accepted send is delivered exactly once.
#[tokio::test]
async fn a_rolling_restart_of_every_component_under_load_loses_no_request_and_no_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let secret = "launcher-test-secret-rolling-0123456789";
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let url = |i: usize| format!("http://127.0.0.1:{}", ports[i]);
    let common = |db: &str| {
        vec![
            ("HOMEROOM_SERVICE_SECRET".to_string(), secret.to_string()),
            (
                "DATABASE_URL".into(),
                dir.path().join(db).to_str().unwrap().into(),
            ),
            ("HOMEROOM_IDENTITY_URL".into(), url(0)),
            ("HOMEROOM_ROSTER_URL".into(), url(1)),
            ("HOMEROOM_MESSAGING_URL".into(), url(2)),
            ("HOMEROOM_DRAIN_SECONDS".into(), "10".into()),
            ("HOMEROOM_LOG_LEVEL".into(), "warn".into()),
        ]
    };
    let mut components: Vec<Component> = ["identity", "roster", "messaging", "gateway"]
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let mut env = common(&format!("{name}.db"));
            env.push((
                "HOMEROOM_LISTEN_ADDR".into(),
                format!("127.0.0.1:{}", ports[i]),
            ));
            if name == "messaging" {
                env.push(("HOMEROOM_DELIVERY".into(), "outbox".into()));
                env.push((
                    "HOMEROOM_OUTBOX_DIR".into(),
                    outbox.to_str().unwrap().into(),
                ));
            }
            if name == "gateway" {
                env.push(("HOMEROOM_RATE_PER_IP".into(), "0".into()));
                env.push(("HOMEROOM_RATE_PER_ACCOUNT".into(), "0".into()));
            }
            Component {
                name,
                env,
                process: None,
            }
        })
        .collect();
    for c in &mut components {
        c.start().await;
    }
    let gateway_addr: std::net::SocketAddr = format!("127.0.0.1:{}", ports[3]).parse().unwrap();
    assert_eq!(wait_ready(gateway_addr).await.0, 200);
    let api = format!("http://127.0.0.1:{}/api/v1", ports[3]);

    // The district and its administrator, who sends to themself.
    let out = std::process::Command::new(BIN)
        .args([
            "create-admin",
            "--district",
            "Rolling Hills",
            "--create-district",
        ])
        .args(["--email", "admin@rolling.test", "--identity-url", &url(0)])
        .args(["--roster-url", &url(1)])
        .env("HOMEROOM_SERVICE_SECRET", secret)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    let code = said
        .split("/join?code=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no join link in:\n{said}"))
        .to_string();
    let district = said
        .lines()
        .find_map(|l| l.strip_prefix("district: "))
        .and_then(|l| l.rsplit_once(" ("))
        .map(|(_, id)| id.trim_end_matches(')').to_string())
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let password = "rolling-strong-password";
    let joined = http
        .post(format!("{api}/auth/accept-invitation"))
        .json(&serde_json::json!({"code": code, "newPassword": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    let login_body = serde_json::json!({"identifier": "admin@rolling.test", "password": password});
    let tokens: serde_json::Value = http
        .post(format!("{api}/auth/login"))
        .json(&login_body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let account = tokens["tokens"]["accountId"].as_str().unwrap().to_string();

    // The load: until `stop`, each client repeats its call; a 503, a
    // refused connection or one reset before any answer is retried (the
    // same idempotency key for a send).
    // A new connection per request: with no Service in front, a pooled
    // keep-alive connection the stopping gateway closes as idle races the
    // next request on it (in Kubernetes the preStop delay takes the pod out
    // of the endpoints first); what is measured here is that a request that
    // reached a process is answered.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let load = std::sync::Arc::new(std::sync::Mutex::new(Load::default()));
    let client = |kind: &'static str| {
        let (http, api, token, account, district) = (
            http.clone(),
            api.clone(),
            token.clone(),
            account.clone(),
            district.clone(),
        );
        let (stop, load, login_body) = (stop.clone(), load.clone(), login_body.clone());
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let key = uuid::Uuid::new_v4().to_string();
                loop {
                    let request = match kind {
                        "login" => http.post(format!("{api}/auth/login")).json(&login_body),
                        "me" => http.get(format!("{api}/me")).bearer_auth(&token),
                        _ => http
                            .post(format!("{api}/communications"))
                            .bearer_auth(&token)
                            .json(&serde_json::json!({
                                "idempotencyKey": key, "districtId": district,
                                "subject": "Rolling", "body": "Still here.",
                                "channels": ["email"], "audience": {"accountIds": [account]},
                            })),
                    };
                    let outcome = request.timeout(Duration::from_secs(30)).send().await;
                    // An answer that is neither a success nor a 503 is lost:
                    // its body says which service answered what.
                    let outcome = match outcome {
                        Ok(r) => {
                            let status = r.status();
                            let body = if status.is_success() || status == 503 {
                                String::new()
                            } else {
                                r.text().await.unwrap_or_default()
                            };
                            Ok((status, body))
                        }
                        Err(e) => Err(e),
                    };
                    let done = {
                        let mut load = load.lock().unwrap();
                        match outcome {
                            Ok((status, _)) if status.is_success() => {
                                load.ok += 1;
                                if kind == "send" {
                                    load.sent.push(key.clone());
                                }
                                true
                            }
                            Ok((status, _)) if status == 503 => {
                                load.retried += 1;
                                false
                            }
                            Err(e) if e.is_connect() || reset_unanswered(&e) => {
                                load.retried += 1;
                                false
                            }
                            Ok((status, body)) => {
                                load.lost.push(format!("{kind}: {status} {body}"));
                                true
                            }
                            Err(e) => {
                                load.lost.push(format!("{kind}: {e:?}"));
                                true
                            }
                        }
                    };
                    if done {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tokio::time::sleep(Duration::from_millis(if kind == "send" { 150 } else { 20 }))
                    .await;
            }
        })
    };
    let clients = [client("login"), client("me"), client("me"), client("send")];

    // Load before, between and after the restarts: each phase lasts until
    // the clients made progress, not a fixed time (a busy CI machine is slow).
    progress(&load, "before the restarts").await;
    for c in &mut components {
        let drained = c.stop().await;
        c.start().await;
        assert_eq!(wait_ready(gateway_addr).await.0, 200, "after {}", c.name);
        eprintln!("{}: stopped in {drained:.1?} and back", c.name);
        progress(&load, c.name).await;
    }
    stop.cancel();
    for c in clients {
        c.await.unwrap();
    }
    let load = std::mem::take(&mut *load.lock().unwrap());
    eprintln!(
        "{} ok, {} retried, {} sends",
        load.ok,
        load.retried,
        load.sent.len()
    );
    assert!(load.lost.is_empty(), "lost requests: {:?}", load.lost);
    assert!(load.ok >= 125 && load.sent.len() >= 20, "{load:?}");

    // Every accepted send reaches the outbox once: one `.eml` per delivery,
    // none a second attempt (`<id>.2.eml`).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Only the load's messages (system messages go to the outbox too).
        let files: Vec<String> = walk(&outbox)
            .into_iter()
            .filter(|f| std::fs::read_to_string(f).is_ok_and(|m| m.contains("Still here.")))
            .collect();
        let resent: Vec<_> = files.iter().filter(|f| f.ends_with(".2.eml")).collect();
        assert!(resent.is_empty(), "sent twice: {resent:?}");
        if files.len() == load.sent.len() {
            break;
        }
        assert!(
            Instant::now() < deadline && files.len() < load.sent.len(),
            "{} sends accepted, {} delivered",
            load.sent.len(),
            files.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A connection closed before any answer while the gateway stopped: reset
/// because the kernel had queued it when the listener closed, or closed by
/// the graceful shutdown before its request was read (hyper's "connection
/// closed before message completed"). No process served the request: a
/// refused connection by another name, which clients retry (a send with the
/// same idempotency key).
fn reset_unanswered(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let reset = s
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionReset);
        if reset || s.to_string() == "connection closed before message completed" {
            return e.is_request();
        }
        source = s.source();
    }
    false
}

/// Waits until the load has answered 25 more requests, 4 of them sends
/// (five phases: more than 100 answers and 20 sends in all).
async fn progress(load: &std::sync::Mutex<Load>, phase: &str) {
    let counts = || {
        let load = load.lock().unwrap();
        (load.ok, load.sent.len())
    };
    let (ok, sent) = counts();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (now_ok, now_sent) = counts();
        if now_ok >= ok + 25 && now_sent >= sent + 4 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the load made no progress {phase}: {:?}",
            load.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `.eml` files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                path.to_str()
                    .filter(|p| p.ends_with(".eml"))
                    .map(str::to_owned)
                    .into_iter()
                    .collect()
            }
        })
        .collect()
}
