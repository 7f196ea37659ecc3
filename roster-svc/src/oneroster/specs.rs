//! The exact header of each rostering file the reader uses, as the standard
//! spells it in the OneRoster 1.1 and 1.2 CSV bindings.

/// One rostering file as the standard spells it.
#[derive(Debug)]
pub(super) struct Spec {
    /// The file name, e.g. `users.csv`.
    pub file: &'static str,
    /// Every column, in the standard's order.
    pub columns: &'static [&'static str],
    /// The columns a row cannot be read without.
    pub required: &'static [&'static str],
}

pub(super) const ORGS: Spec = Spec {
    file: "orgs.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "name",
        "type",
        "identifier",
        "parentSourcedId",
    ],
    required: &["sourcedId", "name", "type"],
};

pub(super) const ACADEMIC_SESSIONS: Spec = Spec {
    file: "academicSessions.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    ],
    required: &["sourcedId", "title", "type"],
};

pub(super) const COURSES: Spec = Spec {
    file: "courses.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "schoolYearSourcedId",
        "title",
        "courseCode",
        "grades",
        "orgSourcedId",
        "subjects",
        "subjectCodes",
    ],
    required: &["sourcedId", "title"],
};

pub(super) const CLASSES: Spec = Spec {
    file: "classes.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    ],
    required: &["sourcedId", "title", "schoolSourcedId"],
};

pub(super) const USERS_1_1: Spec = Spec {
    file: "users.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
    ],
    required: &["sourcedId", "givenName", "familyName", "role"],
};

/// 1.2 and 1.2.1: the 1.2 (2022) form has `resourceSourcedIds`, 1.2.1 drops it;
/// both are accepted.
pub(super) const USERS_1_2: Spec = Spec {
    file: "users.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ],
    required: &["sourcedId", "givenName", "familyName"],
};

pub(super) const ENROLLMENTS: Spec = Spec {
    file: "enrollments.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
    ],
    required: &["sourcedId", "classSourcedId", "userSourcedId", "role"],
};

pub(super) const ROLES: Spec = Spec {
    file: "roles.csv",
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "userSourcedId",
        "roleType",
        "role",
        "beginDate",
        "endDate",
        "orgSourcedId",
        "userProfileSourcedId",
    ],
    required: &["userSourcedId", "role", "roleType", "orgSourcedId"],
};

/// OneRoster 1.0 column names, still exported by some systems, and their 1.1 names.
pub(super) const LEGACY: &[(&str, &str)] = &[
    ("userId", "userIds"),
    ("agents", "agentSourcedIds"),
    ("grade", "grades"),
    ("termSourcedId", "termSourcedIds"),
    ("schoolYearId", "schoolYearSourcedId"),
];

/// Every data file stem a manifest may list (`file.<stem>`), 1.1 and 1.2.
pub(super) const STEMS: &[&str] = &[
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItems",
    "orgs",
    "resources",
    "results",
    "users",
    "roles",
    "userProfiles",
    "userResources",
    "scoreScales",
    "lineItemScoreScales",
    "resultScoreScales",
    "lineItemLearningObjectiveIds",
    "resultLearningObjectiveIds",
];
