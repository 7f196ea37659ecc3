//! Stored rows → proto messages, and proto enums ↔ stored spellings.

use chrono::{DateTime, NaiveDateTime, Utc};
use homeroom_proto::roster::v1 as pb;

use crate::{
    domain::{
        plan::Guard,
        records::{Action, Entity},
        upload::UploadCounts,
    },
    ops::{
        runs, schedule,
        sources::{RestAuthMethod, StoredConfig, secret_set},
        uploads::Upload,
    },
    store::{
        districts::DistrictRow,
        sync::{ReportRowRecord, RunRow, SourceRow},
        uploads::ResultRecord,
    },
};

/// A timestamp.
pub fn ts(t: NaiveDateTime) -> prost_types::Timestamp {
    let utc = t.and_utc();
    prost_types::Timestamp {
        seconds: utc.timestamp(),
        nanos: i32::try_from(utc.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A record status, stored spelling → proto.
pub fn status(s: &str) -> pb::RecordStatus {
    match s {
        "active" => pb::RecordStatus::Active,
        "archived" => pb::RecordStatus::Archived,
        _ => pb::RecordStatus::Deactivated,
    }
}

/// District settings.
pub fn settings(d: &DistrictRow) -> pb::DistrictSettings {
    pb::DistrictSettings {
        district_id: d.id.clone(),
        time_zone: d.time_zone.clone(),
        default_phone_region: d.default_phone_region.clone(),
        supported_languages: d.supported_languages.split(' ').map(String::from).collect(),
        updated_at: Some(ts(d.updated_at)),
    }
}

/// A district.
pub fn district(d: &DistrictRow) -> pb::District {
    pb::District {
        district_id: d.id.clone(),
        name: d.name.clone(),
        status: status(&d.status).into(),
        sources: vec![],
        settings: Some(settings(d)),
        created_at: Some(ts(d.created_at)),
        updated_at: Some(ts(d.updated_at)),
    }
}

/// Source kind, stored spelling → proto.
pub fn kind(s: &str) -> pb::SyncSourceKind {
    match s {
        "oneroster_csv" => pb::SyncSourceKind::OnerosterCsv,
        "oneroster_rest" => pb::SyncSourceKind::OnerosterRest,
        "clever" => pb::SyncSourceKind::Clever,
        "upload" => pb::SyncSourceKind::Upload,
        _ => pb::SyncSourceKind::Unspecified,
    }
}

/// Source kind, proto → stored spelling.
pub fn kind_str(k: i32) -> &'static str {
    match pb::SyncSourceKind::try_from(k).unwrap_or(pb::SyncSourceKind::Unspecified) {
        pb::SyncSourceKind::OnerosterCsv => "oneroster_csv",
        pb::SyncSourceKind::OnerosterRest => "oneroster_rest",
        pb::SyncSourceKind::Clever => "clever",
        pb::SyncSourceKind::Upload => "upload",
        pb::SyncSourceKind::Unspecified => "",
    }
}

/// Run status, stored → proto.
pub fn run_status(s: &str) -> pb::SyncRunStatus {
    match s {
        "queued" => pb::SyncRunStatus::Queued,
        "running" => pb::SyncRunStatus::Running,
        "completed" => pb::SyncRunStatus::Completed,
        "failed" => pb::SyncRunStatus::Failed,
        _ => pb::SyncRunStatus::Unspecified,
    }
}

/// Run status, proto → stored.
pub fn run_status_str(s: i32) -> Option<&'static str> {
    match pb::SyncRunStatus::try_from(s).ok()? {
        pb::SyncRunStatus::Queued => Some("queued"),
        pb::SyncRunStatus::Running => Some("running"),
        pb::SyncRunStatus::Completed => Some("completed"),
        pb::SyncRunStatus::Failed => Some("failed"),
        pb::SyncRunStatus::Unspecified => None,
    }
}

/// A source. Secrets are never returned: each reads back empty with its
/// `*_set` flag. `time_zone` is the district's; `now` places the next run.
pub fn source(
    s: &SourceRow,
    last: Option<&RunRow>,
    time_zone: &str,
    now: DateTime<Utc>,
) -> pb::SyncSource {
    let next_run_at = schedule::Daily::of(s, time_zone)
        .and_then(|d| d.next(now))
        .map(|t| ts(t.naive_utc()));
    let connector = connector_view(s);
    pb::SyncSource {
        sync_source_id: s.id.clone(),
        district_id: s.district_id.clone(),
        school_id: s.school_id.clone().unwrap_or_default(),
        display_name: s.name.clone(),
        kind: kind(&s.kind).into(),
        connector,
        schedule: Some(pb::SyncSchedule {
            daily_time: s.daily_at.clone().unwrap_or_default(),
            paused: s.paused,
            time_zone: time_zone.to_owned(),
            next_run_at,
        }),
        settings: Some(pb::SyncSettings {
            manages_guardians: s.manages_guardians,
            send_invitations: s.send_invitations,
            unarchive_classes: s.unarchive_classes,
            update_active_user_contacts: s.update_active_user_contacts,
            deactivation_threshold_percent: u32::try_from(s.deactivation_threshold_percent).ok(),
            student_account_grades: s
                .student_account_grades
                .split_whitespace()
                .map(String::from)
                .collect(),
        }),
        last_run_id: last.map(|r| r.id.clone()).unwrap_or_default(),
        last_run_status: last
            .map_or(pb::SyncRunStatus::Unspecified, |r| run_status(&r.status))
            .into(),
        last_run_finished_at: last.and_then(|r| r.finished_at).map(ts),
        created_at: Some(ts(s.created_at)),
        updated_at: Some(ts(s.updated_at)),
    }
}

/// The connector settings of a source, secrets left out.
fn connector_view(s: &SourceRow) -> Option<pb::ConnectorConfig> {
    use pb::connector_config::Config;
    let stored = StoredConfig::parse(&s.config);
    let config = match s.kind.as_str() {
        "oneroster_csv" => Config::OnerosterCsv(pb::OneRosterCsvConfig {
            location: stored.location.clone(),
        }),
        "clever" => {
            let c = stored.clever.clone().unwrap_or_default();
            Config::Clever(pb::CleverConfig {
                base_url: c.base_url,
                district_token: String::new(),
                district_token_set: secret_set(s, &stored, "district_token"),
                use_events: c.use_events,
                page_size: c.page_size,
            })
        }
        "oneroster_rest" => {
            let r = stored.oneroster_rest.clone()?;
            Config::OnerosterRest(pb::OneRosterRestConfig {
                base_url: r.base_url,
                auth_method: match r.auth_method {
                    RestAuthMethod::OAuth2 => pb::OneRosterAuthMethod::Oauth2ClientCredentials,
                    RestAuthMethod::OAuth1 => pb::OneRosterAuthMethod::Oauth1HmacSha256,
                    RestAuthMethod::Bearer => pb::OneRosterAuthMethod::BearerToken,
                }
                .into(),
                token_url: r.token_url,
                client_id: r.client_id,
                client_secret: String::new(),
                client_secret_set: secret_set(s, &stored, "client_secret"),
                scope: r.scope,
                oauth1_key: r.oauth1_key,
                oauth1_secret: String::new(),
                oauth1_secret_set: secret_set(s, &stored, "oauth1_secret"),
                bearer_token: String::new(),
                bearer_token_set: secret_set(s, &stored, "bearer_token"),
                page_size: r.page_size,
            })
        }
        _ => return None,
    };
    Some(pb::ConnectorConfig {
        config: Some(config),
    })
}

/// Entity, domain → proto.
pub fn entity(e: Entity) -> pb::RosterEntity {
    match e {
        Entity::District => pb::RosterEntity::District,
        Entity::School => pb::RosterEntity::School,
        Entity::AcademicSession => pb::RosterEntity::AcademicSession,
        Entity::Course => pb::RosterEntity::Course,
        Entity::Class => pb::RosterEntity::Class,
        Entity::Enrollment => pb::RosterEntity::Enrollment,
        Entity::Student => pb::RosterEntity::Student,
        Entity::Staff => pb::RosterEntity::Staff,
        Entity::Guardian => pb::RosterEntity::Guardian,
        Entity::GuardianLink => pb::RosterEntity::GuardianLink,
    }
}

/// Entity filter, proto → stored spelling.
pub fn entity_str(e: i32) -> Option<&'static str> {
    let e = pb::RosterEntity::try_from(e).ok()?;
    Entity::ALL
        .into_iter()
        .find(|x| entity(*x) == e)
        .map(Entity::as_str)
}

/// Action, domain → proto.
pub fn action(a: Action) -> pb::RecordAction {
    match a {
        Action::Created => pb::RecordAction::Created,
        Action::Updated => pb::RecordAction::Updated,
        Action::Unchanged => pb::RecordAction::Unchanged,
        Action::Deactivated => pb::RecordAction::Deactivated,
        Action::Skipped => pb::RecordAction::Skipped,
        Action::Error => pb::RecordAction::Error,
        Action::Abandoned => pb::RecordAction::Abandoned,
    }
}

/// Action filter, proto → stored spelling.
pub fn action_str(a: i32) -> Option<&'static str> {
    let a = pb::RecordAction::try_from(a).ok()?;
    Action::ALL
        .into_iter()
        .find(|x| action(*x) == a)
        .map(Action::as_str)
}

fn phase(s: &str) -> pb::SyncPhase {
    match s {
        "reading" => pb::SyncPhase::Reading,
        "planning" => pb::SyncPhase::Planning,
        "applying" => pb::SyncPhase::Applying,
        "reporting" => pb::SyncPhase::Reporting,
        "done" => pb::SyncPhase::Done,
        _ => pb::SyncPhase::Unspecified,
    }
}

fn failure(s: Option<&str>) -> pb::SyncFailureKind {
    match s {
        Some("deactivation_guard") => pb::SyncFailureKind::DeactivationGuard,
        Some("credentials_rejected") => pb::SyncFailureKind::CredentialsRejected,
        Some("source_unavailable") => pb::SyncFailureKind::SourceUnavailable,
        Some("invalid_input") => pb::SyncFailureKind::InvalidInput,
        Some(_) => pb::SyncFailureKind::Internal,
        None => pb::SyncFailureKind::Unspecified,
    }
}

fn trigger(s: &str) -> pb::SyncTrigger {
    match s {
        "schedule" => pb::SyncTrigger::Schedule,
        "on_demand" => pb::SyncTrigger::OnDemand,
        "bundle_import" => pb::SyncTrigger::BundleImport,
        "upload" => pb::SyncTrigger::Upload,
        _ => pb::SyncTrigger::Unspecified,
    }
}

/// A run.
pub fn run(r: &RunRow, source: &SourceRow) -> pb::SyncRun {
    let totals = runs::totals(r);
    let guard: Option<Guard> = r
        .guard
        .as_deref()
        .and_then(|g| serde_json::from_str(g).ok());
    pb::SyncRun {
        sync_run_id: r.id.clone(),
        sync_source_id: r.source_id.clone(),
        source_kind: kind(&source.kind).into(),
        district_id: r.district_id.clone(),
        school_id: source.school_id.clone().unwrap_or_default(),
        status: run_status(&r.status).into(),
        trigger: trigger(&r.trigger_kind).into(),
        mode: match r.mode.as_deref() {
            Some("full") => pb::SyncMode::Full,
            Some("delta") => pb::SyncMode::Delta,
            _ => pb::SyncMode::Unspecified,
        }
        .into(),
        dry_run: r.dry_run,
        forced: r.forced,
        requested_by_account_id: r.requested_by.clone().unwrap_or_default(),
        progress: Some(pb::SyncProgress {
            phase: phase(&r.phase).into(),
            records_done: u64::try_from(r.records_done).unwrap_or(0),
            records_total: u64::try_from(r.records_total).unwrap_or(0),
        }),
        totals: Entity::ALL
            .into_iter()
            .filter(|e| totals.0.contains_key(e.as_str()))
            .map(|e| pb::EntityTotals {
                entity: entity(e).into(),
                created: totals.get(e, Action::Created),
                updated: totals.get(e, Action::Updated),
                unchanged: totals.get(e, Action::Unchanged),
                deactivated: totals.get(e, Action::Deactivated),
                skipped: totals.get(e, Action::Skipped),
                errors: totals.get(e, Action::Error),
                abandoned: totals.get(e, Action::Abandoned),
            })
            .collect(),
        notice: guard
            .filter(|g| g.exceeded && r.dry_run && r.status == "completed")
            .map(|g| g.dry_run_notice())
            .unwrap_or_default(),
        deactivation_guard: guard.map(|g| pb::DeactivationGuardCheck {
            people_total: g.people_total,
            would_deactivate: g.would_deactivate,
            threshold_percent: g.threshold_percent,
            exceeded: g.exceeded,
        }),
        failure_kind: failure(r.failure_kind.as_deref()).into(),
        failure_message: r.failure_message.clone().unwrap_or_default(),
        oneroster_version: r.oneroster_version.clone().unwrap_or_default(),
        filename: r.filename.clone().unwrap_or_default(),
        upload_id: r.upload_id.clone().unwrap_or_default(),
        created_at: Some(ts(r.created_at)),
        started_at: r.started_at.map(ts),
        finished_at: r.finished_at.map(ts),
    }
}

/// A report row. A row whose entity or action this service does not know
/// (written by a newer version) shows them unspecified, without its fields
/// or notes.
pub fn report_row(r: &ReportRowRecord) -> pb::SyncReportRow {
    let kind = r.kind();
    pb::SyncReportRow {
        row_number: u64::try_from(r.seq).unwrap_or(0),
        entity: kind
            .map_or(pb::RosterEntity::Unspecified, |(e, _)| entity(e))
            .into(),
        source_id: r.source_id.clone(),
        name: r.name.clone(),
        action: kind
            .map_or(pb::RecordAction::Unspecified, |(_, a)| action(a))
            .into(),
        changed_fields: kind.map(|_| r.changed_fields()).unwrap_or_default(),
        notes: kind.map(|_| r.notes()).unwrap_or_default(),
        record_id: r.record_id.clone().unwrap_or_default(),
        account_id: r.account_id.clone().unwrap_or_default(),
    }
}

/// An upload's status from its run's.
pub fn upload_status(run_status: &str) -> pb::GuardianUploadStatus {
    match run_status {
        "queued" => pb::GuardianUploadStatus::Queued,
        "running" => pb::GuardianUploadStatus::InProgress,
        "completed" => pb::GuardianUploadStatus::Completed,
        "failed" => pb::GuardianUploadStatus::Failed,
        _ => pb::GuardianUploadStatus::Unspecified,
    }
}

/// The run statuses an upload status filter means.
pub fn upload_status_str(s: i32) -> Option<&'static str> {
    match pb::GuardianUploadStatus::try_from(s).ok()? {
        pb::GuardianUploadStatus::Queued => Some("queued"),
        pb::GuardianUploadStatus::InProgress => Some("running"),
        pb::GuardianUploadStatus::Completed => Some("completed"),
        pb::GuardianUploadStatus::Failed => Some("failed"),
        pb::GuardianUploadStatus::Unspecified => None,
    }
}

/// An upload.
pub fn upload(u: &Upload) -> pb::GuardianUpload {
    let (run, up) = (&u.run, &u.upload);
    let counts: UploadCounts = serde_json::from_str(&up.counts).unwrap_or_default();
    pb::GuardianUpload {
        upload_id: run.id.clone(),
        district_id: up.district_id.clone(),
        school_id: up.school_id.clone().unwrap_or_default(),
        sync_source_id: up.source_id.clone(),
        sync_run_id: run.id.clone(),
        filename: up.filename.clone(),
        size_bytes: u64::try_from(up.size_bytes).unwrap_or(0),
        encoding: up.encoding.clone(),
        dry_run: run.dry_run,
        abandon: up.abandon,
        forced: run.forced,
        status: upload_status(&run.status).into(),
        rows_done: u64::try_from(run.records_done).unwrap_or(0),
        rows_total: u64::try_from(run.records_total).unwrap_or(0),
        counts: Some(pb::GuardianUploadCounts {
            rows_succeeded: counts.rows_succeeded,
            rows_failed: counts.rows_failed,
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            links_abandoned: counts.links_abandoned,
            accounts_deactivated: counts.accounts_deactivated,
            invitations_sent: counts.invitations_sent,
        }),
        failure_message: run.failure_message.clone().unwrap_or_default(),
        requested_by_account_id: run.requested_by.clone().unwrap_or_default(),
        created_at: Some(ts(run.created_at)),
        started_at: run.started_at.map(ts),
        finished_at: run.finished_at.map(ts),
    }
}

/// One line of an upload's result.
pub fn upload_row(r: &ResultRecord) -> pb::GuardianUploadRow {
    pb::GuardianUploadRow {
        line_number: u64::try_from(r.line_number).unwrap_or(0),
        student_code: r.student_code.clone(),
        parent_code: r.parent_code.clone(),
        first_name: r.first_name.clone(),
        last_name: r.last_name.clone(),
        email: r.email.clone(),
        phone: r.phone.clone(),
        home_phone: r.home_phone.clone(),
        language: r.language.clone(),
        result: if r.result == "SUCCESS" {
            pb::UploadRowResult::Success
        } else {
            pb::UploadRowResult::Error
        }
        .into(),
        action: r
            .action
            .as_deref()
            .and_then(Action::parse)
            .map_or(pb::RecordAction::Unspecified, action)
            .into(),
        error: r.error.clone(),
        account_id: r.account_id.clone().unwrap_or_default(),
    }
}
