//! Staff role management on a staff member's profile (ID-1), for district
//! administrators: the roles with where they apply (the whole district or a
//! school) and whether the SIS manages them; grant one, revoke one an
//! administrator assigned. identity decides who may and audits each change.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use homeroom_platform::auth::Role;
use homeroom_proto::roster::v1 as rpb;
use serde::Deserialize;

use super::Signed;
use crate::{
    api::{
        caller::Caller,
        me::AccountView,
        roles::{RoleBody, RolesBody, STAFF_ROLES, change_roles},
    },
    app::AppState,
};

/// The roles section of a profile, for a district administrator.
pub struct RoleAdmin {
    pub current: Vec<RoleRow>,
    /// Every staff role: (REST name, words).
    pub choices: Vec<(&'static str, String)>,
    /// The district's schools: (id, name).
    pub schools: Vec<(String, String)>,
}

/// One role the account holds.
pub struct RoleRow {
    pub name: String,
    pub label: String,
    pub school_id: String,
    pub scope: String,
    /// From the SIS: the next sync replaces it, so it is not revoked here.
    pub sync_managed: bool,
    /// "Revoke Teacher (Whole district)?", asked before revoking.
    pub revoke_confirm: String,
    /// "Revoke Teacher, Whole district": the revoke button's name.
    pub revoke_label: String,
}

/// The section, when `signed` administers the district of a staff `account`.
pub async fn admin_of(
    state: &AppState,
    signed: &Signed,
    account: &AccountView,
) -> Option<RoleAdmin> {
    if account.kind != "ACCOUNT_KIND_STAFF"
        || !signed
            .caller
            .principal
            .has_district_role(&account.district_id, Role::DistrictAdmin)
    {
        return None;
    }
    let t = super::language(&signed.headers);
    let schools = schools(state, &signed.caller, &account.district_id).await;
    let school_name = |id: &str| {
        schools
            .iter()
            .find(|(s, _)| s == id)
            .map_or_else(|| t.staff.one_school.to_owned(), |(_, name)| name.clone())
    };
    let current = account
        .roles
        .iter()
        .map(|r| {
            let label = t.staff.enum_name(&r.role, "ROLE_");
            let scope = if r.school_id.is_empty() {
                t.staff.whole_district.to_owned()
            } else {
                school_name(&r.school_id)
            };
            let revoke = |template: &str| {
                template
                    .replace("{role}", &label)
                    .replace("{scope}", &scope)
            };
            RoleRow {
                name: r.role.trim_start_matches("ROLE_").to_ascii_lowercase(),
                revoke_confirm: revoke(t.staff.revoke_confirm),
                revoke_label: revoke(t.staff.revoke_label),
                label,
                scope,
                school_id: r.school_id.clone(),
                sync_managed: r.sync_managed,
            }
        })
        .collect();
    Some(RoleAdmin {
        current,
        choices: STAFF_ROLES
            .iter()
            .map(|r| (*r, t.staff.enum_name(r, "ROLE_")))
            .collect(),
        schools,
    })
}

/// The district's schools the caller may list, (id, name); none when roster
/// does not answer (the pages then offer the whole district only).
pub async fn schools(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
) -> Vec<(String, String)> {
    state
        .roster()
        .list_schools(caller.request(rpb::ListSchoolsRequest {
            district_id: district_id.to_owned(),
            page_size: 500,
            ..Default::default()
        }))
        .await
        .map(|a| {
            a.into_inner()
                .schools
                .into_iter()
                .map(|s| (s.school_id, s.name))
                .collect()
        })
        .unwrap_or_default()
}

/// The grant and revoke forms.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    /// `grant` or `revoke`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    role: String,
    /// Empty: the whole district.
    #[serde(default)]
    school: String,
}

/// `POST /accounts/{id}/roles`.
pub async fn change(
    State(state): State<AppState>,
    signed: Signed,
    Path(account_id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::profile::expired_form(&state, &signed, account_id).await;
    }
    let t = super::language(&signed.headers);
    let role = vec![RoleBody {
        role: form.role,
        school_id: form.school,
    }];
    let body = if form.action == "revoke" {
        RolesBody {
            revoke: role,
            ..RolesBody::default()
        }
    } else {
        RolesBody {
            grant: role,
            ..RolesBody::default()
        }
    };
    match change_roles(
        &state,
        &signed.caller,
        &signed.headers,
        account_id.clone(),
        &body,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/accounts/{account_id}?done=roles")).into_response(),
        Err(e) => {
            let text = match e.status.as_u16() {
                403 | 404 => t.staff.roles_forbidden.to_owned(),
                400 => super::for_people(&e.message),
                _ => t.unavailable.to_owned(),
            };
            super::profile::show_account(&state, &signed, account_id, e.status, None, Some(text))
                .await
        }
    }
}
