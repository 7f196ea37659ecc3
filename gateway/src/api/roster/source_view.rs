//! RO-2 / RO-6: a sync source as read back. Secrets are write-only: no
//! answer has a field for one, only whether one is stored.

use homeroom_proto::roster::v1::{self as pb, connector_config::Config};
use serde::Serialize;

use super::{
    enums::{AuthMethod, RunStatus, SourceKind},
    params::non_empty,
};
use crate::api::json::timestamp;

/// A sync source as read back.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSourceView {
    pub sync_source_id: String,
    pub district_id: String,
    /// `null` for a source of the whole district.
    pub school_id: Option<String>,
    pub display_name: String,
    pub kind: Option<SourceKind>,
    pub connector: ConnectorView,
    pub schedule: ScheduleView,
    pub settings: SettingsView,
    pub last_run_id: Option<String>,
    pub last_run_status: Option<RunStatus>,
    pub last_run_finished_at: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// Connector settings as read back: the one of the source's kind.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorView {
    pub oneroster_csv: Option<CsvView>,
    pub oneroster_rest: Option<RestView>,
    pub clever: Option<CleverView>,
}

/// A OneRoster CSV connector.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsvView {
    pub location: String,
}

/// A OneRoster REST connector, without its secrets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestView {
    pub base_url: String,
    pub auth_method: Option<AuthMethod>,
    pub token_url: String,
    pub client_id: String,
    /// Whether a client secret is stored.
    pub client_secret_set: bool,
    pub scope: String,
    pub oauth1_key: String,
    /// Whether an OAuth 1.0a secret is stored.
    pub oauth1_secret_set: bool,
    /// Whether a bearer token is stored.
    pub bearer_token_set: bool,
    pub page_size: u32,
}

/// A Clever connector, without its token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CleverView {
    pub base_url: String,
    /// Whether a district token is stored.
    pub district_token_set: bool,
    pub use_events: bool,
    pub page_size: u32,
}

/// A schedule as read back.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    /// "HH:MM"; `null` when on demand only.
    pub daily_time: Option<String>,
    pub paused: bool,
    /// The district's time zone the time is in.
    pub time_zone: String,
    pub next_run_at: Option<String>,
}

/// Settings as read back.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub manages_guardians: bool,
    pub send_invitations: bool,
    pub unarchive_classes: bool,
    pub update_active_user_contacts: bool,
    pub deactivation_threshold_percent: Option<u32>,
    /// Grades whose students get accounts; empty: none.
    pub student_account_grades: Vec<String>,
}

impl From<pb::SyncSource> for SyncSourceView {
    fn from(s: pb::SyncSource) -> SyncSourceView {
        let schedule = s.schedule.unwrap_or_default();
        let settings = s.settings.unwrap_or_default();
        SyncSourceView {
            kind: SourceKind::of(s.kind),
            last_run_status: RunStatus::of(s.last_run_status),
            last_run_finished_at: s.last_run_finished_at.as_ref().and_then(timestamp),
            created_at: s.created_at.as_ref().and_then(timestamp),
            updated_at: s.updated_at.as_ref().and_then(timestamp),
            connector: connector_view(s.connector),
            schedule: ScheduleView {
                next_run_at: schedule.next_run_at.as_ref().and_then(timestamp),
                daily_time: non_empty(schedule.daily_time),
                paused: schedule.paused,
                time_zone: schedule.time_zone,
            },
            settings: SettingsView {
                manages_guardians: settings.manages_guardians,
                send_invitations: settings.send_invitations,
                unarchive_classes: settings.unarchive_classes,
                update_active_user_contacts: settings.update_active_user_contacts,
                deactivation_threshold_percent: settings.deactivation_threshold_percent,
                student_account_grades: settings.student_account_grades,
            },
            sync_source_id: s.sync_source_id,
            district_id: s.district_id,
            school_id: non_empty(s.school_id),
            display_name: s.display_name,
            last_run_id: non_empty(s.last_run_id),
        }
    }
}

/// The connector's settings; secrets are not copied, whatever the service
/// sent.
fn connector_view(connector: Option<pb::ConnectorConfig>) -> ConnectorView {
    let mut view = ConnectorView::default();
    match connector.and_then(|c| c.config) {
        Some(Config::OnerosterCsv(c)) => {
            view.oneroster_csv = Some(CsvView {
                location: c.location,
            });
        }
        Some(Config::OnerosterRest(r)) => {
            view.oneroster_rest = Some(RestView {
                auth_method: AuthMethod::of(r.auth_method),
                base_url: r.base_url,
                token_url: r.token_url,
                client_id: r.client_id,
                client_secret_set: r.client_secret_set,
                scope: r.scope,
                oauth1_key: r.oauth1_key,
                oauth1_secret_set: r.oauth1_secret_set,
                bearer_token_set: r.bearer_token_set,
                page_size: r.page_size,
            });
        }
        Some(Config::Clever(c)) => {
            view.clever = Some(CleverView {
                base_url: c.base_url,
                district_token_set: c.district_token_set,
                use_events: c.use_events,
                page_size: c.page_size,
            });
        }
        None => {}
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_read_back() {
        let source = pb::SyncSource {
            connector: Some(pb::ConnectorConfig {
                config: Some(Config::Clever(pb::CleverConfig {
                    district_token: "leaked-token".into(),
                    district_token_set: true,
                    ..Default::default()
                })),
            }),
            ..Default::default()
        };
        let json = serde_json::to_string(&SyncSourceView::from(source)).unwrap();
        assert!(!json.contains("leaked-token"), "{json}");
        assert!(json.contains("\"districtTokenSet\":true"), "{json}");
    }
}
