//! RO-1 over REST: the district's rostered students, staff and classes as
//! the SIS gave them — with or without an account — searched and paged.
//! roster decides who may list what (administrators and user managers;
//! teachers see the students of their classes). The console's People page
//! lists students through [`students_page`].

use axum::{
    Json,
    extract::{Query, State},
};
use homeroom_proto::roster::v1 as rpb;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{caller::Caller, error::ApiError, json::page_size, params};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(students))
        .routes(routes!(staff))
        .routes(routes!(classes))
}

/// Which rostered records to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// The district.
    pub district_id: String,
    /// Only those of this school.
    #[serde(default)]
    pub school_id: String,
    /// Words of a name (or a student number, a class code).
    #[serde(default)]
    pub q: String,
    /// Also records no longer in the SIS (deactivated, archived).
    #[serde(default)]
    pub include_inactive: bool,
    /// 1–500, default 50.
    #[serde(default)]
    pub page_size: Option<i32>,
    /// The previous page's `nextPageToken`.
    #[serde(default)]
    pub page_token: String,
}

/// A rostered student.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentSummary {
    pub student_id: String,
    pub display_name: String,
    pub grade: String,
    pub school_id: String,
    /// The SIS student number.
    pub student_code: String,
    /// Empty when the student has no account.
    pub account_id: String,
    /// `active` or `deactivated`.
    pub status: String,
}

/// A rostered staff member.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffSummary {
    pub staff_id: String,
    pub display_name: String,
    /// E.g. `teacher`.
    pub role: String,
    pub school_ids: Vec<String>,
    /// Empty when the staff member has no account.
    pub account_id: String,
    /// `active` or `deactivated`.
    pub status: String,
}

/// A rostered class.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClassSummary {
    pub class_id: String,
    pub title: String,
    pub class_code: String,
    pub school_id: String,
    pub grades: Vec<String>,
    pub teacher_names: Vec<String>,
    pub student_count: u32,
    /// `active`, `deactivated` or `archived`.
    pub status: String,
}

/// A page of students.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentsPage {
    pub students: Vec<StudentSummary>,
    pub total_size: i32,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// A page of staff.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffPage {
    pub staff: Vec<StaffSummary>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// A page of classes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClassesPage {
    pub classes: Vec<ClassSummary>,
    /// Empty on the last page.
    pub next_page_token: String,
}

fn status_name(status: rpb::RecordStatus) -> String {
    status
        .as_str_name()
        .trim_start_matches("RECORD_STATUS_")
        .to_ascii_lowercase()
}

/// Active only (no filter), or every status a record of the kind can have
/// (archived: classes only).
fn statuses(q: &DirectoryQuery, archived: bool) -> Vec<i32> {
    if !q.include_inactive {
        return Vec::new();
    }
    let mut all = vec![
        rpb::RecordStatus::Active as i32,
        rpb::RecordStatus::Deactivated as i32,
    ];
    if archived {
        all.push(rpb::RecordStatus::Archived as i32);
    }
    all
}

/// A page of the students `caller` may see (the REST route and People).
pub async fn students_page(
    state: &AppState,
    caller: &Caller,
    q: &DirectoryQuery,
) -> Result<StudentsPage, ApiError> {
    let answer = state
        .roster()
        .list_students(caller.request(rpb::ListStudentsRequest {
            district_id: params::id("districtId", &q.district_id)?,
            school_id: params::optional_id("schoolId", Some(&q.school_id))?,
            query: q.q.trim().chars().take(200).collect(),
            statuses: statuses(q, false),
            page_size: page_size(q.page_size, 50, 500)?,
            page_token: params::optional_id("pageToken", Some(&q.page_token))?,
            ..Default::default()
        }))
        .await?
        .into_inner();
    Ok(StudentsPage {
        students: answer
            .students
            .into_iter()
            .map(|s| StudentSummary {
                status: status_name(s.status()),
                student_id: s.student_id,
                display_name: s.display_name,
                grade: s.grade,
                school_id: s.school_id,
                student_code: s.student_code,
                account_id: s.account_id,
            })
            .collect(),
        total_size: answer.total_size,
        next_page_token: answer.next_page_token,
    })
}

/// `GET /api/v1/students`: a page of the district's rostered students.
#[utoipa::path(
    get,
    path = "/students",
    tag = "directory",
    params(DirectoryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of students by family name, given name", body = StudentsPage),
        (status = 400, description = "A parameter is not valid (the message names it)", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not list these students", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn students(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DirectoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<StudentsPage>, ApiError> {
    let q = params::query(query)?;
    Ok(Json(students_page(&state, &caller, &q).await?))
}

/// `GET /api/v1/staff`: a page of the district's rostered staff.
#[utoipa::path(
    get,
    path = "/staff",
    tag = "directory",
    params(DirectoryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of staff by family name, given name", body = StaffPage),
        (status = 400, description = "A parameter is not valid (the message names it)", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "Only staff of the district may list its staff", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn staff(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DirectoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<StaffPage>, ApiError> {
    let q = params::query(query)?;
    let answer = state
        .roster()
        .list_staff(caller.request(rpb::ListStaffRequest {
            district_id: params::id("districtId", &q.district_id)?,
            school_id: params::optional_id("schoolId", Some(&q.school_id))?,
            query: q.q.trim().chars().take(200).collect(),
            statuses: statuses(&q, false),
            page_size: page_size(q.page_size, 50, 500)?,
            page_token: params::optional_id("pageToken", Some(&q.page_token))?,
            ..Default::default()
        }))
        .await?
        .into_inner();
    Ok(Json(StaffPage {
        staff: answer
            .staff
            .into_iter()
            .map(|s| StaffSummary {
                status: status_name(s.status()),
                role: s
                    .role()
                    .as_str_name()
                    .trim_start_matches("STAFF_ROLE_")
                    .to_ascii_lowercase(),
                staff_id: s.staff_id,
                display_name: s.display_name,
                school_ids: s.school_ids,
                account_id: s.account_id,
            })
            .collect(),
        next_page_token: answer.next_page_token,
    }))
}

/// `GET /api/v1/classes`: a page of the district's rostered classes.
#[utoipa::path(
    get,
    path = "/classes",
    tag = "directory",
    params(DirectoryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of classes", body = ClassesPage),
        (status = 400, description = "A parameter is not valid (the message names it)", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not list these classes", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests", body = super::error::ErrorBody),
    )
)]
pub async fn classes(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DirectoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ClassesPage>, ApiError> {
    let q = params::query(query)?;
    let answer = state
        .roster()
        .list_classes(caller.request(rpb::ListClassesRequest {
            district_id: params::id("districtId", &q.district_id)?,
            school_id: params::optional_id("schoolId", Some(&q.school_id))?,
            query: q.q.trim().chars().take(200).collect(),
            statuses: statuses(&q, true),
            page_size: page_size(q.page_size, 50, 500)?,
            page_token: params::optional_id("pageToken", Some(&q.page_token))?,
            ..Default::default()
        }))
        .await?
        .into_inner();
    Ok(Json(ClassesPage {
        classes: answer
            .classes
            .into_iter()
            .map(|c| ClassSummary {
                status: status_name(c.status()),
                class_id: c.class_id,
                title: c.title,
                class_code: c.class_code,
                school_id: c.school_id,
                grades: c.grades,
                teacher_names: c.teacher_names,
                student_count: c.student_count,
            })
            .collect(),
        next_page_token: answer.next_page_token,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_routes_are_documented() {
        super::super::assert_documents(
            &super::super::document(),
            &["/students", "/staff", "/classes"],
        );
    }
}
