//! Rostered records → proto: students, staff, guardians and their links,
//! schools, academic sessions, classes and enrollments; and the proto enums
//! of read filters → stored spellings.

use homeroom_proto::roster::v1 as pb;

use super::convert::{kind, status, ts};
use crate::{
    domain::reads::{StaffKind, Status},
    ops::{
        Kinds,
        classes::{ClassView, EnrollmentView},
        reach::schools_of,
    },
    store::records::{LinkRow, PersonRow, SchoolRow, SessionRow},
};

/// Where a record came from.
pub fn source_ref(kinds: &Kinds, system: &str, source_id: &str) -> pb::SourceRef {
    pb::SourceRef {
        sync_source_id: system.to_string(),
        kind: kind(kinds.get(system).map_or("", String::as_str)).into(),
        source_id: source_id.to_string(),
    }
}

fn words(list: &str) -> Vec<String> {
    list.split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// The schools of a person, the primary first, each once.
fn school_ids(p: &PersonRow) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in schools_of(p) {
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    out
}

fn display(p: &PersonRow) -> String {
    crate::domain::reads::display_name(&p.given_name, &p.family_name)
}

/// A student.
pub fn student(p: &PersonRow, kinds: &Kinds) -> pb::Student {
    pb::Student {
        student_id: p.id.clone(),
        district_id: p.district_id.clone(),
        school_id: p.school_id.clone().unwrap_or_default(),
        school_ids: school_ids(p),
        account_id: p.account_id.clone().unwrap_or_default(),
        given_name: p.given_name.clone(),
        middle_name: p.middle_name.clone().unwrap_or_default(),
        family_name: p.family_name.clone(),
        preferred_given_name: p.preferred_given_name.clone().unwrap_or_default(),
        display_name: display(p),
        grade: words(&p.grades).into_iter().next().unwrap_or_default(),
        student_code: p.identifier.clone().unwrap_or_default(),
        status: status(&p.status).into(),
        sources: vec![source_ref(kinds, &p.source_system, &p.source_id)],
        created_at: Some(ts(p.created_at)),
        updated_at: Some(ts(p.updated_at)),
    }
}

/// A staff kind, domain → proto.
pub fn staff_role(k: StaffKind) -> pb::StaffRole {
    match k {
        StaffKind::Teacher => pb::StaffRole::Teacher,
        StaffKind::Aide => pb::StaffRole::Aide,
        StaffKind::Administrator => pb::StaffRole::Administrator,
        StaffKind::Counselor => pb::StaffRole::Counselor,
        StaffKind::Other => pb::StaffRole::Other,
    }
}

/// Staff role filters, proto → domain (UNSPECIFIED means any).
pub fn staff_kinds(roles: &[i32]) -> Vec<StaffKind> {
    roles
        .iter()
        .filter_map(|r| match pb::StaffRole::try_from(*r).ok()? {
            pb::StaffRole::Teacher => Some(StaffKind::Teacher),
            pb::StaffRole::Aide => Some(StaffKind::Aide),
            pb::StaffRole::Administrator => Some(StaffKind::Administrator),
            pb::StaffRole::Counselor => Some(StaffKind::Counselor),
            pb::StaffRole::Other => Some(StaffKind::Other),
            pb::StaffRole::Unspecified => None,
        })
        .collect()
}

/// A staff member.
pub fn staff(p: &PersonRow, kinds: &Kinds) -> pb::Staff {
    pb::Staff {
        staff_id: p.id.clone(),
        district_id: p.district_id.clone(),
        school_ids: school_ids(p),
        account_id: p.account_id.clone().unwrap_or_default(),
        given_name: p.given_name.clone(),
        middle_name: p.middle_name.clone().unwrap_or_default(),
        family_name: p.family_name.clone(),
        display_name: display(p),
        role: staff_role(StaffKind::of(&p.role)).into(),
        email: p.email.clone().unwrap_or_default(),
        status: status(&p.status).into(),
        sources: vec![source_ref(kinds, &p.source_system, &p.source_id)],
        created_at: Some(ts(p.created_at)),
        updated_at: Some(ts(p.updated_at)),
    }
}

/// A guardian with the sources of every record of their account (at least
/// their own).
pub fn guardian(p: &PersonRow, sources: &[(String, String)], kinds: &Kinds) -> pb::Guardian {
    let mut refs = vec![source_ref(kinds, &p.source_system, &p.source_id)];
    for (system, sid) in sources {
        if !refs
            .iter()
            .any(|r| &r.sync_source_id == system && &r.source_id == sid)
        {
            refs.push(source_ref(kinds, system, sid));
        }
    }
    pb::Guardian {
        guardian_id: p.id.clone(),
        district_id: p.district_id.clone(),
        account_id: p.account_id.clone().unwrap_or_default(),
        given_name: p.given_name.clone(),
        middle_name: p.middle_name.clone().unwrap_or_default(),
        family_name: p.family_name.clone(),
        display_name: display(p),
        email: p.email.clone().unwrap_or_default(),
        mobile_phone: p.phone.clone().unwrap_or_default(),
        home_phone: p.home_phone.clone().unwrap_or_default(),
        preferred_language: p.preferred_language.clone().unwrap_or_default(),
        status: status(&p.status).into(),
        sources: refs,
        created_at: Some(ts(p.created_at)),
        updated_at: Some(ts(p.updated_at)),
    }
}

/// A link's relationship as the source wrote it (OneRoster role, Clever
/// relationship) → proto.
pub fn relationship(r: &str) -> pb::GuardianRelationship {
    use pb::GuardianRelationship as R;
    match r.trim().to_lowercase().as_str() {
        "" => R::Unspecified,
        "parent" | "mother" | "father" => R::Parent,
        "guardian" | "legal guardian" | "legalguardian" => R::Guardian,
        "relative" => R::Relative,
        "grandparent" => R::Grandparent,
        "aunt/uncle" | "aunt_uncle" | "aunt" | "uncle" => R::AuntUncle,
        "sibling" => R::Sibling,
        "self" => R::Self_,
        _ => R::Other,
    }
}

/// A link's Clever contact type → proto (OneRoster sources give none).
pub fn contact_type(t: &str) -> pb::GuardianContactType {
    use pb::GuardianContactType as T;
    match t.trim().to_lowercase().as_str() {
        "parent/guardian" | "parent" | "guardian" => T::ParentGuardian,
        "emergency" => T::Emergency,
        "primary" => T::Primary,
        "secondary" => T::Secondary,
        "family" => T::Family,
        _ => T::Unspecified,
    }
}

/// A guardian–student link.
pub fn link(l: &LinkRow, kinds: &Kinds) -> pb::GuardianLink {
    pb::GuardianLink {
        guardian_id: l.guardian_id.clone(),
        student_id: l.student_id.clone(),
        relationship: relationship(&l.relationship).into(),
        contact_type: contact_type(&l.contact_type).into(),
        primary: l.is_primary,
        // Links carry their source, not a source id of their own.
        source: Some(source_ref(kinds, &l.source_system, "")),
        status: status(&l.status).into(),
        created_at: Some(ts(l.created_at)),
        updated_at: Some(ts(l.updated_at)),
    }
}

/// A school.
pub fn school(s: &SchoolRow, kinds: &Kinds) -> pb::School {
    pb::School {
        school_id: s.id.clone(),
        district_id: s.district_id.clone(),
        name: s.name.clone(),
        school_number: s.identifier.clone().unwrap_or_default(),
        low_grade: String::new(),
        high_grade: String::new(),
        status: status(&s.status).into(),
        sources: vec![source_ref(kinds, &s.source_system, &s.source_id)],
        created_at: Some(ts(s.created_at)),
        updated_at: Some(ts(s.updated_at)),
    }
}

/// An academic session; `parent` is the parent session's roster id.
pub fn session(s: &SessionRow, parent: Option<&String>, kinds: &Kinds) -> pb::AcademicSession {
    use pb::AcademicSessionType as T;
    let kind = match s.kind.as_str() {
        "schoolYear" => T::SchoolYear,
        "semester" => T::Semester,
        "term" => T::Term,
        "gradingPeriod" => T::GradingPeriod,
        _ => T::Unspecified,
    };
    pb::AcademicSession {
        academic_session_id: s.id.clone(),
        district_id: s.district_id.clone(),
        school_id: String::new(),
        title: s.title.clone(),
        r#type: kind.into(),
        start_date: s.start_date.clone().unwrap_or_default(),
        end_date: s.end_date.clone().unwrap_or_default(),
        parent_academic_session_id: parent.cloned().unwrap_or_default(),
        school_year: s.school_year.clone().unwrap_or_default(),
        status: status(&s.status).into(),
        sources: vec![source_ref(kinds, &s.source_system, &s.source_id)],
    }
}

/// A class.
pub fn class(v: &ClassView, kinds: &Kinds) -> pb::Class {
    let r = &v.row;
    pb::Class {
        class_id: r.id.clone(),
        district_id: r.district_id.clone(),
        school_id: r.school_id.clone(),
        title: r.title.clone(),
        class_code: r.class_code.clone().unwrap_or_default(),
        class_type: match r.class_type.as_deref() {
            Some("homeroom") => pb::ClassType::Homeroom,
            Some("scheduled") => pb::ClassType::Scheduled,
            _ => pb::ClassType::Unspecified,
        }
        .into(),
        course_title: v
            .course
            .as_ref()
            .map(|c| c.title.clone())
            .unwrap_or_default(),
        course_code: v
            .course
            .as_ref()
            .and_then(|c| c.course_code.clone())
            .unwrap_or_default(),
        grades: words(&r.grades),
        subjects: vec![],
        periods: vec![],
        academic_session_ids: v.session_ids.clone(),
        status: status(&r.status).into(),
        sources: vec![source_ref(kinds, &r.source_system, &r.source_id)],
        student_count: v.student_count,
        teacher_names: v.teacher_names.clone(),
        created_at: Some(ts(r.created_at)),
        updated_at: Some(ts(r.updated_at)),
    }
}

/// Enrollment role filters, proto → stored spellings (UNSPECIFIED means any).
pub fn enrollment_roles(roles: &[i32]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for r in roles {
        out.extend_from_slice(match pb::EnrollmentRole::try_from(*r) {
            Ok(pb::EnrollmentRole::Student) => &["student"][..],
            Ok(pb::EnrollmentRole::Teacher) => &["teacher"],
            Ok(pb::EnrollmentRole::Administrator) => &["administrator"],
            Ok(pb::EnrollmentRole::Proctor) => &["proctor", "aide"],
            Ok(pb::EnrollmentRole::Unspecified) | Err(_) => &[],
        });
    }
    out
}

/// An enrollment.
pub fn enrollment(v: &EnrollmentView, kinds: &Kinds) -> pb::Enrollment {
    let r = &v.row;
    let role = match r.role.as_str() {
        "student" => pb::EnrollmentRole::Student,
        "teacher" => pb::EnrollmentRole::Teacher,
        "administrator" => pb::EnrollmentRole::Administrator,
        "proctor" | "aide" => pb::EnrollmentRole::Proctor,
        _ => pb::EnrollmentRole::Unspecified,
    };
    let student = role == pb::EnrollmentRole::Student;
    pb::Enrollment {
        enrollment_id: r.id.clone(),
        class_id: r.class_id.clone(),
        school_id: v.school_id.clone(),
        role: role.into(),
        student_id: if student {
            r.person_id.clone()
        } else {
            String::new()
        },
        staff_id: if student {
            String::new()
        } else {
            r.person_id.clone()
        },
        person_display_name: v.person_name.clone(),
        primary: r.is_primary,
        begin_date: String::new(),
        end_date: String::new(),
        status: status(&r.status).into(),
        sources: vec![source_ref(kinds, &r.source_system, &r.source_id)],
    }
}

/// Status filters, proto → domain (UNSPECIFIED means active).
pub fn statuses(asked: &[i32]) -> Vec<Status> {
    asked
        .iter()
        .map(|s| match pb::RecordStatus::try_from(*s) {
            Ok(pb::RecordStatus::Deactivated) => Status::Deactivated,
            Ok(pb::RecordStatus::Archived) => Status::Archived,
            Ok(pb::RecordStatus::Active | pb::RecordStatus::Unspecified) | Err(_) => Status::Active,
        })
        .collect()
}
