//! GW-3 benchmark: the console's pages on the district of the sync benchmark
//! (50,000 students, about 85,000 guardians), server-side. A generated
//! bundle is synced, a district administrator joins and signs in with the
//! browser's cookies, and each page is requested 200 times one after the
//! other through a real gateway (rate limits off); the time is until the
//! whole page is read. People search by a name, an email fragment and a
//! phone fragment in another format are pages of their own.
//!
//! ```sh
//! cargo bench --bench console_pages                               # SQLite
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench --bench console_pages                             # PostgreSQL
//! BENCH_STUDENTS=5000 cargo bench --bench console_pages           # smaller
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use homeroom_platform::config::loopback;
use homeroom_proto::{identity::v1 as idpb, roster::v1 as pb};

mod common;

use common::{Bench, SECRET, backend, bearer, run_sync, students};

const SAMPLES: usize = 200;

/// Emails marked bad for "has a bad address": about 1% of the guardians, a
/// common bounce rate.
const BAD_EMAILS: i64 = 1_000;

/// Marks `n` of the district's emails bad in messaging's table, as bounces
/// would have.
async fn mark_bad_emails(bench: &Bench, n: i64) {
    use diesel::prelude::*;
    use identity_svc::store::schema::addresses;
    use messaging_svc::store::schema::address_status;

    let emails: Vec<String> = bench
        .identity_db
        .db
        .run(move |c| {
            addresses::table
                .filter(addresses::kind.eq("email"))
                .order(addresses::value)
                .select(addresses::value)
                .limit(n)
                .load(c)
                .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();
    let now = chrono::Utc::now().naive_utc();
    bench
        .messaging_db
        .db
        .run(move |c| {
            for email in emails {
                diesel::insert_into(address_status::table)
                    .values((
                        address_status::channel.eq("email"),
                        address_status::address.eq(email),
                        address_status::bad.eq(true),
                        address_status::bad_reason.eq(Some("550 5.1.1 user unknown")),
                        address_status::bad_since.eq(Some(now)),
                        address_status::opted_out.eq(false),
                        address_status::updated_at.eq(now),
                    ))
                    .execute(c)
                    .map_err(homeroom_platform::db::DbError::from)?;
            }
            Ok::<_, homeroom_platform::db::DbError>(())
        })
        .await
        .unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut bench = Bench::start().await;
    let n = students();
    let bundle = bench.bundle(n);
    let source = bench.csv_source(bundle.path(), true).await;
    let (took, run) = run_sync(&mut bench.roster, &bench.token, &source).await;
    assert_eq!(run.status(), pb::SyncRunStatus::Completed, "{run:?}");
    println!("synced {n} students in {took:.2?} ({})", backend());

    let gateway = gateway::app::App::build(gateway::config::Config {
        listen_addr: loopback(0),
        identity_url: bench.identity_url.clone(),
        roster_url: bench.roster_url.clone(),
        messaging_url: bench.messaging_url.clone(),
        service_secret: Some(SECRET.into()),
        rate_per_ip: 0,
        rate_per_account: 0,
        ..gateway::config::Config::defaults()
    })
    .await
    .unwrap();
    let base = format!("http://{}", gateway.local_addr().unwrap());
    tokio::spawn(gateway.run_until(bench.stop.clone().cancelled_owned()));

    // The district administrator joins from the link and signs in.
    let mut identity =
        idpb::identity_service_client::IdentityServiceClient::connect(bench.identity_url.clone())
            .await
            .unwrap();
    let operator = identity
        .issue_service_token(idpb::IssueServiceTokenRequest {
            client_id: "operator".into(),
            client_secret: SECRET.into(),
            scopes: vec![],
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let created = identity
        .create_administrator(bearer(
            idpb::CreateAdministratorRequest {
                district_id: bench.district_id.clone(),
                email: "bench-admin@district.test".into(),
                given_name: "Bench".into(),
                family_name: "Admin".into(),
                role: idpb::Role::DistrictAdmin.into(),
            },
            &operator,
        ))
        .await
        .unwrap()
        .into_inner();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let password = "bench-admin-password";
    let joined = http
        .post(format!("{base}/api/v1/auth/accept-invitation"))
        .json(&serde_json::json!({"code": created.join_token, "newPassword": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    let login = |use_cookies: bool| {
        http.post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({
                "identifier": "bench-admin@district.test",
                "password": password,
                "useCookies": use_cookies,
            }))
            .send()
    };
    let token = login(false)
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // The browser's cookies (Secure: sent by hand over plain HTTP).
    let cookie = login(true)
        .await
        .unwrap()
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ");

    // What the pages show: a guardian with an email and a phone, a student.
    let guardian = identity
        .list_accounts(bearer(
            idpb::ListAccountsRequest {
                district_id: bench.district_id.clone(),
                kinds: vec![idpb::AccountKind::Guardian.into()],
                page_size: 500,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .accounts
        .into_iter()
        .find(|a| {
            a.credentials
                .iter()
                .any(|c| c.kind() == idpb::CredentialKind::Email)
                && a.credentials
                    .iter()
                    .any(|c| c.kind() == idpb::CredentialKind::MobilePhone)
        })
        .expect("a guardian with an email and a phone");
    let value = |kind: idpb::CredentialKind| {
        guardian
            .credentials
            .iter()
            .find(|c| c.kind() == kind)
            .map(|c| c.value.clone())
            .unwrap()
    };
    let email = value(idpb::CredentialKind::Email);
    let phone = value(idpb::CredentialKind::MobilePhone);
    // "xyz-1234": the phone's last seven digits as people write them.
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len() - 7..];
    let phone_fragment = format!("{}-{}", &tail[..3], &tail[3..]);
    let email_fragment: String = email.split('@').next().unwrap().chars().take(6).collect();
    let student = bench
        .roster
        .list_students(bearer(
            pb::ListStudentsRequest {
                district_id: bench.district_id.clone(),
                page_size: 1,
                ..Default::default()
            },
            &bench.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .students
        .remove(0);

    mark_bad_emails(&bench, BAD_EMAILS).await;

    let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let pages = [
        ("my account", "/account".to_owned()),
        (
            "people: a family name",
            format!("/people?q={}", encode(&guardian.family_name)),
        ),
        (
            "people: an email fragment",
            format!("/people?q={}", encode(&email_fragment)),
        ),
        (
            "people: a phone fragment",
            format!("/people?q={}", encode(&phone_fragment)),
        ),
        (
            "people: active guardians",
            "/people?kind=guardian&status=active".to_owned(),
        ),
        (
            "people: students by family name",
            format!("/people?kind=student&q={}", encode(&student.family_name)),
        ),
        ("people: with a bad address", "/people?bad=1".to_owned()),
        (
            "user profile (guardian)",
            format!("/accounts/{}", guardian.account_id),
        ),
        (
            "student profile",
            format!("/students/{}", student.student_id),
        ),
        (
            "shared emails and phones",
            "/reports/shared-credentials".to_owned(),
        ),
        (
            "duplicate guardians",
            "/reports/duplicate-guardians".to_owned(),
        ),
        ("audit log", "/reports/audit".to_owned()),
    ];
    // "first": the first request, which computes what later ones may reuse
    // (the two district-wide reports are kept until the district changes).
    println!(
        "\n| page ({}, {n} students) | first | p50 | p95 | max |",
        backend()
    );
    println!("|---|---|---|---|---|");
    for (name, path) in pages {
        let get = || async {
            let started = Instant::now();
            let r = http
                .get(format!("{base}{path}"))
                .header(reqwest::header::COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            assert_eq!(status, 200, "{path}: {body}");
            (started.elapsed(), body)
        };
        let (first, body) = get().await;
        if path.starts_with("/people?q=") {
            assert!(
                body.contains(&guardian.display_name) || path.contains(&email_fragment),
                "{path} did not find {}",
                guardian.display_name
            );
        }
        for _ in 0..10 {
            get().await;
        }
        let mut samples = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            samples.push(get().await.0);
        }
        samples.sort_unstable();
        println!(
            "| {name} | {first:.1?} | {:.1?} | **{:.1?}** | {:.1?} |",
            percentile(&samples, 0.5),
            percentile(&samples, 0.95),
            samples[samples.len() - 1]
        );
    }
    bench.stop.cancel();
}
