//! A sync source's form (RO-2, RO-6): what the page sends, read into the
//! REST API's own inputs (so the console changes a source exactly as
//! `PATCH /api/v1/sync-sources/{id}` does), and the fields as the page shows
//! them — a secret is never filled in, only said to be set or not, one left
//! empty keeps the stored one, and a service's complaint sits next to the
//! field it names.

use homeroom_proto::roster::v1::{self as rpb, connector_config::Config};
use serde::Deserialize;

use super::text::Text;
use crate::api::{
    error::ApiError,
    params::optional_id,
    roster::{
        enums::{AuthMethod, SourceKind},
        source_input::{
            CleverInput, ConnectorInput, CsvInput, Mask, RestInput, ScheduleInput, SettingsInput,
        },
    },
};

/// The kinds of source the console sets up (a guardian-upload source comes
/// with the district's first upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Csv,
    Rest,
    Clever,
}

impl Kind {
    /// Every kind, in the order the page offers them.
    pub const ALL: [Kind; 3] = [Kind::Csv, Kind::Rest, Kind::Clever];

    /// The `kind` the form and `?kind=` carry.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Csv => "oneroster_csv",
            Kind::Rest => "oneroster_rest",
            Kind::Clever => "clever",
        }
    }

    /// The kind a form names.
    pub fn parse(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug.trim())
    }

    /// A stored source's kind; `None` for a guardian-upload source.
    pub fn of(kind: rpb::SyncSourceKind) -> Option<Kind> {
        match kind {
            rpb::SyncSourceKind::OnerosterCsv => Some(Kind::Csv),
            rpb::SyncSourceKind::OnerosterRest => Some(Kind::Rest),
            rpb::SyncSourceKind::Clever => Some(Kind::Clever),
            rpb::SyncSourceKind::Upload | rpb::SyncSourceKind::Unspecified => None,
        }
    }

    /// The proto kind.
    pub fn proto(self) -> rpb::SyncSourceKind {
        self.wire().into()
    }

    fn wire(self) -> SourceKind {
        match self {
            Kind::Csv => SourceKind::OnerosterCsv,
            Kind::Rest => SourceKind::OnerosterRest,
            Kind::Clever => SourceKind::Clever,
        }
    }
}

/// How a ticked checkbox arrives.
const ON: &str = "on";

/// The sign-in methods of a OneRoster REST source, as the form names them.
pub(super) const AUTH: [(&str, AuthMethod); 3] = [
    ("oauth2", AuthMethod::Oauth2ClientCredentials),
    ("oauth1", AuthMethod::Oauth1HmacSha256),
    ("bearer", AuthMethod::BearerToken),
];

/// What the form sends, every field as typed. No `Debug`: it may hold
/// secrets.
#[derive(Default, Clone, Deserialize)]
pub struct SourceForm {
    #[serde(default)]
    pub csrf: String,
    /// A new source's kind (`oneroster_csv` …); an edit takes the stored one.
    #[serde(default)]
    pub kind: String,
    /// A new source's school; empty: the whole district.
    #[serde(default)]
    pub school: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub base_url: String,
    /// `oauth2`, `oauth1` or `bearer`.
    #[serde(default)]
    pub auth_method: String,
    #[serde(default)]
    pub token_url: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub oauth1_key: String,
    #[serde(default)]
    pub oauth1_secret: String,
    #[serde(default)]
    pub bearer_token: String,
    #[serde(default)]
    pub district_token: String,
    #[serde(default)]
    pub daily_time: String,
    #[serde(default)]
    pub threshold: String,
    /// The checkboxes: present when ticked.
    #[serde(default)]
    pub manages_guardians: Option<String>,
    #[serde(default)]
    pub send_invitations: Option<String>,
    #[serde(default)]
    pub unarchive_classes: Option<String>,
    /// RO-6 on a new source (a source's page has its own switch).
    #[serde(default)]
    pub contact_updates: Option<String>,
}

impl SourceForm {
    /// A new source's form, with the usual settings ticked.
    pub fn blank(kind: Kind) -> SourceForm {
        SourceForm {
            kind: kind.slug().to_owned(),
            auth_method: AUTH[0].0.to_owned(),
            manages_guardians: Some(ON.to_owned()),
            unarchive_classes: Some(ON.to_owned()),
            ..SourceForm::default()
        }
    }

    /// The form of a stored source (secrets are never read back).
    pub fn of(source: &rpb::SyncSource) -> SourceForm {
        let settings = source.settings.clone().unwrap_or_default();
        let schedule = source.schedule.clone().unwrap_or_default();
        let ticked = |on: bool| on.then(|| ON.to_owned());
        let mut form = SourceForm {
            name: source.display_name.clone(),
            daily_time: schedule.daily_time,
            threshold: settings
                .deactivation_threshold_percent
                .map(|p| p.to_string())
                .unwrap_or_default(),
            manages_guardians: ticked(settings.manages_guardians),
            send_invitations: ticked(settings.send_invitations),
            unarchive_classes: ticked(settings.unarchive_classes),
            contact_updates: ticked(settings.update_active_user_contacts),
            ..SourceForm::default()
        };
        match source.connector.as_ref().and_then(|c| c.config.as_ref()) {
            Some(Config::OnerosterCsv(c)) => form.location.clone_from(&c.location),
            Some(Config::OnerosterRest(r)) => {
                let method = AuthMethod::of(r.auth_method);
                form.auth_method = AUTH
                    .iter()
                    .find(|(_, m)| Some(*m) == method)
                    .map_or(AUTH[0].0, |(slug, _)| *slug)
                    .to_owned();
                form.base_url.clone_from(&r.base_url);
                form.token_url.clone_from(&r.token_url);
                form.client_id.clone_from(&r.client_id);
                form.oauth1_key.clone_from(&r.oauth1_key);
            }
            Some(Config::Clever(_)) | None => {}
        }
        form
    }

    /// A new source of `kind` in `district_id`.
    pub fn new_source(
        &self,
        t: &Text,
        kind: Kind,
        district_id: String,
    ) -> Result<rpb::SyncSource, ApiError> {
        let mut given = Mask::default();
        Ok(rpb::SyncSource {
            district_id,
            school_id: optional_id("school_id", Some(self.school.as_str()))?,
            display_name: self.name.trim().to_owned(),
            kind: kind.wire().into(),
            connector: Some(self.connector(kind).into_pb(&mut given)?),
            schedule: Some(self.schedule().into_pb(&mut given)),
            settings: Some(self.settings(t, true)?.into_pb(&mut given)),
            ..Default::default()
        })
    }

    /// The change of source `id` (of `kind`; `None`: it has no connector
    /// settings): every field of the form, a secret only when typed.
    pub fn changes(
        &self,
        t: &Text,
        id: String,
        kind: Option<Kind>,
    ) -> Result<rpb::UpdateSyncSourceRequest, ApiError> {
        let mut mask = Mask(vec!["display_name".to_owned()]);
        let connector = kind
            .map(|k| self.connector(k).into_pb(&mut mask))
            .transpose()?;
        let schedule = self.schedule().into_pb(&mut mask);
        let settings = self.settings(t, false)?.into_pb(&mut mask);
        Ok(rpb::UpdateSyncSourceRequest {
            sync_source: Some(rpb::SyncSource {
                sync_source_id: id,
                display_name: self.name.trim().to_owned(),
                connector,
                schedule: Some(schedule),
                settings: Some(settings),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: mask.0 }),
        })
    }

    fn connector(&self, kind: Kind) -> ConnectorInput {
        let text = |v: &str| Some(v.trim().to_owned());
        // An empty secret keeps the stored one: only a typed one is sent.
        let secret = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        match kind {
            Kind::Csv => ConnectorInput {
                oneroster_csv: Some(CsvInput {
                    location: text(&self.location),
                }),
                ..ConnectorInput::default()
            },
            Kind::Rest => ConnectorInput {
                oneroster_rest: Some(RestInput {
                    base_url: text(&self.base_url),
                    auth_method: AUTH
                        .iter()
                        .find(|(slug, _)| *slug == self.auth_method)
                        .map(|(_, method)| *method),
                    token_url: text(&self.token_url),
                    client_id: text(&self.client_id),
                    client_secret: secret(&self.client_secret),
                    oauth1_key: text(&self.oauth1_key),
                    oauth1_secret: secret(&self.oauth1_secret),
                    bearer_token: secret(&self.bearer_token),
                    ..RestInput::default()
                }),
                ..ConnectorInput::default()
            },
            Kind::Clever => ConnectorInput {
                clever: Some(CleverInput {
                    district_token: secret(&self.district_token),
                    ..CleverInput::default()
                }),
                ..ConnectorInput::default()
            },
        }
    }

    fn schedule(&self) -> ScheduleInput {
        ScheduleInput {
            daily_time: Some(self.daily_time.trim().to_owned()),
            paused: None,
        }
    }

    fn settings(&self, t: &Text, new: bool) -> Result<SettingsInput, ApiError> {
        let threshold = match self.threshold.trim() {
            "" => None,
            typed => Some(typed.parse::<u32>().map_err(|_| {
                ApiError::bad_request(format!(
                    "settings.deactivation_threshold_percent: {}",
                    t.sync.threshold_not_number
                ))
            })?),
        };
        Ok(SettingsInput {
            manages_guardians: Some(self.manages_guardians.is_some()),
            send_invitations: Some(self.send_invitations.is_some()),
            unarchive_classes: Some(self.unarchive_classes.is_some()),
            update_active_user_contacts: new.then_some(self.contact_updates.is_some()),
            student_account_grades: None,
            deactivation_threshold_percent: threshold,
        })
    }
}

/// Which secrets a stored source holds (never the secrets themselves).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stored {
    pub client_secret: bool,
    pub oauth1_secret: bool,
    pub bearer_token: bool,
    pub district_token: bool,
}

impl Stored {
    /// The `*_set` flags of a source.
    pub fn of(source: &rpb::SyncSource) -> Stored {
        match source.connector.as_ref().and_then(|c| c.config.as_ref()) {
            Some(Config::OnerosterRest(r)) => Stored {
                client_secret: r.client_secret_set,
                oauth1_secret: r.oauth1_secret_set,
                bearer_token: r.bearer_token_set,
                district_token: false,
            },
            Some(Config::Clever(c)) => Stored {
                district_token: c.district_token_set,
                ..Stored::default()
            },
            _ => Stored::default(),
        }
    }
}

/// A service's complaint about the form: its words, and the field it names.
pub struct Problem {
    pub field: Option<&'static str>,
    pub text: String,
}

impl Problem {
    /// The complaint in `e` (`schedule.daily_time: …` names the daily time).
    pub fn of(e: &ApiError) -> Problem {
        Problem {
            field: field_of(&e.message),
            text: super::for_people(&e.message),
        }
    }
}

/// The form field a service's message names by its proto path.
fn field_of(message: &str) -> Option<&'static str> {
    let (path, _) = message.split_once(": ")?;
    Some(match path {
        "display_name" => "name",
        "school_id" => "school",
        "schedule.daily_time" => "daily_time",
        "settings.deactivation_threshold_percent" => "threshold",
        "connector.oneroster_csv" | "connector.oneroster_csv.location" => "location",
        "connector.oneroster_rest" | "connector.oneroster_rest.base_url" => "base_url",
        "connector.oneroster_rest.auth_method" => "auth_method",
        "connector.oneroster_rest.token_url" => "token_url",
        "connector.oneroster_rest.client_id" => "client_id",
        "connector.oneroster_rest.client_secret" => "client_secret",
        "connector.oneroster_rest.oauth1_key" => "oauth1_key",
        "connector.oneroster_rest.oauth1_secret" => "oauth1_secret",
        "connector.oneroster_rest.bearer_token" => "bearer_token",
        "connector.clever" | "connector.clever.district_token" => "district_token",
        _ => return None,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A Clever source as roster reads it back.
    pub(in crate::console) fn clever_source(token_set: bool) -> rpb::SyncSource {
        rpb::SyncSource {
            display_name: "Clever nightly".into(),
            kind: rpb::SyncSourceKind::Clever.into(),
            connector: Some(rpb::ConnectorConfig {
                config: Some(Config::Clever(rpb::CleverConfig {
                    district_token_set: token_set,
                    ..Default::default()
                })),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_secret_left_empty_keeps_the_stored_one_and_a_typed_one_replaces_it() {
        let t = &super::super::text::EN;
        let mut form = SourceForm::of(&clever_source(true));
        let kept = form.changes(t, "s-1".into(), Some(Kind::Clever)).unwrap();
        let paths = kept.update_mask.unwrap().paths;
        assert!(paths.contains(&"display_name".to_owned()), "{paths:?}");
        assert!(
            !paths.iter().any(|p| p.contains("district_token")),
            "{paths:?}"
        );

        form.district_token = " new-token ".into();
        let replaced = form.changes(t, "s-1".into(), Some(Kind::Clever)).unwrap();
        assert!(
            replaced
                .update_mask
                .unwrap()
                .paths
                .contains(&"connector.clever.district_token".to_owned())
        );
        let Some(Config::Clever(c)) = replaced
            .sync_source
            .and_then(|s| s.connector)
            .and_then(|c| c.config)
        else {
            panic!("no Clever settings");
        };
        assert_eq!(c.district_token, "new-token");
    }

    #[test]
    fn a_services_message_names_the_form_field_by_its_proto_path() {
        let e = ApiError::bad_request(
            "connector.oneroster_csv.location: \"..\" is not allowed in a folder path",
        );
        let problem = Problem::of(&e);
        assert_eq!(problem.field, Some("location"));
        assert!(
            problem.text.starts_with("\"..\" is not allowed"),
            "{}",
            problem.text
        );
        assert_eq!(
            Problem::of(&ApiError::bad_request("no field here")).field,
            None
        );
    }

    #[test]
    fn a_threshold_that_is_not_a_number_names_its_field() {
        let t = &super::super::text::EN;
        let form = SourceForm {
            threshold: "lots".into(),
            ..SourceForm::blank(Kind::Csv)
        };
        let e = form.new_source(t, Kind::Csv, "d-1".into()).unwrap_err();
        assert_eq!(Problem::of(&e).field, Some("threshold"));
    }
}
