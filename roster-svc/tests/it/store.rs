//! roster-svc's schema on both backends.

use homeroom_platform::testing::{TestDb, assert_migration_trees_match};
use roster_svc::MIGRATIONS;

#[test]
fn both_migration_trees_have_identical_names() {
    assert_migration_trees_match(&MIGRATIONS).unwrap();
}

#[tokio::test]
async fn migrations_apply_to_a_fresh_database_once() {
    let test_db = TestDb::empty().await.unwrap();
    assert!(test_db.db.migrate(&MIGRATIONS).await.unwrap() > 0);
    assert_eq!(test_db.db.migrate(&MIGRATIONS).await.unwrap(), 0);
}

/// A report written in parts (two connections at once on PostgreSQL) reads
/// back as one report in its original order; deleting it removes every part.
#[tokio::test]
async fn a_report_stored_in_parts_reads_back_in_order_and_deletes_whole() {
    use roster_svc::{
        domain::{
            records::{Action, Entity},
            report::ReportRow,
        },
        store::sync::{self, ReportFilter},
    };
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let rows: Vec<ReportRow> = (0..25)
        .map(|i| ReportRow::new(Entity::Enrollment, &format!("e{i}"), "", Action::Created))
        .collect();
    let parts = rows.chunks(10).enumerate().map(|(n, part)| {
        let part = part.to_vec();
        test_db.db.transaction(move |c| {
            sync::insert_report_part(c, "run-1", &part, n * 10)
                .map_err(homeroom_platform::db::DbError::from)
        })
    });
    let written: usize = futures::future::try_join_all(parts)
        .await
        .unwrap()
        .into_iter()
        .sum();
    assert_eq!(written, 25);
    let (stored, total) = test_db
        .db
        .run(|c| {
            sync::report_rows(c, "run-1", &ReportFilter::default(), 0, 100)
                .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(total, 25);
    let order: Vec<(i64, String)> = stored
        .iter()
        .map(|r| (r.seq, r.source_id.clone()))
        .collect();
    let expected: Vec<(i64, String)> = (0..25).map(|i| (i + 1, format!("e{i}"))).collect();
    assert_eq!(order, expected);

    let deleted = test_db
        .db
        .run(|c| sync::delete_report(c, "run-1").map_err(homeroom_platform::db::DbError::from))
        .await
        .unwrap();
    assert_eq!(deleted, 25);
}
