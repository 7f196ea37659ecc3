//! ID-10 over REST: the district's audit log — sign-ins, throttling, token
//! reuse, credential, role and status changes, address resets, merges —
//! newest first, filtered by kind, account and time, paged. identity lets
//! only the district's administrators read it.

use axum::{
    Json,
    extract::{Query, State},
};
use homeroom_proto::identity::v1 as idpb;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    caller::Caller,
    error::ApiError,
    json::{listed, page_size, timestamp},
    params,
};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router.routes(routes!(audit_events))
}

/// The kinds by their REST names.
pub const KINDS: &[&str] = &[
    "login_succeeded",
    "login_failed",
    "login_throttled",
    "account_selected",
    "one_time_code_sent",
    "invitation_sent",
    "invitation_accepted",
    "sso_linked",
    "refresh_token_reused",
    "logged_out",
    "password_changed",
    "credential_changed",
    "credential_confirmed",
    "name_changed",
    "role_changed",
    "status_changed",
    "address_status_reset",
    "accounts_merged",
    "service_token_issued",
];

/// Which events to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The district.
    pub district_id: String,
    /// Only these kinds, comma separated (e.g. `login_failed,role_changed`).
    #[serde(default)]
    pub kinds: String,
    /// Only events by or about this account.
    #[serde(default)]
    pub account_id: String,
    /// Only events at or after this time (RFC 3339).
    #[serde(default)]
    pub since: String,
    /// Only events before this time (RFC 3339).
    #[serde(default)]
    pub until: String,
    /// 1–500, default 50.
    #[serde(default)]
    pub page_size: Option<i32>,
    /// The previous page's `nextPageToken`.
    #[serde(default)]
    pub page_token: String,
}

/// One event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    pub event_id: String,
    /// E.g. `role_changed`.
    pub kind: String,
    /// RFC 3339.
    pub occurred_at: String,
    /// The account that acted; empty for a service or an anonymous client.
    pub actor_account_id: String,
    /// The service that acted, e.g. `roster-svc`.
    pub actor_service: String,
    /// The account the event is about.
    pub subject_account_id: String,
    /// `gateway`, `sync`, `upload`, `messaging` or `cli`.
    pub source: String,
    pub ip_address: String,
    pub user_agent: String,
    pub request_id: String,
    /// What happened, in words (addresses masked).
    pub summary: String,
    pub details: std::collections::BTreeMap<String, String>,
}

/// A page of events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// The REST name of a kind.
pub fn kind_name(kind: idpb::AuditEventKind) -> String {
    kind.as_str_name()
        .trim_start_matches("AUDIT_EVENT_KIND_")
        .to_ascii_lowercase()
}

/// An RFC 3339 time, or 400 naming the field.
fn time(field: &str, value: &str) -> Result<Option<prost_types::Timestamp>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let t = chrono::DateTime::parse_from_rfc3339(value).map_err(|_| {
        ApiError::bad_request(format!(
            "{field}: an RFC 3339 time such as 2026-09-01T08:00:00Z"
        ))
    })?;
    Ok(Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }))
}

/// A page of the audit log as `caller` may see it (the REST route and the
/// console's page).
pub async fn audit_page(
    state: &AppState,
    caller: &Caller,
    q: AuditQuery,
) -> Result<AuditPage, ApiError> {
    let request = idpb::ListAuditEventsRequest {
        district_id: params::id("districtId", &q.district_id)?,
        kinds: listed(
            "kinds",
            &q.kinds,
            "AUDIT_EVENT_KIND_",
            KINDS,
            idpb::AuditEventKind::from_str_name,
        )?,
        account_id: params::optional_id("accountId", Some(&q.account_id))?,
        since: time("since", &q.since)?,
        until: time("until", &q.until)?,
        page_size: page_size(q.page_size, 50, 500)?,
        page_token: params::optional_id("pageToken", Some(&q.page_token))?,
    };
    let answer = state
        .identity()
        .list_audit_events(caller.request(request))
        .await?
        .into_inner();
    Ok(AuditPage {
        events: answer
            .events
            .into_iter()
            .map(|e| AuditEventView {
                kind: kind_name(e.kind()),
                occurred_at: e
                    .occurred_at
                    .as_ref()
                    .and_then(timestamp)
                    .unwrap_or_default(),
                event_id: e.event_id,
                actor_account_id: e.actor_account_id,
                actor_service: e.actor_service,
                subject_account_id: e.subject_account_id,
                source: e.source,
                ip_address: e.ip_address,
                user_agent: e.user_agent,
                request_id: e.request_id,
                summary: e.summary,
                details: e.details.into_iter().collect(),
            })
            .collect(),
        next_page_token: answer.next_page_token,
    })
}

/// `GET /api/v1/audit-events`: a page of the district's audit log.
#[utoipa::path(
    get,
    path = "/audit-events",
    tag = "reports",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events, newest first", body = AuditPage),
        (status = 400, description = "A parameter is missing or not valid (the message names it)", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "Only the district's administrators may read its audit log", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn audit_events(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let q = params::query(query)?;
    Ok(Json(audit_page(&state, &caller, q).await?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_has_its_rest_name_and_times_are_rfc_3339() {
        use homeroom_proto::identity::v1::AuditEventKind as K;
        for i in 1..=19 {
            let kind = K::try_from(i).unwrap();
            assert!(
                super::KINDS.contains(&super::kind_name(kind).as_str()),
                "{kind:?}"
            );
        }
        assert_eq!(super::KINDS.len(), 19);
        assert!(
            super::time("since", "2026-09-01T08:00:00Z")
                .unwrap()
                .is_some()
        );
        assert!(super::time("since", "").unwrap().is_none());
        let e = super::time("until", "yesterday").unwrap_err();
        assert!(e.message.starts_with("until:"), "{}", e.message);
        super::super::assert_documents(&super::super::document(), &["/audit-events"]);
    }
}
