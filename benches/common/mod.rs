//! What the benchmarks share: identity-svc and messaging-svc in this process,
//! roster-svc as its own process (`homeroom serve roster`, so its peak RSS is
//! its own), a service token, a district, and helpers to follow runs.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use homeroom_platform::{
    config::{ServiceSettings, loopback},
    grpc::bind,
    testing::{ServiceProcess, TestDb, wait_serving},
};
use homeroom_proto::{
    identity::v1 as idpb,
    roster::v1::{self as pb, roster_service_client::RosterServiceClient},
};
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "bench-service-secret-0123456789abcdef";

fn settings(name: &'static str, db: &TestDb) -> ServiceSettings {
    let mut s = ServiceSettings::defaults(name, loopback(0));
    s.database.url = db.url.clone();
    s
}

pub fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// Peak resident set of a process (VmHWM), in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub async fn run_sync(
    roster: &mut RosterServiceClient<tonic::transport::Channel>,
    token: &str,
    source: &str,
) -> (Duration, pb::SyncRun) {
    let started = Instant::now();
    let run = roster
        .start_sync(bearer(
            pb::StartSyncRequest {
                sync_source_id: source.into(),
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .sync_run
        .unwrap();
    loop {
        let run = roster
            .get_sync_run(bearer(
                pb::GetSyncRunRequest {
                    sync_run_id: run.sync_run_id.clone(),
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .sync_run
            .unwrap();
        if matches!(
            run.status(),
            pb::SyncRunStatus::Completed | pb::SyncRunStatus::Failed
        ) {
            return (started.elapsed(), run);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn totals(run: &pb::SyncRun) -> String {
    run.totals
        .iter()
        .map(|t| {
            format!(
                "{:?}: {} created, {} updated, {} unchanged, {} errors",
                t.entity(),
                t.created,
                t.updated,
                t.unchanged,
                t.errors
            )
        })
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// The three services, a token and a district.
pub struct Bench {
    pub identity_db: TestDb,
    pub roster_db: TestDb,
    pub messaging_db: TestDb,
    pub roster_proc: ServiceProcess,
    pub roster: RosterServiceClient<tonic::transport::Channel>,
    pub token: String,
    pub district_id: String,
    pub stop: CancellationToken,
    /// The services' URLs (a gateway in front of them needs them).
    pub identity_url: String,
    pub roster_url: String,
    pub messaging_url: String,
    _outbox: tempfile::TempDir,
    imports: tempfile::TempDir,
}

impl Bench {
    /// Starts the services on fresh databases and creates a district.
    pub async fn start() -> Bench {
        let (identity_db, roster_db, messaging_db) = (
            TestDb::empty().await.unwrap(),
            TestDb::empty().await.unwrap(),
            TestDb::empty().await.unwrap(),
        );
        roster_db.db.migrate(&roster_svc::MIGRATIONS).await.unwrap();
        let stop = CancellationToken::new();
        let identity_settings = settings("identity", &identity_db);
        let messaging_settings = settings("messaging", &messaging_db);
        let identity_listener = bind(&identity_settings).await.unwrap();
        let messaging_listener = bind(&messaging_settings).await.unwrap();
        let identity_addr = identity_listener.local_addr().unwrap();
        let messaging_addr = messaging_listener.local_addr().unwrap();
        let identity = identity_svc::app::App::build_on(
            identity_listener,
            identity_svc::config::Config {
                service: identity_settings,
                service_secret: Some(SECRET.into()),
                messaging_url: format!("http://{messaging_addr}"),
                sso: Default::default(),
                public_url: None,
            },
        )
        .await
        .unwrap();
        let outbox = tempfile::tempdir().unwrap();
        // roster starts after messaging (it needs messaging's address) and
        // messaging resolves audiences through roster: a free port for roster,
        // chosen now, tells each where the other is.
        let roster_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let roster_listen = format!("127.0.0.1:{roster_port}");
        let messaging = messaging_svc::app::App::build_on(
            messaging_listener,
            messaging_svc::config::Config {
                service: messaging_settings,
                identity_url: format!("http://{identity_addr}"),
                roster_url: format!("http://{roster_listen}"),
                outbox_dir: outbox.path().to_path_buf(),
                service_secret: Some(SECRET.into()),
                ..messaging_svc::config::Config::defaults()
            },
        )
        .await
        .unwrap();
        tokio::spawn(identity.run_until(stop.clone().cancelled_owned()));
        tokio::spawn(messaging.run_until(stop.clone().cancelled_owned()));

        let identity_url = format!("http://{identity_addr}");
        let messaging_url = format!("http://{messaging_addr}");
        let imports = tempfile::tempdir().unwrap();
        let import_root = imports.path().display().to_string();
        let roster_proc = ServiceProcess::spawn(
            env!("CARGO_BIN_EXE_homeroom"),
            &["serve", "roster"],
            &[
                ("DATABASE_URL", roster_db.url.as_str()),
                ("HOMEROOM_LISTEN_ADDR", roster_listen.as_str()),
                ("HOMEROOM_IDENTITY_URL", identity_url.as_str()),
                ("HOMEROOM_MESSAGING_URL", messaging_url.as_str()),
                ("HOMEROOM_SERVICE_SECRET", SECRET),
                ("HOMEROOM_IMPORT_ROOT", import_root.as_str()),
                ("RUST_LOG", "warn"),
            ],
            &["roster"],
        )
        .await
        .unwrap();
        let roster_addr = roster_proc.addr("roster").unwrap();
        let timeout = Duration::from_secs(60);
        wait_serving(identity_addr, idpb::SERVICE_NAME, timeout)
            .await
            .unwrap();
        wait_serving(roster_addr, pb::SERVICE_NAME, timeout)
            .await
            .unwrap();

        let token =
            idpb::identity_service_client::IdentityServiceClient::connect(identity_url.clone())
                .await
                .unwrap()
                .issue_service_token(idpb::IssueServiceTokenRequest {
                    client_id: "gateway".into(),
                    client_secret: SECRET.into(),
                    scopes: vec![],
                })
                .await
                .unwrap()
                .into_inner()
                .access_token;
        let mut roster = RosterServiceClient::connect(format!("http://{roster_addr}"))
            .await
            .unwrap()
            .max_decoding_message_size(64 * 1024 * 1024);
        let district = roster
            .create_district(bearer(
                pb::CreateDistrictRequest {
                    name: "Bench District".into(),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner()
            .district
            .unwrap();
        let (district_id, roster_proc) = (district.district_id, roster_proc);
        Bench {
            identity_url,
            roster_url: format!("http://{roster_addr}"),
            messaging_url,
            identity_db,
            roster_db,
            messaging_db,
            roster_proc,
            roster,
            token,
            district_id,
            stop,
            _outbox: outbox,
            imports,
        }
    }

    /// A generated OneRoster bundle of `students` in the district's import
    /// folder (where its sources may read).
    pub fn bundle(&self, students: usize) -> tempfile::TempDir {
        let district = self.imports.path().join(&self.district_id);
        std::fs::create_dir_all(&district).unwrap();
        let bundle = tempfile::tempdir_in(&district).unwrap();
        let started = Instant::now();
        let summary = roster_svc::generator::write_bundle(
            &roster_svc::generator::GeneratorOptions {
                students,
                seed: 7,
                ..Default::default()
            },
            bundle.path(),
        )
        .unwrap();
        println!("generated in {:.2?}: {summary:?}", started.elapsed());
        bundle
    }

    /// roster-svc's process id.
    pub fn roster_pid(&self) -> u32 {
        self.roster_proc.child.id().unwrap_or_default()
    }

    /// A ONEROSTER_CSV source reading `location`.
    pub async fn csv_source(
        &mut self,
        location: &std::path::Path,
        manages_guardians: bool,
    ) -> String {
        self.roster
            .create_sync_source(bearer(
                pb::CreateSyncSourceRequest {
                    sync_source: Some(e2e::district::oneroster_csv_source(
                        &self.district_id,
                        location,
                        pb::SyncSettings {
                            manages_guardians,
                            unarchive_classes: true,
                            ..Default::default()
                        },
                    )),
                },
                &self.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .sync_source
            .unwrap()
            .sync_source_id
    }
}

/// "PostgreSQL" or "SQLite", as the tests' database is chosen.
pub fn backend() -> &'static str {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// The district size from `BENCH_STUDENTS` (default 50,000).
pub fn students() -> usize {
    std::env::var("BENCH_STUDENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50_000)
}
