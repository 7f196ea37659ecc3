//! RO-2: creating and changing a source's connector settings: each field
//! checked, and the credentials the settings need sealed (a secret left empty
//! on update keeps the stored one; secrets the settings no longer use go).

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use super::{
    CleverInput, CleverSettings, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RestAuthMethod, RestInput,
    RestSettings, Secrets, SourceInput, StoredConfig,
};
use crate::{
    connectors::location::Boundary, domain::error::RosterError, secrets::SecretsKey,
    store::sync::SourceRow,
};

fn invalid(message: impl Into<String>) -> RosterError {
    RosterError::InvalidArgument(message.into())
}

/// The settings and sealed credentials of a new source of `kind`.
pub(super) fn create(
    id: &str,
    input: &SourceInput,
    key: &SecretsKey,
) -> Result<(StoredConfig, Option<String>), RosterError> {
    let given = [
        ("oneroster_csv", input.location.is_some()),
        ("clever", input.clever.is_some()),
        ("oneroster_rest", input.oneroster_rest.is_some()),
    ];
    if let Some((other, _)) = given
        .iter()
        .find(|(kind, set)| *set && *kind != input.kind && input.kind != "upload")
    {
        return Err(invalid(format!(
            "connector.{other}: a {} source takes connector.{} settings",
            input.kind.to_uppercase(),
            input.kind
        )));
    }
    let mut config = StoredConfig {
        location: input.location.clone().unwrap_or_default(),
        ..StoredConfig::default()
    };
    let mut fresh = Secrets::default();
    match input.kind.as_str() {
        "clever" => {
            let c = input
                .clever
                .as_ref()
                .ok_or_else(|| invalid("connector.clever: a CLEVER source needs its settings"))?;
            let mut settings = CleverSettings::default();
            clever_field(&mut settings, &mut fresh, c, None)?;
            config.clever = Some(settings);
        }
        "oneroster_rest" => {
            let r = input.oneroster_rest.as_ref().ok_or_else(|| {
                invalid("connector.oneroster_rest: a ONEROSTER_REST source needs its settings")
            })?;
            let method = r.auth_method.ok_or_else(|| {
                invalid("connector.oneroster_rest.auth_method: choose OAuth 2 client credentials, OAuth 1.0a or a bearer token")
            })?;
            let mut settings = RestSettings::blank(method);
            rest_field(&mut settings, &mut fresh, r, None)?;
            config.oneroster_rest = Some(settings);
        }
        _ => {}
    }
    let sealed = finish(id, &config, fresh, None, key)?;
    Ok((config, sealed))
}

/// Applies one `connector.…` update-mask path to `config`; new secrets go to
/// `fresh`.
pub(super) fn update(
    kind: &str,
    config: &mut StoredConfig,
    fresh: &mut Secrets,
    path: &str,
    input: &SourceInput,
) -> Result<(), RosterError> {
    let rest = path.strip_prefix("connector.").unwrap_or(path);
    let (connector, field) = match rest.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (rest, None),
    };
    if connector != kind {
        return Err(invalid(format!(
            "update_mask: {path:?} does not apply to a {} source",
            kind.to_uppercase()
        )));
    }
    match connector {
        "oneroster_csv" if matches!(field, None | Some("location")) => {
            config.location = input.location.clone().unwrap_or_default();
        }
        "clever" => {
            let c = input.clever.as_ref().ok_or_else(|| {
                invalid(format!("{path}: send connector.clever with the new values"))
            })?;
            let settings = config.clever.get_or_insert_with(CleverSettings::default);
            clever_field(settings, fresh, c, field)?;
        }
        "oneroster_rest" => {
            let r = input.oneroster_rest.as_ref().ok_or_else(|| {
                invalid(format!(
                    "{path}: send connector.oneroster_rest with the new values"
                ))
            })?;
            let settings = config
                .oneroster_rest
                .get_or_insert_with(|| RestSettings::blank(RestAuthMethod::OAuth2));
            rest_field(settings, fresh, r, field)?;
        }
        _ => {
            return Err(invalid(format!("update_mask: {path:?} cannot be changed")));
        }
    }
    Ok(())
}

/// Sets one field of a Clever source (`None`: all of them; an empty token
/// keeps the stored one).
fn clever_field(
    s: &mut CleverSettings,
    fresh: &mut Secrets,
    input: &CleverInput,
    field: Option<&str>,
) -> Result<(), RosterError> {
    let all = field.is_none();
    let mut known = all;
    if all || field == Some("base_url") {
        s.base_url = input.base_url.trim().to_owned();
        known = true;
    }
    if all || field == Some("use_events") {
        s.use_events = input.use_events;
        known = true;
    }
    if all || field == Some("page_size") {
        s.page_size = input.page_size;
        known = true;
    }
    if all || field == Some("district_token") {
        fresh.district_token = non_empty(&input.district_token);
        known = true;
    }
    if !known {
        return Err(invalid(format!(
            "update_mask: \"connector.clever.{}\" cannot be changed",
            field.unwrap_or_default()
        )));
    }
    Ok(())
}

/// Sets one field of a OneRoster REST source (`None`: all of them; an empty
/// secret keeps the stored one).
fn rest_field(
    s: &mut RestSettings,
    fresh: &mut Secrets,
    input: &RestInput,
    field: Option<&str>,
) -> Result<(), RosterError> {
    let all = field.is_none();
    match field {
        None | Some("auth_method") => {
            s.auth_method = input.auth_method.ok_or_else(|| {
                invalid("connector.oneroster_rest.auth_method: choose OAuth 2 client credentials, OAuth 1.0a or a bearer token")
            })?;
        }
        _ => {}
    }
    let text = [
        ("base_url", &mut s.base_url, &input.base_url),
        ("token_url", &mut s.token_url, &input.token_url),
        ("client_id", &mut s.client_id, &input.client_id),
        ("scope", &mut s.scope, &input.scope),
        ("oauth1_key", &mut s.oauth1_key, &input.oauth1_key),
    ];
    let mut known = all || field == Some("auth_method");
    for (name, slot, value) in text {
        if all || field == Some(name) {
            *slot = value.trim().to_owned();
            known = true;
        }
    }
    if all || field == Some("page_size") {
        s.page_size = input.page_size;
        known = true;
    }
    if all || field == Some("client_secret") {
        fresh.client_secret = non_empty(&input.client_secret);
        known = true;
    }
    if all || field == Some("oauth1_secret") {
        fresh.oauth1_secret = non_empty(&input.oauth1_secret);
        known = true;
    }
    if all || field == Some("bearer_token") {
        fresh.bearer_token = non_empty(&input.bearer_token);
        known = true;
    }
    if !known {
        return Err(invalid(format!(
            "update_mask: \"connector.oneroster_rest.{}\" cannot be changed",
            field.unwrap_or_default()
        )));
    }
    Ok(())
}

fn non_empty(secret: &Option<SecretString>) -> Option<SecretString> {
    secret
        .as_ref()
        .filter(|s| !s.expose_secret().trim().is_empty())
        .cloned()
}

/// Checks the settings and seals the credentials they need: each one sent
/// now, else the one stored in `before` (opened only when needed). Secrets
/// the settings do not use are dropped.
pub(super) fn finish(
    id: &str,
    config: &StoredConfig,
    mut fresh: Secrets,
    before: Option<&SourceRow>,
    key: &SecretsKey,
) -> Result<Option<String>, RosterError> {
    let needed: Vec<(&str, &str)> = if let Some(c) = &config.clever {
        check_clever(c)?;
        vec![("district_token", "connector.clever.district_token")]
    } else if let Some(r) = &config.oneroster_rest {
        check_rest(r)?;
        match r.auth_method {
            RestAuthMethod::OAuth2 => {
                vec![("client_secret", "connector.oneroster_rest.client_secret")]
            }
            RestAuthMethod::OAuth1 => {
                vec![("oauth1_secret", "connector.oneroster_rest.oauth1_secret")]
            }
            RestAuthMethod::Bearer => {
                vec![("bearer_token", "connector.oneroster_rest.bearer_token")]
            }
        }
    } else {
        Vec::new()
    };
    let mut stored: Option<Secrets> = None;
    let mut sealed = Secrets::default();
    for (name, field) in needed {
        let value = match fresh.slot(name).take() {
            Some(v) => v,
            None => {
                if stored.is_none() {
                    stored = Some(match before {
                        Some(row) => Secrets::open(key, row).map_err(|e| {
                            RosterError::FailedPrecondition(format!("{field}: {e}"))
                        })?,
                        None => Secrets::default(),
                    });
                }
                stored
                    .as_mut()
                    .and_then(|s| s.slot(name).take())
                    .ok_or_else(|| invalid(format!("{field}: required")))?
            }
        };
        *sealed.slot(name) = Some(value);
    }
    sealed.seal(key, id)
}

fn check_clever(c: &CleverSettings) -> Result<(), RosterError> {
    if !c.base_url.is_empty() {
        check_url("connector.clever.base_url", &c.base_url)?;
    }
    check_page_size("connector.clever.page_size", c.page_size)
}

fn check_rest(r: &RestSettings) -> Result<(), RosterError> {
    if r.base_url.is_empty() {
        return Err(invalid(
            "connector.oneroster_rest.base_url: required, e.g. \"https://district-ca-v2.oneroster.com\"",
        ));
    }
    check_url("connector.oneroster_rest.base_url", &r.base_url)?;
    check_page_size("connector.oneroster_rest.page_size", r.page_size)?;
    match r.auth_method {
        RestAuthMethod::OAuth2 => {
            if !r.token_url.is_empty() {
                check_url("connector.oneroster_rest.token_url", &r.token_url)?;
            }
            if r.client_id.is_empty() {
                return Err(invalid(
                    "connector.oneroster_rest.client_id: required for OAuth 2",
                ));
            }
        }
        RestAuthMethod::OAuth1 => {
            if r.oauth1_key.is_empty() {
                return Err(invalid(
                    "connector.oneroster_rest.oauth1_key: required for OAuth 1.0a",
                ));
            }
        }
        RestAuthMethod::Bearer => {}
    }
    Ok(())
}

/// An http(s) URL with a host and no user name, password, query or fragment
/// (credentials travel in headers, never in URLs).
fn check_url(field: &str, raw: &str) -> Result<(), RosterError> {
    // The value is not echoed: it may hold a password.
    let bad = |why: &str| invalid(format!("{field}: the URL {why}"));
    let url = Url::parse(raw).map_err(|_| bad("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("must start with https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not hold a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    Ok(())
}

/// Security: every location and URL of the settings stays within what a
/// district may reach — a bundle folder only under its own import folder, URLs
/// only to public https hosts (or what the operator allows).
pub(super) fn check_reach(
    boundary: &Boundary,
    district_id: &str,
    config: &StoredConfig,
) -> Result<(), RosterError> {
    use homeroom_platform::text::{URL, within};
    if !config.location.is_empty() {
        within("connector.oneroster_csv.location", &config.location, URL)
            .map_err(RosterError::InvalidArgument)?;
        boundary
            .check_location(district_id, &config.location)
            .map_err(RosterError::InvalidArgument)?;
    }
    let mut urls = Vec::new();
    if let Some(c) = &config.clever
        && !c.base_url.is_empty()
    {
        urls.push(("connector.clever.base_url", c.base_url.clone()));
    }
    if let Some(r) = &config.oneroster_rest {
        urls.push(("connector.oneroster_rest.base_url", r.base_url.clone()));
        if r.auth_method == RestAuthMethod::OAuth2 {
            urls.push((
                "connector.oneroster_rest.token_url",
                r.effective_token_url(),
            ));
        }
    }
    for (field, raw) in urls {
        within(field, &raw, URL).map_err(RosterError::InvalidArgument)?;
        let url = Url::parse(raw.trim())
            .map_err(|_| invalid(format!("{field}: the URL is not a URL")))?;
        boundary
            .outbound
            .check(&url)
            .map_err(|e| invalid(format!("{field}: {e}")))?;
    }
    Ok(())
}

fn check_page_size(field: &str, size: u32) -> Result<(), RosterError> {
    if size > MAX_PAGE_SIZE {
        return Err(invalid(format!(
            "{field}: at most {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})"
        )));
    }
    Ok(())
}
