//! RO-7 guardian uploads through the real engine and database (identity and
//! messaging faked): results per row, siblings, dry run, abandon, encodings,
//! header errors, result files, idempotency and access.

use std::sync::Arc;

use homeroom_platform::auth::{Principal, Role, RoleGrant};
use roster_svc::{
    domain::error::RosterError,
    ops::{
        runner::Runner,
        uploads::{self, UploadOptions},
    },
    store::{records, uploads::ResultRecord},
};
use tokio::sync::Notify;

use crate::sync_engine::{Fixture, service};

const HEADER: &str =
    "student_code,parent_code,first_name,last_name,email,phone,home_phone,language";

/// A district rostered by its SIS (students 1001–1005), ready for uploads.
async fn district() -> Fixture {
    let f = Fixture::new().await;
    f.synced().await;
    f
}

fn options(f: &Fixture) -> UploadOptions {
    UploadOptions {
        district_id: Some(f.district_id.clone()),
        filename: "guardians.csv".into(),
        ..UploadOptions::default()
    }
}

/// Uploads a file and processes it; returns the finished upload.
async fn upload(f: &Fixture, options: UploadOptions, file: &[u8]) -> uploads::Upload {
    let queued = uploads::receive(&f.ctx, &service(), options, file.to_vec())
        .await
        .unwrap();
    assert_eq!(queued.run.status, "queued");
    let runner = Runner::new(f.ctx.db.clone(), f.engine.clone(), Arc::new(Notify::new()));
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some(queued.run.id.clone())
    );
    uploads::get(&f.ctx.db, &service(), &queued.run.id)
        .await
        .unwrap()
}

async fn results(f: &Fixture, id: &str) -> Vec<ResultRecord> {
    uploads::rows(&f.ctx.db, &service(), id, None, 0, 1_000)
        .await
        .unwrap()
        .0
}

fn csv(rows: &[&str]) -> Vec<u8> {
    let mut s = String::from(HEADER);
    for r in rows {
        s.push_str("\r\n");
        s.push_str(r);
    }
    s.into_bytes()
}

fn counts(u: &uploads::Upload) -> roster_svc::domain::upload::UploadCounts {
    serde_json::from_str(&u.upload.counts).unwrap()
}

async fn table_counts(f: &Fixture) -> Vec<(&'static str, i64)> {
    f.ctx
        .db
        .run(|c| records::counts(c).map_err(RosterError::from))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_upload_creates_one_guardian_for_siblings_and_fails_bad_rows_alone() {
    let f = district().await;
    let mut file = vec![0xEF, 0xBB, 0xBF];
    file.extend(csv(&[
        "1001,P1,Maria,Lopez,maria@mail.com,(555) 201-0001,,es",
        "1002,P1,Maria,Lopez,maria@mail.com,(555) 201-0001,,es",
        "9999,P2,Ghost,Parent,ghost@mail.com,,,",
        "1003,,Luis,Lopez,,,,",
        "1003,,\"Lopez, Luis\",Jr,luis@mail.com,,555 201 0099,",
    ]));
    let up = upload(&f, options(&f), &file).await;
    assert_eq!(up.run.status, "completed", "{:?}", up.run.failure_message);
    assert_eq!(up.upload.encoding, "utf-8");
    assert_eq!((up.run.records_done, up.run.records_total), (5, 5));
    let c = counts(&up);
    assert_eq!((c.rows_succeeded, c.rows_failed, c.created), (3, 2, 2));

    let rows = results(&f, &up.run.id).await;
    let outcome: Vec<(i64, &str, Option<&str>, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.line_number,
                r.result.as_str(),
                r.action.as_deref(),
                r.error.as_str(),
            )
        })
        .collect();
    assert_eq!(outcome[0], (2, "SUCCESS", Some("CREATED"), ""));
    assert_eq!(outcome[1], (3, "SUCCESS", Some("CREATED"), ""));
    assert_eq!(outcome[2], (4, "ERROR", None, "Unknown student code 9999"));
    assert_eq!(outcome[3].1, "ERROR");
    assert!(
        outcome[3].3.starts_with("email, phone:"),
        "{}",
        outcome[3].3
    );
    assert_eq!(outcome[4], (6, "SUCCESS", Some("CREATED"), ""));
    assert_eq!(rows[4].first_name, "Lopez, Luis", "quoted comma kept");
    assert!(rows[0].account_id.is_some() && rows[0].account_id == rows[1].account_id);

    // identity heard of Maria once, linked to both children, in Spanish.
    let upserts = f.identity.upserts.lock().unwrap().clone();
    let maria: Vec<_> = upserts
        .iter()
        .flat_map(|u| u.accounts.iter())
        .filter(|a| a.source_id == "P1")
        .collect();
    assert_eq!(maria.len(), 1);
    assert_eq!(maria[0].preferred_language, Some("es".into()));
    let kids = maria[0].linked_students.clone().unwrap().students;
    let mut names: Vec<String> = kids.into_iter().map(|s| s.display_name).collect();
    names.sort();
    assert_eq!(names, ["Ana Smith", "Ben Smith"]);
    // Both new guardians are invited.
    let invited: usize = f
        .identity
        .invites
        .lock()
        .unwrap()
        .iter()
        .map(|i| i.account_ids.len())
        .sum();
    assert_eq!((invited, c.invitations_sent), (2, 2));

    // The same file again changes nothing.
    let again = upload(&f, options(&f), &file).await;
    let c = counts(&again);
    assert_eq!((c.created, c.updated, c.unchanged), (0, 0, 2));
    let actions: Vec<Option<String>> = results(&f, &again.run.id)
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            Some("UNCHANGED".to_string()),
            Some("UNCHANGED".to_string()),
            None,
            None,
            Some("UNCHANGED".to_string())
        ]
    );
}

#[tokio::test]
async fn a_dry_run_reports_every_row_and_changes_nothing() {
    let f = district().await;
    let before = table_counts(&f).await;
    let upserts_before = f.identity.accounts.lock().unwrap().len();
    let up = upload(
        &f,
        UploadOptions {
            dry_run: true,
            ..options(&f)
        },
        &csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]),
    )
    .await;
    assert_eq!(up.run.status, "completed");
    assert!(up.run.dry_run);
    assert_eq!(table_counts(&f).await, before);
    assert_eq!(f.identity.accounts.lock().unwrap().len(), upserts_before);
    assert!(
        f.identity
            .upserts
            .lock()
            .unwrap()
            .iter()
            .filter(|u| u.accounts.iter().any(|a| a.source_id == "P1"))
            .all(|u| u.dry_run)
    );
    assert!(f.identity.invites.lock().unwrap().is_empty());
    let rows = results(&f, &up.run.id).await;
    assert_eq!(rows[0].action.as_deref(), Some("CREATED"));
    assert_eq!(counts(&up).invitations_sent, 0);
}

#[tokio::test]
async fn abandon_disconnects_unlisted_guardians_and_deactivates_those_left_with_no_student() {
    let f = district().await;
    let first = upload(
        &f,
        options(&f),
        &csv(&[
            "1001,P1,Maria,Lopez,maria@mail.com,,,",
            "1002,P1,Maria,Lopez,maria@mail.com,,,",
            "1003,P2,Luis,Park,luis@mail.com,,,",
        ]),
    )
    .await;
    assert_eq!(counts(&first).created, 2);

    // Without abandon, a shorter file removes nothing.
    let plain = upload(
        &f,
        options(&f),
        &csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]),
    )
    .await;
    assert_eq!(counts(&plain).links_abandoned, 0);

    // A dry run of abandon says what would happen and does nothing.
    let before = table_counts(&f).await;
    let dry = upload(
        &f,
        UploadOptions {
            abandon: true,
            dry_run: true,
            ..options(&f)
        },
        &csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]),
    )
    .await;
    assert_eq!(counts(&dry).links_abandoned, 2);
    assert_eq!(table_counts(&f).await, before);
    assert!(f.identity.deactivations.lock().unwrap().is_empty());

    let up = upload(
        &f,
        UploadOptions {
            abandon: true,
            ..options(&f)
        },
        &csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]),
    )
    .await;
    assert_eq!(up.run.status, "completed", "{:?}", up.run.failure_message);
    let c = counts(&up);
    assert_eq!((c.links_abandoned, c.accounts_deactivated), (2, 1));
    let rows = results(&f, &up.run.id).await;
    let abandoned: Vec<(i64, &str, &str, Option<&str>)> = rows
        .iter()
        .filter(|r| r.line_number == 0)
        .map(|r| {
            (
                r.line_number,
                r.student_code.as_str(),
                r.parent_code.as_str(),
                r.action.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        abandoned,
        [
            (0, "1002", "P1", Some("ABANDONED")),
            (0, "1003", "P2", Some("ABANDONED"))
        ]
    );
    assert_eq!(*f.identity.deactivations.lock().unwrap(), ["P2"]);
}

#[tokio::test]
async fn a_windows_1252_file_from_excel_keeps_its_accents() {
    let f = district().await;
    let text = format!("{HEADER}\r\n1001,P1,José,Müller,jose@mail.com,,,\r\n");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let up = upload(&f, options(&f), &bytes).await;
    assert_eq!(up.upload.encoding, "windows-1252");
    let rows = results(&f, &up.run.id).await;
    assert_eq!(
        (rows[0].first_name.as_str(), rows[0].last_name.as_str()),
        ("José", "Müller")
    );
    let upserts = f.identity.upserts.lock().unwrap().clone();
    let jose = upserts
        .iter()
        .flat_map(|u| u.accounts.iter())
        .find(|a| a.source_id == "P1")
        .unwrap();
    assert_eq!(jose.family_name, "Müller");
}

#[tokio::test]
async fn a_wrong_header_fails_the_upload_naming_the_expected_headers() {
    let f = district().await;
    let up = upload(
        &f,
        options(&f),
        b"student_code,parent_code,first_name,last_name,mail,phone,home_phone,language\n1001,P1,A,B,a@b.com,,,\n",
    )
    .await;
    assert_eq!(up.run.status, "failed");
    let message = up.run.failure_message.unwrap();
    assert!(message.contains("\"mail\""), "{message}");
    assert!(
        message.contains(
            "student_code, parent_code, first_name, last_name, email, phone, home_phone, language"
        ),
        "{message}"
    );
    let empty = upload(&f, options(&f), b"").await;
    assert_eq!(empty.run.status, "failed");
    assert!(!empty.run.failure_message.unwrap().is_empty());
}

#[tokio::test]
async fn the_result_file_repeats_every_column_and_neutralises_formulas() {
    let f = district().await;
    let up = upload(
        &f,
        options(&f),
        &csv(&[
            "1001,P1,=HYPERLINK(\"x\"),Lopez,maria@mail.com,,,",
            "9999,,A,B,a@b.com,,,",
        ]),
    )
    .await;
    let file = uploads::download(&f.ctx.db, &service(), &up.run.id, false)
        .await
        .unwrap();
    assert_eq!(file.filename, "guardians-result.csv");
    assert!(file.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM for Excel");
    let text = String::from_utf8(file.bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "student_code,parent_code,first_name,last_name,email,phone,home_phone,language,result,action,error"
    );
    let first = lines.next().unwrap();
    assert!(first.starts_with("1001,P1,\"'=HYPERLINK"), "{first}");
    assert!(first.ends_with(",SUCCESS,CREATED,"), "{first}");
    assert_eq!(
        lines.next().unwrap(),
        "9999,,A,B,a@b.com,,,,ERROR,,Unknown student code 9999"
    );
    let xlsx = uploads::download(&f.ctx.db, &service(), &up.run.id, true)
        .await
        .unwrap();
    assert!(xlsx.bytes.starts_with(b"PK"), "an XLSX is a zip");
    assert_eq!(xlsx.filename, "guardians-result.xlsx");
}

#[tokio::test]
async fn a_retried_upload_with_the_same_key_is_the_first_upload() {
    let f = district().await;
    let keyed = UploadOptions {
        idempotency_key: Some("k-1".into()),
        ..options(&f)
    };
    let file = csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]);
    let first = uploads::receive(&f.ctx, &service(), keyed.clone(), file.clone())
        .await
        .unwrap();
    let again = uploads::receive(&f.ctx, &service(), keyed.clone(), file.clone())
        .await
        .unwrap();
    assert_eq!(first.run.id, again.run.id);
    let other = uploads::receive(
        &f.ctx,
        &service(),
        UploadOptions {
            dry_run: true,
            ..keyed
        },
        file,
    )
    .await
    .unwrap_err();
    assert!(matches!(other, RosterError::AlreadyExists(_)), "{other:?}");
}

#[tokio::test]
async fn an_upload_to_a_district_or_school_that_does_not_exist_is_not_found() {
    let f = district().await;
    let file = csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]);
    for options in [
        UploadOptions {
            district_id: Some("no-such-district".into()),
            ..options(&f)
        },
        UploadOptions {
            district_id: None,
            school_id: Some("no-such-school".into()),
            ..options(&f)
        },
    ] {
        let missing = uploads::receive(&f.ctx, &service(), options, file.clone())
            .await
            .unwrap_err();
        assert!(matches!(missing, RosterError::NotFound(_)), "{missing:?}");
    }
}

#[tokio::test]
async fn only_rostering_administrators_of_the_scope_may_upload() {
    let f = district().await;
    let teacher = Principal::Account {
        account_id: "t".into(),
        district_id: f.district_id.clone(),
        roles: vec![RoleGrant {
            role: Role::Teacher,
            school_id: None,
        }],
    };
    let file = csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]);
    let denied = uploads::receive(&f.ctx, &teacher, options(&f), file.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(denied, RosterError::PermissionDenied(_)),
        "{denied:?}"
    );
    let admin = Principal::Account {
        account_id: "a".into(),
        district_id: f.district_id.clone(),
        roles: vec![RoleGrant {
            role: Role::RosteringAdmin,
            school_id: None,
        }],
    };
    let up = uploads::receive(&f.ctx, &admin, options(&f), file)
        .await
        .unwrap();
    assert_eq!(up.run.requested_by.as_deref(), Some("a"));
    // Another district's administrator does not see it.
    let stranger = Principal::Account {
        account_id: "x".into(),
        district_id: "other".into(),
        roles: vec![RoleGrant {
            role: Role::DistrictAdmin,
            school_id: None,
        }],
    };
    let hidden = uploads::get(&f.ctx.db, &stranger, &up.run.id)
        .await
        .unwrap_err();
    assert!(matches!(hidden, RosterError::NotFound(_)), "{hidden:?}");
}

#[tokio::test]
async fn a_school_upload_only_names_students_of_that_school() {
    let f = district().await;
    let school: String = f
        .ctx
        .db
        .run(|c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::schools;
            schools::table
                .filter(schools::source_id.eq("sch2"))
                .select(schools::id)
                .first::<String>(c)
                .map_err(RosterError::from)
        })
        .await
        .unwrap();
    let up = upload(
        &f,
        UploadOptions {
            district_id: None,
            school_id: Some(school.clone()),
            ..options(&f)
        },
        // Ben (1002) is at Washington Middle; Ana (1001) is not.
        &csv(&[
            "1002,P1,Maria,Lopez,maria@mail.com,,,",
            "1001,P1,Maria,Lopez,maria@mail.com,,,",
        ]),
    )
    .await;
    assert_eq!(up.upload.school_id.as_deref(), Some(school.as_str()));
    let rows = results(&f, &up.run.id).await;
    assert_eq!(rows[0].result, "SUCCESS");
    assert_eq!(rows[1].error, "Unknown student code 1001");
}

async fn owed(f: &Fixture) -> usize {
    f.ctx
        .db
        .run(|c| {
            roster_svc::store::invitations::owed(
                c,
                None,
                chrono::Utc::now().naive_utc() + chrono::TimeDelta::days(1),
                1_000,
            )
            .map(|o| o.len())
            .map_err(RosterError::from)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn invitations_identity_does_not_take_are_kept_and_sent_later() {
    let f = district().await;
    f.identity
        .refuse_invites
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let up = upload(
        &f,
        options(&f),
        &csv(&["1001,P1,Maria,Lopez,maria@mail.com,,,"]),
    )
    .await;
    assert_eq!(up.run.status, "completed", "the upload stands");
    assert!(f.identity.invites.lock().unwrap().is_empty());
    assert_eq!(owed(&f).await, 1, "the invitation is owed, not lost");

    // Not due yet: a sweep sends nothing.
    f.identity
        .refuse_invites
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(f.engine.send_invitations(None).await.unwrap(), 0);
    // Once due, the sweep sends it, once.
    f.ctx
        .db
        .run(|c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::pending_invitations as p;
            diesel::update(p::table)
                .set(p::next_attempt_at.eq(chrono::Utc::now().naive_utc()))
                .execute(c)
                .map_err(RosterError::from)
        })
        .await
        .unwrap();
    assert_eq!(f.engine.send_invitations(None).await.unwrap(), 1);
    assert_eq!(owed(&f).await, 0);
    let invited: Vec<String> = f
        .identity
        .invites
        .lock()
        .unwrap()
        .iter()
        .flat_map(|i| i.account_ids.clone())
        .collect();
    assert_eq!(invited.len(), 1);
}

/// The SIS source does not manage guardians (the district uploads them): its
/// runs leave the uploaded guardians and their links alone, even when its
/// own file lists a guardian of the same students.
#[tokio::test]
async fn a_source_that_does_not_manage_guardians_leaves_uploaded_guardians_alone() {
    use diesel::prelude::*;
    use roster_svc::{
        ops::sources::{self, SourceInput},
        store::schema::{guardian_links, people},
    };

    let f = Fixture::new().await;
    crate::sync_engine::write(
        f.dir.path(),
        "bulk",
        crate::sync_engine::ORGS,
        crate::sync_engine::USERS,
        crate::sync_engine::CLASSES,
        crate::sync_engine::ENROLLMENTS,
    );
    let input = SourceInput {
        manages_guardians: false,
        ..f.csv_source()
    };
    let source = sources::create(&f.ctx, &service(), input).await.unwrap().id;
    assert_eq!(f.sync(&source, false).await.status, "completed");
    let up = upload(
        &f,
        options(&f),
        &csv(&["1001,P1,Maria,Lopez,maria@mail.com,(555) 201-0001,,es"]),
    )
    .await;
    assert_eq!(up.run.status, "completed", "{:?}", up.run.failure_message);

    // Two more SIS runs, the second without Ana's guardian line in the file.
    let run = f.sync(&source, false).await;
    assert_eq!(run.status, "completed", "{run:?}");
    let users: Vec<&str> = crate::sync_engine::USERS
        .iter()
        .copied()
        .filter(|u| !u.starts_with("g1,"))
        .collect();
    crate::sync_engine::write(
        f.dir.path(),
        "bulk",
        crate::sync_engine::ORGS,
        &users,
        crate::sync_engine::CLASSES,
        crate::sync_engine::ENROLLMENTS,
    );
    let again = f.sync(&source, false).await;
    assert_eq!(again.status, "completed", "{again:?}");
    for run in [&run, &again] {
        let rows = f.rows(&run.id).await;
        // The SIS's own guardian line is skipped, saying why; no link rows.
        assert!(
            rows.iter().all(|r| r.0 != "guardian_link"
                && (r.0 != "guardian"
                    || (r.2 == "SKIPPED" && r.3 == "the source does not manage guardians"))),
            "{rows:?}"
        );
    }
    let (guardians, links) = f
        .ctx
        .db
        .run(|c| {
            let guardians: Vec<(String, String)> = people::table
                .filter(people::kind.eq("guardian"))
                .select((people::given_name, people::status))
                .load(c)?;
            let links: Vec<String> = guardian_links::table
                .select(guardian_links::status)
                .load(c)?;
            Ok::<_, homeroom_platform::db::DbError>((guardians, links))
        })
        .await
        .unwrap();
    assert_eq!(guardians, [("Maria".to_owned(), "active".to_owned())]);
    assert_eq!(links, ["active"]);
}
