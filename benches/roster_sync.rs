//! RO-3 benchmark: the first sync of a generated district, end to end, then
//! the same bundle again; roster-svc runs as its own process (`homeroom serve
//! roster`) so its peak RSS is its own; identity-svc and messaging-svc run in
//! this process. On PostgreSQL it also times the floor: `COPY` of the rows the
//! sync wrote into fresh copies of the same tables.
//!
//! ```sh
//! cargo bench --bench roster_sync                                 # SQLite
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench --bench roster_sync                               # PostgreSQL
//! BENCH_STUDENTS=5000 cargo bench --bench roster_sync             # smaller
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

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

const SECRET: &str = "bench-service-secret-0123456789abcdef";

fn settings(name: &'static str, db: &TestDb) -> ServiceSettings {
    let mut s = ServiceSettings::defaults(name, loopback(0));
    s.database.url = db.url.clone();
    s
}

fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// Peak resident set of a process (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn run_sync(
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

fn totals(run: &pb::SyncRun) -> String {
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

/// Copies every row of `$table` out of `$src` and times loading it into `$dst`.
macro_rules! copy_floor {
    ($src:expr, $dst:expr, $($table:path),+ $(,)?) => {{
        let mut spent = Duration::ZERO;
        let mut rows = 0usize;
        $(
            let mut data = Vec::new();
            {
                // A fresh connection per table: diesel's COPY TO leaves the
                // connection busy after the last row is read.
                let src = &mut diesel::PgConnection::establish($src).unwrap();
                let mut out = diesel::copy_to($table).load_raw(src).unwrap();
                std::io::copy(&mut out, &mut data).unwrap();
            }
            let started = Instant::now();
            rows += diesel::prelude::ExecuteCopyFromDsl::execute(
                diesel::copy_from($table).from_raw_data($table, |w| {
                    w.write_all(&data)
                        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
                }),
                $dst,
            )
            .unwrap();
            spent += started.elapsed();
            println!("  COPY {}: {:.2?}", stringify!($table), started.elapsed());
        )+
        (spent, rows)
    }};
}

#[allow(unused_imports)]
use std::io::Write as _;
macro_rules! _unused {
    () => {};
}

async fn floor(roster_src: &str, identity_src: &str) -> Option<(Duration, usize)> {
    use diesel::Connection as _;
    if !roster_src.starts_with("postgres") {
        return None;
    }
    let roster_dst = TestDb::migrated(&roster_svc::MIGRATIONS).await.unwrap();
    let identity_dst = TestDb::migrated(&identity_svc::MIGRATIONS).await.unwrap();
    let (roster_dst_url, identity_dst_url) = (roster_dst.url.clone(), identity_dst.url.clone());
    let (roster_src, identity_src) = (roster_src.to_string(), identity_src.to_string());
    let took = tokio::task::spawn_blocking(move || {
        let pg = |url: &str| diesel::PgConnection::establish(url).unwrap();
        let dst = &mut pg(&roster_dst_url);
        use roster_svc::store::schema as r;
        let (a, n) = copy_floor!(
            roster_src.as_str(),
            dst,
            r::districts::table,
            r::schools::table,
            r::classes::table,
            r::people::table,
            r::guardian_links::table,
            r::enrollments::table,
            r::sync_report_rows::table,
        );
        let dst = &mut pg(&identity_dst_url);
        use identity_svc::store::schema as i;
        let (b, m) = copy_floor!(
            identity_src.as_str(),
            dst,
            i::accounts::table,
            i::account_sources::table,
            i::addresses::table,
            i::account_credentials::table,
            i::role_grants::table,
            i::linked_students::table,
        );
        (a + b, n + m)
    })
    .await
    .unwrap();
    drop((roster_dst, identity_dst));
    Some(took)
}

#[tokio::main]
async fn main() {
    let students: usize = std::env::var("BENCH_STUDENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50_000);
    let backend = if std::env::var("TEST_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let bundle = tempfile::tempdir().unwrap();
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
        },
    )
    .await
    .unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let messaging = messaging_svc::app::App::build_on(
        messaging_listener,
        messaging_svc::config::Config {
            service: messaging_settings,
            identity_url: format!("http://{identity_addr}"),
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
    let roster_proc = ServiceProcess::spawn(
        env!("CARGO_BIN_EXE_homeroom"),
        &["serve", "roster"],
        &[
            ("DATABASE_URL", roster_db.url.as_str()),
            ("HOMEROOM_LISTEN_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_IDENTITY_URL", identity_url.as_str()),
            ("HOMEROOM_MESSAGING_URL", messaging_url.as_str()),
            ("HOMEROOM_SERVICE_SECRET", SECRET),
            ("RUST_LOG", "warn"),
        ],
        &["roster"],
    )
    .await
    .unwrap();
    let roster_addr = roster_proc.addr("roster").unwrap();
    let pid = roster_proc.child.id().unwrap();
    let timeout = Duration::from_secs(60);
    wait_serving(identity_addr, idpb::SERVICE_NAME, timeout)
        .await
        .unwrap();
    wait_serving(roster_addr, pb::SERVICE_NAME, timeout)
        .await
        .unwrap();

    let token = idpb::identity_service_client::IdentityServiceClient::connect(identity_url.clone())
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
    let source = roster
        .create_sync_source(bearer(
            pb::CreateSyncSourceRequest {
                sync_source: Some(pb::SyncSource {
                    district_id: district.district_id.clone(),
                    display_name: "Generated SIS".into(),
                    kind: pb::SyncSourceKind::OnerosterCsv.into(),
                    connector: Some(pb::ConnectorConfig {
                        config: Some(pb::connector_config::Config::OnerosterCsv(
                            pb::OneRosterCsvConfig {
                                location: bundle.path().display().to_string(),
                            },
                        )),
                    }),
                    settings: Some(pb::SyncSettings {
                        manages_guardians: true,
                        unarchive_classes: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .sync_source
        .unwrap()
        .sync_source_id;

    let (first_took, first) = run_sync(&mut roster, &token, &source).await;
    assert_eq!(first.status(), pb::SyncRunStatus::Completed, "{first:?}");
    println!(
        "first sync ({backend}, {students} students): {first_took:.2?}\n  {}",
        totals(&first)
    );
    let (again_took, again) = run_sync(&mut roster, &token, &source).await;
    assert_eq!(again.status(), pb::SyncRunStatus::Completed, "{again:?}");
    for t in &again.totals {
        assert_eq!((t.created, t.updated, t.deactivated), (0, 0, 0), "{t:?}");
    }
    println!("unchanged re-sync: {again_took:.2?}");
    println!("roster-svc peak RSS: {:.0} MiB", peak_rss_mib(pid));
    if let Some((copy, rows)) = floor(&roster_db.url, &identity_db.url).await {
        println!(
            "COPY floor: {rows} rows into the same roster and identity tables in {copy:.2?}; \
             first sync / floor = {:.1}x",
            first_took.as_secs_f64() / copy.as_secs_f64()
        );
    }
    stop.cancel();
    drop(roster_proc);
}
