//! ID-1 over REST: a district administrator grants and revokes the staff
//! roles of SPEC "Users and words", for the whole district or one school.
//! identity decides who may (district administrators of the account's
//! district, never revoking their own district administrator role) and
//! audits each change (ID-10).

use axum::{
    Json,
    extract::{Path, State, rejection::PathRejection},
    http::HeaderMap,
};
use homeroom_proto::{identity::v1 as idpb, roster::v1 as rpb};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    caller::Caller, error::ApiError, json::enum_value, me::AccountView, params, session::client,
};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router.routes(routes!(assign_roles))
}

/// The roles an administrator assigns, by their REST names.
pub const STAFF_ROLES: &[&str] = &[
    "district_admin",
    "rostering_admin",
    "communications_admin",
    "user_manager",
    "teacher",
    "staff",
];

/// A role and where it applies.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleBody {
    /// One of `district_admin`, `rostering_admin`, `communications_admin`,
    /// `user_manager`, `teacher`, `staff`.
    pub role: String,
    /// Empty or absent: the whole district.
    #[serde(default)]
    pub school_id: String,
}

/// `POST /api/v1/accounts/{accountId}/roles`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolesBody {
    #[serde(default)]
    pub grant: Vec<RoleBody>,
    #[serde(default)]
    pub revoke: Vec<RoleBody>,
}

fn assignments(field: &str, roles: &[RoleBody]) -> Result<Vec<idpb::RoleAssignment>, ApiError> {
    roles
        .iter()
        .map(|r| {
            Ok(idpb::RoleAssignment {
                role: enum_value(
                    &format!("{field}.role"),
                    &r.role,
                    "ROLE_",
                    STAFF_ROLES,
                    idpb::Role::from_str_name,
                )?,
                school_id: params::optional_id(&format!("{field}.schoolId"), Some(&r.school_id))?,
                ..Default::default()
            })
        })
        .collect()
}

/// Grants and revokes `account_id`'s roles as `caller`; the account after.
pub async fn change_roles(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    account_id: String,
    body: &RolesBody,
) -> Result<idpb::Account, ApiError> {
    if body.grant.is_empty() && body.revoke.is_empty() {
        return Err(ApiError::bad_request(
            "grant: name a role to grant or to revoke",
        ));
    }
    // identity cannot tell a school of the district from a made-up id: a
    // grant at a school roster does not show the caller would grant nothing.
    for grant in &body.grant {
        let school_id = grant.school_id.trim();
        if school_id.is_empty() {
            continue;
        }
        let found = state
            .roster()
            .get_school(caller.request(rpb::GetSchoolRequest {
                school_id: school_id.to_owned(),
            }))
            .await;
        match found {
            Ok(_) => {}
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::NotFound
                        | tonic::Code::PermissionDenied
                        | tonic::Code::InvalidArgument
                ) =>
            {
                return Err(ApiError::bad_request(format!(
                    "grant.schoolId: {school_id} is not a school of your district; \
                     leave it empty to grant the role for the whole district"
                )));
            }
            Err(s) => return Err(s.into()),
        }
    }
    let answer = state
        .identity()
        .assign_roles(caller.request(idpb::AssignRolesRequest {
            account_id,
            grant: assignments("grant", &body.grant)?,
            revoke: assignments("revoke", &body.revoke)?,
            client: client(headers, caller.request_id()),
        }))
        .await?
        .into_inner();
    answer
        .account
        .ok_or_else(|| ApiError::new(tonic::Code::Internal, "no account in the answer"))
}

/// `POST /api/v1/accounts/{accountId}/roles`: grants and revokes roles.
#[utoipa::path(
    post,
    path = "/accounts/{accountId}/roles",
    tag = "accounts",
    params(("accountId" = String, Path, description = "The account")),
    request_body = RolesBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account with its roles after the change", body = AccountView),
        (status = 400, description = "The body cannot be read, names an unknown role, or revokes the caller's own district administrator role", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "Changing roles needs the district administrator role", body = super::error::ErrorBody),
        (status = 404, description = "No such account in the caller's district", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn assign_roles(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<RolesBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<AccountView>, ApiError> {
    let account_id = params::path_id(path, "accountId")?;
    let Json(body) = body?;
    let account = change_roles(&state, &caller, &headers, account_id, &body).await?;
    Ok(Json(account.into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_staff_roles_are_assigned_and_the_field_is_named() {
        let body = |role: &str| {
            vec![super::RoleBody {
                role: role.into(),
                school_id: String::new(),
            }]
        };
        assert_eq!(
            super::assignments("grant", &body("teacher")).unwrap()[0].role,
            homeroom_proto::identity::v1::Role::Teacher as i32
        );
        let e = super::assignments("grant", &body("guardian")).unwrap_err();
        assert!(e.message.starts_with("grant.role: one of"), "{}", e.message);
        super::super::assert_documents(&super::super::document(), &["/accounts/{accountId}/roles"]);
    }
}
