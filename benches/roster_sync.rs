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

use homeroom_platform::testing::TestDb;
use homeroom_proto::roster::v1 as pb;

mod common;

use common::{Bench, backend, peak_rss_mib, run_sync, students, totals};

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
    let students = students();
    let backend = backend();
    let mut b = Bench::start().await;
    let bundle = b.bundle(students);
    let source = b.csv_source(bundle.path(), true).await;

    let (first_took, first) = run_sync(&mut b.roster, &b.token, &source).await;
    assert_eq!(first.status(), pb::SyncRunStatus::Completed, "{first:?}");
    println!(
        "first sync ({backend}, {students} students): {first_took:.2?}\n  {}",
        totals(&first)
    );
    let (again_took, again) = run_sync(&mut b.roster, &b.token, &source).await;
    assert_eq!(again.status(), pb::SyncRunStatus::Completed, "{again:?}");
    for t in &again.totals {
        assert_eq!((t.created, t.updated, t.deactivated), (0, 0, 0), "{t:?}");
    }
    println!("unchanged re-sync: {again_took:.2?}");
    println!(
        "roster-svc peak RSS: {:.0} MiB",
        peak_rss_mib(b.roster_pid())
    );
    if let Some((copy, rows)) = floor(&b.roster_db.url, &b.identity_db.url).await {
        println!(
            "COPY floor: {rows} rows into the same roster and identity tables in {copy:.2?}; \
             first sync / floor = {:.1}x",
            first_took.as_secs_f64() / copy.as_secs_f64()
        );
    }
    b.stop.cancel();
}
