//! The launcher as a roster client: `homeroom import-roster` pushes a OneRoster
//! bundle (a .zip, or a folder zipped on the fly) into a sync source and
//! follows the run; `homeroom upload-guardians` streams a guardian CSV and
//! saves its result file; the suite's demo district is a generated bundle synced the
//! same way.

use std::{
    io::{Cursor, Write as _},
    path::Path,
    time::Duration,
};

use anyhow::{Context, bail};
use homeroom_proto::{
    identity::v1 as idpb,
    roster::v1::{self as pb, roster_service_client::RosterServiceClient},
};
use tonic::transport::Channel;

/// Bytes per streamed message.
const CHUNK: usize = 1024 * 1024;

/// A roster-svc client acting as the operator (a `gateway` service token).
pub struct RosterClient {
    roster: RosterServiceClient<Channel>,
    token: String,
}

impl std::fmt::Debug for RosterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterClient").finish_non_exhaustive()
    }
}

/// A service token identity-svc issues to `client` (roster, messaging or
/// gateway) for the services' shared secret.
pub async fn service_token(
    identity_url: &str,
    client: &str,
    secret: &str,
) -> anyhow::Result<String> {
    Ok(
        idpb::identity_service_client::IdentityServiceClient::connect(identity_url.to_string())
            .await
            .with_context(|| format!("cannot reach identity-svc at {identity_url}"))?
            .issue_service_token(idpb::IssueServiceTokenRequest {
                client_id: client.into(),
                client_secret: secret.into(),
                scopes: vec![],
            })
            .await
            .context("identity-svc refused the service secret (HOMEROOM_SERVICE_SECRET)")?
            .into_inner()
            .access_token,
    )
}

impl RosterClient {
    /// Connects, taking a service token from identity with the shared secret.
    pub async fn connect(
        roster_url: &str,
        identity_url: &str,
        secret: &str,
    ) -> anyhow::Result<Self> {
        let token = service_token(identity_url, "gateway", secret).await?;
        let roster = RosterServiceClient::connect(roster_url.to_string())
            .await
            .with_context(|| format!("cannot reach roster-svc at {roster_url}"))?;
        Ok(RosterClient { roster, token })
    }

    fn request<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {}", self.token).parse()?);
        Ok(request)
    }

    /// The district with this id, or else this name (any case): its id and name.
    pub async fn find_district(&mut self, key: &str) -> anyhow::Result<Option<(String, String)>> {
        let key = key.trim();
        let mut page_token = String::new();
        let mut by_name = None;
        loop {
            let request = self.request(pb::ListDistrictsRequest {
                page_size: 500,
                page_token: page_token.clone(),
            })?;
            let page = self.roster.list_districts(request).await?.into_inner();
            for d in page.districts {
                if d.district_id == key {
                    return Ok(Some((d.district_id, d.name)));
                }
                if by_name.is_none() && d.name.trim().eq_ignore_ascii_case(key) {
                    by_name = Some((d.district_id, d.name));
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(by_name);
            }
            page_token = page.next_page_token;
        }
    }

    /// Creates a district named `name`: its id and name.
    pub async fn create_district(&mut self, name: &str) -> anyhow::Result<(String, String)> {
        let request = self.request(pb::CreateDistrictRequest {
            name: name.trim().into(),
            settings: None,
            idempotency_key: format!("create-admin-district-{}", name.trim().to_lowercase()),
        })?;
        let district = self
            .roster
            .create_district(request)
            .await
            .map_err(|s| anyhow::anyhow!("roster-svc refused the district: {}", s.message()))?
            .into_inner()
            .district
            .context("roster-svc answered no district")?;
        Ok((district.district_id, district.name))
    }

    /// Pushes a bundle into a ONEROSTER_CSV source; the queued run.
    pub async fn import(
        &mut self,
        source_id: &str,
        path: &Path,
        dry_run: bool,
        force: bool,
    ) -> anyhow::Result<pb::SyncRun> {
        let bytes = if path.is_dir() {
            zip_folder(path)?
        } else {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        };
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut messages = vec![pb::ImportOneRosterBundleRequest {
            payload: Some(pb::import_one_roster_bundle_request::Payload::Options(
                pb::ImportOneRosterBundleOptions {
                    sync_source_id: source_id.into(),
                    dry_run,
                    force,
                    filename,
                    idempotency_key: String::new(),
                },
            )),
        }];
        messages.extend(
            bytes
                .chunks(CHUNK)
                .map(|c| pb::ImportOneRosterBundleRequest {
                    payload: Some(pb::import_one_roster_bundle_request::Payload::Chunk(
                        c.to_vec(),
                    )),
                }),
        );
        let request = self.request(tokio_stream::iter(messages))?;
        self.roster
            .import_one_roster_bundle(request)
            .await?
            .into_inner()
            .sync_run
            .context("roster-svc answered without a run")
    }

    /// Streams a guardian CSV to roster-svc (RO-7); the queued upload.
    pub async fn upload_guardians(
        &mut self,
        path: &Path,
        mut options: pb::UploadGuardiansOptions,
    ) -> anyhow::Result<pb::GuardianUpload> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        options.filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut messages = vec![pb::UploadGuardiansRequest {
            payload: Some(pb::upload_guardians_request::Payload::Options(options)),
        }];
        messages.extend(bytes.chunks(CHUNK).map(|c| pb::UploadGuardiansRequest {
            payload: Some(pb::upload_guardians_request::Payload::Chunk(c.to_vec())),
        }));
        let request = self.request(tokio_stream::iter(messages))?;
        self.roster
            .upload_guardians(request)
            .await?
            .into_inner()
            .upload
            .context("roster-svc answered without an upload")
    }

    /// Waits for an upload to finish.
    pub async fn wait_upload(&mut self, upload_id: &str) -> anyhow::Result<pb::GuardianUpload> {
        loop {
            let request = self.request(pb::GetGuardianUploadRequest {
                upload_id: upload_id.into(),
            })?;
            let upload = self
                .roster
                .get_guardian_upload(request)
                .await?
                .into_inner()
                .upload
                .context("roster-svc answered without an upload")?;
            if matches!(
                upload.status(),
                pb::GuardianUploadStatus::Completed | pb::GuardianUploadStatus::Failed
            ) {
                return Ok(upload);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// An upload's result file, as XLSX or CSV.
    pub async fn upload_result(&mut self, upload_id: &str, xlsx: bool) -> anyhow::Result<Vec<u8>> {
        let request = self.request(pb::DownloadGuardianUploadResultRequest {
            upload_id: upload_id.into(),
            format: if xlsx {
                pb::ReportFormat::Xlsx
            } else {
                pb::ReportFormat::Csv
            }
            .into(),
        })?;
        let mut stream = self
            .roster
            .download_guardian_upload_result(request)
            .await?
            .into_inner();
        let mut bytes = Vec::new();
        while let Some(message) = stream.message().await? {
            bytes.extend(message.chunk);
        }
        Ok(bytes)
    }

    /// Waits for a run to finish.
    pub async fn wait(&mut self, run_id: &str) -> anyhow::Result<pb::SyncRun> {
        loop {
            let request = self.request(pb::GetSyncRunRequest {
                sync_run_id: run_id.into(),
            })?;
            let run = self
                .roster
                .get_sync_run(request)
                .await?
                .into_inner()
                .sync_run
                .context("roster-svc answered without a run")?;
            if matches!(
                run.status(),
                pb::SyncRunStatus::Completed | pb::SyncRunStatus::Failed
            ) {
                return Ok(run);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Loads the demo district unless a district exists already: a generated
    /// bundle of `students` in the district's import folder under `imports`
    /// (`demo-bundle`), a OneRoster CSV source reading it, and its first
    /// sync. The finished run, or `None` when there was a district.
    pub async fn load_demo(
        &mut self,
        imports: &Path,
        students: usize,
    ) -> anyhow::Result<Option<pb::SyncRun>> {
        let request = self.request(pb::ListDistrictsRequest {
            page_size: 1,
            page_token: String::new(),
        })?;
        if !self
            .roster
            .list_districts(request)
            .await?
            .into_inner()
            .districts
            .is_empty()
        {
            return Ok(None);
        }
        let options = roster_svc::generator::GeneratorOptions {
            students,
            seed: 2026,
            district_name: "Homeroom Demo Unified School District".into(),
        };
        let request = self.request(pb::CreateDistrictRequest {
            name: "Homeroom Demo Unified School District".into(),
            settings: Some(pb::DistrictSettings {
                time_zone: "America/Chicago".into(),
                default_phone_region: "US".into(),
                supported_languages: vec!["en".into(), "es".into()],
                ..Default::default()
            }),
            idempotency_key: "homeroom-demo-district".into(),
        })?;
        let district = self
            .roster
            .create_district(request)
            .await?
            .into_inner()
            .district
            .context("no district")?;
        let bundle = imports.join(&district.district_id).join("demo-bundle");
        tokio::task::spawn_blocking(move || roster_svc::generator::write_bundle(&options, &bundle))
            .await??;
        let request = self.request(pb::CreateSyncSourceRequest {
            sync_source: Some(pb::SyncSource {
                district_id: district.district_id,
                display_name: "Demo SIS (OneRoster CSV)".into(),
                kind: pb::SyncSourceKind::OnerosterCsv.into(),
                connector: Some(pb::ConnectorConfig {
                    config: Some(pb::connector_config::Config::OnerosterCsv(
                        pb::OneRosterCsvConfig {
                            location: "demo-bundle".into(),
                        },
                    )),
                }),
                settings: Some(pb::SyncSettings {
                    manages_guardians: true,
                    unarchive_classes: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })?;
        let source = self
            .roster
            .create_sync_source(request)
            .await?
            .into_inner()
            .sync_source
            .context("no source")?;
        let request = self.request(pb::StartSyncRequest {
            sync_source_id: source.sync_source_id,
            idempotency_key: "homeroom-demo-first-sync".into(),
            ..Default::default()
        })?;
        let run = self
            .roster
            .start_sync(request)
            .await?
            .into_inner()
            .sync_run
            .context("no run")?;
        self.wait(&run.sync_run_id).await.map(Some)
    }
}

/// A folder's CSV files as a zip in memory.
fn zip_folder(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("csv"))
        })
        .collect();
    names.sort_by_key(std::fs::DirEntry::file_name);
    if names.is_empty() {
        bail!("{} holds no .csv files", dir.display());
    }
    for entry in names {
        out.start_file(entry.file_name().to_string_lossy(), options)?;
        out.write_all(&std::fs::read(entry.path())?)?;
    }
    Ok(out.finish()?.into_inner())
}

/// One line per entity of a run's totals.
pub fn summary(run: &pb::SyncRun) -> String {
    let mut lines = vec![format!(
        "run {}: {:?}{}",
        run.sync_run_id,
        run.status(),
        if run.failure_message.is_empty() {
            String::new()
        } else {
            format!(" — {}", run.failure_message)
        }
    )];
    for t in &run.totals {
        lines.push(format!(
            "  {:?}: {} created, {} updated, {} unchanged, {} deactivated, {} skipped, {} errors",
            t.entity(),
            t.created,
            t.updated,
            t.unchanged,
            t.deactivated,
            t.skipped,
            t.errors
        ));
    }
    lines.join("\n")
}

/// One line per count of a finished upload.
pub fn upload_summary(upload: &pb::GuardianUpload) -> String {
    let c = upload.counts.unwrap_or_default();
    let mut line = format!(
        "upload {}: {:?}, {} of {} rows ({} succeeded, {} failed); guardians: {} created, {} updated, {} unchanged",
        upload.upload_id,
        upload.status(),
        upload.rows_done,
        upload.rows_total,
        c.rows_succeeded,
        c.rows_failed,
        c.created,
        c.updated,
        c.unchanged,
    );
    if upload.abandon {
        line.push_str(&format!(
            "; {} links abandoned, {} guardians deactivated",
            c.links_abandoned, c.accounts_deactivated
        ));
    }
    if !upload.failure_message.is_empty() {
        line.push_str(&format!(" — {}", upload.failure_message));
    }
    line
}
