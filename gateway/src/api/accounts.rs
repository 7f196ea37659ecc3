//! ID-1 / GW-3 People over REST: a district's accounts searched by name,
//! email or phone in any form, filtered by kind, status, school, role,
//! "shares an email or phone" and "has a bad address", paged. The console's
//! People page calls the same [`search`]; identity decides who may list whom,
//! and messaging which bad addresses a caller may learn.

use axum::{
    Json,
    extract::{Query, State},
};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    caller::Caller,
    error::ApiError,
    json::{listed, page_size},
    params,
};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router.routes(routes!(accounts))
}

/// Account kinds by their REST names.
pub const KINDS: &[&str] = &["guardian", "staff", "student"];
/// Account statuses by their REST names.
pub const STATUSES: &[&str] = &["active", "invitee", "deactivated"];
/// Roles a search may filter by: the staff roles and guardian.
const ROLES: &[&str] = &[
    "district_admin",
    "rostering_admin",
    "communications_admin",
    "user_manager",
    "teacher",
    "staff",
    "guardian",
];

/// Which accounts to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// The district.
    pub district_id: String,
    /// Words of a name, an email, or a phone number in any form
    /// (`(987) 654-3210`); every word must match.
    #[serde(default)]
    pub q: String,
    /// Only these kinds, comma separated: `guardian`, `staff`, `student`.
    #[serde(default)]
    pub kinds: String,
    /// Only these statuses, comma separated: `active`, `invitee`, `deactivated`.
    #[serde(default)]
    pub statuses: String,
    /// Only accounts with a role at this school or a linked student there.
    #[serde(default)]
    pub school_id: String,
    /// Only accounts holding one of these roles, comma separated (e.g. `teacher`).
    #[serde(default)]
    pub roles: String,
    /// Only accounts with an email or mobile phone another account of the
    /// district also holds.
    #[serde(default)]
    pub shared_only: bool,
    /// Only accounts holding an address marked bad (bounced, undeliverable).
    #[serde(default)]
    pub bad_address_only: bool,
    /// 1–500, default 50.
    #[serde(default)]
    pub page_size: Option<i32>,
    /// The previous page's `nextPageToken`.
    #[serde(default)]
    pub page_token: String,
}

/// An email or phone of an account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSummary {
    /// `email`, `mobile_phone` or `home_phone`.
    pub kind: String,
    /// Normalised: a case-folded email or an E.164 phone.
    pub value: String,
    /// Accounts (not deactivated) holding it, this one included.
    pub shared_count: u32,
}

/// One account of the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    pub account_id: String,
    pub display_name: String,
    /// `guardian`, `staff` or `student`.
    pub kind: String,
    /// `active`, `invitee` or `deactivated`.
    pub status: String,
    /// Role names, e.g. `teacher`.
    pub roles: Vec<String>,
    pub credentials: Vec<CredentialSummary>,
}

/// A page of accounts by family name, given name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountsPage {
    pub accounts: Vec<AccountSummary>,
    /// How many match in all.
    pub total_size: i32,
    /// Empty on the last page.
    pub next_page_token: String,
    /// With `badAddressOnly`: the district has more bad addresses than one
    /// search covers (10,000); the list holds the accounts of those covered.
    pub bad_addresses_truncated: bool,
}

/// What a search found, as identity answered it.
#[derive(Debug, Default)]
pub struct Found {
    /// The page.
    pub page: idpb::ListAccountsResponse,
    /// See [`AccountsPage::bad_addresses_truncated`].
    pub bad_addresses_truncated: bool,
}

fn rest_name(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_ascii_lowercase()
}

/// A page of the accounts `caller` may list (the REST route and the console's
/// People page). "Has a bad address" asks messaging for the district's bad
/// addresses, then identity for the accounts holding one.
pub async fn search(
    state: &AppState,
    caller: &Caller,
    q: &AccountsQuery,
) -> Result<Found, ApiError> {
    let district_id = params::id("districtId", &q.district_id)?;
    let mut request = idpb::ListAccountsRequest {
        kinds: listed(
            "kinds",
            &q.kinds,
            "ACCOUNT_KIND_",
            KINDS,
            idpb::AccountKind::from_str_name,
        )?,
        statuses: listed(
            "statuses",
            &q.statuses,
            "ACCOUNT_STATUS_",
            STATUSES,
            idpb::AccountStatus::from_str_name,
        )?,
        roles: listed("roles", &q.roles, "ROLE_", ROLES, idpb::Role::from_str_name)?,
        school_id: params::optional_id("schoolId", Some(&q.school_id))?,
        shared_only: q.shared_only,
        query: q.q.trim().chars().take(200).collect(),
        page_size: page_size(q.page_size, 50, 500)?,
        page_token: params::optional_id("pageToken", Some(&q.page_token))?,
        district_id: district_id.clone(),
        ..Default::default()
    };
    let mut found = Found::default();
    if q.bad_address_only {
        let bad = state
            .messaging()
            .list_bad_addresses(caller.request(mpb::ListBadAddressesRequest { district_id }))
            .await?
            .into_inner();
        let mut addresses: Vec<String> = bad.addresses.into_iter().map(|a| a.address).collect();
        addresses.sort_unstable();
        addresses.dedup();
        if addresses.is_empty() {
            // No address means no filter to identity: nobody has a bad one.
            return Ok(found);
        }
        request.addresses = addresses;
        found.bad_addresses_truncated = bad.truncated;
    }
    found.page = state
        .identity()
        .list_accounts(caller.request(request))
        .await?
        .into_inner();
    Ok(found)
}

/// `GET /api/v1/accounts`: a page of the district's accounts.
#[utoipa::path(
    get,
    path = "/accounts",
    tag = "accounts",
    params(AccountsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts by family name, given name", body = AccountsPage),
        (status = 400, description = "A parameter is not valid (the message names it)", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "Only the district's administrators and user managers may list its people", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn accounts(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AccountsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AccountsPage>, ApiError> {
    let q = params::query(query)?;
    let found = search(&state, &caller, &q).await?;
    Ok(Json(AccountsPage {
        accounts: found
            .page
            .accounts
            .into_iter()
            .map(|a| AccountSummary {
                kind: rest_name(a.kind().as_str_name(), "ACCOUNT_KIND_"),
                status: rest_name(a.status().as_str_name(), "ACCOUNT_STATUS_"),
                roles: a
                    .roles
                    .iter()
                    .map(|r| rest_name(r.role().as_str_name(), "ROLE_"))
                    .collect(),
                credentials: a
                    .credentials
                    .iter()
                    .map(|c| CredentialSummary {
                        kind: rest_name(c.kind().as_str_name(), "CREDENTIAL_KIND_"),
                        value: c.value.clone(),
                        shared_count: c.shared_count,
                    })
                    .collect(),
                account_id: a.account_id,
                display_name: a.display_name,
            })
            .collect(),
        total_size: found.page.total_size,
        next_page_token: found.page.next_page_token,
        bad_addresses_truncated: found.bad_addresses_truncated,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_route_is_documented() {
        super::super::assert_documents(&super::super::document(), &["/accounts"]);
    }
}
