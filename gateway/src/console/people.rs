//! People (staff who may list accounts: district, user, rostering and
//! communications administrators): search by name, email or phone in any
//! form, filtered by who, status, school, role, "shares an email or
//! phone" and "has a bad address", paged; each row opens the profile.
//! Students are listed from roster (the SIS's students, with or without an
//! account). identity and roster decide who may list whom.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use homeroom_proto::identity::v1 as idpb;
use serde::Deserialize;

use super::{Chrome, Signed, render, text::Text};
use crate::{
    api::{
        accounts::{self, AccountsQuery},
        directory::{self, DirectoryQuery, StudentSummary},
        error::ApiError,
    },
    app::AppState,
};

struct PersonRow {
    /// The profile: an account's, or a rostered student's.
    href: String,
    name: String,
    what: String,
    status: String,
    /// Each email and phone, with how many other accounts share it and
    /// the mark saying so.
    contacts: Vec<(String, u32, String)>,
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
    bad: bool,
    /// Students are listed from the SIS, where the account filters do not apply.
    students_note: bool,
    kinds: [(&'static str, &'static str); 4],
    statuses: [(&'static str, &'static str); 4],
    roles: Vec<(&'static str, String)>,
    /// The district's schools: (id, name).
    schools: Vec<(String, String)>,
    rows: Vec<PersonRow>,
    /// "12 found".
    found: String,
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
    /// Present: only accounts holding a bad address.
    #[serde(default)]
    bad: Option<String>,
    #[serde(default)]
    page: String,
}

/// The kinds filter: (REST name, words).
fn kind_options(t: &Text) -> [(&'static str, &'static str); 4] {
    let [everyone, guardians, staff, students] = t.staff.who_options;
    [
        ("", everyone),
        ("guardian", guardians),
        ("staff", staff),
        ("student", students),
    ]
}

/// The status filter: (REST name, words).
fn status_options(t: &Text) -> [(&'static str, &'static str); 4] {
    let [active, invitee, deactivated] = t.staff.status_options;
    [
        ("", t.staff.any),
        ("active", active),
        ("invitee", invitee),
        ("deactivated", deactivated),
    ]
}

/// `GET /people?q=&kind=&status=&page=`.
pub async fn search(
    State(state): State<AppState>,
    signed: Signed,
    Query(search): Query<Search>,
) -> Response {
    let chrome = signed.chrome("people");
    let t = chrome.t;
    let shared = search.shared.is_some();
    let bad = search.bad.is_some();
    let district_id = signed.district_id();
    let query = AccountsQuery {
        district_id: district_id.clone(),
        q: search.q.clone(),
        kinds: search.kind.clone(),
        statuses: search.status.clone(),
        school_id: search.school.clone(),
        roles: search.role.clone(),
        shared_only: shared,
        bad_address_only: bad,
        page_size: Some(50),
        page_token: search.page.clone(),
    };
    // Students come from the SIS (with or without an account), the others
    // from identity.
    let students = search.kind == "student";
    let listing = async {
        if students {
            let query = DirectoryQuery {
                district_id: district_id.clone(),
                school_id: search.school.clone(),
                q: search.q.clone(),
                page_size: Some(50),
                page_token: search.page.clone(),
                include_inactive: false,
            };
            let page = directory::students_page(&state, &signed.caller, &query).await?;
            Ok::<_, ApiError>((
                page.students
                    .into_iter()
                    .map(|s| student_row(t, s))
                    .collect::<Vec<_>>(),
                page.total_size,
                page.next_page_token,
            ))
        } else {
            let found = accounts::search(&state, &signed.caller, &query).await?;
            Ok((
                found.page.accounts.into_iter().map(|a| row(t, a)).collect(),
                found.page.total_size,
                found.page.next_page_token,
            ))
        }
    };
    let (answer, schools) = tokio::join!(
        listing,
        super::roles::schools(&state, &signed.caller, &district_id),
    );
    let (rows, total, next, error, status) = match answer {
        Ok((rows, total, next_page_token)) => {
            let next = (!next_page_token.is_empty()).then(|| {
                let encode =
                    |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
                format!(
                    "/people?q={}&kind={}&status={}&school={}&role={}{}{}&page={}",
                    encode(&search.q),
                    encode(&search.kind),
                    encode(&search.status),
                    encode(&search.school),
                    encode(&search.role),
                    if shared { "&shared=1" } else { "" },
                    if bad { "&bad=1" } else { "" },
                    encode(&next_page_token)
                )
            });
            (rows, total, next, None, StatusCode::OK)
        }
        Err(e) => {
            let text = match e.status.as_u16() {
                403 => t.staff.people_forbidden.to_owned(),
                400 => super::for_people(&e.message),
                _ => t.unavailable.to_owned(),
            };
            (Vec::new(), 0, None, Some(text), e.status)
        }
    };
    let students_note =
        students && (!search.status.is_empty() || !search.role.is_empty() || shared || bad);
    let page = PeoplePage {
        chrome,
        q: search.q,
        kind: search.kind,
        status: search.status,
        school: search.school,
        role: search.role,
        shared,
        bad,
        students_note,
        kinds: kind_options(t),
        statuses: status_options(t),
        roles: crate::api::roles::STAFF_ROLES
            .iter()
            .map(|r| (*r, t.staff.enum_name(r, "ROLE_")))
            .collect(),
        schools,
        rows,
        found: Text::with_n(t.staff.found, total.try_into().unwrap_or_default()),
        next,
        error,
    };
    render(status, page)
}

/// A rostered student: its profile, grade, and whether it has an account.
fn student_row(t: &Text, s: StudentSummary) -> PersonRow {
    PersonRow {
        href: format!("/students/{}", s.student_id),
        name: s.display_name,
        what: if s.grade.is_empty() {
            t.staff.student.to_owned()
        } else {
            t.staff.student_in_grade.replace("{grade}", &s.grade)
        },
        status: if s.account_id.is_empty() {
            t.staff.no_account.to_owned()
        } else {
            t.staff.has_account.to_owned()
        },
        contacts: Vec::new(),
    }
}

fn row(t: &Text, a: idpb::Account) -> PersonRow {
    let what = super::kind_and_roles(t, a.kind(), a.roles.iter().map(|r| r.role()));
    PersonRow {
        href: format!("/accounts/{}", a.account_id),
        status: t
            .staff
            .enum_name(a.status().as_str_name(), "ACCOUNT_STATUS_"),
        what: what.join(", "),
        contacts: a
            .credentials
            .iter()
            .map(|c| {
                let others = c.shared_count.saturating_sub(1);
                (c.value.clone(), others, t.staff.shared_other(others))
            })
            .collect(),
        name: a.display_name,
    }
}
