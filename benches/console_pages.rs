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

/// The value of a hidden input (or the first option) named `name` on a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let from = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} not on the page"));
    let value = html[from..].find("value=\"").unwrap() + from + "value=\"".len();
    html[value..].split('"').next().unwrap().to_owned()
}

/// A status line of this process in KiB (`VmRSS`, `VmHWM`).
fn own_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

/// GW-3 / issue 19: the compose preview of a message to the whole district
/// and to one class (email and SMS, guardians), as the console posts it.
async fn compose_previews(http: &reqwest::Client, base: &str, cookie: &str, bench: &mut Bench) {
    let page = |path: String| {
        http.get(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, cookie)
            .send()
    };
    let compose = page("/messages/new".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (csrf, key) = (field(&compose, "csrf"), field(&compose, "idempotency_key"));
    let class_id = bench
        .roster
        .list_classes(bearer(
            pb::ListClassesRequest {
                district_id: bench.district_id.clone(),
                page_size: 1,
                ..Default::default()
            },
            &bench.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .classes
        .remove(0)
        .class_id;
    println!(
        "\n| compose preview ({}) | first | p50 | p95 | max |",
        backend()
    );
    println!("|---|---|---|---|---|");
    for (name, audience, samples) in [
        ("whole district", ("whole_district", "1".to_owned()), 20),
        ("one class", ("class", class_id), 200),
    ] {
        let form = [
            ("csrf", csrf.clone()),
            ("idempotency_key", key.clone()),
            (audience.0, audience.1.clone()),
            ("role", "guardian".into()),
            ("channel", "email".into()),
            ("channel", "sms".into()),
            ("subject", "Snow day".into()),
            ("body", "School is closed tomorrow.".into()),
            ("step", "preview".into()),
        ];
        let post = || async {
            let started = Instant::now();
            let r = http
                .post(format!("{base}/messages/preview"))
                .header(reqwest::header::COOKIE, cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            assert!(
                status == 200 && body.contains("people →"),
                "{name}: {status} {body}"
            );
            (started.elapsed(), body)
        };
        let (first, body) = post().await;
        let summary = body
            .split("people →")
            .next()
            .and_then(|b| b.rsplit('>').next())
            .unwrap_or_default()
            .to_owned();
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            times.push(post().await.0);
        }
        times.sort_unstable();
        println!(
            "| {name} ({summary}people) | {first:.1?} | {:.1?} | **{:.1?}** | {:.1?} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times[times.len() - 1]
        );
    }
}

/// Issue 19: a 40 MB guardian file uploaded through the console's form (a
/// dry run), streamed by curl from disk as a browser streams it; the growth
/// of this process's peak RSS (the gateway runs in it; the services do not)
/// while the gateway streams it to roster-svc.
async fn console_upload_memory(http: &reqwest::Client, base: &str, cookie: &str) {
    use std::io::Write;
    let form_page = http
        .get(format!("{base}/rostering/upload-guardians"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header = http
        .get(format!("{base}/rostering/upload-guardians/template.csv"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header = header
        .lines()
        .next()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardians.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "{header}").unwrap();
    let columns = header.split(',').count();
    let mut rows = 0;
    let mut written = header.len() as u64;
    while written < 40_000_000 {
        let mut row: Vec<String> = (0..columns).map(|c| format!("value{c}-{rows}")).collect();
        row[0] = format!("NO-SUCH-STUDENT-{rows}");
        let line = row.join(",");
        written += line.len() as u64 + 1;
        writeln!(file, "{line}").unwrap();
        rows += 1;
    }
    file.flush().unwrap();
    drop(file);
    // Peak RSS from now on (Linux: writing 5 resets VmHWM to VmRSS).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = own_kib("VmRSS:");
    let started = Instant::now();
    let url = format!("{base}/rostering/upload-guardians");
    let args = [
        format!("csrf={}", field(&form_page, "csrf")),
        format!("idempotencyKey={}", field(&form_page, "idempotencyKey")),
        format!("context={}", field(&form_page, "context")),
        "dryRun=true".to_owned(),
        format!("file=@{};type=text/csv", path.display()),
    ];
    let cookie = cookie.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut curl = std::process::Command::new("curl");
        curl.args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
            .arg(format!("Cookie: {cookie}"));
        for a in &args {
            curl.arg("-F").arg(a);
        }
        curl.arg(url).output().unwrap()
    })
    .await
    .unwrap();
    let took = started.elapsed();
    let code = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(code, "303", "{}", String::from_utf8_lossy(&out.stderr));
    let growth = (own_kib("VmHWM:") - before) / 1024.0;
    println!(
        "\nconsole upload: {:.1} MB ({rows} rows) streamed in {took:.2?} (dry run); \
         peak RSS growth of the process holding the gateway: {growth:.1} MiB",
        written as f64 / 1e6
    );
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The in-process services' and the gateway's warnings (roster, its own
    // process, prints its own).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .try_init();
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
    compose_previews(&http, &base, &cookie, &mut bench).await;
    console_upload_memory(&http, &base, &cookie).await;
    bench.stop.cancel();
}
