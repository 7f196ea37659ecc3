//! Reports for district administrators: shared credentials (seed 000) —
//! every email and phone on two or more accounts, with the accounts, what
//! they are and their students — paged, and as the API's CSV download.
//! identity decides who may read it.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use homeroom_proto::identity::v1 as idpb;
use serde::Deserialize;

use super::{Chrome, MessagePage, Signed, render, text::Text};
use crate::{
    api::reports::{SharedQuery, shared_credentials_page},
    app::AppState,
};

struct HolderItem {
    account_id: String,
    name: String,
    what: String,
    students: String,
}

struct SharedRow {
    value: String,
    kind: String,
    count: u32,
    holders: Vec<HolderItem>,
}

#[derive(askama::Template)]
#[template(path = "shared_credentials.html")]
struct SharedPage {
    chrome: Chrome,
    rows: Vec<SharedRow>,
    /// "12 shared in all".
    total_text: String,
    csv: String,
    next: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
}

/// `GET /reports`: the list of reports (each decides who may read it).
pub async fn index(signed: Signed) -> Response {
    render(
        StatusCode::OK,
        ReportsPage {
            chrome: signed.chrome("reports"),
        },
    )
}

/// `?page=`.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: String,
}

/// `GET /reports/shared-credentials`.
pub async fn shared_credentials(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<PageQuery>,
) -> Response {
    let district = signed.district_id();
    let query = SharedQuery {
        district_id: district.clone(),
        school_id: String::new(),
        kinds: String::new(),
        include_home_phones: false,
        page_size: Some(100),
        page_token: q.page,
    };
    let chrome = signed.chrome("reports");
    let t = chrome.t;
    let page = match shared_credentials_page(&state, &signed.caller, query).await {
        Ok(page) => page,
        Err(e) => {
            let (status, text) = match e.status.as_u16() {
                401 | 403 | 404 => (StatusCode::FORBIDDEN, t.staff.report_forbidden.to_owned()),
                400 => (e.status, super::for_people(&e.message)),
                _ => (e.status, t.unavailable.to_owned()),
            };
            return render(
                status,
                MessagePage {
                    chrome,
                    title: t.staff.shared_report.into(),
                    text,
                    tone: "bad",
                    link: "/account".into(),
                    link_text: t.my_account.into(),
                },
            );
        }
    };
    let rows = page
        .shared_credentials
        .into_iter()
        .map(|c| SharedRow {
            kind: if c.kind.ends_with("EMAIL") {
                t.email.into()
            } else {
                t.phone.into()
            },
            value: c.value,
            count: c.shared_count,
            holders: c
                .holders
                .into_iter()
                .map(|h| {
                    let mut what = super::kind_and_roles(
                        t,
                        idpb::AccountKind::from_str_name(&h.kind).unwrap_or_default(),
                        h.roles
                            .iter()
                            .filter_map(|r| idpb::Role::from_str_name(&r.role)),
                    );
                    what.push(t.staff.enum_name(&h.status, "ACCOUNT_STATUS_"));
                    what.dedup();
                    HolderItem {
                        account_id: h.account_id,
                        name: h.display_name,
                        what: what.join(", "),
                        students: h
                            .linked_students
                            .iter()
                            .map(|s| s.display_name.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }
                })
                .collect(),
        })
        .collect();
    let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let page = SharedPage {
        chrome,
        rows,
        total_text: Text::with_n(
            t.staff.shared_total,
            page.total_size.try_into().unwrap_or_default(),
        ),
        csv: format!(
            "/api/v1/reports/shared-credentials.csv?districtId={}",
            encode(&district)
        ),
        next: (!page.next_page_token.is_empty()).then(|| {
            format!(
                "/reports/shared-credentials?page={}",
                encode(&page.next_page_token)
            )
        }),
    };
    render(StatusCode::OK, page)
}
