//! RO-1: the rostered records as the sync compares them: the data a source
//! supplies (with references already resolved to roster ids), and what changed.

/// Kinds of records a sync handles (the report's `entity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// The district org.
    District,
    /// A school org.
    School,
    /// An academic session.
    AcademicSession,
    /// A course.
    Course,
    /// A class.
    Class,
    /// An enrollment.
    Enrollment,
    /// A student.
    Student,
    /// A staff member.
    Staff,
    /// A guardian.
    Guardian,
    /// A guardian–student link.
    GuardianLink,
}

impl Entity {
    /// Every entity, in report order.
    pub const ALL: [Entity; 10] = [
        Entity::District,
        Entity::School,
        Entity::AcademicSession,
        Entity::Course,
        Entity::Class,
        Entity::Student,
        Entity::Staff,
        Entity::Guardian,
        Entity::GuardianLink,
        Entity::Enrollment,
    ];

    /// Stored and CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::District => "district",
            Entity::School => "school",
            Entity::AcademicSession => "academic_session",
            Entity::Course => "course",
            Entity::Class => "class",
            Entity::Enrollment => "enrollment",
            Entity::Student => "student",
            Entity::Staff => "staff",
            Entity::Guardian => "guardian",
            Entity::GuardianLink => "guardian_link",
        }
    }

    /// From the stored spelling.
    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// What a run did (or would do) to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Created.
    Created,
    /// Changed (see the changed fields).
    Updated,
    /// Already up to date.
    Unchanged,
    /// Gone from the source: deactivated (classes: archived).
    Deactivated,
    /// Deliberately not processed.
    Skipped,
    /// Failed; the rest of the run goes on.
    Error,
    /// RO-7: an upload's link the file no longer lists was removed.
    Abandoned,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 7] = [
        Action::Created,
        Action::Updated,
        Action::Unchanged,
        Action::Deactivated,
        Action::Skipped,
        Action::Error,
        Action::Abandoned,
    ];

    /// Stored and CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "CREATED",
            Action::Updated => "UPDATED",
            Action::Unchanged => "UNCHANGED",
            Action::Deactivated => "DEACTIVATED",
            Action::Skipped => "SKIPPED",
            Action::Error => "ERROR",
            Action::Abandoned => "ABANDONED",
        }
    }

    /// From the stored spelling.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Compares field by field and names those that differ.
pub trait Diff {
    /// Names of the fields of `self` that differ from `other`.
    fn changed(&self, other: &Self) -> Vec<&'static str>;
}

/// Shared data compares as the data (planning shares people's data between
/// the stored state, the changes and everyone-after-the-run).
impl<T: Diff> Diff for std::sync::Arc<T> {
    fn changed(&self, other: &Self) -> Vec<&'static str> {
        (**self).changed(other)
    }
}

macro_rules! diffable {
    ($ty:ty { $($field:ident),+ $(,)? }) => {
        impl Diff for $ty {
            fn changed(&self, other: &Self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(if self.$field != other.$field { out.push(stringify!($field)); })+
                out
            }
        }
    };
}

/// A school as a source supplies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolData {
    /// Name.
    pub name: String,
    /// School number.
    pub identifier: Option<String>,
}
diffable!(SchoolData { name, identifier });

/// An academic session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionData {
    /// Title.
    pub title: String,
    /// `schoolYear`, `semester` …
    pub kind: String,
    /// First day.
    pub start_date: Option<String>,
    /// Last day.
    pub end_date: Option<String>,
    /// Parent session's source id.
    pub parent_source_id: Option<String>,
    /// School year.
    pub school_year: Option<String>,
}
diffable!(SessionData {
    title,
    kind,
    start_date,
    end_date,
    parent_source_id,
    school_year
});

/// A course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseData {
    /// Title.
    pub title: String,
    /// Course code.
    pub course_code: Option<String>,
    /// Org source id.
    pub org_source_id: Option<String>,
}
diffable!(CourseData {
    title,
    course_code,
    org_source_id
});

/// A class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassData {
    /// Roster school id.
    pub school_id: String,
    /// Title.
    pub title: String,
    /// Class code.
    pub class_code: Option<String>,
    /// `homeroom` / `scheduled`.
    pub class_type: Option<String>,
    /// Course source id.
    pub course_source_id: Option<String>,
    /// Term source ids, space-separated.
    pub term_source_ids: String,
    /// Grades, space-separated.
    pub grades: String,
}
diffable!(ClassData {
    school_id,
    title,
    class_code,
    class_type,
    course_source_id,
    term_source_ids,
    grades
});

/// Students, staff and guardians.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonKind {
    /// A student (no account).
    Student,
    /// A teacher or other staff member.
    Staff,
    /// A parent, guardian or relative.
    Guardian,
}

impl PersonKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Student => "student",
            PersonKind::Staff => "staff",
            PersonKind::Guardian => "guardian",
        }
    }

    /// From the stored spelling.
    pub fn parse(s: &str) -> Option<PersonKind> {
        match s {
            "student" => Some(PersonKind::Student),
            "staff" => Some(PersonKind::Staff),
            "guardian" => Some(PersonKind::Guardian),
            _ => None,
        }
    }

    /// The report entity.
    pub fn entity(self) -> Entity {
        match self {
            PersonKind::Student => Entity::Student,
            PersonKind::Staff => Entity::Staff,
            PersonKind::Guardian => Entity::Guardian,
        }
    }
}

/// A person as a source supplies them (contacts normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonData {
    /// Student, staff or guardian.
    pub kind: PersonKind,
    /// The role as written (`teacher`, `aide`, `parent` …).
    pub role: String,
    /// Given name.
    pub given_name: String,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Family name.
    pub family_name: String,
    /// The given name the person goes by, when the source has one.
    pub preferred_given_name: Option<String>,
    /// Student or staff number.
    pub identifier: Option<String>,
    /// Grades, space-separated.
    pub grades: String,
    /// Primary school (roster id).
    pub school_id: Option<String>,
    /// Every school (roster ids), space-separated.
    pub school_ids: String,
    /// Email (normalised for staff and guardians).
    pub email: Option<String>,
    /// Mobile phone, E.164 for staff and guardians.
    pub phone: Option<String>,
    /// Record-only home phone.
    pub home_phone: Option<String>,
    /// Preferred language, when the source says.
    pub preferred_language: Option<String>,
    /// OneRoster `enabledUser` false: rostered, but the account cannot sign in.
    pub sign_in_disabled: bool,
    /// Fingerprint of the source record this came from: an unchanged
    /// fingerprint means an unchanged person, without parsing anything again.
    /// Not compared field by field.
    pub source_hash: String,
}
diffable!(PersonData {
    kind,
    role,
    given_name,
    middle_name,
    family_name,
    preferred_given_name,
    identifier,
    grades,
    school_id,
    school_ids,
    email,
    phone,
    home_phone,
    preferred_language,
    sign_in_disabled
});

impl PersonData {
    /// "Given Family".
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_string()
    }
}

/// An enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentData {
    /// Roster class id (shared: a class has dozens of enrollments).
    pub class_id: std::sync::Arc<str>,
    /// Roster person id (shared: a student has several).
    pub person_id: std::sync::Arc<str>,
    /// `student`, `teacher` …
    pub role: String,
    /// `primary`.
    pub is_primary: bool,
}
diffable!(EnrollmentData {
    class_id,
    person_id,
    role,
    is_primary
});

/// A guardian–student link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkData {
    /// `parent`, `guardian`, `relative` (OneRoster) or the Clever
    /// relationship (`Parent`, `Grandparent` …).
    pub relationship: String,
    /// The Clever contact type of this one link (`Parent/Guardian`,
    /// `Emergency`, `Primary`, `Secondary`, `Family`); empty for OneRoster.
    pub contact_type: String,
    /// Primary contact (Clever type `Primary`).
    pub is_primary: bool,
}
diffable!(LinkData {
    relationship,
    contact_type,
    is_primary
});

/// A stored record of the source, as planning sees it.
#[derive(Debug, Clone)]
pub struct Existing<D> {
    /// Roster id.
    pub id: String,
    /// Active (not deactivated or archived).
    pub active: bool,
    /// The stored data.
    pub data: D,
}

/// A person's stored record adds the account.
#[derive(Debug, Clone)]
pub struct ExistingPerson {
    /// The record.
    pub record: Existing<std::sync::Arc<PersonData>>,
    /// identity-svc account, if one was made.
    pub account_id: Option<String>,
}
