//! RO-7 / seed 001 end to end: a district whose SIS does not supply guardians
//! uploads them as CSV over gRPC (streamed in chunks). Real roster-svc,
//! identity-svc and messaging-svc: siblings get one account, a shared email
//! blocks nobody, a bad row fails alone, new guardians are invited in their
//! language, the result downloads as XLSX and CSV, and a dry run changes
//! nothing anywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use diesel::{QueryableByName, RunQueryDsl, sql_types::BigInt, sql_types::Text};
use e2e::{Stack, bearer, district::oneroster_csv_source};
use homeroom_platform::db::Db;
use homeroom_proto::roster::v1::{self as pb, roster_service_client::RosterServiceClient};
use tonic::transport::Channel;

struct Harness {
    stack: Stack,
    roster: RosterServiceClient<Channel>,
    token: String,
    district_id: String,
    _bundle: tempfile::TempDir,
}

/// A district rostered from its SIS (students only: the SIS source does not
/// manage guardians).
async fn district() -> Harness {
    let stack = Stack::start().await.unwrap();
    let token = stack.service_token("gateway").await.unwrap();
    let mut roster = stack.roster_client().await.unwrap();
    let district_id = roster
        .create_district(bearer(
            pb::CreateDistrictRequest {
                name: "Springfield".into(),
                settings: Some(pb::DistrictSettings {
                    supported_languages: vec!["en".into(), "es".into()],
                    ..Default::default()
                }),
                idempotency_key: "create-springfield".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .district
        .unwrap()
        .district_id;
    let bundle = stack.bundle_dir(&district_id);
    let dir = bundle.path();
    std::fs::write(
        dir.join("manifest.csv"),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,bulk\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
         d1,,,Springfield,district,,\nsch1,,,Lincoln Elementary,school,101,d1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("users.csv"),
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
         s1,,,true,sch1,student,,,Ana,Smith,,1001,,,,,03,\n\
         s2,,,true,sch1,student,,,Ben,Smith,,1002,,,,,05,\n\
         s3,,,true,sch1,student,,,Cal,Jones,,1003,,,,,04,\n",
    )
    .unwrap();
    let source = roster
        .create_sync_source(bearer(
            pb::CreateSyncSourceRequest {
                sync_source: Some(oneroster_csv_source(
                    &district_id,
                    dir,
                    pb::SyncSettings {
                        manages_guardians: false,
                        ..Default::default()
                    },
                )),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .sync_source
        .unwrap()
        .sync_source_id;
    let run = roster
        .start_sync(bearer(
            pb::StartSyncRequest {
                sync_source_id: source,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .sync_run
        .unwrap();
    let mut h = Harness {
        stack,
        roster,
        token,
        district_id,
        _bundle: bundle,
    };
    h.wait_run(&run.sync_run_id).await;
    h
}

impl Harness {
    async fn wait_run(&mut self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let run = self
                .roster
                .get_sync_run(bearer(
                    pb::GetSyncRunRequest {
                        sync_run_id: id.into(),
                    },
                    &self.token,
                ))
                .await
                .unwrap()
                .into_inner()
                .sync_run
                .unwrap();
            if run.status() == pb::SyncRunStatus::Completed {
                return;
            }
            assert_ne!(run.status(), pb::SyncRunStatus::Failed, "{run:?}");
            assert!(Instant::now() < deadline, "the sync did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Streams a file in small chunks and waits for the upload to finish.
    async fn upload(&mut self, file: &[u8], dry_run: bool) -> pb::GuardianUpload {
        let mut messages = vec![pb::UploadGuardiansRequest {
            payload: Some(pb::upload_guardians_request::Payload::Options(
                pb::UploadGuardiansOptions {
                    scope: Some(pb::upload_guardians_options::Scope::DistrictId(
                        self.district_id.clone(),
                    )),
                    dry_run,
                    filename: "Parents Fall.csv".into(),
                    ..Default::default()
                },
            )),
        }];
        messages.extend(file.chunks(7).map(|c| pb::UploadGuardiansRequest {
            payload: Some(pb::upload_guardians_request::Payload::Chunk(c.to_vec())),
        }));
        let queued = self
            .roster
            .upload_guardians(bearer(tokio_stream::iter(messages), &self.token))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            queued.upload.as_ref().unwrap().status(),
            pb::GuardianUploadStatus::Queued
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let upload = self
                .roster
                .get_guardian_upload(bearer(
                    pb::GetGuardianUploadRequest {
                        upload_id: queued.upload_id.clone(),
                    },
                    &self.token,
                ))
                .await
                .unwrap()
                .into_inner()
                .upload
                .unwrap();
            if matches!(
                upload.status(),
                pb::GuardianUploadStatus::Completed | pb::GuardianUploadStatus::Failed
            ) {
                return upload;
            }
            assert!(Instant::now() < deadline, "the upload did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn download(&mut self, id: &str, format: pb::ReportFormat) -> (String, String, Vec<u8>) {
        let mut stream = self
            .roster
            .download_guardian_upload_result(bearer(
                pb::DownloadGuardianUploadResultRequest {
                    upload_id: id.into(),
                    format: format.into(),
                },
                &self.token,
            ))
            .await
            .unwrap()
            .into_inner();
        let (mut kind, mut name, mut bytes) = (String::new(), String::new(), Vec::new());
        while let Some(m) = stream.message().await.unwrap() {
            if kind.is_empty() {
                kind = m.content_type;
                name = m.filename;
            }
            bytes.extend(m.chunk);
        }
        (kind, name, bytes)
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    db.run(move |c| {
        diesel::sql_query(sql)
            .get_result::<Count>(c)
            .map(|r| r.n)
            .map_err(homeroom_platform::db::DbError::Query)
    })
    .await
    .unwrap()
}

#[derive(QueryableByName)]
struct Language {
    #[diesel(sql_type = Text)]
    preferred_language: String,
}

const FILE: &str = "student_code,parent_code,first_name,last_name,email,phone,home_phone,language\r\n\
    1001,P1,Sarah,Smith,smithparent@mail.com,(987) 654-3210,,\r\n\
    1002,P1,Sarah,Smith,smithparent@mail.com,(987) 654-3210,,\r\n\
    1001,P2,Kevin,Smith,smithparent@mail.com,,,es\r\n\
    4242,P3,Nobody,Known,nobody@mail.com,,,\r\n\
    1003,,María,Jones,maria@mail.com,,(987) 654-0000,es\r\n";

#[tokio::test]
async fn a_district_uploads_its_guardians_and_gets_one_account_per_guardian_with_a_result_file() {
    let mut h = district().await;
    let mut file = vec![0xEF, 0xBB, 0xBF];
    file.extend_from_slice(FILE.as_bytes());

    // A dry run first: the full result and no change anywhere.
    let tables =
        "SELECT (SELECT COUNT(*) FROM people) + (SELECT COUNT(*) FROM guardian_links) AS n";
    let roster_before = count(h.stack.roster_db(), tables).await;
    let accounts_before = count(h.stack.identity_db(), "SELECT COUNT(*) AS n FROM accounts").await;
    let dry = h.upload(&file, true).await;
    assert_eq!(dry.status(), pb::GuardianUploadStatus::Completed, "{dry:?}");
    assert_eq!(dry.counts.unwrap().created, 3);
    assert_eq!(count(h.stack.roster_db(), tables).await, roster_before);
    assert_eq!(
        count(h.stack.identity_db(), "SELECT COUNT(*) AS n FROM accounts").await,
        accounts_before
    );
    assert_eq!(
        count(
            h.stack.messaging_db(),
            "SELECT COUNT(*) AS n FROM deliveries"
        )
        .await,
        0
    );

    let up = h.upload(&file, false).await;
    assert_eq!(up.status(), pb::GuardianUploadStatus::Completed, "{up:?}");
    assert_eq!(up.encoding, "utf-8");
    assert_eq!((up.rows_done, up.rows_total), (5, 5));
    let counts = up.counts.unwrap();
    assert_eq!(
        (counts.rows_succeeded, counts.rows_failed, counts.created),
        (4, 1, 3)
    );
    assert_eq!(counts.invitations_sent, 3);

    let rows = h
        .roster
        .list_guardian_upload_rows(bearer(
            pb::ListGuardianUploadRowsRequest {
                upload_id: up.upload_id.clone(),
                page_size: 2,
                ..Default::default()
            },
            &h.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rows.total_size, 5);
    assert_eq!(rows.rows.len(), 2);
    assert!(!rows.next_page_token.is_empty());
    // Sarah is one account for both children.
    assert_eq!(rows.rows[0].account_id, rows.rows[1].account_id);
    assert!(!rows.rows[0].account_id.is_empty());
    let failed = h
        .roster
        .list_guardian_upload_rows(bearer(
            pb::ListGuardianUploadRowsRequest {
                upload_id: up.upload_id.clone(),
                result: pb::UploadRowResult::Error.into(),
                ..Default::default()
            },
            &h.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failed.rows.len(), 1);
    assert_eq!(failed.rows[0].error, "Unknown student code 4242");
    assert_eq!(failed.rows[0].line_number, 5);

    // identity: Sarah and Kevin share one email and both have accounts; Kevin
    // speaks Spanish; Sarah sees two children.
    let kevin = rows_for(&mut h, &up.upload_id, "P2").await;
    let id = kevin.account_id.clone();
    let language = h
        .stack
        .identity_db()
        .run(move |c| {
            diesel::sql_query("SELECT preferred_language FROM accounts WHERE id = $1")
                .bind::<Text, _>(&id)
                .get_result::<Language>(c)
                .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap();
    assert_eq!(language.preferred_language, "es");
    assert_eq!(
        count(
            h.stack.identity_db(),
            "SELECT COUNT(*) AS n FROM linked_students"
        )
        .await,
        4,
        "Sarah: Ana and Ben; Kevin: Ana; María: Cal"
    );
    // Invitations were queued in messaging for the new guardians, Kevin's in Spanish.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(
        h.stack.messaging_db(),
        "SELECT COUNT(*) AS n FROM deliveries",
    )
    .await
        < 3
    {
        assert!(Instant::now() < deadline, "no invitations were queued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        count(
            h.stack.messaging_db(),
            "SELECT COUNT(*) AS n FROM deliveries WHERE language = 'es'"
        )
        .await
            >= 1
    );

    // The result file, as XLSX and as CSV.
    let (kind, name, xlsx) = h.download(&up.upload_id, pb::ReportFormat::Xlsx).await;
    assert_eq!(
        kind,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(name, "Parents-Fall-result.xlsx");
    assert!(xlsx.starts_with(b"PK"));
    let (kind, _, csv) = h.download(&up.upload_id, pb::ReportFormat::Csv).await;
    assert_eq!(kind, "text/csv; charset=utf-8");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.contains("1003,,María,Jones,maria@mail.com,,(987) 654-0000,es,SUCCESS,CREATED,"));

    // The upload is in the district's history.
    let history = h
        .roster
        .list_guardian_uploads(bearer(
            pb::ListGuardianUploadsRequest {
                district_id: h.district_id.clone(),
                ..Default::default()
            },
            &h.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.uploads.len(), 2);
    assert_eq!(history.uploads[0].upload_id, up.upload_id, "newest first");
}

async fn rows_for(h: &mut Harness, upload: &str, parent_code: &str) -> pb::GuardianUploadRow {
    h.roster
        .list_guardian_upload_rows(bearer(
            pb::ListGuardianUploadRowsRequest {
                upload_id: upload.into(),
                page_size: 100,
                ..Default::default()
            },
            &h.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .rows
        .into_iter()
        .find(|r| r.parent_code == parent_code)
        .unwrap()
}

#[tokio::test]
async fn a_file_with_the_wrong_headers_fails_and_says_which_headers_are_expected() {
    let mut h = district().await;
    let up = h
        .upload(b"student,parent,first,last\n1001,P1,A,B\n", false)
        .await;
    assert_eq!(up.status(), pb::GuardianUploadStatus::Failed);
    assert!(
        up.failure_message.contains(
            "student_code, parent_code, first_name, last_name, email, phone, home_phone, language"
        ),
        "{}",
        up.failure_message
    );
}

#[tokio::test]
async fn two_records_of_one_parent_show_up_in_the_duplicate_guardian_report() {
    let mut h = district().await;
    // The SIS export gave Sarah two parent codes: one per child.
    let up = h
        .upload(
            b"student_code,parent_code,first_name,last_name,email,phone,home_phone,language\n\
              1001,P1,Sarah,Smith,smithparent@mail.com,,,\n\
              1002,P9,Sarah,Smith,smithparent@mail.com,,,\n\
              1003,P5,Dana,Jones,dana@mail.com,,,\n",
            false,
        )
        .await;
    assert_eq!(up.counts.unwrap().created, 3);
    let report = h
        .roster
        .list_duplicate_guardians(bearer(
            pb::ListDuplicateGuardiansRequest {
                district_id: h.district_id.clone(),
                ..Default::default()
            },
            &h.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.total_size, 1);
    let group = &report.groups[0];
    assert_eq!(group.normalized_name, "sarah smith");
    assert_eq!(
        group.reasons().collect::<Vec<_>>(),
        [pb::DuplicateGuardianReason::SameNameSharedCredential]
    );
    assert_eq!(group.shared_values, ["smithparent@mail.com"]);
    let mut students: Vec<String> = group
        .guardians
        .iter()
        .flat_map(|g| g.students.iter().map(|s| s.student_code.clone()))
        .collect();
    students.sort();
    assert_eq!(students, ["1001", "1002"]);
    let mut stream = h
        .roster
        .download_duplicate_guardians(bearer(
            pb::DownloadDuplicateGuardiansRequest {
                district_id: h.district_id.clone(),
                school_id: String::new(),
            },
            &h.token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut csv = Vec::new();
    let mut kind = String::new();
    while let Some(m) = stream.message().await.unwrap() {
        if kind.is_empty() {
            kind = m.content_type;
        }
        csv.extend(m.chunk);
    }
    assert_eq!(kind, "text/csv; charset=utf-8");
    let text = String::from_utf8_lossy(&csv);
    assert_eq!(
        text.lines().count(),
        3,
        "a header and one line per record:\n{text}"
    );
}
