//! The people RPCs (RO-1, RO-8, ID-11): students, guardians and staff.
//! Each parses its request, calls the operation and converts the answer;
//! lists page with `paging::size`, `decode` and `cut`.

use homeroom_platform::{auth::Principal, db::Db, paging};
use homeroom_proto::roster::v1 as pb;
use tonic::Status;

use super::{convert_records, service::page_key};
use crate::{
    domain::reads::{self, PersonKey, RecordId, Statuses},
    ops::{
        Kinds, guardians, staff,
        students::{self, StudentQuery},
    },
    store::records::{LinkRow, PersonRow},
};

fn name_key(p: &PersonRow) -> Vec<String> {
    vec![p.family_name.clone(), p.given_name.clone(), p.id.clone()]
}

fn student_guardian(g: &PersonRow, l: &LinkRow, kinds: &Kinds) -> pb::StudentGuardian {
    pb::StudentGuardian {
        guardian: Some(convert_records::guardian(g, &[], kinds)),
        link: Some(convert_records::link(l, kinds)),
    }
}

/// GetStudent.
pub(super) async fn get_student(
    db: &Db,
    caller: &Principal,
    r: pb::GetStudentRequest,
) -> Result<pb::GetStudentResponse, Status> {
    let id = RecordId::parse("student_id", &r.student_id)?;
    let v = students::profile(db, caller, id).await?;
    Ok(pb::GetStudentResponse {
        student: Some(convert_records::student(&v.student, &v.kinds)),
        school: v
            .school
            .as_ref()
            .map(|s| convert_records::school(s, &v.kinds)),
        guardians: v
            .guardians
            .iter()
            .map(|(g, l)| student_guardian(g, l, &v.kinds))
            .collect(),
        classes: v
            .classes
            .iter()
            .map(|c| convert_records::class(c, &v.kinds))
            .collect(),
    })
}

/// ListStudentGuardians.
pub(super) async fn list_student_guardians(
    db: &Db,
    caller: &Principal,
    r: pb::ListStudentGuardiansRequest,
) -> Result<pb::ListStudentGuardiansResponse, Status> {
    let id = RecordId::parse("student_id", &r.student_id)?;
    let (guardians, kinds) = students::guardians(db, caller, id, r.include_inactive).await?;
    Ok(pb::ListStudentGuardiansResponse {
        guardians: guardians
            .iter()
            .map(|(g, l)| student_guardian(g, l, &kinds))
            .collect(),
    })
}

/// ListGuardianStudents.
pub(super) async fn list_guardian_students(
    db: &Db,
    caller: &Principal,
    r: pb::ListGuardianStudentsRequest,
) -> Result<pb::ListGuardianStudentsResponse, Status> {
    let key = PersonKey::parse("guardian_id", &r.guardian_id, &r.account_id)?;
    let found = guardians::students(db, caller, key, r.include_inactive).await?;
    let kinds = &found.kinds;
    Ok(pb::ListGuardianStudentsResponse {
        students: found
            .students
            .iter()
            .map(|(s, l, school)| pb::GuardianStudent {
                student: Some(convert_records::student(s, kinds)),
                link: Some(convert_records::link(l, kinds)),
                school: school.as_ref().map(|x| convert_records::school(x, kinds)),
            })
            .collect(),
    })
}

/// GetGuardian.
pub(super) async fn get_guardian(
    db: &Db,
    caller: &Principal,
    r: pb::GetGuardianRequest,
) -> Result<pb::GetGuardianResponse, Status> {
    let key = PersonKey::parse("guardian_id", &r.guardian_id, &r.account_id)?;
    let v = guardians::get(db, caller, key).await?;
    Ok(pb::GetGuardianResponse {
        guardian: Some(convert_records::guardian(&v.guardian, &v.sources, &v.kinds)),
    })
}

/// ListStudents.
pub(super) async fn list_students(
    db: &Db,
    caller: &Principal,
    r: pb::ListStudentsRequest,
) -> Result<pb::ListStudentsResponse, Status> {
    let size = paging::size(r.page_size, 50, 1_000);
    let after = page_key::<3>(&r.page_token)?;
    let query = StudentQuery {
        district_id: RecordId::parse("district_id", &r.district_id)?,
        school_id: RecordId::optional("school_id", &r.school_id)?,
        class_id: RecordId::optional("class_id", &r.class_id)?,
        grade: Some(r.grade.trim().to_string()).filter(|g| !g.is_empty()),
        codes: r
            .student_codes
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        query: reads::query(&r.query),
        statuses: Statuses::of(convert_records::statuses(&r.statuses)),
    };
    let mut page = students::list(db, caller, query, after, size + 1).await?;
    let next = paging::cut(&mut page.students, size, name_key);
    Ok(pb::ListStudentsResponse {
        students: page
            .students
            .iter()
            .map(|s| convert_records::student(s, &page.kinds))
            .collect(),
        next_page_token: next,
        total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
    })
}

/// GetStaff.
pub(super) async fn get_staff(
    db: &Db,
    caller: &Principal,
    r: pb::GetStaffRequest,
) -> Result<pb::GetStaffResponse, Status> {
    let key = PersonKey::parse("staff_id", &r.staff_id, &r.account_id)?;
    let (row, kinds) = staff::get(db, caller, key).await?;
    Ok(pb::GetStaffResponse {
        staff: Some(convert_records::staff(&row, &kinds)),
    })
}

/// ListStaff.
pub(super) async fn list_staff(
    db: &Db,
    caller: &Principal,
    r: pb::ListStaffRequest,
) -> Result<pb::ListStaffResponse, Status> {
    let size = paging::size(r.page_size, 50, 1_000);
    let after = page_key::<3>(&r.page_token)?;
    let query = staff::StaffQuery {
        district_id: RecordId::parse("district_id", &r.district_id)?,
        school_id: RecordId::optional("school_id", &r.school_id)?,
        kinds: convert_records::staff_kinds(&r.roles),
        query: reads::query(&r.query),
        statuses: Statuses::of(convert_records::statuses(&r.statuses)),
    };
    let (mut rows, kinds) = staff::list(db, caller, query, after, size + 1).await?;
    let next = paging::cut(&mut rows, size, name_key);
    Ok(pb::ListStaffResponse {
        staff: rows
            .iter()
            .map(|s| convert_records::staff(s, &kinds))
            .collect(),
        next_page_token: next,
    })
}
