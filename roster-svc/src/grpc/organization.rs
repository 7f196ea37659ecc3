//! The school, session, class and enrollment RPCs (RO-1). Each parses its
//! request, calls the operation and converts the answer; lists page with
//! `paging::size`, `decode` and `cut`.

use homeroom_platform::{auth::Principal, db::Db, paging};
use homeroom_proto::roster::v1 as pb;
use tonic::Status;

use super::{convert_records, service::page_key};
use crate::{
    domain::reads::{self, RecordId, Statuses},
    ops::{
        classes::{self, ClassQuery, EnrollmentQuery},
        schools::{self, SchoolQuery},
    },
};

/// GetSchool.
pub(super) async fn get_school(
    db: &Db,
    caller: &Principal,
    r: pb::GetSchoolRequest,
) -> Result<pb::GetSchoolResponse, Status> {
    let id = RecordId::parse("school_id", &r.school_id)?;
    let (row, kinds) = schools::get(db, caller, id).await?;
    Ok(pb::GetSchoolResponse {
        school: Some(convert_records::school(&row, &kinds)),
    })
}

/// ListSchools.
pub(super) async fn list_schools(
    db: &Db,
    caller: &Principal,
    r: pb::ListSchoolsRequest,
) -> Result<pb::ListSchoolsResponse, Status> {
    let size = paging::size(r.page_size, 50, 500);
    let after = page_key::<2>(&r.page_token)?;
    let query = SchoolQuery {
        district_id: RecordId::parse("district_id", &r.district_id)?,
        query: reads::query(&r.query),
        statuses: Statuses::of(convert_records::statuses(&r.statuses)),
    };
    let (mut rows, kinds) = schools::list(db, caller, query, after, size + 1).await?;
    let next = paging::cut(&mut rows, size, |s| vec![s.name.clone(), s.id.clone()]);
    Ok(pb::ListSchoolsResponse {
        schools: rows
            .iter()
            .map(|s| convert_records::school(s, &kinds))
            .collect(),
        next_page_token: next,
    })
}

/// ListAcademicSessions.
pub(super) async fn list_academic_sessions(
    db: &Db,
    caller: &Principal,
    r: pb::ListAcademicSessionsRequest,
) -> Result<pb::ListAcademicSessionsResponse, Status> {
    let size = paging::size(r.page_size, 50, 500);
    let after = page_key::<3>(&r.page_token)?;
    let mut page = schools::sessions(
        db,
        caller,
        RecordId::parse("district_id", &r.district_id)?,
        RecordId::optional("school_id", &r.school_id)?,
        Statuses::of(convert_records::statuses(&r.statuses)),
        after,
        size + 1,
    )
    .await?;
    let next = paging::cut(&mut page.sessions, size, |s| {
        schools::session_key(s).to_vec()
    });
    Ok(pb::ListAcademicSessionsResponse {
        academic_sessions: page
            .sessions
            .iter()
            .map(|s| convert_records::session(s, page.parents.get(&s.id), &page.kinds))
            .collect(),
        next_page_token: next,
    })
}

/// GetClass.
pub(super) async fn get_class(
    db: &Db,
    caller: &Principal,
    r: pb::GetClassRequest,
) -> Result<pb::GetClassResponse, Status> {
    let id = RecordId::parse("class_id", &r.class_id)?;
    let (view, kinds) = classes::get(db, caller, id).await?;
    Ok(pb::GetClassResponse {
        class: Some(convert_records::class(&view, &kinds)),
    })
}

/// ListClasses.
pub(super) async fn list_classes(
    db: &Db,
    caller: &Principal,
    r: pb::ListClassesRequest,
) -> Result<pb::ListClassesResponse, Status> {
    let size = paging::size(r.page_size, 50, 500);
    let after = page_key::<2>(&r.page_token)?;
    let query = ClassQuery {
        district_id: RecordId::parse("district_id", &r.district_id)?,
        school_id: RecordId::optional("school_id", &r.school_id)?,
        staff_id: RecordId::optional("staff_id", &r.staff_id)?,
        student_id: RecordId::optional("student_id", &r.student_id)?,
        account_id: Some(r.account_id.trim().to_string()).filter(|a| !a.is_empty()),
        session_id: RecordId::optional("academic_session_id", &r.academic_session_id)?,
        query: reads::query(&r.query),
        statuses: Statuses::of(convert_records::statuses(&r.statuses)).for_classes(),
    };
    let (mut views, kinds) = classes::list(db, caller, query, after, size + 1).await?;
    let next = paging::cut(&mut views, size, |v| {
        vec![v.row.title.clone(), v.row.id.clone()]
    });
    Ok(pb::ListClassesResponse {
        classes: views
            .iter()
            .map(|v| convert_records::class(v, &kinds))
            .collect(),
        next_page_token: next,
    })
}

/// ListEnrollments.
pub(super) async fn list_enrollments(
    db: &Db,
    caller: &Principal,
    r: pb::ListEnrollmentsRequest,
) -> Result<pb::ListEnrollmentsResponse, Status> {
    let size = paging::size(r.page_size, 100, 1_000);
    let after = page_key::<1>(&r.page_token)?.map(|[id]| id);
    let student = RecordId::optional("student_id", &r.student_id)?;
    let staff = RecordId::optional("staff_id", &r.staff_id)?;
    if student.is_some() && staff.is_some() {
        return Err(Status::invalid_argument(
            "student_id, staff_id: set one of them, not both",
        ));
    }
    let query = EnrollmentQuery {
        district_id: RecordId::parse("district_id", &r.district_id)?,
        class_id: RecordId::optional("class_id", &r.class_id)?,
        person_id: student.or(staff),
        roles: convert_records::enrollment_roles(&r.roles),
        statuses: Statuses::of(convert_records::statuses(&r.statuses)),
    };
    let (mut views, kinds) = classes::enrollments(db, caller, query, after, size + 1).await?;
    let next = paging::cut(&mut views, size, |v| vec![v.row.id.clone()]);
    Ok(pb::ListEnrollmentsResponse {
        enrollments: views
            .iter()
            .map(|v| convert_records::enrollment(v, &kinds))
            .collect(),
        next_page_token: next,
    })
}
