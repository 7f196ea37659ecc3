//! RO-1 / RO-8 reads: ids and filters parsed at the edge, and the stored
//! spellings behind the kinds a reader asks for (record statuses, staff roles).

use super::error::RosterError;

/// Longest piece of a bad value quoted back in a message.
const QUOTE: usize = 40;

fn quote(value: &str) -> String {
    value.chars().take(QUOTE).collect()
}

/// A roster record id (roster-svc makes them as UUIDs), checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(String);

impl RecordId {
    /// The id in `field`; a blank or malformed one names the field.
    pub fn parse(field: &str, value: &str) -> Result<RecordId, RosterError> {
        RecordId::optional(field, value)?
            .ok_or_else(|| RosterError::InvalidArgument(format!("{field}: required")))
    }

    /// The id in `field`, `None` when blank.
    pub fn optional(field: &str, value: &str) -> Result<Option<RecordId>, RosterError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        uuid::Uuid::try_parse(value)
            .map(|u| Some(RecordId(u.to_string())))
            .map_err(|_| {
                RosterError::InvalidArgument(format!(
                    "{field}: {:?} is not a roster id; use the id a roster response gave \
                     (a UUID such as \"0192f3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b\")",
                    quote(value)
                ))
            })
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person named by their roster id or by their identity account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    /// The roster record.
    Id(RecordId),
    /// Every record of the kind that carries this identity account.
    Account(String),
}

impl PersonKey {
    /// One of `<id_field>` and `account_id`, exactly.
    pub fn parse(id_field: &str, id: &str, account_id: &str) -> Result<PersonKey, RosterError> {
        let account_id = account_id.trim();
        match (RecordId::optional(id_field, id)?, account_id.is_empty()) {
            (Some(id), true) => Ok(PersonKey::Id(id)),
            (None, false) => Ok(PersonKey::Account(account_id.to_string())),
            (Some(_), false) => Err(RosterError::InvalidArgument(format!(
                "{id_field}, account_id: set one of them, not both"
            ))),
            (None, true) => Err(RosterError::InvalidArgument(format!(
                "{id_field} or account_id: required"
            ))),
        }
    }
}

/// Record statuses a list includes (stored spellings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statuses(Vec<&'static str>);

/// A record status a reader may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Present in its source.
    Active,
    /// Gone from its source (people, links, enrollments, schools, sessions).
    Deactivated,
    /// Gone from its source (classes).
    Archived,
}

impl Statuses {
    /// The statuses asked for; none means active only.
    pub fn of(asked: impl IntoIterator<Item = Status>) -> Statuses {
        let mut out: Vec<&'static str> = Vec::new();
        for s in asked {
            let spelling = match s {
                Status::Active => "active",
                Status::Deactivated => "deactivated",
                Status::Archived => "archived",
            };
            if !out.contains(&spelling) {
                out.push(spelling);
            }
        }
        if out.is_empty() {
            out.push("active");
        }
        Statuses(out)
    }

    /// For classes, which are archived rather than deactivated: asking for
    /// deactivated ones means archived ones too.
    pub fn for_classes(mut self) -> Statuses {
        if self.0.contains(&"deactivated") && !self.0.contains(&"archived") {
            self.0.push("archived");
        }
        self
    }

    /// The stored spellings.
    pub fn as_slice(&self) -> &[&'static str] {
        &self.0
    }
}

/// Kinds of staff, from the role their source gave them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffKind {
    /// `teacher`.
    Teacher,
    /// `aide`, `proctor`.
    Aide,
    /// `administrator`, `principal`, site, district and system administrators.
    Administrator,
    /// `counselor`.
    Counselor,
    /// Any other role.
    Other,
}

const AIDES: &[&str] = &["aide", "proctor"];
const ADMINISTRATORS: &[&str] = &[
    "administrator",
    "principal",
    "siteAdministrator",
    "districtAdministrator",
    "systemAdministrator",
];

impl StaffKind {
    /// The kind of a stored role.
    pub fn of(role: &str) -> StaffKind {
        match role {
            "teacher" => StaffKind::Teacher,
            "counselor" => StaffKind::Counselor,
            r if AIDES.contains(&r) => StaffKind::Aide,
            r if ADMINISTRATORS.contains(&r) => StaffKind::Administrator,
            _ => StaffKind::Other,
        }
    }

    /// The stored roles of this kind; `None` for [`StaffKind::Other`], which
    /// is every role no other kind names.
    pub fn spellings(self) -> Option<Vec<&'static str>> {
        match self {
            StaffKind::Teacher => Some(vec!["teacher"]),
            StaffKind::Counselor => Some(vec!["counselor"]),
            StaffKind::Aide => Some(AIDES.to_vec()),
            StaffKind::Administrator => Some(ADMINISTRATORS.to_vec()),
            StaffKind::Other => None,
        }
    }

    /// Every role some kind other than [`StaffKind::Other`] names.
    pub fn named() -> Vec<&'static str> {
        let mut all = vec!["teacher", "counselor"];
        all.extend_from_slice(AIDES);
        all.extend_from_slice(ADMINISTRATORS);
        all
    }
}

/// "Given Family", as every roster view shows a person.
pub fn display_name(given: &str, family: &str) -> String {
    format!("{given} {family}").trim().to_string()
}

/// A free-text search, trimmed; `None` when blank.
pub fn query(text: &str) -> Option<String> {
    Some(text.trim().to_lowercase()).filter(|q| !q.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_and_a_bad_one_names_its_field() {
        let id = "0192F3C4-5D6E-7F80-9A1B-2C3D4E5F6A7B";
        assert_eq!(
            RecordId::parse("student_id", id).unwrap().as_str(),
            id.to_lowercase()
        );
        let e = RecordId::parse("student_id", "s1").unwrap_err().to_string();
        assert!(
            e.starts_with("student_id: \"s1\" is not a roster id"),
            "{e}"
        );
        assert_eq!(
            RecordId::parse("student_id", " ").unwrap_err().to_string(),
            "student_id: required"
        );
    }

    #[test]
    fn a_person_is_named_by_one_key_exactly() {
        assert_eq!(
            PersonKey::parse("guardian_id", "", "acct-1").unwrap(),
            PersonKey::Account("acct-1".into())
        );
        assert!(PersonKey::parse("guardian_id", "", "").is_err());
        let id = uuid::Uuid::now_v7().to_string();
        assert!(PersonKey::parse("guardian_id", &id, "acct-1").is_err());
    }

    #[test]
    fn no_status_means_active_and_deactivated_classes_are_archived() {
        assert_eq!(Statuses::of([]).as_slice(), ["active"]);
        assert_eq!(
            Statuses::of([Status::Deactivated]).for_classes().as_slice(),
            ["deactivated", "archived"]
        );
        assert_eq!(StaffKind::of("siteAdministrator"), StaffKind::Administrator);
        assert_eq!(StaffKind::of("librarian"), StaffKind::Other);
    }
}
