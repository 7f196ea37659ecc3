//! RO-2 / RO-6: a sync source as a client sends it, to create one or to
//! change some of its fields (each field given becomes an update-mask path).
//! Secrets are write-only: see [`super::source_view`] for what reads back.

use homeroom_proto::roster::v1::{self as pb, connector_config::Config};
use serde::Deserialize;

use super::enums::{AuthMethod, SourceKind};
use crate::api::error::ApiError;

/// `POST /api/v1/sync-sources`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSyncSource {
    /// The district.
    pub district_id: String,
    /// Limits the source to one school of the district.
    pub school_id: Option<String>,
    /// Name to show, e.g. "PowerSchool nightly (Clever)".
    pub display_name: String,
    /// The kind of source (fixed once created).
    pub kind: SourceKind,
    /// Connector settings: the one matching `kind` (none for UPLOAD).
    pub connector: Option<ConnectorInput>,
    /// When it runs by itself.
    pub schedule: Option<ScheduleInput>,
    /// What its runs do.
    pub settings: Option<SettingsInput>,
}

/// `PATCH /api/v1/sync-sources/{sourceId}`: the fields given change, the
/// others stay; a secret left out (or empty) keeps the stored one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncSourcePatch {
    /// Name to show.
    pub display_name: Option<String>,
    /// Connector settings (of the source's own kind).
    pub connector: Option<ConnectorInput>,
    /// Schedule and pause.
    pub schedule: Option<ScheduleInput>,
    /// What runs do, RO-6's policy included.
    pub settings: Option<SettingsInput>,
}

/// Connector settings: exactly one of the three.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorInput {
    /// For ONEROSTER_CSV sources.
    pub oneroster_csv: Option<CsvInput>,
    /// For ONEROSTER_REST (ClassLink) sources.
    pub oneroster_rest: Option<RestInput>,
    /// For CLEVER sources.
    pub clever: Option<CleverInput>,
}

/// A OneRoster CSV source's bundle location.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsvInput {
    /// An https URL of a .zip, or (where the operator set an import root) a
    /// folder or .zip in the district's import folder; empty: bundles are
    /// only uploaded (`POST /sync-sources/{id}/bundles`).
    pub location: Option<String>,
}

/// A OneRoster REST connector.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestInput {
    /// e.g. "https://district-ca-v2.oneroster.com".
    pub base_url: Option<String>,
    /// OAuth 2 client credentials or OAuth 1.0a.
    pub auth_method: Option<AuthMethod>,
    /// OAuth 2 token endpoint (default `<baseUrl>/oauth/token`).
    pub token_url: Option<String>,
    /// OAuth 2 client id.
    pub client_id: Option<String>,
    /// Write-only: the OAuth 2 client secret.
    pub client_secret: Option<String>,
    /// OAuth 2 scope, if the server needs one.
    pub scope: Option<String>,
    /// OAuth 1.0a consumer key.
    pub oauth1_key: Option<String>,
    /// Write-only: the OAuth 1.0a consumer secret.
    pub oauth1_secret: Option<String>,
    /// Write-only: the bearer token from the ClassLink console (BEARER_TOKEN).
    pub bearer_token: Option<String>,
    /// Page size (`limit`); 0 is the default (1,000).
    pub page_size: Option<u32>,
}

/// A Clever API v3 connector.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleverInput {
    /// Default "https://api.clever.com".
    pub base_url: Option<String>,
    /// Write-only: the district bearer token.
    pub district_token: Option<String>,
    /// Sync incrementally from /events after the first full sync.
    pub use_events: Option<bool>,
    /// Page size (`limit`); 0 is the default (1,000).
    pub page_size: Option<u32>,
}

/// When a source runs by itself.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleInput {
    /// Daily run time "HH:MM" in the district's time zone; "" is on demand only.
    pub daily_time: Option<String>,
    /// No scheduled runs while paused (on-demand runs still work).
    pub paused: Option<bool>,
}

/// What a source's runs do.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsInput {
    /// The source manages guardians (off when guardians come by upload).
    pub manages_guardians: Option<bool>,
    /// New guardians and staff get an invitation.
    pub send_invitations: Option<bool>,
    /// Classes that reappear are unarchived.
    pub unarchive_classes: Option<bool>,
    /// RO-6: "Allow the sync to update contact details of active users".
    pub update_active_user_contacts: Option<bool>,
    /// Students of these grades (`KG`, `01` … `12`) get accounts with their
    /// SIS email; empty (the default): no student accounts.
    pub student_account_grades: Option<Vec<String>>,
    /// RO-3: the share of people a run may deactivate unforced (default 20).
    #[schema(maximum = 100)]
    pub deactivation_threshold_percent: Option<u32>,
}

/// The update-mask paths of the fields a request gives.
#[derive(Debug, Default)]
pub struct Mask(pub Vec<String>);

impl Mask {
    /// `value` or its default, noting `path` when it is given.
    fn take<T: Default>(&mut self, path: &str, value: Option<T>) -> T {
        if value.is_some() {
            self.0.push(path.to_string());
        }
        value.unwrap_or_default()
    }
}

impl ConnectorInput {
    /// The proto settings, noting the fields given.
    pub fn into_pb(self, mask: &mut Mask) -> Result<pb::ConnectorConfig, ApiError> {
        let config = match (self.oneroster_csv, self.oneroster_rest, self.clever) {
            (Some(c), None, None) => Config::OnerosterCsv(pb::OneRosterCsvConfig {
                location: mask.take("connector.oneroster_csv.location", c.location),
            }),
            (None, Some(r), None) => Config::OnerosterRest(r.into_pb(mask)),
            (None, None, Some(c)) => Config::Clever(pb::CleverConfig {
                base_url: mask.take("connector.clever.base_url", c.base_url),
                district_token: mask.take("connector.clever.district_token", c.district_token),
                district_token_set: false,
                use_events: mask.take("connector.clever.use_events", c.use_events),
                page_size: mask.take("connector.clever.page_size", c.page_size),
            }),
            _ => {
                return Err(ApiError::bad_request(
                    "connector: give exactly one of onerosterCsv, onerosterRest, clever",
                ));
            }
        };
        Ok(pb::ConnectorConfig {
            config: Some(config),
        })
    }
}

impl RestInput {
    fn into_pb(self, mask: &mut Mask) -> pb::OneRosterRestConfig {
        let path = |field: &str| format!("connector.oneroster_rest.{field}");
        pb::OneRosterRestConfig {
            base_url: mask.take(&path("base_url"), self.base_url),
            auth_method: mask.take(&path("auth_method"), self.auth_method.map(i32::from)),
            token_url: mask.take(&path("token_url"), self.token_url),
            client_id: mask.take(&path("client_id"), self.client_id),
            client_secret: mask.take(&path("client_secret"), self.client_secret),
            client_secret_set: false,
            scope: mask.take(&path("scope"), self.scope),
            oauth1_key: mask.take(&path("oauth1_key"), self.oauth1_key),
            oauth1_secret: mask.take(&path("oauth1_secret"), self.oauth1_secret),
            oauth1_secret_set: false,
            bearer_token: mask.take(&path("bearer_token"), self.bearer_token),
            bearer_token_set: false,
            page_size: mask.take(&path("page_size"), self.page_size),
        }
    }
}

impl ScheduleInput {
    /// The proto schedule, noting the fields given.
    pub fn into_pb(self, mask: &mut Mask) -> pb::SyncSchedule {
        pb::SyncSchedule {
            daily_time: mask.take("schedule.daily_time", self.daily_time),
            paused: mask.take("schedule.paused", self.paused),
            ..Default::default()
        }
    }
}

impl SettingsInput {
    /// The proto settings, noting the fields given.
    pub fn into_pb(self, mask: &mut Mask) -> pb::SyncSettings {
        let threshold = self.deactivation_threshold_percent;
        if threshold.is_some() {
            mask.0
                .push("settings.deactivation_threshold_percent".into());
        }
        pb::SyncSettings {
            manages_guardians: mask.take("settings.manages_guardians", self.manages_guardians),
            send_invitations: mask.take("settings.send_invitations", self.send_invitations),
            unarchive_classes: mask.take("settings.unarchive_classes", self.unarchive_classes),
            update_active_user_contacts: mask.take(
                "settings.update_active_user_contacts",
                self.update_active_user_contacts,
            ),
            deactivation_threshold_percent: threshold,
            student_account_grades: mask.take(
                "settings.student_account_grades",
                self.student_account_grades,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_names_exactly_the_fields_it_gives() {
        let patch: SyncSourcePatch = serde_json::from_value(serde_json::json!({
            "connector": {"clever": {"districtToken": "new-token"}},
            "settings": {"updateActiveUserContacts": true, "deactivationThresholdPercent": 30},
        }))
        .unwrap();
        let mut mask = Mask::default();
        let connector = patch.connector.unwrap().into_pb(&mut mask).unwrap();
        let settings = patch.settings.unwrap().into_pb(&mut mask);
        assert_eq!(
            mask.0,
            [
                "connector.clever.district_token",
                "settings.deactivation_threshold_percent",
                "settings.update_active_user_contacts",
            ]
        );
        assert!(settings.update_active_user_contacts);
        assert!(
            matches!(connector.config, Some(Config::Clever(c)) if c.district_token == "new-token")
        );
    }

    #[test]
    fn two_connectors_at_once_are_refused() {
        let input = ConnectorInput {
            oneroster_csv: Some(CsvInput::default()),
            clever: Some(CleverInput::default()),
            ..Default::default()
        };
        let e = input.into_pb(&mut Mask::default()).unwrap_err();
        assert_eq!(e.status.as_u16(), 400);
    }
}
