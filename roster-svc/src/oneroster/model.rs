//! RO-2: a OneRoster CSV bundle as the sync engine sees it, whatever version and
//! quirks the files had. The reader ([`super::read_path`]) fills it; the engine never
//! looks at CSV.
//!
//! Optional text is `None` when the cell is blank or the literal `NULL`. 1.2
//! bundles keep people's role and orgs in `roles.csv`; the reader folds them into
//! [`User::role`] and [`User::org_source_ids`], so both versions look alike here.

use std::{collections::BTreeMap, sync::Arc};

/// The OneRoster version a manifest declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `oneroster.version` 1.1.
    V1_1,
    /// 1.2 (users.csv may carry `resourceSourcedIds`).
    V1_2,
    /// 1.2.1.
    V1_2_1,
}

impl Version {
    /// As the manifest spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
            Version::V1_2_1 => "1.2.1",
        }
    }
}

/// How a manifest says a file is supplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// Not supplied: changes nothing (never "delete everything").
    Absent,
    /// A full snapshot: records missing from it are gone.
    Bulk,
    /// Changes only: `tobedeleted` is the only delete.
    Delta,
}

/// A record's status column. Bulk files leave it blank, which reads as active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Present (blank, `active`).
    Active,
    /// `tobedeleted` (or 1.0's `inactive`, still seen in the wild).
    ToBeDeleted,
}

/// orgs.csv `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgKind {
    /// `district`.
    District,
    /// `school`.
    School,
    /// Anything else (`department`, `local`, `state`, `national`, `ext:*`).
    Other(String),
}

/// A row of orgs.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// `sourcedId`.
    pub source_id: String,
    /// `status`.
    pub status: Status,
    /// `name`.
    pub name: String,
    /// `type`.
    pub kind: OrgKind,
    /// `identifier` (school number).
    pub identifier: Option<String>,
    /// `parentSourcedId`.
    pub parent_source_id: Option<String>,
}

/// A row of academicSessions.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcademicSession {
    /// `sourcedId`.
    pub source_id: String,
    /// `status`.
    pub status: Status,
    /// `title`.
    pub title: String,
    /// `type` as written (`schoolYear`, `semester`, `term`, `gradingPeriod`).
    pub kind: String,
    /// `startDate`, as written.
    pub start_date: Option<String>,
    /// `endDate`, as written.
    pub end_date: Option<String>,
    /// `parentSourcedId`.
    pub parent_source_id: Option<String>,
    /// `schoolYear`.
    pub school_year: Option<String>,
}

/// A row of courses.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    /// `sourcedId`.
    pub source_id: String,
    /// `status`.
    pub status: Status,
    /// `title`.
    pub title: String,
    /// `courseCode`.
    pub course_code: Option<String>,
    /// `orgSourcedId`.
    pub org_source_id: Option<String>,
    /// `schoolYearSourcedId`.
    pub school_year_source_id: Option<String>,
}

/// A row of classes.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// `sourcedId`.
    pub source_id: String,
    /// `status`.
    pub status: Status,
    /// `title`.
    pub title: String,
    /// `classCode`.
    pub class_code: Option<String>,
    /// `classType` as written (`homeroom`, `scheduled`).
    pub class_type: Option<String>,
    /// `courseSourcedId`.
    pub course_source_id: Option<String>,
    /// `schoolSourcedId`.
    pub school_source_id: String,
    /// `termSourcedIds`, split and trimmed.
    pub term_source_ids: Vec<String>,
    /// `grades`, split and trimmed.
    pub grades: Vec<String>,
}

/// A person's role, from users.csv `role` (1.1) or the primary roles.csv row (1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserRole {
    /// `student`.
    Student,
    /// `teacher`.
    Teacher,
    /// `aide`, `administrator`, `proctor`, `counselor`, `principal`,
    /// `siteAdministrator`, `districtAdministrator`, `systemAdministrator`: staff
    /// other than teachers; the role as written.
    Staff(String),
    /// `guardian`, `parent`, `relative`; the role as written.
    Guardian(String),
}

/// A row of users.csv (with its 1.2 roles folded in).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    /// `sourcedId`.
    pub source_id: String,
    /// `status`.
    pub status: Status,
    /// `enabledUser` (`true`/`TRUE`/`1` …); blank reads as true.
    pub enabled: bool,
    /// The role.
    pub role: UserRole,
    /// `orgSourcedIds` (1.1) or the roles' orgs (1.2), primary first.
    pub org_source_ids: Vec<String>,
    /// `username`.
    pub username: Option<String>,
    /// `givenName`.
    pub given_name: String,
    /// `familyName`.
    pub family_name: String,
    /// `middleName`.
    pub middle_name: Option<String>,
    /// `preferredGivenName` (1.2 CSV; `preferredFirstName` over REST).
    pub preferred_given_name: Option<String>,
    /// `identifier` (student number, staff number).
    pub identifier: Option<String>,
    /// `email`, as written (the engine normalises).
    pub email: Option<String>,
    /// `sms`, as written: the mobile phone.
    pub sms: Option<String>,
    /// `phone`, as written: the home / other phone.
    pub phone: Option<String>,
    /// The source says `phone` is not a mobile (Clever `phone_type` Home,
    /// Work, Other): it stays record-only, never the SMS number. A OneRoster
    /// file says nothing, and a lone `phone` is taken as the mobile.
    pub phone_not_mobile: bool,
    /// `agentSourcedIds`, split and trimmed (the engine unions both directions).
    pub agent_source_ids: Vec<String>,
    /// `grades`, split and trimmed.
    pub grades: Vec<String>,
}

/// A row of enrollments.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// `sourcedId`.
    pub source_id: String,
    /// `status`.
    pub status: Status,
    /// `classSourcedId` (shared by the class's enrollments).
    pub class_source_id: Arc<str>,
    /// `schoolSourcedId` (shared).
    pub school_source_id: Option<Arc<str>>,
    /// `userSourcedId` (shared by the user's enrollments).
    pub user_source_id: Arc<str>,
    /// `role` (`student`, `teacher`, `administrator`, `proctor`).
    pub role: &'static str,
    /// `primary`.
    pub primary: bool,
}

/// A row the reader could not use: it is left out and reported; the rest goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file, e.g. `users.csv`.
    pub file: String,
    /// 1-based line of the record in that file (the header is line 1).
    pub line: u64,
    /// The row's `sourcedId`, when it had one.
    pub source_id: Option<String>,
    /// Why, for people: e.g. `role "principle" is not a OneRoster role`.
    pub message: String,
}

/// A whole bundle, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// `oneroster.version`.
    pub version: Version,
    /// Every manifest property as written (`source.systemName` …).
    pub manifest: BTreeMap<String, String>,
    /// `file.<name>` modes by file stem (`users`, `orgs` …); a data file the
    /// manifest does not list is [`FileMode::Absent`].
    pub modes: BTreeMap<String, FileMode>,
    /// orgs.csv rows.
    pub orgs: Vec<Org>,
    /// academicSessions.csv rows.
    pub academic_sessions: Vec<AcademicSession>,
    /// courses.csv rows.
    pub courses: Vec<Course>,
    /// classes.csv rows.
    pub classes: Vec<Class>,
    /// users.csv rows.
    pub users: Vec<User>,
    /// enrollments.csv rows.
    pub enrollments: Vec<Enrollment>,
    /// Rows left out, with reasons.
    pub row_errors: Vec<RowError>,
    /// Things worth telling the district that did not stop anything (a non-spec
    /// column order, a misspelt manifest property, a status in a bulk file).
    pub warnings: Vec<String>,
    /// What a source says about each guardian–student link, by (guardian
    /// source id, student source id): Clever gives every link its own
    /// relationship and contact type; OneRoster CSV has none (empty).
    pub link_details: BTreeMap<(String, String), LinkDetail>,
}

/// One guardian–student link as the source describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkDetail {
    /// `Parent`, `Grandparent`, `Aunt/Uncle` … (Clever `relationship`).
    pub relationship: Option<String>,
    /// `Parent/Guardian`, `Emergency`, `Primary`, `Secondary`, `Family`
    /// (Clever `type`).
    pub contact_type: Option<String>,
}

impl Bundle {
    /// A bundle of no records: a version, its manifest and its files' modes.
    pub fn empty(
        version: Version,
        manifest: BTreeMap<String, String>,
        modes: BTreeMap<String, FileMode>,
    ) -> Bundle {
        Bundle {
            version,
            manifest,
            modes,
            orgs: Vec::new(),
            academic_sessions: Vec::new(),
            courses: Vec::new(),
            classes: Vec::new(),
            users: Vec::new(),
            enrollments: Vec::new(),
            row_errors: Vec::new(),
            warnings: Vec::new(),
            link_details: BTreeMap::new(),
        }
    }

    /// The mode of a file by stem; absent when the manifest does not list it.
    pub fn mode(&self, stem: &str) -> FileMode {
        self.modes.get(stem).copied().unwrap_or(FileMode::Absent)
    }
}
