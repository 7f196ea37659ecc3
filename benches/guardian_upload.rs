//! RO-7 benchmark: a 100,000-row guardian upload against a district of 50,000
//! students (rostered first, students only), as a dry run, applied, and
//! applied again unchanged. The rows are the generated district's real
//! guardian–student pairs (parent codes on 70% of guardians, the rest matched
//! by name and contact), topped up with extra guardians to 100,000.
//!
//! ```sh
//! cargo bench --bench guardian_upload                                 # SQLite
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench --bench guardian_upload                               # PostgreSQL
//! BENCH_STUDENTS=5000 BENCH_ROWS=10000 cargo bench --bench guardian_upload
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use common::{Bench, backend, bearer, peak_rss_mib, run_sync, students};
use homeroom_proto::roster::v1 as pb;
use roster_svc::oneroster::{self, UserRole};

fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The upload file: every guardian–student pair of the bundle, then extra
/// guardians until `rows`.
fn upload_file(dir: &std::path::Path, rows: usize) -> (Vec<u8>, usize) {
    let bundle = oneroster::read_dir(dir).unwrap();
    let codes: HashMap<&str, &str> = bundle
        .users
        .iter()
        .filter(|u| u.role == UserRole::Student)
        .map(|u| {
            (
                u.source_id.as_str(),
                u.identifier.as_deref().unwrap_or(&u.source_id),
            )
        })
        .collect();
    let students: Vec<&str> = codes.values().copied().collect();
    let mut out = String::from(
        "student_code,parent_code,first_name,last_name,email,phone,home_phone,language\r\n",
    );
    let mut n = 0;
    let mut pairs = 0;
    'outer: for (i, g) in bundle
        .users
        .iter()
        .filter(|u| matches!(u.role, UserRole::Guardian(_)))
        .enumerate()
    {
        for s in &g.agent_source_ids {
            let Some(code) = codes.get(s.as_str()) else {
                continue;
            };
            let parent_code = if i % 10 < 7 { g.source_id.as_str() } else { "" };
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{}\r\n",
                cell(code),
                cell(parent_code),
                cell(&g.given_name),
                cell(&g.family_name),
                cell(g.email.as_deref().unwrap_or("")),
                cell(g.sms.as_deref().unwrap_or("")),
                cell(g.phone.as_deref().unwrap_or("")),
                if i % 5 == 0 { "en" } else { "" },
            ));
            n += 1;
            pairs += 1;
            if n == rows {
                break 'outer;
            }
        }
    }
    let mut extra = 0;
    while n < rows {
        let code = students[extra % students.len()];
        out.push_str(&format!(
            "{code},X{extra},Extra{extra},Guardian,extra{extra}@example.org,,,\r\n"
        ));
        extra += 1;
        n += 1;
    }
    (out.into_bytes(), pairs)
}

async fn upload(b: &mut Bench, file: &[u8], dry_run: bool) -> (Duration, pb::GuardianUpload) {
    let started = Instant::now();
    let mut messages = vec![pb::UploadGuardiansRequest {
        payload: Some(pb::upload_guardians_request::Payload::Options(
            pb::UploadGuardiansOptions {
                scope: Some(pb::upload_guardians_options::Scope::DistrictId(
                    b.district_id.clone(),
                )),
                dry_run,
                filename: "bench.csv".into(),
                ..Default::default()
            },
        )),
    }];
    messages.extend(
        file.chunks(1024 * 1024)
            .map(|c| pb::UploadGuardiansRequest {
                payload: Some(pb::upload_guardians_request::Payload::Chunk(c.to_vec())),
            }),
    );
    let id = b
        .roster
        .upload_guardians(bearer(tokio_stream::iter(messages), &b.token))
        .await
        .unwrap()
        .into_inner()
        .upload_id;
    loop {
        let u = b
            .roster
            .get_guardian_upload(bearer(
                pb::GetGuardianUploadRequest {
                    upload_id: id.clone(),
                },
                &b.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .upload
            .unwrap();
        if matches!(
            u.status(),
            pb::GuardianUploadStatus::Completed | pb::GuardianUploadStatus::Failed
        ) {
            return (started.elapsed(), u);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn counts(u: &pb::GuardianUpload) -> String {
    let c = u.counts.unwrap_or_default();
    format!(
        "{} rows: {} succeeded, {} failed; guardians {} created, {} updated, {} unchanged",
        u.rows_total, c.rows_succeeded, c.rows_failed, c.created, c.updated, c.unchanged
    )
}

/// The most common reasons rows failed (the generator writes some bad
/// contacts on purpose).
async fn errors(b: &mut Bench, upload_id: &str) {
    let rows = b
        .roster
        .list_guardian_upload_rows(bearer(
            pb::ListGuardianUploadRowsRequest {
                upload_id: upload_id.into(),
                result: pb::UploadRowResult::Error.into(),
                page_size: 1_000,
                ..Default::default()
            },
            &b.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .rows;
    let mut reasons: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        let reason: String = r.error.split(['"', ';']).next().unwrap_or("").into();
        *reasons.entry(reason).or_default() += 1;
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (reason, n) in reasons.iter().take(5) {
        println!("    {n} x {reason}");
    }
}

#[tokio::main]
async fn main() {
    let students = students();
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let backend = backend();
    let mut b = Bench::start().await;
    let bundle = b.bundle(students);
    let (file, pairs) = upload_file(bundle.path(), rows);
    println!(
        "upload file: {rows} rows ({pairs} guardian-student pairs of the district), {:.1} MB",
        file.len() as f64 / 1e6
    );
    let source = b.csv_source(bundle.path(), false).await;
    let (took, run) = run_sync(&mut b.roster, &b.token, &source).await;
    assert_eq!(run.status(), pb::SyncRunStatus::Completed, "{run:?}");
    println!("district rostered (students, staff, classes) in {took:.2?}");

    let (dry_took, dry) = upload(&mut b, &file, true).await;
    assert_eq!(dry.status(), pb::GuardianUploadStatus::Completed, "{dry:?}");
    println!("dry run ({backend}): {dry_took:.2?}\n  {}", counts(&dry));
    errors(&mut b, &dry.upload_id).await;
    let (took, applied) = upload(&mut b, &file, false).await;
    assert_eq!(
        applied.status(),
        pb::GuardianUploadStatus::Completed,
        "{applied:?}"
    );
    println!("applied ({backend}): {took:.2?}\n  {}", counts(&applied));
    let (again_took, again) = upload(&mut b, &file, false).await;
    assert_eq!(again.counts.unwrap_or_default().created, 0);
    println!("same file again: {again_took:.2?}\n  {}", counts(&again));
    println!(
        "roster-svc peak RSS: {:.0} MiB",
        peak_rss_mib(b.roster_pid())
    );
    b.stop.cancel();
}
