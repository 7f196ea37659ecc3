//! GW-1: user and student profiles, composed from identity, roster and
//! messaging (independent calls run concurrently). Who may see a profile is
//! decided by the service that owns its head — identity for an account
//! (GetAccount), roster for a student (GetStudent) — with the caller's token;
//! the parts hanging off it (the student's guardians' accounts, the address
//! statuses of credentials already shown) are then read as the gateway.

use axum::{
    Json,
    extract::{Path, Query, State},
};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb, roster::v1 as rpb};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    addresses::{AddressStatusView, view as status_view},
    caller::Caller,
    error::ApiError,
    json::timestamp,
    me::{AccountView, CredentialView},
};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(account_profile))
        .routes(routes!(account_history))
        .routes(routes!(student_profile))
}

/// How many history entries a profile shows before paging.
const PROFILE_HISTORY: i32 = 25;

/// An email or mobile phone of an account, with how many accounts share it
/// and its status on each channel it is sent on (bad, opted out, or fine).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    #[serde(flatten)]
    pub credential: CredentialView,
    /// One per channel: `email`, or `sms` and `voice` for a mobile phone.
    /// An address messaging never heard of is absent (it is fine).
    pub statuses: Vec<AddressStatusView>,
    /// Whether any channel of it is not sent to (bad or opted out).
    pub bad: bool,
}

/// A student linked to a guardian, as roster holds the link.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkedStudentView {
    pub student_id: String,
    pub display_name: String,
    pub grade: String,
    pub school_id: String,
    pub school_name: String,
    pub relationship: String,
    pub primary: bool,
    pub status: String,
}

/// Why a recipient got a message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReasonView {
    pub role: String,
    pub student_id: String,
    pub student_display_name: String,
    pub class_id: String,
    pub school_id: String,
    pub direct: bool,
}

/// One message an account was sent (or skipped for), newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntryView {
    pub communication_id: String,
    pub system_message_kind: String,
    pub subject: String,
    pub sender_account_id: String,
    pub sender_display_name: String,
    pub emergency: bool,
    pub channel: String,
    pub masked_address: String,
    pub delivery_id: String,
    pub status: String,
    pub skip_reason: String,
    pub failure_reason: String,
    pub reasons: Vec<ReasonView>,
    pub created_at: Option<String>,
    pub sent_at: Option<String>,
}

/// A page of an account's message history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntryView>,
    /// Pass as `pageToken` for the next page; empty on the last.
    pub next_page_token: String,
}

/// `GET /api/v1/accounts/{accountId}/profile`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountProfile {
    /// The account as identity holds it.
    pub account: AccountView,
    /// Its emails and mobile phones with shared counts and bad status.
    pub contacts: Vec<ContactView>,
    /// A guardian's students (empty for other accounts).
    pub students: Vec<LinkedStudentView>,
    /// The newest messages; page on with `/accounts/{accountId}/history`.
    pub history: HistoryPage,
}

/// A guardian of a student, with their account's contacts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentGuardianView {
    pub guardian_id: String,
    pub account_id: String,
    pub display_name: String,
    pub relationship: String,
    pub contact_type: String,
    pub primary: bool,
    pub preferred_language: String,
    /// The guardian account's status (empty without an account).
    pub account_status: String,
    /// Emails and mobile phones with shared counts and bad status.
    pub contacts: Vec<ContactView>,
    /// A home phone kept on the record only (never messaged).
    pub home_phone: String,
}

/// A class of the student.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClassView {
    pub class_id: String,
    pub title: String,
    pub class_code: String,
    pub course_title: String,
}

/// `GET /api/v1/students/{studentId}/profile`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentProfile {
    pub student_id: String,
    pub district_id: String,
    pub school_id: String,
    pub school_name: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub grade: String,
    pub student_code: String,
    pub status: String,
    pub classes: Vec<ClassView>,
    pub guardians: Vec<StudentGuardianView>,
}

/// `GET /api/v1/accounts/{accountId}/history`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this channel: `email`, `sms` or `voice`.
    #[serde(default)]
    pub channel: String,
    /// Include password resets, codes and invitations.
    #[serde(default)]
    pub include_system_messages: bool,
    /// At most this many entries (1–200; default 50).
    #[serde(default)]
    pub page_size: Option<i32>,
    /// From a previous page's `nextPageToken`.
    #[serde(default)]
    pub page_token: String,
}

fn reason(r: mpb::RecipientReason) -> ReasonView {
    ReasonView {
        role: r.role().as_str_name().to_string(),
        student_id: r.student_id,
        student_display_name: r.student_display_name,
        class_id: r.class_id,
        school_id: r.school_id,
        direct: r.direct,
    }
}

fn history_page(answer: mpb::GetAccountHistoryResponse) -> HistoryPage {
    HistoryPage {
        entries: answer
            .entries
            .into_iter()
            .map(|e| HistoryEntryView {
                system_message_kind: e.system_message_kind().as_str_name().to_string(),
                channel: e.channel().as_str_name().to_string(),
                status: e.status().as_str_name().to_string(),
                skip_reason: e.skip_reason().as_str_name().to_string(),
                created_at: e.created_at.as_ref().and_then(timestamp),
                sent_at: e.sent_at.as_ref().and_then(timestamp),
                reasons: e.reasons.into_iter().map(reason).collect(),
                communication_id: e.communication_id,
                subject: e.subject,
                sender_account_id: e.sender_account_id,
                sender_display_name: e.sender_display_name,
                emergency: e.emergency,
                masked_address: e.masked_address,
                delivery_id: e.delivery_id,
                failure_reason: e.failure_reason,
            })
            .collect(),
        next_page_token: answer.next_page_token,
    }
}

/// The channels an email or mobile phone is sent on; a home phone none.
fn channels(kind: idpb::CredentialKind) -> &'static [mpb::Channel] {
    match kind {
        idpb::CredentialKind::Email => &[mpb::Channel::Email],
        idpb::CredentialKind::MobilePhone => &[mpb::Channel::Sms, mpb::Channel::Voice],
        _ => &[],
    }
}

/// The statuses of every messageable credential of `accounts`, in one call.
/// Read as the gateway: identity or roster already decided the caller may see
/// these accounts and their addresses.
async fn statuses<'a>(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    accounts: impl Iterator<Item = &'a idpb::Account>,
) -> Result<Vec<mpb::AddressStatus>, ApiError> {
    let addresses: Vec<mpb::AddressRef> = accounts
        .flat_map(|a| a.credentials.iter())
        .flat_map(|c| {
            channels(c.kind()).iter().map(|channel| mpb::AddressRef {
                channel: *channel as i32,
                address: c.value.clone(),
            })
        })
        .collect();
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let request = caller
        .request_id()
        .as_gateway(
            state,
            mpb::GetAddressStatusRequest {
                district_id: district_id.to_string(),
                addresses,
            },
        )
        .await?;
    Ok(state
        .messaging()
        .get_address_status(request)
        .await?
        .into_inner()
        .statuses)
}

/// An account's emails and mobile phones with their statuses.
fn contacts(account: &idpb::Account, statuses: &[mpb::AddressStatus]) -> Vec<ContactView> {
    account
        .credentials
        .iter()
        .filter(|c| !channels(c.kind()).is_empty())
        .map(|c| {
            let mine: Vec<AddressStatusView> = statuses
                .iter()
                .filter(|s| s.address == c.value && channels(c.kind()).contains(&s.channel()))
                .cloned()
                .map(status_view)
                .collect();
            ContactView {
                bad: statuses.iter().any(|s| {
                    s.address == c.value
                        && channels(c.kind()).contains(&s.channel())
                        && (s.state() != mpb::AddressState::Ok || s.opted_out)
                }),
                credential: CredentialView::from(c),
                statuses: mine,
            }
        })
        .collect()
}

/// `GET /api/v1/accounts/{accountId}/profile`: the account, its contacts with
/// shared counts and bad status, a guardian's students, and its newest
/// messages.
#[utoipa::path(
    get,
    path = "/accounts/{accountId}/profile",
    tag = "accounts",
    params(("accountId" = String, Path, description = "The account")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile", body = AccountProfile),
        (status = 400, description = "The account id is not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not see this account", body = super::error::ErrorBody),
        (status = 404, description = "No such account in the caller's scope", body = super::error::ErrorBody),
    )
)]
pub async fn account_profile(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<AccountProfile>, ApiError> {
    let account_id = super::params::path_id(path, "accountId")?;
    Ok(Json(account_profile_of(&state, &caller, account_id).await?))
}

/// An account's profile as `caller` may see it (the REST route and the
/// console's page).
pub async fn account_profile_of(
    state: &AppState,
    caller: &Caller,
    account_id: String,
) -> Result<AccountProfile, ApiError> {
    let (mut identity, mut messaging) = (state.identity(), state.messaging());
    let (account, history) = tokio::try_join!(
        identity.get_account(caller.request(idpb::GetAccountRequest {
            account_id: account_id.clone(),
        })),
        messaging.get_account_history(caller.request(mpb::GetAccountHistoryRequest {
            account_id: account_id.clone(),
            include_system_messages: true,
            page_size: PROFILE_HISTORY,
            ..Default::default()
        })),
    )?;
    let account = account
        .into_inner()
        .account
        .ok_or_else(|| ApiError::new(tonic::Code::NotFound, "no such account"))?;
    let guardian = account.kind() == idpb::AccountKind::Guardian;
    let roster_students = async {
        if !guardian {
            return Ok(Vec::new());
        }
        Ok::<_, ApiError>(
            state
                .roster()
                .list_guardian_students(caller.request(rpb::ListGuardianStudentsRequest {
                    account_id: account_id.clone(),
                    ..Default::default()
                }))
                .await?
                .into_inner()
                .students,
        )
    };
    let (statuses, students) = tokio::try_join!(
        statuses(
            state,
            caller,
            &account.district_id,
            std::iter::once(&account)
        ),
        roster_students,
    )?;
    Ok(AccountProfile {
        contacts: contacts(&account, &statuses),
        students: students.into_iter().map(linked_student).collect(),
        history: history_page(history.into_inner()),
        account: AccountView::from(account),
    })
}

fn linked_student(s: rpb::GuardianStudent) -> LinkedStudentView {
    let link = s.link.unwrap_or_default();
    let student = s.student.unwrap_or_default();
    LinkedStudentView {
        relationship: link.relationship().as_str_name().to_string(),
        primary: link.primary,
        status: link.status().as_str_name().to_string(),
        school_name: s.school.map(|school| school.name).unwrap_or_default(),
        student_id: student.student_id,
        display_name: student.display_name,
        grade: student.grade,
        school_id: student.school_id,
    }
}

/// `GET /api/v1/accounts/{accountId}/history`: a page of the messages an
/// account was sent, newest first.
#[utoipa::path(
    get,
    path = "/accounts/{accountId}/history",
    tag = "accounts",
    params(("accountId" = String, Path, description = "The account"), HistoryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of history", body = HistoryPage),
        (status = 400, description = "A parameter is not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not see this account", body = super::error::ErrorBody),
        (status = 404, description = "No such account in the caller's scope", body = super::error::ErrorBody),
    )
)]
pub async fn account_history(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryPage>, ApiError> {
    let account_id = super::params::path_id(path, "accountId")?;
    let q = super::params::query(query)?;
    let channel = if q.channel.is_empty() {
        mpb::Channel::Unspecified as i32
    } else {
        super::addresses::channel(&q.channel)?
    };
    let page_size = super::json::page_size(q.page_size, 50, 200)?;
    let answer = state
        .messaging()
        .get_account_history(caller.request(mpb::GetAccountHistoryRequest {
            account_id,
            channel,
            include_system_messages: q.include_system_messages,
            page_size,
            page_token: q.page_token,
            ..Default::default()
        }))
        .await?
        .into_inner();
    Ok(Json(history_page(answer)))
}

/// `GET /api/v1/students/{studentId}/profile`: the student, their school and
/// classes, and each guardian with their account's contacts (shared counts,
/// bad status).
#[utoipa::path(
    get,
    path = "/students/{studentId}/profile",
    tag = "accounts",
    params(("studentId" = String, Path, description = "The student")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile", body = StudentProfile),
        (status = 400, description = "The student id is not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not see this student", body = super::error::ErrorBody),
        (status = 404, description = "No such student in the caller's scope", body = super::error::ErrorBody),
    )
)]
pub async fn student_profile(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<StudentProfile>, ApiError> {
    let student_id = super::params::path_id(path, "studentId")?;
    Ok(Json(student_profile_of(&state, &caller, student_id).await?))
}

/// A student's profile as `caller` may see it (the REST route and the
/// console's page).
pub async fn student_profile_of(
    state: &AppState,
    caller: &Caller,
    student_id: String,
) -> Result<StudentProfile, ApiError> {
    let answer = state
        .roster()
        .get_student(caller.request(rpb::GetStudentRequest { student_id }))
        .await?
        .into_inner();
    let student = answer
        .student
        .ok_or_else(|| ApiError::new(tonic::Code::NotFound, "no such student"))?;
    let account_ids: Vec<String> = answer
        .guardians
        .iter()
        .filter_map(|g| g.guardian.as_ref())
        .map(|g| g.account_id.clone())
        .filter(|id| !id.is_empty())
        .collect();
    let accounts = if account_ids.is_empty() {
        Vec::new()
    } else {
        // roster decided who may see the student; the guardians it returned
        // are read as the gateway (a teacher may not list accounts).
        let request = caller
            .request_id()
            .as_gateway(
                state,
                idpb::ListAccountsRequest {
                    district_id: student.district_id.clone(),
                    page_size: i32::try_from(account_ids.len()).unwrap_or(i32::MAX),
                    account_ids,
                    ..Default::default()
                },
            )
            .await?;
        state
            .identity()
            .list_accounts(request)
            .await?
            .into_inner()
            .accounts
    };
    let statuses = statuses(state, caller, &student.district_id, accounts.iter()).await?;
    let guardians = answer
        .guardians
        .into_iter()
        .map(|sg| {
            let (guardian, link) = (sg.guardian.unwrap_or_default(), sg.link.unwrap_or_default());
            let account = accounts
                .iter()
                .find(|a| a.account_id == guardian.account_id);
            StudentGuardianView {
                relationship: link.relationship().as_str_name().to_string(),
                contact_type: link.contact_type().as_str_name().to_string(),
                primary: link.primary,
                account_status: account
                    .map(|a| a.status().as_str_name().to_string())
                    .unwrap_or_default(),
                contacts: account.map(|a| contacts(a, &statuses)).unwrap_or_default(),
                guardian_id: guardian.guardian_id,
                account_id: guardian.account_id,
                display_name: guardian.display_name,
                preferred_language: guardian.preferred_language,
                home_phone: guardian.home_phone,
            }
        })
        .collect();
    Ok(StudentProfile {
        school_name: answer.school.map(|s| s.name).unwrap_or_default(),
        status: student.status().as_str_name().to_string(),
        classes: answer
            .classes
            .into_iter()
            .map(|c| ClassView {
                class_id: c.class_id,
                title: c.title,
                class_code: c.class_code,
                course_title: c.course_title,
            })
            .collect(),
        guardians,
        student_id: student.student_id,
        district_id: student.district_id,
        school_id: student.school_id,
        display_name: student.display_name,
        given_name: student.given_name,
        family_name: student.family_name,
        grade: student.grade,
        student_code: student.student_code,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_profiles_are_documented() {
        super::super::assert_documents(
            &super::super::document(),
            &[
                "/accounts/{accountId}/profile",
                "/accounts/{accountId}/history",
                "/students/{studentId}/profile",
            ],
        );
    }
}
