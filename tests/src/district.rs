//! A small district rostered for real from a OneRoster CSV bundle: Lincoln
//! Elementary with Ana and Ben Smith, their guardians Sarah and Kevin, who
//! share one email (seed 000), Cal Jones without a guardian, and Tom Reed
//! teaching Ana's class.

use std::time::{Duration, Instant};

use homeroom_proto::roster::v1::{self as pb, roster_service_client::RosterServiceClient};
use tonic::transport::Channel;

use crate::{Stack, bearer};

/// A OneRoster CSV sync source of `district_id` reading the bundle (a
/// folder or a zip) at `location`, with `settings`.
pub fn oneroster_csv_source(
    district_id: &str,
    location: &std::path::Path,
    settings: pb::SyncSettings,
) -> pb::SyncSource {
    pb::SyncSource {
        district_id: district_id.into(),
        display_name: "SIS nightly".into(),
        kind: pb::SyncSourceKind::OnerosterCsv.into(),
        connector: Some(pb::ConnectorConfig {
            config: Some(pb::connector_config::Config::OnerosterCsv(
                pb::OneRosterCsvConfig {
                    location: location.display().to_string(),
                },
            )),
        }),
        settings: Some(settings),
        ..Default::default()
    }
}

/// The ids of the rostered district.
#[derive(Debug, Clone)]
pub struct Smiths {
    /// The district.
    pub district_id: String,
    /// Lincoln Elementary.
    pub school_id: String,
    /// Ana (grade 3), with Sarah and Kevin.
    pub ana: String,
    /// Ben (grade 5), with Sarah.
    pub ben: String,
    /// Cal Jones (grade 4), another family's child with no guardian account.
    pub cal: String,
    /// Ana's class.
    pub class_id: String,
    /// Sarah's account (smithparent@mail.com, (987) 654-3210).
    pub sarah: String,
    /// Kevin's account (smithparent@mail.com).
    pub kevin: String,
    /// Tom Reed's account, the class's teacher.
    pub tom: String,
}

const USERS: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
s1,,,true,sch1,student,,,Ana,Smith,,1001,,,,\"g1,g2\",03,\n\
s2,,,true,sch1,student,,,Ben,Smith,,1002,,,,g1,05,\n\
s3,,,true,sch1,student,,,Cal,Jones,,1003,,,,,04,\n\
g1,,,true,sch1,parent,,,Sarah,Smith,,,smithparent@mail.com,(987) 654-3210,,\"s1,s2\",,\n\
g2,,,true,sch1,parent,,,Kevin,Smith,,,smithparent@mail.com,,,s1,,\n\
t1,,,true,sch1,teacher,,,Tom,Reed,,,treed@school.org,,,,,\n";

/// Writes the bundle into `dir`.
pub fn write_bundle(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::write(
        dir.join("manifest.csv"),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\n\
         file.users,bulk\nfile.classes,bulk\nfile.enrollments,bulk\n",
    )?;
    std::fs::write(
        dir.join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
         d1,,,Springfield,district,,\nsch1,,,Lincoln Elementary,school,101,d1\n",
    )?;
    std::fs::write(dir.join("users.csv"), USERS)?;
    std::fs::write(
        dir.join("classes.csv"),
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
         c1,,,Grade 3,03,,G3,homeroom,,sch1,,,,\n",
    )?;
    std::fs::write(
        dir.join("enrollments.csv"),
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
         e1,,,c1,sch1,s1,student,false,,\ne2,,,c1,sch1,t1,teacher,true,,\n",
    )
}

impl Stack {
    /// Creates the district, syncs the bundle (invitations off) and waits for
    /// the run to complete; the ids of what it created.
    pub async fn smiths(&self) -> anyhow::Result<Smiths> {
        let token = self.service_token("gateway").await?;
        let mut roster = self.roster_client().await?;
        let district_id = roster
            .create_district(bearer(
                pb::CreateDistrictRequest {
                    name: "Springfield".into(),
                    settings: None,
                    idempotency_key: "create-springfield".into(),
                },
                &token,
            ))
            .await?
            .into_inner()
            .district
            .ok_or_else(|| anyhow::anyhow!("no district"))?
            .district_id;
        let bundle = self.bundle_dir(&district_id);
        write_bundle(bundle.path())?;
        let source = roster
            .create_sync_source(bearer(
                pb::CreateSyncSourceRequest {
                    sync_source: Some(oneroster_csv_source(
                        &district_id,
                        bundle.path(),
                        pb::SyncSettings {
                            manages_guardians: true,
                            send_invitations: false,
                            ..Default::default()
                        },
                    )),
                },
                &token,
            ))
            .await?
            .into_inner()
            .sync_source
            .ok_or_else(|| anyhow::anyhow!("no source"))?
            .sync_source_id;
        let run = roster
            .start_sync(bearer(
                pb::StartSyncRequest {
                    sync_source_id: source,
                    ..Default::default()
                },
                &token,
            ))
            .await?
            .into_inner()
            .sync_run
            .ok_or_else(|| anyhow::anyhow!("no run"))?;
        let run = finished(&mut roster, &token, &run.sync_run_id).await?;
        anyhow::ensure!(
            run.status() == pb::SyncRunStatus::Completed,
            "the sync failed: {run:?}"
        );
        let rows = roster
            .list_sync_report_rows(bearer(
                pb::ListSyncReportRowsRequest {
                    sync_run_id: run.sync_run_id.clone(),
                    actions: vec![pb::RecordAction::Created.into()],
                    page_size: 1_000,
                    ..Default::default()
                },
                &token,
            ))
            .await?
            .into_inner()
            .rows;
        let row = |source_id: &str| {
            rows.iter()
                .find(|r| r.source_id == source_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("{source_id} was not created"))
        };
        Ok(Smiths {
            school_id: row("sch1")?.record_id,
            ana: row("s1")?.record_id,
            ben: row("s2")?.record_id,
            cal: row("s3")?.record_id,
            class_id: row("c1")?.record_id,
            sarah: row("g1")?.account_id,
            kevin: row("g2")?.account_id,
            tom: row("t1")?.account_id,
            district_id,
        })
    }
}

impl Stack {
    /// Dana Reed (`dana@district.org`, password `dana-strong-password`), the
    /// Smiths district's communications administrator, joined; her tokens.
    pub async fn dana(&self, smiths: &Smiths) -> homeroom_proto::identity::v1::AuthTokens {
        self.staff_member_in(
            &smiths.district_id,
            "t-dana",
            ("Dana", "Reed"),
            "dana@district.org",
            homeroom_proto::identity::v1::Role::CommunicationsAdmin,
            "dana-strong-password",
        )
        .await
    }
}

/// Polls a sync run until it is completed or failed (two minutes at most).
pub async fn finished(
    roster: &mut RosterServiceClient<Channel>,
    token: &str,
    run_id: &str,
) -> anyhow::Result<pb::SyncRun> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let run = roster
            .get_sync_run(bearer(
                pb::GetSyncRunRequest {
                    sync_run_id: run_id.into(),
                },
                token,
            ))
            .await?
            .into_inner()
            .sync_run
            .ok_or_else(|| anyhow::anyhow!("no run"))?;
        if matches!(
            run.status(),
            pb::SyncRunStatus::Completed | pb::SyncRunStatus::Failed
        ) {
            return Ok(run);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the sync did not finish: {run:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
