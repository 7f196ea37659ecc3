//! Security: what a district's source settings may reach. A folder only
//! inside the district's own import folder (checked when set, and again on
//! the canonical path when read, so a link cannot lead out); URLs only to
//! public https hosts unless the operator allows more, checked when set,
//! when a name resolves, and on every redirect.

use std::{net::SocketAddr, path::Path};

use axum::{
    Router,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use roster_svc::{
    connectors::{location::Boundary, outbound::OutboundPolicy},
    domain::error::RosterError,
    ops::{
        districts::{self, NewDistrict},
        sources::{self, CleverInput, SourceInput},
    },
};
use secrecy::SecretString;

use crate::sync_engine::{CLASSES, ENROLLMENTS, Fixture, ORGS, USERS, service, write};

/// A second district beside the fixture's.
async fn other_district(f: &Fixture) -> String {
    districts::create(
        &f.ctx.db,
        &service(),
        NewDistrict {
            name: "Shelbyville".into(),
            time_zone: None,
            default_phone_region: None,
            supported_languages: vec![],
            idempotency_key: None,
        },
    )
    .await
    .unwrap()
    .id
}

fn csv_source(district_id: &str, location: &str) -> SourceInput {
    SourceInput {
        district_id: district_id.into(),
        name: "SIS".into(),
        kind: "oneroster_csv".into(),
        location: Some(location.into()),
        manages_guardians: true,
        ..SourceInput::default()
    }
}

fn refusal(e: RosterError) -> String {
    match e {
        RosterError::InvalidArgument(m) => m,
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

#[tokio::test]
async fn a_district_cannot_point_a_source_at_another_districts_bundle() {
    let f = Fixture::new().await;
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    let thief = other_district(&f).await;

    // The other district's folder, by absolute path or by climbing out.
    let absolute = f.dir.path().display().to_string();
    let e = refusal(
        sources::create(&f.ctx, &service(), csv_source(&thief, &absolute))
            .await
            .unwrap_err(),
    );
    assert!(e.starts_with("connector.oneroster_csv.location:"), "{e}");
    let climb = format!(
        "../{}/{}",
        f.district_id,
        f.dir.path().file_name().unwrap().to_string_lossy()
    );
    let e = refusal(
        sources::create(&f.ctx, &service(), csv_source(&thief, &climb))
            .await
            .unwrap_err(),
    );
    assert!(e.contains(".."), "{e}");
    let e = refusal(
        sources::create(&f.ctx, &service(), csv_source(&thief, "/etc"))
            .await
            .unwrap_err(),
    );
    assert!(e.contains("import folder"), "{e}");

    // A link in its own folder to the other's bundle: set, but never read.
    let root = f.dir.path().parent().unwrap().parent().unwrap();
    let own = root.join(&thief);
    std::fs::create_dir_all(&own).unwrap();
    std::os::unix::fs::symlink(f.dir.path(), own.join("stolen")).unwrap();
    let source = sources::create(&f.ctx, &service(), csv_source(&thief, "stolen"))
        .await
        .unwrap();
    let run = f.sync(&source.id, true).await;
    assert_eq!(run.status, "failed", "{run:?}");
    let message = run.failure_message.unwrap_or_default();
    assert!(message.contains("leads outside"), "{message}");
    assert!(
        !message.contains(&root.display().to_string()),
        "the host's paths are not shown: {message}"
    );
    assert!(
        f.rows(&run.id).await.is_empty(),
        "nothing of the other district is reported"
    );

    // Its own folder works.
    std::fs::create_dir_all(own.join("nightly")).unwrap();
    write(
        &own.join("nightly"),
        "bulk",
        ORGS,
        USERS,
        CLASSES,
        ENROLLMENTS,
    );
    let source = sources::create(&f.ctx, &service(), csv_source(&thief, "nightly"))
        .await
        .unwrap();
    assert_eq!(f.sync(&source.id, true).await.status, "completed");
}

#[tokio::test]
async fn without_an_import_root_a_folder_is_refused_with_what_to_do_instead() {
    let mut f = Fixture::new().await;
    f.ctx.boundary = Boundary::default();
    let e = refusal(
        sources::create(&f.ctx, &service(), csv_source(&f.district_id, "nightly"))
            .await
            .unwrap_err(),
    );
    assert!(e.contains("HOMEROOM_IMPORT_ROOT"), "{e}");
    assert!(e.contains("https URL"), "{e}");
}

/// A server on `addr` that answers `/bundle.zip` with `zip` and
/// `/elsewhere` with a redirect to `target`.
async fn serve(zip: Vec<u8>, target: String) -> SocketAddr {
    let app = Router::new()
        .route(
            "/bundle.zip",
            get(move || {
                let zip = zip.clone();
                async move { ([(header::CONTENT_TYPE, "application/zip")], zip) }
            }),
        )
        .route(
            "/elsewhere",
            get(move || {
                let target = target.clone();
                async move { (StatusCode::FOUND, [(header::LOCATION, target)]).into_response() }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    addr
}

fn zipped(dir: &Path) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        zip.start_file(
            entry.file_name().to_string_lossy(),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(&std::fs::read(entry.path()).unwrap())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_bundle_url_is_downloaded_and_a_redirect_to_an_internal_address_is_not_followed() {
    let mut f = Fixture::new().await;
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    let zip = zipped(f.dir.path());
    let internal = serve(zip.clone(), String::new()).await;
    let redirecting = serve(
        zip,
        format!("http://127.0.0.1:{}/bundle.zip", internal.port()),
    )
    .await;

    // Allowed by the operator (loopback): the URL is a real location.
    let url = format!("http://127.0.0.1:{}/bundle.zip", internal.port());
    let source = sources::create(&f.ctx, &service(), csv_source(&f.district_id, &url))
        .await
        .unwrap();
    let run = f.sync(&source.id, true).await;
    assert_eq!(run.status, "completed", "{run:?}");

    // Only the host `localhost` is allowed: its redirect to 127.0.0.1 is refused.
    let boundary = Boundary {
        outbound: OutboundPolicy::parse("localhost").unwrap(),
        ..f.ctx.boundary.clone()
    };
    f.ctx.boundary = boundary.clone();
    f.engine = f.engine.clone().with_boundary(boundary);
    let url = format!("http://localhost:{}/elsewhere", redirecting.port());
    let source = sources::create(&f.ctx, &service(), csv_source(&f.district_id, &url))
        .await
        .unwrap();
    let run = f.sync(&source.id, true).await;
    assert_eq!(run.status, "failed", "{run:?}");
    let message = run.failure_message.unwrap_or_default();
    assert!(message.contains("could not be downloaded"), "{message}");
}

#[tokio::test]
async fn a_vendor_url_to_an_internal_address_is_refused_when_set_and_when_it_resolves() {
    let mut f = Fixture::new().await;
    f.ctx.boundary = Boundary::default();
    f.engine = f.engine.clone().with_boundary(Boundary::default());
    let clever = |base_url: &str| SourceInput {
        district_id: f.district_id.clone(),
        name: "Clever".into(),
        kind: "clever".into(),
        clever: Some(CleverInput {
            base_url: base_url.into(),
            district_token: Some(SecretString::from("district-token")),
            use_events: false,
            page_size: 0,
        }),
        ..SourceInput::default()
    };
    for (url, why) in [
        ("http://127.0.0.1:9", "only https"),
        ("https://127.0.0.1:9", "not on the public internet"),
        ("https://169.254.169.254", "not on the public internet"),
        ("https://[::1]:9", "not on the public internet"),
        ("http://sis.example.org", "only https"),
    ] {
        let e = refusal(
            sources::create(&f.ctx, &service(), clever(url))
                .await
                .unwrap_err(),
        );
        assert!(
            e.starts_with("connector.clever.base_url:") && e.contains(why),
            "{url}: {e}"
        );
    }
    // A name is checked where it resolves: `localhost` is loopback.
    let source = sources::create(&f.ctx, &service(), clever("https://localhost:9"))
        .await
        .unwrap();
    let run = f.sync(&source.id, true).await;
    assert_eq!(run.status, "failed", "{run:?}");
    let message = run.failure_message.unwrap_or_default();
    assert!(message.contains("not on the public internet"), "{message}");
}
