//! People (staff who may list accounts: district, user, rostering and
//! communications administrators): search by name, email or phone in any
//! form, filtered by who, status, school, role and "shares an email or
//! phone", paged; each row opens the profile. identity decides who may list
//! whom.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use homeroom_proto::identity::v1 as idpb;
use serde::Deserialize;

use super::{Chrome, Signed, render, words};
use crate::{api::error::ApiError, app::AppState};

struct PersonRow {
    account_id: String,
    name: String,
    what: String,
    status: String,
    /// Each email and phone, with how many other accounts share it.
    contacts: Vec<(String, u32)>,
}

#[derive(askama::Template)]
#[template(path = "people.html")]
struct PeoplePage {
    chrome: Chrome,
    q: String,
    kind: String,
    status: String,
    school: String,
    role: String,
    shared: bool,
    kinds: [(&'static str, &'static str); 4],
    statuses: [(&'static str, &'static str); 4],
    roles: Vec<(&'static str, String)>,
    /// The district's schools: (id, name).
    schools: Vec<(String, String)>,
    rows: Vec<PersonRow>,
    total: i32,
    next: Option<String>,
    error: Option<String>,
}

/// The search form.
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    school: String,
    /// A staff role's REST name, e.g. `teacher`.
    #[serde(default)]
    role: String,
    /// Present: only accounts sharing an email or phone.
    #[serde(default)]
    shared: Option<String>,
    #[serde(default)]
    page: String,
}

const KINDS: [(&str, &str); 4] = [
    ("", "Everyone"),
    ("guardian", "Parents/guardians"),
    ("staff", "Staff"),
    ("student", "Students"),
];
const STATUSES: [(&str, &str); 4] = [
    ("", "Any"),
    ("active", "Active"),
    ("invitee", "Invitee (pending)"),
    ("deactivated", "Deactivated"),
];

/// `GET /people?q=&kind=&status=&page=`.
pub async fn search(
    State(state): State<AppState>,
    signed: Signed,
    Query(search): Query<Search>,
) -> Response {
    let kinds: Vec<i32> =
        idpb::AccountKind::from_str_name(&format!("ACCOUNT_KIND_{}", search.kind.to_uppercase()))
            .filter(|_| !search.kind.is_empty())
            .map(|k| k as i32)
            .into_iter()
            .collect();
    let statuses: Vec<i32> = idpb::AccountStatus::from_str_name(&format!(
        "ACCOUNT_STATUS_{}",
        search.status.to_uppercase()
    ))
    .filter(|_| !search.status.is_empty())
    .map(|s| s as i32)
    .into_iter()
    .collect();
    let roles: Vec<i32> =
        idpb::Role::from_str_name(&format!("ROLE_{}", search.role.to_uppercase()))
            .filter(|_| !search.role.is_empty())
            .map(|r| r as i32)
            .into_iter()
            .collect();
    let shared = search.shared.is_some();
    let district_id = signed.district_id();
    let mut identity = state.identity();
    let (answer, schools) = tokio::join!(
        identity.list_accounts(signed.caller.request(idpb::ListAccountsRequest {
            district_id: district_id.clone(),
            kinds,
            statuses,
            roles,
            school_id: search.school.trim().to_owned(),
            shared_only: shared,
            query: search.q.trim().to_owned(),
            page_size: 50,
            page_token: search.page.clone(),
            ..Default::default()
        })),
        super::roles::schools(&state, &signed.caller, &district_id),
    );
    let answer = answer.map_err(ApiError::from);
    let (rows, total, next, error, status) = match answer {
        Ok(a) => {
            let a = a.into_inner();
            let next = (!a.next_page_token.is_empty()).then(|| {
                let encode =
                    |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
                format!(
                    "/people?q={}&kind={}&status={}&school={}&role={}{}&page={}",
                    encode(&search.q),
                    encode(&search.kind),
                    encode(&search.status),
                    encode(&search.school),
                    encode(&search.role),
                    if shared { "&shared=1" } else { "" },
                    encode(&a.next_page_token)
                )
            });
            (
                a.accounts.into_iter().map(row).collect(),
                a.total_size,
                next,
                None,
                StatusCode::OK,
            )
        }
        Err(e) => {
            let text = match e.status.as_u16() {
                403 => {
                    "Only the district's administrators and user managers may search for people."
                        .to_owned()
                }
                400 => super::for_people(&e.message),
                _ => signed.chrome("").t.unavailable.to_owned(),
            };
            (Vec::new(), 0, None, Some(text), e.status)
        }
    };
    let page = PeoplePage {
        chrome: signed.chrome("people"),
        q: search.q,
        kind: search.kind,
        status: search.status,
        school: search.school,
        role: search.role,
        shared,
        kinds: KINDS,
        statuses: STATUSES,
        roles: crate::api::roles::STAFF_ROLES
            .iter()
            .map(|r| (*r, words(r, "")))
            .collect(),
        schools,
        rows,
        total,
        next,
        error,
    };
    render(status, page)
}

fn row(a: idpb::Account) -> PersonRow {
    let what = super::kind_and_roles(a.kind(), a.roles.iter().map(|r| r.role()));
    PersonRow {
        status: words(a.status().as_str_name(), "ACCOUNT_STATUS_"),
        what: what.join(", "),
        contacts: a
            .credentials
            .iter()
            .map(|c| (c.value.clone(), c.shared_count.saturating_sub(1)))
            .collect(),
        name: a.display_name,
        account_id: a.account_id,
    }
}
