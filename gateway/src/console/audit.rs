//! The audit log for district administrators (ID-10): who did what, when and
//! from which address — sign-ins, throttling, credential, role and status
//! changes, Reset Status, merges — newest first, filtered by what happened,
//! by account and by day, paged. identity decides who may read it; the names
//! of the accounts come from identity too, as the reader may see them.

use std::collections::{BTreeSet, HashMap};

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use homeroom_proto::identity::v1 as idpb;
use serde::Deserialize;

use super::{Chrome, Signed, render, when};
use crate::{
    api::{
        audit::{AuditQuery, KINDS, audit_page},
        caller::Caller,
    },
    app::AppState,
};

struct EventRow {
    when: String,
    what: String,
    summary: String,
    actor: Party,
    subject: Option<Party>,
    from: String,
}

/// An account (linked to its profile) or a service, by name.
struct Party {
    name: String,
    account_id: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPageView {
    chrome: Chrome,
    kinds: Vec<(&'static str, String)>,
    kind: String,
    account: String,
    account_name: Option<String>,
    since: String,
    until: String,
    rows: Vec<EventRow>,
    next: Option<String>,
    error: Option<String>,
}

/// The filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct AuditFilters {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    account: String,
    /// A day, `2026-12-07` (from midnight UTC).
    #[serde(default)]
    since: String,
    /// A day, included.
    #[serde(default)]
    until: String,
    #[serde(default)]
    page: String,
}

/// `2026-12-07` → the RFC 3339 time of its start, `days` later.
fn day_start(day: &str, days: i64) -> String {
    chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_signed(chrono::Duration::days(days)))
        .map(|d| format!("{d}T00:00:00Z"))
        .unwrap_or_default()
}

/// `GET /reports/audit`.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(f): Query<AuditFilters>,
) -> Response {
    let chrome = signed.chrome("reports");
    let t = chrome.t;
    let query = AuditQuery {
        district_id: signed.district_id(),
        kinds: f.kind.clone(),
        account_id: f.account.clone(),
        since: day_start(&f.since, 0),
        until: day_start(&f.until, 1),
        page_size: Some(50),
        page_token: f.page.clone(),
    };
    let (rows, account_name, next, error, status) =
        match audit_page(&state, &signed.caller, query).await {
            Ok(page) => {
                let mut ids: BTreeSet<String> = page
                    .events
                    .iter()
                    .flat_map(|e| [e.actor_account_id.clone(), e.subject_account_id.clone()])
                    .filter(|id| !id.is_empty())
                    .collect();
                ids.insert(f.account.clone());
                let names = names(&state, &signed.caller, ids).await;
                let party = |id: &str| Party {
                    name: names
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| t.staff.an_account.into()),
                    account_id: Some(id.to_owned()),
                };
                let rows = page
                    .events
                    .into_iter()
                    .map(|e| EventRow {
                        when: when(Some(&e.occurred_at)),
                        what: t.staff.enum_name(&e.kind, "AUDIT_EVENT_KIND_"),
                        actor: if !e.actor_account_id.is_empty() {
                            party(&e.actor_account_id)
                        } else {
                            Party {
                                name: if e.actor_service.is_empty() {
                                    t.staff.not_signed_in.into()
                                } else {
                                    format!("Homeroom ({})", e.actor_service)
                                },
                                account_id: None,
                            }
                        },
                        subject: (!e.subject_account_id.is_empty())
                            .then(|| party(&e.subject_account_id)),
                        from: [e.source, e.ip_address]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(", "),
                        summary: e.summary,
                    })
                    .collect();
                let next = (!page.next_page_token.is_empty()).then(|| {
                    let encode =
                        |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
                    format!(
                        "/reports/audit?kind={}&account={}&since={}&until={}&page={}",
                        encode(&f.kind),
                        encode(&f.account),
                        encode(&f.since),
                        encode(&f.until),
                        encode(&page.next_page_token)
                    )
                });
                let account_name = names.get(&f.account).cloned();
                (rows, account_name, next, None, StatusCode::OK)
            }
            Err(e) => {
                let text = match e.status.as_u16() {
                    401 | 403 | 404 => t.staff.audit_forbidden.to_owned(),
                    400 => super::for_people(&e.message),
                    _ => t.unavailable.to_owned(),
                };
                (Vec::new(), None, None, Some(text), e.status)
            }
        };
    let page = AuditPageView {
        chrome,
        kinds: KINDS
            .iter()
            .map(|k| (*k, t.staff.enum_name(k, "AUDIT_EVENT_KIND_")))
            .collect(),
        kind: f.kind,
        account: f.account,
        account_name,
        since: f.since,
        until: f.until,
        rows,
        next,
        error,
    };
    render(status, page)
}

/// The display names of `ids` the caller may read, in one call (others
/// stay unnamed).
async fn names(
    state: &AppState,
    caller: &Caller,
    ids: BTreeSet<String>,
) -> HashMap<String, String> {
    let account_ids: Vec<String> = ids.into_iter().filter(|id| !id.is_empty()).collect();
    if account_ids.is_empty() {
        return HashMap::new();
    }
    let page_size = i32::try_from(account_ids.len()).unwrap_or(500);
    let district_id = caller
        .principal
        .district_id()
        .unwrap_or_default()
        .to_owned();
    state
        .identity()
        .list_accounts(caller.request(idpb::ListAccountsRequest {
            district_id,
            account_ids,
            page_size,
            ..Default::default()
        }))
        .await
        .map(|a| {
            a.into_inner()
                .accounts
                .into_iter()
                .map(|a| (a.account_id, a.display_name))
                .collect()
        })
        .unwrap_or_default()
}
