//! A sync source's form as the page shows it: its fields in groups, each
//! filled with what was typed (a secret never: only whether one is stored),
//! with the service's complaint next to the field it names.

use super::{
    source_form::{AUTH, Kind, Problem, SourceForm, Stored},
    text::Text,
};

/// A field as the page shows it.
pub struct Field {
    /// The form name, also the element's id.
    pub name: &'static str,
    pub label: &'static str,
    pub hint: String,
    /// `text`, `url`, `password`, `number`, `select` or `checkbox`.
    pub kind: &'static str,
    pub value: String,
    /// A select's (value, words).
    pub options: Vec<(String, String)>,
    /// A ticked checkbox.
    pub on: bool,
    /// A secret's state on the edit form ("Set. …", "Not set."); else empty.
    pub state: &'static str,
    /// The service's complaint about this field.
    pub error: Option<String>,
    /// The ids that describe it (hint, state, error) for `aria-describedby`.
    pub described_by: String,
}

fn field(
    name: &'static str,
    label: &'static str,
    hint: impl Into<String>,
    kind: &'static str,
    value: &str,
) -> Field {
    Field {
        name,
        label,
        hint: hint.into(),
        kind,
        value: value.to_owned(),
        options: Vec::new(),
        on: false,
        state: "",
        error: None,
        described_by: String::new(),
    }
}

fn check(name: &'static str, label: &'static str, hint: &str, on: &Option<String>) -> Field {
    Field {
        on: on.is_some(),
        ..field(name, label, hint, "checkbox", "")
    }
}

/// A part of the form under its heading.
pub struct Group {
    pub id: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    pub fields: Vec<Field>,
}

/// What the fields depend on besides the form.
pub struct Layout<'a> {
    /// The source's kind; `None`: no connector settings.
    pub kind: Option<Kind>,
    /// A new source: the scopes to choose from (the district, its schools).
    pub scopes: Option<Vec<(String, String)>>,
    /// An edited source: the secrets it holds.
    pub stored: Option<Stored>,
    /// The district's time zone.
    pub zone: &'a str,
}

/// The form's groups of fields, filled with `form` (secrets left empty) and
/// `problem` next to its field.
pub fn groups(
    t: &Text,
    form: &SourceForm,
    layout: Layout<'_>,
    problem: Option<&Problem>,
) -> Vec<Group> {
    let (s, r) = (t.sync, t.rostering);
    let secret = |name: &'static str, label: &'static str, set: Option<bool>| Field {
        state: match set {
            Some(true) => s.secret_set,
            Some(false) => s.secret_not_set,
            None => "",
        },
        ..field(name, label, "", "password", "")
    };
    let stored: Option<Stored> = layout.stored;

    let mut about = vec![field(
        "name",
        s.display_name,
        s.display_name_why,
        "text",
        &form.name,
    )];
    if let Some(scopes) = layout.scopes {
        about.push(Field {
            options: scopes,
            ..field("school", s.scope, s.scope_why, "select", &form.school)
        });
    }
    let connection = match layout.kind {
        Some(Kind::Csv) => vec![field(
            "location",
            s.location,
            s.location_why,
            "text",
            &form.location,
        )],
        Some(Kind::Rest) => vec![
            Field {
                options: AUTH
                    .iter()
                    .zip([s.auth_oauth2, s.auth_oauth1, s.auth_bearer])
                    .map(|((slug, _), words)| ((*slug).to_owned(), words.to_owned()))
                    .collect(),
                ..field(
                    "auth_method",
                    s.auth_method,
                    s.auth_method_why,
                    "select",
                    &form.auth_method,
                )
            },
            field(
                "base_url",
                s.base_url,
                s.base_url_why,
                "url",
                &form.base_url,
            ),
            field(
                "token_url",
                s.token_url,
                s.token_url_why,
                "url",
                &form.token_url,
            ),
            field(
                "client_id",
                s.client_id,
                s.client_id_why,
                "text",
                &form.client_id,
            ),
            secret(
                "client_secret",
                s.client_secret,
                stored.map(|x| x.client_secret),
            ),
            field(
                "oauth1_key",
                s.oauth1_key,
                s.oauth1_key_why,
                "text",
                &form.oauth1_key,
            ),
            secret(
                "oauth1_secret",
                s.oauth1_secret,
                stored.map(|x| x.oauth1_secret),
            ),
            secret(
                "bearer_token",
                s.bearer_token,
                stored.map(|x| x.bearer_token),
            ),
        ],
        Some(Kind::Clever) => vec![Field {
            hint: s.district_token_why.to_owned(),
            ..secret(
                "district_token",
                s.district_token,
                stored.map(|x| x.district_token),
            )
        }],
        None => Vec::new(),
    };
    let schedule = vec![
        field(
            "daily_time",
            s.daily_time,
            s.daily_time_why.replace("{zone}", layout.zone),
            "text",
            &form.daily_time,
        ),
        field(
            "threshold",
            s.threshold,
            s.threshold_why,
            "number",
            &form.threshold,
        ),
    ];
    let mut settings = vec![
        check(
            "manages_guardians",
            r.manages_guardians,
            s.manages_guardians_why,
            &form.manages_guardians,
        ),
        check(
            "send_invitations",
            r.sends_invitations,
            s.sends_invitations_why,
            &form.send_invitations,
        ),
        check(
            "unarchive_classes",
            r.unarchives_classes,
            s.unarchives_classes_why,
            &form.unarchive_classes,
        ),
    ];
    if stored.is_none() {
        settings.push(check(
            "contact_updates",
            r.contact_setting,
            s.contact_updates_why,
            &form.contact_updates,
        ));
    }

    let mut groups = vec![Group {
        id: "about",
        title: s.about_h,
        hint: "",
        fields: about,
    }];
    if !connection.is_empty() {
        groups.push(Group {
            id: "connection",
            title: s.connection_h,
            hint: s.connection_why,
            fields: connection,
        });
    }
    groups.push(Group {
        id: "schedule",
        title: s.schedule_h,
        hint: "",
        fields: schedule,
    });
    groups.push(Group {
        id: "settings",
        title: s.settings_h,
        hint: "",
        fields: settings,
    });
    for f in groups.iter_mut().flat_map(|g| g.fields.iter_mut()) {
        if let Some(p) = problem.filter(|p| p.field == Some(f.name)) {
            f.error = Some(p.text.clone());
        }
        let ids = [
            (!f.hint.is_empty()).then(|| format!("{}-hint", f.name)),
            (!f.state.is_empty()).then(|| format!("{}-state", f.name)),
            f.error.as_ref().map(|_| format!("{}-error", f.name)),
        ];
        f.described_by = ids.into_iter().flatten().collect::<Vec<_>>().join(" ");
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{api::error::ApiError, console::source_form::tests::clever_source};

    fn find<'a>(groups: &'a [Group], name: &str) -> &'a Field {
        groups
            .iter()
            .flat_map(|g| &g.fields)
            .find(|f| f.name == name)
            .unwrap()
    }

    #[test]
    fn the_page_says_whether_a_secret_is_set_and_never_fills_it_in() {
        let t = &super::super::text::EN;
        let mut form = SourceForm::of(&clever_source(true));
        form.district_token = "typed-but-refused".into();
        let layout = Layout {
            kind: Some(Kind::Clever),
            scopes: None,
            stored: Some(Stored::of(&clever_source(true))),
            zone: "America/Chicago",
        };
        let groups = groups(t, &form, layout, None);
        let token = find(&groups, "district_token");
        assert_eq!(token.state, t.sync.secret_set);
        assert!(token.value.is_empty());
        assert!(token.described_by.contains("district_token-state"));
    }

    #[test]
    fn a_services_complaint_sits_next_to_its_field_and_the_input_stays() {
        let t = &super::super::text::EN;
        let problem = Problem::of(&ApiError::bad_request(
            "connector.oneroster_csv.location: \"..\" is not allowed in a folder path",
        ));
        let form = SourceForm {
            location: "../other".into(),
            ..SourceForm::blank(Kind::Csv)
        };
        let layout = Layout {
            kind: Some(Kind::Csv),
            scopes: Some(vec![(String::new(), "Springfield".into())]),
            stored: None,
            zone: "America/Chicago",
        };
        let groups = groups(t, &form, layout, Some(&problem));
        let location = find(&groups, "location");
        assert_eq!(location.value, "../other");
        assert!(
            location
                .error
                .as_deref()
                .unwrap()
                .contains("is not allowed")
        );
        assert!(location.described_by.contains("location-error"));
        assert!(find(&groups, "name").error.is_none());
    }
}
