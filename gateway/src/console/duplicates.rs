//! The duplicate-guardian report for district administrators (RO-8):
//! guardian records that look like one person — the same name with a shared
//! email or phone, or with the same student — with why, and the SIS ids of
//! each record so the district can fix them at the source; paged, and as the
//! API's CSV download. roster decides who may read it.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use super::{Chrome, Signed, render, text::Text};
use crate::{
    api::{
        params::PageRequest,
        roster::{
            duplicates::{DuplicateMemberView, DuplicatesQuery, duplicates_page},
            enums::{DuplicateReason, SourceKind},
        },
    },
    app::AppState,
};

struct GroupItem {
    name: String,
    reasons: Vec<&'static str>,
    shared: String,
    /// "Records of Maria Lopez": the table's name for screen readers.
    records_label: String,
    records: Vec<RecordItem>,
}

struct RecordItem {
    account_id: Option<String>,
    name: String,
    contacts: String,
    status: String,
    sources: Vec<String>,
    students: String,
}

#[derive(askama::Template)]
#[template(path = "duplicates.html")]
struct DuplicatesPage {
    chrome: Chrome,
    groups: Vec<GroupItem>,
    /// "3 groups in all".
    total_text: String,
    csv: String,
    next: Option<String>,
    error: Option<String>,
}

/// `?page=`.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: String,
}

fn reason(t: &Text, r: DuplicateReason) -> &'static str {
    match r {
        DuplicateReason::SameNameSharedCredential => t.staff.same_name_shared,
        DuplicateReason::SameNameSameStudent => t.staff.same_name_same_student,
    }
}

/// A source's name: the product's, or what the district did.
fn source_name(t: &Text, kind: Option<SourceKind>) -> &'static str {
    match kind {
        Some(SourceKind::OnerosterCsv) => "OneRoster CSV",
        Some(SourceKind::OnerosterRest) => "OneRoster REST",
        Some(SourceKind::Clever) => "Clever",
        Some(SourceKind::Upload) => t.staff.guardian_upload,
        None => "SIS",
    }
}

fn record(t: &Text, m: DuplicateMemberView) -> RecordItem {
    RecordItem {
        contacts: [m.email, m.mobile_phone]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        status: m
            .status
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| v.as_str().map(|s| t.staff.enum_name(s, "RECORD_STATUS_")))
            .unwrap_or_default(),
        sources: m
            .sources
            .iter()
            .map(|s| {
                t.staff
                    .source_id
                    .replace("{source}", source_name(t, s.kind))
                    .replace("{id}", &s.source_id)
            })
            .collect(),
        students: m
            .students
            .iter()
            .map(|s| s.display_name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        account_id: m.account_id,
        name: m.display_name,
    }
}

/// `GET /reports/duplicate-guardians`.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<PageQuery>,
) -> Response {
    let chrome = signed.chrome("reports");
    let t = chrome.t;
    let district = signed.district_id();
    let scope = DuplicatesQuery {
        district_id: district.clone(),
        school_id: None,
    };
    let request = PageRequest {
        size: 50,
        token: q.page,
    };
    let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let (groups, total, next, error, status) =
        match duplicates_page(&state, &signed.caller, scope, request).await {
            Ok(page) => (
                page.groups
                    .into_iter()
                    .map(|g| {
                        let name = g
                            .guardians
                            .first()
                            .map_or(g.normalized_name.clone(), |m| m.display_name.clone());
                        GroupItem {
                            records_label: t.staff.records_of.replace("{name}", &name),
                            name,
                            reasons: g.reasons.into_iter().map(|r| reason(t, r)).collect(),
                            shared: g.shared_values.join(", "),
                            records: g.guardians.into_iter().map(|m| record(t, m)).collect(),
                        }
                    })
                    .collect(),
                page.total_size,
                page.next_page_token
                    .map(|t| format!("/reports/duplicate-guardians?page={}", encode(&t))),
                None,
                StatusCode::OK,
            ),
            Err(e) => {
                let text = match e.status.as_u16() {
                    401 | 403 | 404 => t.staff.report_forbidden.to_owned(),
                    400 => super::for_people(&e.message),
                    _ => t.unavailable.to_owned(),
                };
                (Vec::new(), 0, None, Some(text), e.status)
            }
        };
    let page = DuplicatesPage {
        chrome,
        groups,
        total_text: t.staff.groups(total),
        csv: format!(
            "/api/v1/duplicate-guardians/download?districtId={}",
            encode(&district)
        ),
        next,
        error,
    };
    render(status, page)
}
