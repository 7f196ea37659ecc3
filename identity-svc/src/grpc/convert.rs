//! Conversions between the wire types and the domain: parse at the edge.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use homeroom_proto::identity::v1 as pb;

use crate::{
    domain::{
        accounts::{
            AccountKind, AccountStatus, CredentialKind, LinkedStudent, Names, Role, ScopedRole,
        },
        credential::{Email, Phone, Region},
        error::IdentityError,
        sso::{Provider, ProviderKind},
        upsert::{Difference, Field, Incoming},
    },
    ops::{
        accounts::AccountView,
        login::{ChoiceOption, SignIn},
        sso::{BeginSso, CompleteSso},
        tokens::IssuedTokens,
        upsert::{ItemRejected, ItemResult, Outcome},
    },
};

/// A UTC time on the wire.
pub fn timestamp(t: NaiveDateTime) -> prost_types::Timestamp {
    let utc = t.and_utc();
    prost_types::Timestamp {
        seconds: utc.timestamp(),
        nanos: utc.timestamp_subsec_nanos() as i32,
    }
}

fn opt_timestamp(t: Option<NaiveDateTime>) -> Option<prost_types::Timestamp> {
    t.map(timestamp)
}

/// The phone region of a request ('' → US).
pub fn region(code: &str) -> Result<Region, IdentityError> {
    if code.trim().is_empty() {
        return Ok(Region::US);
    }
    Region::parse(code).map_err(|e| IdentityError::InvalidArgument(format!("phone_region: {e}")))
}

/// Proto role → domain role.
pub fn role_from_pb(value: i32) -> Result<Role, String> {
    Ok(
        match pb::Role::try_from(value).unwrap_or(pb::Role::Unspecified) {
            pb::Role::DistrictAdmin => Role::DistrictAdmin,
            pb::Role::RosteringAdmin => Role::RosteringAdmin,
            pb::Role::CommunicationsAdmin => Role::CommunicationsAdmin,
            pb::Role::UserManager => Role::UserManager,
            pb::Role::Teacher => Role::Teacher,
            pb::Role::Staff => Role::Staff,
            pb::Role::Guardian => Role::Guardian,
            pb::Role::Unspecified => return Err("roles: a role is required".into()),
        },
    )
}

/// Domain role → proto role.
pub fn role_to_pb(role: Role) -> pb::Role {
    match role {
        Role::DistrictAdmin => pb::Role::DistrictAdmin,
        Role::RosteringAdmin => pb::Role::RosteringAdmin,
        Role::CommunicationsAdmin => pb::Role::CommunicationsAdmin,
        Role::UserManager => pb::Role::UserManager,
        Role::Teacher => pb::Role::Teacher,
        Role::Staff => pb::Role::Staff,
        Role::Guardian => pb::Role::Guardian,
    }
}

fn kind_from_pb(value: i32) -> Result<AccountKind, String> {
    match pb::AccountKind::try_from(value).unwrap_or(pb::AccountKind::Unspecified) {
        pb::AccountKind::Guardian => Ok(AccountKind::Guardian),
        pb::AccountKind::Staff => Ok(AccountKind::Staff),
        pb::AccountKind::Student => Ok(AccountKind::Student),
        pb::AccountKind::Unspecified => Err("kind: GUARDIAN, STAFF or STUDENT is required".into()),
    }
}

/// Domain kind → proto kind.
pub fn kind_to_pb(kind: AccountKind) -> pb::AccountKind {
    match kind {
        AccountKind::Guardian => pb::AccountKind::Guardian,
        AccountKind::Staff => pb::AccountKind::Staff,
        AccountKind::Student => pb::AccountKind::Student,
    }
}

fn status_from_pb(value: i32) -> Result<AccountStatus, String> {
    match pb::AccountStatus::try_from(value).unwrap_or(pb::AccountStatus::Unspecified) {
        pb::AccountStatus::Invitee => Ok(AccountStatus::Invitee),
        pb::AccountStatus::Active => Ok(AccountStatus::Active),
        pb::AccountStatus::Deactivated => Ok(AccountStatus::Deactivated),
        pb::AccountStatus::Unspecified => Err("statuses: INVITEE, ACTIVE or DEACTIVATED".into()),
    }
}

/// Most addresses one ListAccounts may name: a district's bad addresses (the
/// most messaging's ListBadAddresses lists).
pub const MAX_LISTED_ADDRESSES: usize = 10_000;

/// `ListAccounts` → the filter (the caller's school restriction is applied
/// by the handler), the page key to start after, and the page size.
pub fn account_filter(
    r: pb::ListAccountsRequest,
) -> Result<
    (
        crate::ops::accounts::AccountFilter,
        Option<[String; 3]>,
        i64,
    ),
    IdentityError,
> {
    let invalid = IdentityError::InvalidArgument;
    if r.district_id.trim().is_empty() {
        return Err(invalid("district_id is required".into()));
    }
    if r.addresses.len() > MAX_LISTED_ADDRESSES {
        return Err(invalid(format!(
            "addresses: at most {MAX_LISTED_ADDRESSES}"
        )));
    }
    let after = match homeroom_platform::paging::decode(&r.page_token) {
        Ok(None) => None,
        Ok(Some(k)) if k.len() == 3 => Some([k[0].clone(), k[1].clone(), k[2].clone()]),
        _ => {
            return Err(invalid(
                "page_token: not a token this list gave; start again without it".into(),
            ));
        }
    };
    let filter = crate::ops::accounts::AccountFilter {
        schools: (!r.school_id.is_empty()).then(|| vec![r.school_id.clone()]),
        kinds: r
            .kinds
            .iter()
            .map(|k| kind_from_pb(*k))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        statuses: r
            .statuses
            .iter()
            .map(|s| status_from_pb(*s))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        roles: r
            .roles
            .iter()
            .map(|x| role_from_pb(*x))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        query: r.query.chars().take(200).collect(),
        account_ids: r.account_ids.into_iter().take(1_000).collect(),
        addresses: r.addresses,
        shared_only: r.shared_only,
        source_system: r.source_system,
        district_id: r.district_id,
    };
    Ok((
        filter,
        after,
        homeroom_platform::paging::size(r.page_size, 50, 500),
    ))
}

/// Domain status → proto status.
pub fn status_to_pb(status: AccountStatus) -> pb::AccountStatus {
    match status {
        AccountStatus::Invitee => pb::AccountStatus::Invitee,
        AccountStatus::Active => pb::AccountStatus::Active,
        AccountStatus::Deactivated => pb::AccountStatus::Deactivated,
    }
}

pub fn credential_kind_to_pb(kind: CredentialKind) -> pb::CredentialKind {
    match kind {
        CredentialKind::Email => pb::CredentialKind::Email,
        CredentialKind::MobilePhone => pb::CredentialKind::MobilePhone,
        CredentialKind::HomePhone => pb::CredentialKind::HomePhone,
    }
}

/// One upsert item: valid, or rejected with a message naming the field.
pub fn incoming(
    item: pb::AccountUpsert,
    district_id: &str,
    region: Region,
) -> Result<Incoming, ItemRejected> {
    let source_id = item.source_id.trim().to_string();
    let reject = |message: String| ItemRejected {
        source_id: source_id.clone(),
        message,
    };
    if source_id.is_empty() {
        return Err(reject("source_id: required".into()));
    }
    let kind = kind_from_pb(item.kind).map_err(&reject)?;
    let email = item
        .email
        .map(|e| match e.trim() {
            "" => Ok(None),
            raw => Email::parse(raw).map(|e| Some(e.as_str().to_string())),
        })
        .transpose()
        .map_err(|e| reject(e.to_string()))?;
    let phone = |value: Option<String>, field: &str| {
        value
            .map(|p| match p.trim() {
                "" => Ok(None),
                raw => Phone::parse(raw, region).map(|p| Some(p.as_str().to_string())),
            })
            .transpose()
            .map_err(|e| reject(format!("{field}: {e}")))
    };
    let mobile_phone = phone(item.mobile_phone, "mobile_phone")?;
    let home_phone = phone(item.home_phone, "home_phone")?;
    let mut roles = BTreeSet::new();
    for r in item.roles {
        if !r.district_id.is_empty() && r.district_id != district_id {
            return Err(reject(
                "roles: a role must be in the batch's district".into(),
            ));
        }
        roles.insert(ScopedRole {
            role: role_from_pb(r.role).map_err(&reject)?,
            school_id: r.school_id,
        });
    }
    if item.given_name.trim().is_empty() && item.family_name.trim().is_empty() {
        return Err(reject("given_name, family_name: a name is required".into()));
    }
    for (field, value) in [
        ("given_name", &item.given_name),
        ("middle_name", &item.middle_name),
        ("family_name", &item.family_name),
    ] {
        homeroom_platform::text::within(field, value.trim(), homeroom_platform::text::NAME)
            .map_err(reject)?;
    }
    Ok(Incoming {
        source_id: source_id.clone(),
        account_id: Some(item.account_id).filter(|a| !a.is_empty()),
        kind,
        names: Names {
            given: item.given_name.trim().to_string(),
            middle: item.middle_name.trim().to_string(),
            family: item.family_name.trim().to_string(),
        },
        language: item.preferred_language.map(|l| normalise_language(&l)),
        email,
        mobile_phone,
        home_phone,
        roles,
        contact_managed_by_sync: item.contact_managed_by_sync,
        sign_in_disabled: item.sign_in_disabled,
        linked_students: item.linked_students.map(|list| {
            list.students
                .into_iter()
                .map(|s| LinkedStudent {
                    student_id: s.student_id,
                    display_name: s.display_name,
                    school_id: s.school_id,
                })
                .collect()
        }),
    })
}

/// BCP 47 codes are case-insensitive; "en" is the default and stored as ''.
fn normalise_language(code: &str) -> String {
    let code = code.trim();
    if code.eq_ignore_ascii_case("en") {
        String::new()
    } else {
        code.to_string()
    }
}

fn field_to_pb(field: Field) -> pb::ContactField {
    match field {
        Field::GivenName => pb::ContactField::GivenName,
        Field::MiddleName => pb::ContactField::MiddleName,
        Field::FamilyName => pb::ContactField::FamilyName,
        Field::Credential(CredentialKind::Email) => pb::ContactField::Email,
        Field::Credential(CredentialKind::MobilePhone) => pb::ContactField::MobilePhone,
        Field::Credential(CredentialKind::HomePhone) => pb::ContactField::HomePhone,
    }
}

fn differences(ds: Vec<Difference>) -> Vec<pb::ContactDifference> {
    ds.into_iter()
        .map(|d| pb::ContactDifference {
            field: field_to_pb(d.field) as i32,
            current_value: d.current,
            incoming_value: d.incoming,
            current_value_other_holders: d.others_holding_current,
        })
        .collect()
}

/// Upsert results on the wire.
pub fn upsert_response(results: Vec<ItemResult>) -> pb::UpsertAccountsResponse {
    let mut response = pb::UpsertAccountsResponse::default();
    for (index, r) in results.into_iter().enumerate() {
        let outcome = match r.outcome {
            Outcome::Created => {
                response.created_count += 1;
                pb::UpsertOutcome::Created
            }
            Outcome::Updated => {
                response.updated_count += 1;
                pb::UpsertOutcome::Updated
            }
            Outcome::Unchanged => {
                response.unchanged_count += 1;
                pb::UpsertOutcome::Unchanged
            }
            Outcome::Error => {
                response.error_count += 1;
                pb::UpsertOutcome::Error
            }
        };
        response.results.push(pb::AccountUpsertResult {
            index: index as u32,
            source_id: r.source_id,
            account_id: r.account_id,
            outcome: outcome as i32,
            status: r
                .status
                .map_or(pb::AccountStatus::Unspecified, status_to_pb) as i32,
            changed_fields: r.changed_fields.into_iter().map(str::to_owned).collect(),
            contact_differences_not_applied: differences(r.not_applied),
            contact_changes_applied: differences(r.applied),
            error: r.error,
            merged_into_name: r.merged_into.unwrap_or_default(),
        });
    }
    response
}

/// An account on the wire; `editable` is the caller's ID-8 right.
pub fn account(view: AccountView, editable: (bool, String)) -> pb::Account {
    let display_name = view.names.display();
    pb::Account {
        account_id: view.id,
        district_id: view.district_id.clone(),
        kind: kind_to_pb(view.kind) as i32,
        status: status_to_pb(view.status) as i32,
        given_name: view.names.given,
        middle_name: view.names.middle,
        family_name: view.names.family,
        display_name,
        preferred_language: view.language,
        external_ids: view
            .external_ids
            .into_iter()
            .map(|(source_system, source_id)| pb::ExternalId {
                source_system,
                source_id,
            })
            .collect(),
        roles: view
            .roles
            .into_iter()
            .map(|r| pb::RoleAssignment {
                role: role_to_pb(r.role.role) as i32,
                district_id: view.district_id.clone(),
                school_id: r.role.school_id,
                sync_managed: r.sync_managed,
            })
            .collect(),
        credentials: view
            .credentials
            .into_iter()
            .map(|c| pb::Credential {
                kind: credential_kind_to_pb(c.kind) as i32,
                value: c.value,
                shared: c.shared_count > 1,
                shared_count: c.shared_count,
                confirmed: c.confirmed_at.is_some(),
                confirmed_at: opt_timestamp(c.confirmed_at),
                added_at: Some(timestamp(c.added_at)),
            })
            .collect(),
        contact_managed_by_sync: view.contact_managed_by_sync,
        has_password: view.has_password,
        sso_issuers: view.sso_issuers,
        linked_students: view
            .linked_students
            .into_iter()
            .map(|s| pb::LinkedStudent {
                student_id: s.student_id,
                display_name: s.display_name,
                school_id: s.school_id,
            })
            .collect(),
        contact_details_editable: editable.0,
        contact_details_locked_reason: editable.1,
        created_at: Some(timestamp(view.created_at)),
        updated_at: Some(timestamp(view.updated_at)),
        activated_at: opt_timestamp(view.activated_at),
        deactivated_at: opt_timestamp(view.deactivated_at),
        last_login_at: opt_timestamp(view.last_login_at),
    }
}

/// Tokens on the wire.
pub fn auth_tokens(t: IssuedTokens) -> pb::AuthTokens {
    pb::AuthTokens {
        access_token: t.access_token,
        access_token_expires_at: Some(timestamp(t.access_expires_at)),
        refresh_token: t.refresh_token,
        refresh_token_expires_at: Some(timestamp(t.refresh_expires_at)),
        token_type: "Bearer".into(),
        account_id: t.account_id,
        device_token: String::new(),
    }
}

fn choice_option(o: ChoiceOption) -> pb::AccountChoiceOption {
    pb::AccountChoiceOption {
        account_id: o.account_id,
        display_name: o.display_name,
        kind: kind_to_pb(o.kind) as i32,
        role: o.role.map_or(pb::Role::Unspecified, role_to_pb) as i32,
        school_id: o.school_id,
        school_name: o.school_name,
        district_id: o.district_id,
        district_name: o.district_name,
    }
}

/// A login outcome on the wire.
pub fn login_outcome(sign_in: SignIn) -> pb::login_response::Outcome {
    match sign_in {
        SignIn::Tokens(t) => pb::login_response::Outcome::Tokens(auth_tokens(t)),
        SignIn::Choice {
            selection_token,
            expires_at,
            options,
        } => pb::login_response::Outcome::AccountChoice(pb::AccountChoice {
            selection_token,
            expires_at: Some(timestamp(expires_at)),
            choices: options.into_iter().map(choice_option).collect(),
        }),
    }
}

/// Proto credential kind → domain kind.
pub fn credential_kind_from_pb(value: i32) -> Result<CredentialKind, IdentityError> {
    match pb::CredentialKind::try_from(value).unwrap_or(pb::CredentialKind::Unspecified) {
        pb::CredentialKind::Email => Ok(CredentialKind::Email),
        pb::CredentialKind::MobilePhone => Ok(CredentialKind::MobilePhone),
        pb::CredentialKind::HomePhone => Ok(CredentialKind::HomePhone),
        pb::CredentialKind::Unspecified => Err(IdentityError::InvalidArgument(
            "kind: EMAIL or MOBILE_PHONE is required".into(),
        )),
    }
}

/// Proto credential kind of a domain kind.
pub fn credential_kind(kind: CredentialKind) -> pb::CredentialKind {
    credential_kind_to_pb(kind)
}

/// A contact edit: each present field validated (emails and phones normalised).
pub fn contact_edit(
    r: &pb::UpdateContactDetailsRequest,
    region: Region,
) -> Result<crate::ops::contacts::ContactEdit, IdentityError> {
    let invalid = |e: crate::domain::credential::CredentialError, field: &str| {
        IdentityError::InvalidArgument(format!("{field}: {e}"))
    };
    let mut contacts = Vec::new();
    if let Some(email) = &r.email {
        let value = match email.trim() {
            "" => None,
            raw => Some(
                Email::parse(raw)
                    .map_err(|e| invalid(e, "email"))?
                    .as_str()
                    .to_string(),
            ),
        };
        contacts.push((CredentialKind::Email, value));
    }
    for (field, kind, raw) in [
        ("mobile_phone", CredentialKind::MobilePhone, &r.mobile_phone),
        ("home_phone", CredentialKind::HomePhone, &r.home_phone),
    ] {
        if let Some(raw) = raw {
            let value = match raw.trim() {
                "" => None,
                raw => Some(
                    Phone::parse(raw, region)
                        .map_err(|e| invalid(e, field))?
                        .as_str()
                        .to_string(),
                ),
            };
            contacts.push((kind, value));
        }
    }
    let name = |v: &Option<String>,
                field: &str,
                required: bool|
     -> Result<Option<String>, IdentityError> {
        match v.as_deref().map(str::trim) {
            Some("") if required => Err(IdentityError::InvalidArgument(format!(
                "{field}: cannot be empty"
            ))),
            Some(long) if long.chars().count() > homeroom_platform::text::NAME => {
                Err(IdentityError::InvalidArgument(
                    homeroom_platform::text::within(field, long, homeroom_platform::text::NAME)
                        .err()
                        .unwrap_or_default(),
                ))
            }
            other => Ok(other.map(str::to_owned)),
        }
    };
    Ok(crate::ops::contacts::ContactEdit {
        given_name: name(&r.given_name, "given_name", true)?,
        middle_name: name(&r.middle_name, "middle_name", false)?,
        family_name: name(&r.family_name, "family_name", true)?,
        contacts,
        language: r.preferred_language.as_deref().map(normalise_language),
    })
}

/// An invitation outcome on the wire.
pub fn invitation_result(
    (account_id, outcome): (String, crate::ops::contacts::Invitation),
) -> pb::InvitationResult {
    use crate::ops::contacts::Invitation;
    let (outcome, sent_to) = match outcome {
        Invitation::Sent(kinds) => (
            pb::InvitationOutcome::Sent,
            kinds
                .into_iter()
                .map(|k| credential_kind_to_pb(k) as i32)
                .collect(),
        ),
        Invitation::AlreadyInvited => (pb::InvitationOutcome::AlreadyInvited, vec![]),
        Invitation::AlreadyActive => (pb::InvitationOutcome::AlreadyActive, vec![]),
        Invitation::Deactivated => (pb::InvitationOutcome::Deactivated, vec![]),
        Invitation::NoAddress => (pb::InvitationOutcome::NoAddress, vec![]),
        Invitation::NotFound => (pb::InvitationOutcome::NotFound, vec![]),
    };
    pb::InvitationResult {
        account_id,
        outcome: outcome as i32,
        sent_to,
    }
}

/// A deactivation outcome on the wire.
pub fn deactivation_result(
    (source_id, account_id, outcome): (String, String, crate::ops::contacts::Deactivation),
) -> pb::AccountDeactivationResult {
    use crate::ops::contacts::Deactivation;
    let outcome = match outcome {
        Deactivation::Deactivated => pb::DeactivationOutcome::Deactivated,
        Deactivation::AlreadyDeactivated => pb::DeactivationOutcome::AlreadyDeactivated,
        Deactivation::KeptByOtherSource => pb::DeactivationOutcome::KeptByOtherSource,
        Deactivation::NotFound => pb::DeactivationOutcome::NotFound,
    };
    pb::AccountDeactivationResult {
        source_id,
        account_id,
        outcome: outcome as i32,
    }
}

/// A contact point on the wire.
pub fn contact_point(p: crate::ops::accounts::ContactPointView) -> pb::ContactPoint {
    let credential = |kind: CredentialKind, c: Option<(String, u32, Option<NaiveDateTime>)>| {
        c.map(|(value, shared_count, confirmed_at)| pb::Credential {
            kind: credential_kind_to_pb(kind) as i32,
            value,
            shared: shared_count > 1,
            shared_count,
            confirmed: confirmed_at.is_some(),
            confirmed_at: opt_timestamp(confirmed_at),
            added_at: None,
        })
    };
    let a = p.account;
    pb::ContactPoint {
        display_name: a.names().display(),
        kind: kind_to_pb(a.kind()) as i32,
        status: status_to_pb(a.status()) as i32,
        account_id: a.id,
        district_id: a.district_id,
        given_name: a.given_name,
        family_name: a.family_name,
        preferred_language: a.preferred_language,
        email: credential(CredentialKind::Email, p.email),
        mobile_phone: credential(CredentialKind::MobilePhone, p.mobile_phone),
        merged_account_ids: p.merged_account_ids,
    }
}

/// A district's SSO provider on the wire: never its client secret.
pub fn sso_provider(p: &Provider) -> pb::SsoProvider {
    let kind = match p.kind {
        ProviderKind::Google => pb::SsoProviderKind::Google,
        ProviderKind::Microsoft => pb::SsoProviderKind::Microsoft,
        ProviderKind::Clever => pb::SsoProviderKind::Clever,
        ProviderKind::ClassLink => pb::SsoProviderKind::Classlink,
        ProviderKind::Oidc => pb::SsoProviderKind::GenericOidc,
    };
    pb::SsoProvider {
        provider_id: p.id.clone(),
        district_id: p.district_id.clone(),
        kind: kind as i32,
        display_name: p.display_name.clone(),
        issuer: p.issuer.clone(),
        external_id_claim: p.external_id_claim.clone().unwrap_or_default(),
        link_by_verified_email: p.links_by_email(),
    }
}

/// An absolute http(s) URL of reasonable length, else the field's error.
fn redirect_uri(raw: &str) -> Result<String, IdentityError> {
    let uri = raw.trim();
    let absolute = uri.starts_with("https://") || uri.starts_with("http://");
    if !absolute || uri.len() > 2048 || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdentityError::InvalidArgument(
            "redirect_uri: an absolute http(s) URL is required".into(),
        ));
    }
    Ok(uri.to_string())
}

impl TryFrom<pb::BeginSsoLoginRequest> for BeginSso {
    type Error = IdentityError;

    fn try_from(r: pb::BeginSsoLoginRequest) -> Result<BeginSso, IdentityError> {
        let provider_id = r.provider_id.trim().to_string();
        if provider_id.is_empty() {
            return Err(IdentityError::InvalidArgument(
                "provider_id: required".into(),
            ));
        }
        let hint = r.login_hint.trim();
        if hint.chars().count() > 256 || hint.chars().any(char::is_control) {
            return Err(IdentityError::InvalidArgument(
                "login_hint: at most 256 printable characters".into(),
            ));
        }
        Ok(BeginSso {
            provider_id,
            redirect_uri: redirect_uri(&r.redirect_uri)?,
            login_hint: Some(hint.to_string()).filter(|h| !h.is_empty()),
        })
    }
}

/// What the provider sent to the callback, with the client's address.
pub fn complete_sso(
    r: pb::CompleteSsoLoginRequest,
    client_address: Option<String>,
) -> Result<CompleteSso, IdentityError> {
    if r.state.trim().is_empty() {
        return Err(IdentityError::InvalidArgument("state: required".into()));
    }
    let provider_error = Some(r.error.trim().to_string())
        .filter(|e| !e.is_empty())
        .map(|e| (e, r.error_description.trim().to_string()));
    if provider_error.is_none() && r.code.trim().is_empty() {
        return Err(IdentityError::InvalidArgument("code: required".into()));
    }
    Ok(CompleteSso {
        state: r.state.trim().to_string(),
        code: r.code.trim().to_string(),
        provider_error,
        redirect_uri: redirect_uri(&r.redirect_uri)?,
        client_address,
    })
}
