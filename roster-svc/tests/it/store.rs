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
        store::sync::{self, ReportAfter, ReportFilter},
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
            sync::report_rows(
                c,
                "run-1",
                &ReportFilter::default(),
                &ReportAfter::Row(0),
                100,
            )
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

/// Seed 002: a report sorted by notes lists the rows with notes first, by
/// their notes — the "new email" notes together — then the rows without, by
/// row number; paged two at a time, every row comes once, on both backends.
#[tokio::test]
async fn a_report_sorted_by_notes_lists_noted_rows_first_by_note_and_pages_through_all() {
    use homeroom_platform::db::DbError;
    use roster_svc::{
        domain::{
            records::{Action, Entity},
            report::ReportRow,
        },
        store::sync::{self, ReportAfter, ReportFilter},
    };
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let noted = |id: &str, name: &str, note: &str| {
        let row = ReportRow::new(Entity::Guardian, id, name, Action::Unchanged);
        if note.is_empty() { row } else { row.note(note) }
    };
    let rows = vec![
        noted("s1", "Ana Smith", ""),
        noted(
            "g2",
            "Kevin Smith",
            "Active user has a new phone in the SIS import - (987) 654-3210",
        ),
        noted("s2", "Ben Smith", ""),
        noted(
            "g1",
            "Sarah Smith",
            "Active user has a new email in the SIS import - smithparent@mail.com",
        ),
        noted("g9", "Nobody Known", "unknown school 123"),
        noted(
            "g3",
            "Maria Lopez",
            "Active user has a new email in the SIS import - a.lopez@mail.com",
        ),
        noted("t1", "Tom Reed", ""),
    ];
    test_db
        .db
        .transaction(move |c| sync::insert_report(c, "run-1", &rows).map_err(DbError::from))
        .await
        .unwrap();
    let page = |filter: ReportFilter, after: ReportAfter| {
        test_db
            .db
            .run(move |c| sync::report_rows(c, "run-1", &filter, &after, 2).map_err(DbError::from))
    };
    let all_pages = |filter: ReportFilter| async move {
        let mut after = ReportAfter::Notes(None);
        let (mut seen, mut totals) = (Vec::new(), Vec::new());
        loop {
            let (rows, total) = page(filter.clone(), after.clone()).await.unwrap();
            totals.push(total);
            let Some(last) = rows.last() else { break };
            after = ReportAfter::Notes(Some((last.notes.clone(), last.seq)));
            seen.extend(rows.iter().map(|r| r.source_id.clone()));
        }
        (seen, totals)
    };

    let (order, totals) = all_pages(ReportFilter::default()).await;
    assert_eq!(order, ["g3", "g1", "g2", "g9", "s1", "s2", "t1"]);
    assert!(totals.iter().all(|t| *t == 7), "{totals:?}");

    let (order, _) = all_pages(ReportFilter {
        query: Some("new email".into()),
        ..ReportFilter::default()
    })
    .await;
    assert_eq!(order, ["g3", "g1"]);

    // By row number, as before.
    let (rows, _) = page(ReportFilter::default(), ReportAfter::Row(2))
        .await
        .unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.source_id.as_str()).collect();
    assert_eq!(ids, ["s2", "g1"]);
}
