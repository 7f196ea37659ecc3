//! A district with a OneRoster CSV sync source on a running stack: create
//! the source, run syncs and wait for them, read their report rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::Path,
    time::{Duration, Instant},
};

use homeroom_proto::roster::v1::{self as pb, roster_service_client::RosterServiceClient};
use tonic::transport::Channel;

use crate::{Stack, bearer, district::oneroster_csv_source};

/// The stack, a roster client with the gateway's service token, and the
/// district "Morgan County".
pub struct Harness {
    pub stack: Stack,
    pub roster: RosterServiceClient<Channel>,
    /// The gateway's service token.
    pub token: String,
    pub district_id: String,
}

impl Harness {
    pub async fn start() -> Harness {
        let stack = Stack::start().await.unwrap();
        stack.wait_serving().await.unwrap();
        let token = stack.service_token("gateway").await.unwrap();
        let mut roster = stack.roster_client().await.unwrap();
        let district = roster
            .create_district(bearer(
                pb::CreateDistrictRequest {
                    name: "Morgan County".into(),
                    settings: None,
                    idempotency_key: "create-morgan".into(),
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner()
            .district
            .unwrap();
        Harness {
            stack,
            roster,
            token,
            district_id: district.district_id,
        }
    }

    /// A folder for a bundle in the district's import folder.
    pub fn bundle_dir(&self) -> tempfile::TempDir {
        self.stack.bundle_dir(&self.district_id)
    }

    pub async fn source(&mut self, location: &Path, update_active: bool) -> String {
        let source = oneroster_csv_source(
            &self.district_id,
            location,
            pb::SyncSettings {
                manages_guardians: true,
                send_invitations: false,
                unarchive_classes: true,
                update_active_user_contacts: update_active,
                deactivation_threshold_percent: None,
                ..Default::default()
            },
        );
        self.roster
            .create_sync_source(bearer(
                pb::CreateSyncSourceRequest {
                    sync_source: Some(source),
                },
                &self.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .sync_source
            .unwrap()
            .sync_source_id
    }

    pub async fn sync(&mut self, source: &str, dry_run: bool, force: bool) -> pb::SyncRun {
        let run = self
            .roster
            .start_sync(bearer(
                pb::StartSyncRequest {
                    sync_source_id: source.into(),
                    dry_run,
                    force,
                    ..Default::default()
                },
                &self.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .sync_run
            .unwrap();
        self.wait(&run.sync_run_id).await
    }

    pub async fn wait(&mut self, run_id: &str) -> pb::SyncRun {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let run = self
                .roster
                .get_sync_run(bearer(
                    pb::GetSyncRunRequest {
                        sync_run_id: run_id.into(),
                    },
                    &self.token,
                ))
                .await
                .unwrap()
                .into_inner()
                .sync_run
                .unwrap();
            if matches!(
                run.status(),
                pb::SyncRunStatus::Completed | pb::SyncRunStatus::Failed
            ) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "the sync did not finish: {run:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn rows(&mut self, run: &str, action: pb::RecordAction) -> Vec<pb::SyncReportRow> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .roster
                .list_sync_report_rows(bearer(
                    pb::ListSyncReportRowsRequest {
                        sync_run_id: run.into(),
                        actions: vec![action.into()],
                        page_size: 1_000,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                    &self.token,
                ))
                .await
                .unwrap()
                .into_inner();
            out.extend(page.rows);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }
}

/// RO-8's bundle: the SIS has Maria Lopez twice, once per child (Ana and
/// Ben), with the same email; the second record's phone is `second_phone`.
pub fn maria_lopez_twice(dir: &Path, second_phone: &str) {
    std::fs::write(
        dir.join("manifest.csv"),
        "\"propertyName\",\"value\"\r\n\"manifest.version\",\"1.0\"\r\n\"oneroster.version\",\"1.1\"\r\n\
         \"file.orgs\",\"bulk\"\r\n\"file.users\",\"bulk\"\r\n\"file.classes\",\"absent\"\r\n\
         \"file.enrollments\",\"absent\"\r\n\"source.systemName\",\"PowerSchool\"",
    )
    .unwrap();
    std::fs::write(
        dir.join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
         d1,,,Morgan County,district,,\nsch1,,,Lincoln Elementary,school,101,d1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("users.csv"),
        format!(
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
             s1,,,true,sch1,student,,,Ana,Lopez,,1001,,,,g1,03,\n\
             s2,,,true,sch1,student,,,Ben,Lopez,,1002,,,,g2,05,\n\
             g1,,,true,sch1,parent,,,Maria,Lopez,,,maria@mail.com,(987) 654-3210,,s1,,\n\
             g2,,,true,sch1,parent,,,Maria,Lopez,,,maria@mail.com,{second_phone},,s2,,\n"
        ),
    )
    .unwrap();
}

/// Seed 002's bundle: Ana and Ben Smith, their guardians Sarah (with the
/// email and phone the SIS has for her now) and Kevin, and their teacher
/// Tom. With `families` false only Tom is left: a sync that would
/// deactivate most of the district.
pub fn smiths_bundle(dir: &Path, sarah_email: &str, sarah_phone: &str, families: bool) {
    std::fs::write(
        dir.join("manifest.csv"),
        "\"propertyName\",\"value\"\r\n\"manifest.version\",\"1.0\"\r\n\"oneroster.version\",\"1.1\"\r\n\
         \"file.orgs\",\"bulk\"\r\n\"file.users\",\"bulk\"\r\n\"file.classes\",\"absent\"\r\n\
         \"file.enrollments\",\"absent\"\r\n\"source.systemName\",\"ClassLink OneRoster\"",
    )
    .unwrap();
    std::fs::write(
        dir.join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
         d1,,,Springfield,district,,\nsch1,,,Lincoln Elementary,school,101,d1\n",
    )
    .unwrap();
    let families = if families {
        format!(
            "s1,,,true,sch1,student,,,Ana,Smith,,1001,,,,\"g1,g2\",03,\n\
             s2,,,true,sch1,student,,,Ben,Smith,,1002,,,,g1,05,\n\
             g1,,,true,sch1,parent,,,Sarah,Smith,,,{sarah_email},{sarah_phone},,\"s1,s2\",,\n\
             g2,,,true,sch1,parent,,,Kevin,Smith,,,smithparent@mail.com,(987) 654-3210,,s1,,\n"
        )
    } else {
        String::new()
    };
    std::fs::write(
        dir.join("users.csv"),
        format!(
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
             {families}t1,,,true,sch1,teacher,,,Tom,Reed,,,treed@school.org,,,,,\n"
        ),
    )
    .unwrap();
}
