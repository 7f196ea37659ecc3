//! `homeroom.roster.v1.RosterService`: convert, call the operation, convert back.
//! The read RPCs of schools, classes and people live in `organization` and
//! `people`; their handlers here only name the caller.

use std::pin::Pin;

use futures::Stream;
use homeroom_platform::{auth::principal, paging, report_file};
use homeroom_proto::roster::v1 as pb;
use secrecy::SecretString;
use tonic::{Request, Response, Status, Streaming};

use super::{convert, organization, people};
use crate::{
    domain::error::RosterError,
    ops::{
        Ctx, districts, duplicates,
        runs::{self, RunRequest},
        sources::{self, CleverInput, RestAuthMethod, RestInput, SourceInput},
        uploads,
    },
    store::sync::{self, ReportAfter, ReportFilter},
};

/// The roster service's gRPC face.
#[derive(Debug, Clone)]
pub struct RosterApi {
    ctx: Ctx,
}

impl RosterApi {
    /// A service over the shared operation context.
    pub fn new(ctx: Ctx) -> RosterApi {
        RosterApi { ctx }
    }

    async fn source_view(&self, row: &sync::SourceRow) -> Result<pb::SyncSource, Status> {
        let (id, district_id) = (row.id.clone(), row.district_id.clone());
        let (last, district) = self
            .ctx
            .db
            .run(move |c| {
                let last = sync::last_run(c, &id)?;
                let district = crate::store::districts::get(c, &district_id)?;
                Ok::<_, RosterError>((last, district))
            })
            .await?;
        let time_zone = district.map(|d| d.time_zone).unwrap_or_default();
        Ok(convert::source(
            row,
            last.as_ref(),
            &time_zone,
            chrono::Utc::now(),
        ))
    }
}

type ByteStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn bad_token() -> Status {
    Status::invalid_argument(paging::BAD_TOKEN)
}

/// The sort key a page token carries, `None` without a token.
pub(super) fn page_key<const N: usize>(token: &str) -> Result<Option<[String; N]>, Status> {
    match paging::decode(token).map_err(|()| bad_token())? {
        Some(key) => <[String; N]>::try_from(key)
            .map(Some)
            .map_err(|_| bad_token()),
        None => Ok(None),
    }
}

fn required(field: &str, value: &str) -> Result<(), Status> {
    if value.trim().is_empty() {
        Err(Status::invalid_argument(format!("{field}: required")))
    } else {
        Ok(())
    }
}

fn source_input(s: pb::SyncSource) -> SourceInput {
    use pb::connector_config::Config;
    let settings = s.settings.unwrap_or_default();
    let schedule = s.schedule.unwrap_or_default();
    let secret = |v: String| Some(v).filter(|v| !v.is_empty()).map(SecretString::from);
    let (mut location, mut clever, mut oneroster_rest) = (None, None, None);
    match s.connector.and_then(|c| c.config) {
        Some(Config::OnerosterCsv(c)) => location = Some(c.location),
        Some(Config::Clever(c)) => {
            clever = Some(CleverInput {
                base_url: c.base_url,
                district_token: secret(c.district_token),
                use_events: c.use_events,
                page_size: c.page_size,
            });
        }
        Some(Config::OnerosterRest(r)) => {
            let auth_method = match r.auth_method() {
                pb::OneRosterAuthMethod::Oauth2ClientCredentials => Some(RestAuthMethod::OAuth2),
                pb::OneRosterAuthMethod::Oauth1HmacSha256 => Some(RestAuthMethod::OAuth1),
                pb::OneRosterAuthMethod::BearerToken => Some(RestAuthMethod::Bearer),
                pb::OneRosterAuthMethod::Unspecified => None,
            };
            oneroster_rest = Some(RestInput {
                base_url: r.base_url,
                auth_method,
                token_url: r.token_url,
                client_id: r.client_id,
                client_secret: secret(r.client_secret),
                scope: r.scope,
                oauth1_key: r.oauth1_key,
                oauth1_secret: secret(r.oauth1_secret),
                bearer_token: secret(r.bearer_token),
                page_size: r.page_size,
            });
        }
        None => {}
    }
    SourceInput {
        clever,
        oneroster_rest,
        district_id: s.district_id,
        school_id: Some(s.school_id).filter(|x| !x.is_empty()),
        name: s.display_name,
        kind: convert::kind_str(s.kind).to_string(),
        location,
        daily_at: Some(schedule.daily_time),
        paused: schedule.paused,
        manages_guardians: settings.manages_guardians,
        send_invitations: settings.send_invitations,
        unarchive_classes: settings.unarchive_classes,
        update_active_user_contacts: settings.update_active_user_contacts,
        deactivation_threshold_percent: settings.deactivation_threshold_percent,
        student_account_grades: settings.student_account_grades,
    }
}

#[tonic::async_trait]
impl pb::roster_service_server::RosterService for RosterApi {
    async fn create_district(
        &self,
        request: Request<pb::CreateDistrictRequest>,
    ) -> Result<Response<pb::CreateDistrictResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let settings = r.settings.unwrap_or_default();
        let row = districts::create(
            &self.ctx.db,
            &caller,
            districts::NewDistrict {
                name: r.name,
                time_zone: Some(settings.time_zone),
                default_phone_region: Some(settings.default_phone_region),
                supported_languages: settings.supported_languages,
                idempotency_key: Some(r.idempotency_key),
            },
        )
        .await?;
        Ok(Response::new(pb::CreateDistrictResponse {
            district: Some(convert::district(&row)),
        }))
    }

    async fn get_district(
        &self,
        request: Request<pb::GetDistrictRequest>,
    ) -> Result<Response<pb::GetDistrictResponse>, Status> {
        let caller = principal(&request)?;
        let row = districts::get(&self.ctx.db, &caller, &request.into_inner().district_id).await?;
        Ok(Response::new(pb::GetDistrictResponse {
            district: Some(convert::district(&row)),
        }))
    }

    async fn list_districts(
        &self,
        request: Request<pb::ListDistrictsRequest>,
    ) -> Result<Response<pb::ListDistrictsResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let size = paging::size(r.page_size, 50, 500);
        let after = page_key::<2>(&r.page_token)?.map(|[a, b]| (a, b));
        let rows = districts::list(&self.ctx.db, &caller, after, size + 1).await?;
        let mut rows = rows;
        let next = paging::cut(&mut rows, size, |last| {
            vec![last.name.clone(), last.id.clone()]
        });
        Ok(Response::new(pb::ListDistrictsResponse {
            districts: rows.iter().map(convert::district).collect(),
            next_page_token: next,
        }))
    }

    async fn get_district_settings(
        &self,
        request: Request<pb::GetDistrictSettingsRequest>,
    ) -> Result<Response<pb::GetDistrictSettingsResponse>, Status> {
        let caller = principal(&request)?;
        let row = districts::get(&self.ctx.db, &caller, &request.into_inner().district_id).await?;
        Ok(Response::new(pb::GetDistrictSettingsResponse {
            settings: Some(convert::settings(&row)),
        }))
    }

    async fn update_district_settings(
        &self,
        request: Request<pb::UpdateDistrictSettingsRequest>,
    ) -> Result<Response<pb::UpdateDistrictSettingsResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let s = r.settings.unwrap_or_default();
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        let all = paths.is_empty();
        let wants = |p: &str| all || paths.iter().any(|x| x == p);
        let change = districts::SettingsChange {
            time_zone: wants("time_zone").then(|| s.time_zone.clone()),
            default_phone_region: wants("default_phone_region")
                .then(|| s.default_phone_region.clone()),
            supported_languages: wants("supported_languages")
                .then(|| s.supported_languages.clone()),
        };
        let row = districts::update_settings(&self.ctx.db, &caller, &s.district_id, change).await?;
        Ok(Response::new(pb::UpdateDistrictSettingsResponse {
            settings: Some(convert::settings(&row)),
        }))
    }

    async fn get_school(
        &self,
        request: Request<pb::GetSchoolRequest>,
    ) -> Result<Response<pb::GetSchoolResponse>, Status> {
        let caller = principal(&request)?;
        organization::get_school(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_schools(
        &self,
        request: Request<pb::ListSchoolsRequest>,
    ) -> Result<Response<pb::ListSchoolsResponse>, Status> {
        let caller = principal(&request)?;
        organization::list_schools(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_academic_sessions(
        &self,
        request: Request<pb::ListAcademicSessionsRequest>,
    ) -> Result<Response<pb::ListAcademicSessionsResponse>, Status> {
        let caller = principal(&request)?;
        organization::list_academic_sessions(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_class(
        &self,
        request: Request<pb::GetClassRequest>,
    ) -> Result<Response<pb::GetClassResponse>, Status> {
        let caller = principal(&request)?;
        organization::get_class(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_classes(
        &self,
        request: Request<pb::ListClassesRequest>,
    ) -> Result<Response<pb::ListClassesResponse>, Status> {
        let caller = principal(&request)?;
        organization::list_classes(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_enrollments(
        &self,
        request: Request<pb::ListEnrollmentsRequest>,
    ) -> Result<Response<pb::ListEnrollmentsResponse>, Status> {
        let caller = principal(&request)?;
        organization::list_enrollments(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_student(
        &self,
        request: Request<pb::GetStudentRequest>,
    ) -> Result<Response<pb::GetStudentResponse>, Status> {
        let caller = principal(&request)?;
        people::get_student(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_students(
        &self,
        request: Request<pb::ListStudentsRequest>,
    ) -> Result<Response<pb::ListStudentsResponse>, Status> {
        let caller = principal(&request)?;
        people::list_students(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_staff(
        &self,
        request: Request<pb::GetStaffRequest>,
    ) -> Result<Response<pb::GetStaffResponse>, Status> {
        let caller = principal(&request)?;
        people::get_staff(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_staff(
        &self,
        request: Request<pb::ListStaffRequest>,
    ) -> Result<Response<pb::ListStaffResponse>, Status> {
        let caller = principal(&request)?;
        people::list_staff(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_guardian(
        &self,
        request: Request<pb::GetGuardianRequest>,
    ) -> Result<Response<pb::GetGuardianResponse>, Status> {
        let caller = principal(&request)?;
        people::get_guardian(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_student_guardians(
        &self,
        request: Request<pb::ListStudentGuardiansRequest>,
    ) -> Result<Response<pb::ListStudentGuardiansResponse>, Status> {
        let caller = principal(&request)?;
        people::list_student_guardians(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_guardian_students(
        &self,
        request: Request<pb::ListGuardianStudentsRequest>,
    ) -> Result<Response<pb::ListGuardianStudentsResponse>, Status> {
        let caller = principal(&request)?;
        people::list_guardian_students(&self.ctx.db, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn create_sync_source(
        &self,
        request: Request<pb::CreateSyncSourceRequest>,
    ) -> Result<Response<pb::CreateSyncSourceResponse>, Status> {
        let caller = principal(&request)?;
        let s = request
            .into_inner()
            .sync_source
            .ok_or_else(|| Status::invalid_argument("sync_source: required"))?;
        required("sync_source.district_id", &s.district_id)?;
        let mut input = source_input(s);
        if input.daily_at.as_deref() == Some("") {
            input.daily_at = None;
        }
        let row = sources::create(&self.ctx, &caller, input).await?;
        Ok(Response::new(pb::CreateSyncSourceResponse {
            sync_source: Some(self.source_view(&row).await?),
        }))
    }

    async fn update_sync_source(
        &self,
        request: Request<pb::UpdateSyncSourceRequest>,
    ) -> Result<Response<pb::UpdateSyncSourceResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let s = r
            .sync_source
            .ok_or_else(|| Status::invalid_argument("sync_source: required"))?;
        let id = s.sync_source_id.clone();
        required("sync_source.sync_source_id", &id)?;
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(Status::invalid_argument(
                "update_mask: name the fields to change, e.g. \"settings.update_active_user_contacts\"",
            ));
        }
        let row = sources::update(&self.ctx, &caller, &id, source_input(s), &paths).await?;
        Ok(Response::new(pb::UpdateSyncSourceResponse {
            sync_source: Some(self.source_view(&row).await?),
        }))
    }

    async fn get_sync_source(
        &self,
        request: Request<pb::GetSyncSourceRequest>,
    ) -> Result<Response<pb::GetSyncSourceResponse>, Status> {
        let caller = principal(&request)?;
        let row = sources::get(&self.ctx.db, &caller, &request.into_inner().sync_source_id).await?;
        Ok(Response::new(pb::GetSyncSourceResponse {
            sync_source: Some(self.source_view(&row).await?),
        }))
    }

    async fn list_sync_sources(
        &self,
        request: Request<pb::ListSyncSourcesRequest>,
    ) -> Result<Response<pb::ListSyncSourcesResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        required("district_id", &r.district_id)?;
        let size = paging::size(r.page_size, 50, 500);
        let after = page_key::<2>(&r.page_token)?.map(|[a, b]| (a, b));
        let kinds: Vec<&str> = r.kinds.iter().map(|k| convert::kind_str(*k)).collect();
        let rows = sources::list(
            &self.ctx.db,
            &caller,
            &r.district_id,
            Some(r.school_id).filter(|s| !s.is_empty()),
            after,
            size + 1,
        )
        .await?;
        let mut rows = rows;
        let next = paging::cut(&mut rows, size, |last| {
            vec![last.name.clone(), last.id.clone()]
        });
        let mut out = Vec::new();
        for row in rows
            .iter()
            .filter(|s| kinds.is_empty() || kinds.contains(&s.kind.as_str()))
        {
            out.push(self.source_view(row).await?);
        }
        Ok(Response::new(pb::ListSyncSourcesResponse {
            sync_sources: out,
            next_page_token: next,
        }))
    }

    async fn delete_sync_source(
        &self,
        request: Request<pb::DeleteSyncSourceRequest>,
    ) -> Result<Response<pb::DeleteSyncSourceResponse>, Status> {
        let caller = principal(&request)?;
        sources::delete(&self.ctx.db, &caller, &request.into_inner().sync_source_id).await?;
        Ok(Response::new(pb::DeleteSyncSourceResponse {}))
    }

    async fn start_sync(
        &self,
        request: Request<pb::StartSyncRequest>,
    ) -> Result<Response<pb::StartSyncResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        required("sync_source_id", &r.sync_source_id)?;
        let run = runs::queue(
            &self.ctx,
            &caller,
            RunRequest {
                source_id: r.sync_source_id,
                dry_run: r.dry_run,
                force: r.force,
                full_sync: r.full_sync,
                idempotency_key: Some(r.idempotency_key),
                filename: None,
            },
            "on_demand",
            None,
        )
        .await?;
        let (run, source) = runs::get(&self.ctx.db, &caller, &run.id).await?;
        Ok(Response::new(pb::StartSyncResponse {
            sync_run: Some(convert::run(&run, &source)),
        }))
    }

    async fn import_one_roster_bundle(
        &self,
        request: Request<Streaming<pb::ImportOneRosterBundleRequest>>,
    ) -> Result<Response<pb::ImportOneRosterBundleResponse>, Status> {
        let caller = principal(&request)?;
        let mut stream = request.into_inner();
        let options = match stream.message().await?.and_then(|m| m.payload) {
            Some(pb::import_one_roster_bundle_request::Payload::Options(o)) => o,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message must carry the options (sync_source_id, dry_run, force, filename)",
                ));
            }
        };
        required("options.sync_source_id", &options.sync_source_id)?;
        // Check access before taking the bytes.
        sources::get(&self.ctx.db, &caller, &options.sync_source_id).await?;
        let mut bytes = Vec::new();
        while let Some(message) = stream.message().await? {
            match message.payload {
                Some(pb::import_one_roster_bundle_request::Payload::Chunk(chunk)) => {
                    if bytes.len() + chunk.len() > runs::MAX_BUNDLE_BYTES {
                        return Err(Status::invalid_argument(format!(
                            "the bundle is larger than {} MiB",
                            runs::MAX_BUNDLE_BYTES / (1024 * 1024)
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                _ => {
                    return Err(Status::invalid_argument(
                        "only the first message carries options; the rest carry chunks",
                    ));
                }
            }
        }
        if bytes.is_empty() {
            return Err(Status::invalid_argument(
                "the bundle is empty: send the .zip bytes as chunks",
            ));
        }
        let run = runs::queue(
            &self.ctx,
            &caller,
            RunRequest {
                source_id: options.sync_source_id,
                dry_run: options.dry_run,
                force: options.force,
                full_sync: true,
                idempotency_key: Some(options.idempotency_key),
                filename: Some(options.filename),
            },
            "bundle_import",
            Some(bytes),
        )
        .await?;
        let (run, source) = runs::get(&self.ctx.db, &caller, &run.id).await?;
        Ok(Response::new(pb::ImportOneRosterBundleResponse {
            sync_run: Some(convert::run(&run, &source)),
        }))
    }

    async fn get_sync_run(
        &self,
        request: Request<pb::GetSyncRunRequest>,
    ) -> Result<Response<pb::GetSyncRunResponse>, Status> {
        let caller = principal(&request)?;
        let (run, source) =
            runs::get(&self.ctx.db, &caller, &request.into_inner().sync_run_id).await?;
        Ok(Response::new(pb::GetSyncRunResponse {
            sync_run: Some(convert::run(&run, &source)),
        }))
    }

    async fn list_sync_runs(
        &self,
        request: Request<pb::ListSyncRunsRequest>,
    ) -> Result<Response<pb::ListSyncRunsResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        required("district_id", &r.district_id)?;
        let size = paging::size(r.page_size, 50, 500);
        let after = time_key(&r.page_token)?;
        let statuses = r
            .statuses
            .iter()
            .filter_map(|s| convert::run_status_str(*s))
            .map(String::from)
            .collect();
        let rows = runs::list(
            &self.ctx.db,
            &caller,
            &r.district_id,
            Some(r.sync_source_id).filter(|s| !s.is_empty()),
            statuses,
            after,
            size + 1,
        )
        .await?;
        let mut rows = rows;
        let next = paging::cut(&mut rows, size, time_token);
        // The page's runs share a few sources: read each once.
        let mut sources = std::collections::HashMap::new();
        let mut out = Vec::new();
        for run in &rows {
            if !sources.contains_key(&run.source_id) {
                let id = run.source_id.clone();
                let source = self
                    .ctx
                    .db
                    .run(move |c| sync::source_any(c, &id).map_err(RosterError::from))
                    .await?
                    .ok_or_else(|| Status::internal("a run's source is missing"))?;
                sources.insert(run.source_id.clone(), source);
            }
            if let Some(source) = sources.get(&run.source_id) {
                out.push(convert::run(run, source));
            }
        }
        Ok(Response::new(pb::ListSyncRunsResponse {
            sync_runs: out,
            next_page_token: next,
        }))
    }

    async fn list_sync_report_rows(
        &self,
        request: Request<pb::ListSyncReportRowsRequest>,
    ) -> Result<Response<pb::ListSyncReportRowsResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let size = paging::size(r.page_size, 100, 1_000);
        let by_notes = r.order() == pb::SyncReportOrder::Notes;
        let after = if by_notes {
            ReportAfter::Notes(notes_key(&r.page_token)?)
        } else {
            ReportAfter::Row(seq_key(&r.page_token)?)
        };
        let filter = ReportFilter {
            entities: r
                .entities
                .iter()
                .filter_map(|e| convert::entity_str(*e))
                .map(String::from)
                .collect(),
            actions: r
                .actions
                .iter()
                .filter_map(|a| convert::action_str(*a))
                .map(String::from)
                .collect(),
            query: Some(r.query.trim().to_string()).filter(|q| !q.is_empty()),
        };
        let (rows, total) = runs::report_page(
            &self.ctx.db,
            &caller,
            &r.sync_run_id,
            filter,
            after,
            size + 1,
        )
        .await?;
        let mut rows = rows;
        let next = paging::cut(&mut rows, size, |last| {
            if by_notes {
                vec![last.notes.clone(), last.seq.to_string()]
            } else {
                vec![last.seq.to_string()]
            }
        });
        Ok(Response::new(pb::ListSyncReportRowsResponse {
            rows: rows.iter().map(convert::report_row).collect(),
            next_page_token: next,
            total_size: total,
        }))
    }

    async fn resolve_audience(
        &self,
        request: Request<pb::ResolveAudienceRequest>,
    ) -> Result<Response<ByteStream<pb::ResolveAudienceResponse>>, Status> {
        use crate::ops::audience::{self, AudienceRole};
        let caller = principal(&request)?;
        let r = request.into_inner();
        required("district_id", &r.district_id)?;
        let roles = r
            .roles
            .iter()
            .filter_map(|x| match pb::AudienceRole::try_from(*x).ok()? {
                pb::AudienceRole::Guardian => Some(AudienceRole::Guardian),
                pb::AudienceRole::Student => Some(AudienceRole::Student),
                pb::AudienceRole::Teacher => Some(AudienceRole::Teacher),
                pb::AudienceRole::Staff => Some(AudienceRole::Staff),
                pb::AudienceRole::Unspecified => None,
            })
            .collect();
        let contacts = r.guardian_contacts();
        let scope = r.scope.unwrap_or_default();
        let resolved = audience::resolve(
            &self.ctx.db,
            &caller,
            audience::AudienceRequest {
                district_id: r.district_id,
                student_ids: r.student_ids,
                class_ids: r.class_ids,
                school_ids: r.school_ids,
                whole_district: r.whole_district,
                roles,
                scope_schools: scope.school_ids,
                scope_teacher: Some(scope.teacher_account_id).filter(|t| !t.is_empty()),
                guardian_contacts: match contacts {
                    pb::GuardianContacts::Unspecified => audience::GuardianContacts::All,
                    pb::GuardianContacts::PrimaryOnly => audience::GuardianContacts::PrimaryOnly,
                    pb::GuardianContacts::WithoutEmergency => {
                        audience::GuardianContacts::WithoutEmergency
                    }
                },
            },
        )
        .await?;
        let role = |x: AudienceRole| match x {
            AudienceRole::Guardian => pb::AudienceRole::Guardian,
            AudienceRole::Student => pb::AudienceRole::Student,
            AudienceRole::Teacher => pb::AudienceRole::Teacher,
            AudienceRole::Staff => pb::AudienceRole::Staff,
        };
        let members: Vec<pb::AudienceMember> = resolved
            .members
            .iter()
            .map(|(account, reasons)| pb::AudienceMember {
                account_id: account.clone(),
                reasons: reasons
                    .iter()
                    .map(|x| pb::AudienceReason {
                        role: role(x.role).into(),
                        student_id: x.student_id.clone().unwrap_or_default(),
                        student_display_name: String::new(),
                        class_id: x.class_id.clone().unwrap_or_default(),
                        school_id: x.school_id.clone().unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        let summary = pb::AudienceSummary {
            member_count: members.len() as u64,
            not_found_ids: resolved.not_found_ids,
            out_of_scope_ids: resolved.out_of_scope_ids,
            people_without_account: resolved.people_without_account,
            students_without_account: resolved.students_without_account,
        };
        let mut pages: Vec<pb::ResolveAudienceResponse> = members
            .chunks(1_000)
            .map(|chunk| pb::ResolveAudienceResponse {
                members: chunk.to_vec(),
                summary: None,
            })
            .collect();
        match pages.last_mut() {
            Some(last) => last.summary = Some(summary),
            None => pages.push(pb::ResolveAudienceResponse {
                members: vec![],
                summary: Some(summary),
            }),
        }
        Ok(Response::new(Box::pin(futures::stream::iter(
            pages.into_iter().map(Ok),
        ))))
    }

    async fn download_sync_report(
        &self,
        request: Request<pb::DownloadSyncReportRequest>,
    ) -> Result<Response<ByteStream<pb::DownloadSyncReportResponse>>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let xlsx = r.format == i32::from(pb::ReportFormat::Xlsx);
        let filter = ReportFilter {
            entities: r
                .entities
                .iter()
                .filter_map(|e| convert::entity_str(*e))
                .map(String::from)
                .collect(),
            actions: r
                .actions
                .iter()
                .filter_map(|a| convert::action_str(*a))
                .map(String::from)
                .collect(),
            query: None,
        };
        let file = runs::download(&self.ctx.db, &caller, &r.sync_run_id, filter, xlsx).await?;
        Ok(Response::new(file_stream(
            file,
            |content_type, filename, chunk| pb::DownloadSyncReportResponse {
                content_type,
                filename,
                chunk,
            },
        )))
    }

    async fn upload_guardians(
        &self,
        request: Request<Streaming<pb::UploadGuardiansRequest>>,
    ) -> Result<Response<pb::UploadGuardiansResponse>, Status> {
        use pb::{upload_guardians_options::Scope, upload_guardians_request::Payload};
        let caller = principal(&request)?;
        let mut stream = request.into_inner();
        let options = match stream.message().await?.and_then(|m| m.payload) {
            Some(Payload::Options(o)) => o,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message must carry the options (district_id or school_id, dry_run, abandon, filename)",
                ));
            }
        };
        let (district_id, school_id) = match options.scope {
            Some(Scope::DistrictId(d)) => (Some(d), None),
            Some(Scope::SchoolId(s)) => (None, Some(s)),
            None => (None, None),
        };
        let mut bytes = Vec::new();
        while let Some(message) = stream.message().await? {
            match message.payload {
                Some(Payload::Chunk(chunk)) => {
                    if bytes.len() + chunk.len() > uploads::MAX_UPLOAD_BYTES {
                        return Err(Status::invalid_argument(format!(
                            "chunk: the file is larger than {} MB; split it into smaller files",
                            uploads::MAX_UPLOAD_BYTES / (1024 * 1024)
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                _ => {
                    return Err(Status::invalid_argument(
                        "only the first message carries options; the rest carry chunks",
                    ));
                }
            }
        }
        let upload = uploads::receive(
            &self.ctx,
            &caller,
            uploads::UploadOptions {
                district_id,
                school_id,
                dry_run: options.dry_run,
                abandon: options.abandon,
                force: options.force,
                filename: options.filename,
                idempotency_key: Some(options.idempotency_key),
            },
            bytes,
        )
        .await?;
        Ok(Response::new(pb::UploadGuardiansResponse {
            upload_id: upload.run.id.clone(),
            upload: Some(convert::upload(&upload)),
        }))
    }

    async fn get_guardian_upload(
        &self,
        request: Request<pb::GetGuardianUploadRequest>,
    ) -> Result<Response<pb::GetGuardianUploadResponse>, Status> {
        let caller = principal(&request)?;
        let upload = uploads::get(&self.ctx.db, &caller, &request.into_inner().upload_id).await?;
        Ok(Response::new(pb::GetGuardianUploadResponse {
            upload: Some(convert::upload(&upload)),
        }))
    }

    async fn list_guardian_uploads(
        &self,
        request: Request<pb::ListGuardianUploadsRequest>,
    ) -> Result<Response<pb::ListGuardianUploadsResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        required("district_id", &r.district_id)?;
        let size = paging::size(r.page_size, 50, 500);
        let after = time_key(&r.page_token)?;
        let statuses = r
            .statuses
            .iter()
            .filter_map(|s| convert::upload_status_str(*s))
            .map(String::from)
            .collect();
        let mut rows = uploads::list(
            &self.ctx.db,
            &caller,
            &r.district_id,
            Some(r.school_id).filter(|s| !s.is_empty()),
            statuses,
            after,
            size + 1,
        )
        .await?;
        let next = paging::cut(&mut rows, size, |last| time_token(&last.run));
        Ok(Response::new(pb::ListGuardianUploadsResponse {
            uploads: rows.iter().map(convert::upload).collect(),
            next_page_token: next,
        }))
    }

    async fn list_guardian_upload_rows(
        &self,
        request: Request<pb::ListGuardianUploadRowsRequest>,
    ) -> Result<Response<pb::ListGuardianUploadRowsResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let size = paging::size(r.page_size, 100, 1_000);
        let after = seq_key(&r.page_token)?;
        let result = match pb::UploadRowResult::try_from(r.result) {
            Ok(pb::UploadRowResult::Success) => Some("SUCCESS"),
            Ok(pb::UploadRowResult::Error) => Some("ERROR"),
            _ => None,
        };
        let (mut rows, total) =
            uploads::rows(&self.ctx.db, &caller, &r.upload_id, result, after, size + 1).await?;
        let next = paging::cut(&mut rows, size, |last| vec![last.seq.to_string()]);
        Ok(Response::new(pb::ListGuardianUploadRowsResponse {
            rows: rows.iter().map(convert::upload_row).collect(),
            next_page_token: next,
            total_size: total,
        }))
    }

    async fn download_guardian_upload_result(
        &self,
        request: Request<pb::DownloadGuardianUploadResultRequest>,
    ) -> Result<Response<ByteStream<pb::DownloadGuardianUploadResultResponse>>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let xlsx = r.format != i32::from(pb::ReportFormat::Csv);
        let file = uploads::download(&self.ctx.db, &caller, &r.upload_id, xlsx).await?;
        Ok(Response::new(file_stream(
            file,
            |content_type, filename, chunk| pb::DownloadGuardianUploadResultResponse {
                content_type,
                filename,
                chunk,
            },
        )))
    }

    async fn list_duplicate_guardians(
        &self,
        request: Request<pb::ListDuplicateGuardiansRequest>,
    ) -> Result<Response<pb::ListDuplicateGuardiansResponse>, Status> {
        let caller = principal(&request)?;
        let page = duplicates::list(
            &self.ctx.db,
            &self.ctx.duplicate_reports,
            &caller,
            request.into_inner(),
        )
        .await?;
        Ok(Response::new(page))
    }

    async fn download_duplicate_guardians(
        &self,
        request: Request<pb::DownloadDuplicateGuardiansRequest>,
    ) -> Result<Response<ByteStream<pb::DownloadDuplicateGuardiansResponse>>, Status> {
        let caller = principal(&request)?;
        let file = duplicates::download(
            &self.ctx.db,
            &self.ctx.duplicate_reports,
            &caller,
            request.into_inner(),
        )
        .await?;
        Ok(Response::new(file_stream(
            file,
            |content_type, filename, chunk| pb::DownloadDuplicateGuardiansResponse {
                content_type,
                filename,
                chunk,
            },
        )))
    }

    async fn preview_guardian_merge(
        &self,
        request: Request<pb::PreviewGuardianMergeRequest>,
    ) -> Result<Response<pb::PreviewGuardianMergeResponse>, Status> {
        let caller = principal(&request)?;
        super::merges::preview_merge(&self.ctx, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn merge_guardians(
        &self,
        request: Request<pb::MergeGuardiansRequest>,
    ) -> Result<Response<pb::MergeGuardiansResponse>, Status> {
        let caller = principal(&request)?;
        super::merges::merge(&self.ctx, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn undo_guardian_merge(
        &self,
        request: Request<pb::UndoGuardianMergeRequest>,
    ) -> Result<Response<pb::UndoGuardianMergeResponse>, Status> {
        let caller = principal(&request)?;
        super::merges::undo(&self.ctx, &caller, request.into_inner())
            .await
            .map(Response::new)
    }
}

/// A file as a stream of messages: the first names its type and file name.
fn file_stream<T: Send + 'static>(
    file: runs::ReportFile,
    message: impl Fn(String, String, Vec<u8>) -> T,
) -> ByteStream<T> {
    let mut chunks = report_file::chunks(file.bytes, report_file::CHUNK_SIZE).into_iter();
    let first = message(
        file.content_type.into(),
        file.filename,
        chunks.next().unwrap_or_default(),
    );
    let messages: Vec<Result<T, Status>> = std::iter::once(first)
        .chain(chunks.map(|c| message(String::new(), String::new(), c)))
        .map(Ok)
        .collect();
    Box::pin(futures::stream::iter(messages))
}

/// A (created_at, id) page key.
fn time_key(token: &str) -> Result<Option<(chrono::NaiveDateTime, String)>, Status> {
    page_key::<2>(token)?
        .map(|[at, id]| {
            chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|at| (at, id))
                .map_err(|_| bad_token())
        })
        .transpose()
}

fn time_token(run: &sync::RunRow) -> Vec<String> {
    vec![
        run.created_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        run.id.clone(),
    ]
}

/// A row-number page key.
fn seq_key(token: &str) -> Result<i64, Status> {
    page_key::<1>(token)?.map_or(Ok(0), |[seq]| seq.parse::<i64>().map_err(|_| bad_token()))
}

/// A (notes, row number) page key of a report ordered by notes.
fn notes_key(token: &str) -> Result<Option<(String, i64)>, Status> {
    page_key::<2>(token)?
        .map(|[notes, seq]| {
            seq.parse::<i64>()
                .map(|seq| (notes, seq))
                .map_err(|_| bad_token())
        })
        .transpose()
}
