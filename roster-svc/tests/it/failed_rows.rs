//! A bad row never costs a family its account (RO-3, data safety): a row
//! that fails to read or validate counts as present — its record keeps its
//! state and links, the report says ERROR with the reason — and a row so
//! broken that its sourcedId is unknown stops every deactivation of its file.

use diesel::prelude::*;
use roster_svc::store::schema::{classes, enrollments, guardian_links, people, schools};

use crate::sync_engine::{CLASSES, ENROLLMENTS, Fixture, ORGS, USERS, write};

/// `rows` with the row starting `prefix` made unreadable: an invalid UTF-8
/// byte in its last cell that holds text.
fn with_bad_bytes(file: &std::path::Path, prefix: &str) {
    let text = std::fs::read(file).unwrap();
    let mut out = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        if line.starts_with(prefix.as_bytes()) {
            let mut broken = line.to_vec();
            let at = broken.iter().rposition(u8::is_ascii_alphabetic).unwrap();
            broken.insert(at, 0xFF);
            out.extend(broken);
        } else {
            out.extend(line);
        }
        out.push(b'\n');
    }
    out.pop();
    std::fs::write(file, out).unwrap();
}

fn action<'a>(rows: &'a [(String, String, String, String)], source_id: &str) -> Vec<&'a str> {
    rows.iter()
        .filter(|r| r.1 == source_id)
        .map(|r| r.2.as_str())
        .collect()
}

/// Status of each stored record by table: (source id, status), sorted.
async fn stored(f: &Fixture) -> [Vec<(String, String)>; 4] {
    f.ctx
        .db
        .run(|c| {
            let p = people::table
                .select((people::source_id, people::status))
                .order(people::source_id)
                .load(c)?;
            let s = schools::table
                .select((schools::source_id, schools::status))
                .order(schools::source_id)
                .load(c)?;
            let cl = classes::table
                .select((classes::source_id, classes::status))
                .order(classes::source_id)
                .load(c)?;
            let e = enrollments::table
                .select((enrollments::source_id, enrollments::status))
                .order(enrollments::source_id)
                .load(c)?;
            Ok::<_, homeroom_platform::db::DbError>([p, s, cl, e])
        })
        .await
        .unwrap()
}

async fn active_links(f: &Fixture) -> i64 {
    f.ctx
        .db
        .run(|c| {
            guardian_links::table
                .filter(guardian_links::status.eq("active"))
                .count()
                .get_result(c)
                .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unreadable_guardian_row_keeps_the_guardian_and_her_links() {
    let f = Fixture::new().await;
    let source = f.synced().await;
    let before = stored(&f).await;
    let links = active_links(&f).await;
    assert_eq!(links, 2, "Sarah with Ana and Ben");

    // Sarah's row, a school, a class and an enrollment cannot be read.
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    with_bad_bytes(&f.dir.path().join("users.csv"), "g1,");
    with_bad_bytes(&f.dir.path().join("orgs.csv"), "sch2,");
    with_bad_bytes(&f.dir.path().join("classes.csv"), "c2,");
    with_bad_bytes(&f.dir.path().join("enrollments.csv"), "e1,");
    let run = f.sync(&source, false).await;
    assert_eq!(run.status, "completed", "{run:?}");
    let rows = f.rows(&run.id).await;
    for id in ["g1", "sch2", "c2", "e1"] {
        assert_eq!(action(&rows, id), ["ERROR"], "{id}: {rows:?}");
    }
    let note = &rows.iter().find(|r| r.1 == "g1").unwrap().3;
    assert!(
        note.contains("users.csv line 4") && note.contains("kept as it was"),
        "{note}"
    );
    assert!(
        !rows.iter().any(|r| r.2 == "DEACTIVATED"),
        "nothing is deactivated: {rows:?}"
    );
    assert_eq!(stored(&f).await, before, "every record keeps its state");
    assert_eq!(active_links(&f).await, links, "and every link");
    assert!(f.identity.deactivations.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_row_without_a_readable_source_id_stops_its_files_deactivations() {
    let f = Fixture::new().await;
    let source = f.synced().await;
    let before = stored(&f).await;
    // Eve (s5) is gone from the file, and the row of Cal (s3) has an
    // unreadable sourcedId: whose row it is cannot be known.
    let users: Vec<String> = USERS
        .iter()
        .filter(|u| !u.starts_with("s5,"))
        .map(|u| {
            if u.starts_with("s3,") {
                u.replacen("s3,", "s\u{FFFD}3,", 1)
            } else {
                u.to_string()
            }
        })
        .collect();
    let users: Vec<&str> = users.iter().map(String::as_str).collect();
    write(f.dir.path(), "bulk", ORGS, &users, CLASSES, ENROLLMENTS);
    let path = f.dir.path().join("users.csv");
    let bytes = std::fs::read(&path).unwrap();
    let bad = "\u{FFFD}".as_bytes();
    let at = bytes.windows(bad.len()).position(|w| w == bad).unwrap();
    let mut broken = bytes[..at].to_vec();
    broken.push(0xFF);
    broken.extend(&bytes[at + bad.len()..]);
    std::fs::write(&path, broken).unwrap();

    let run = f.sync(&source, false).await;
    assert_eq!(run.status, "completed", "{run:?}");
    let rows = f.rows(&run.id).await;
    assert!(
        rows.iter().any(|r| r.2 == "SKIPPED"
            && r.3.contains("could not be read at all")
            && r.3.contains("users.csv line")),
        "{rows:?}"
    );
    assert!(action(&rows, "s5").is_empty(), "{rows:?}");
    assert_eq!(stored(&f).await[0], before[0], "Eve is not deactivated");
}

/// OneRoster `enabledUser` false is not a deletion: Tom stays rostered with his
/// enrollment, and identity is told his account cannot sign in; enabled
/// again, it can.
#[tokio::test]
async fn a_disabled_user_stays_rostered_and_only_loses_sign_in() {
    let f = Fixture::new().await;
    let source = f.synced().await;
    let disabled: Vec<String> = USERS
        .iter()
        .map(|u| {
            if u.starts_with("t1,") {
                u.replacen("t1,,,true,", "t1,,,false,", 1)
            } else {
                u.to_string()
            }
        })
        .collect();
    let users: Vec<&str> = disabled.iter().map(String::as_str).collect();
    write(f.dir.path(), "bulk", ORGS, &users, CLASSES, ENROLLMENTS);
    let run = f.sync(&source, false).await;
    assert_eq!(run.status, "completed", "{run:?}");
    let rows = f.rows(&run.id).await;
    assert_eq!(action(&rows, "t1"), ["UPDATED"], "{rows:?}");
    assert_eq!(
        action(&rows, "e2"),
        ["UNCHANGED"],
        "his enrollment stays: {rows:?}"
    );
    let [people, _, _, enrollments] = stored(&f).await;
    assert!(people.contains(&("t1".to_string(), "active".to_string())));
    assert!(enrollments.contains(&("e2".to_string(), "active".to_string())));
    let upserts = f.identity.upserts.lock().unwrap().clone();
    let tom = |n: usize| {
        upserts
            .iter()
            .flat_map(|u| &u.accounts)
            .filter(|a| a.source_id == "t1")
            .nth(n)
            .cloned()
            .unwrap()
    };
    assert!(
        tom(1).sign_in_disabled,
        "identity hears that Tom cannot sign in"
    );

    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    let again = f.sync(&source, false).await;
    assert_eq!(action(&f.rows(&again.id).await, "t1"), ["UPDATED"]);
    let upserts = f.identity.upserts.lock().unwrap().clone();
    let last = upserts
        .iter()
        .flat_map(|u| &u.accounts)
        .rfind(|a| a.source_id == "t1")
        .unwrap();
    assert!(!last.sign_in_disabled, "enabled again");
}
