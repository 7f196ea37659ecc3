//! One CSV row and the value rules every file shares: trimmed cells, blank or
//! `NULL` as empty, comma lists, lenient booleans, status, roles.

use csv::StringRecord;

use super::model::{Status, UserRole};

/// The roles [`user_role`] accepts, for messages.
const USER_ROLES: &str = "student, teacher, guardian, parent, relative, aide, administrator, \
    proctor, counselor, principal, siteAdministrator, districtAdministrator, systemAdministrator";

const STAFF_ROLES: &[&str] = &[
    "aide",
    "administrator",
    "proctor",
    "counselor",
    "principal",
    "siteAdministrator",
    "districtAdministrator",
    "systemAdministrator",
];

const GUARDIAN_ROLES: &[&str] = &["guardian", "parent", "relative"];

/// A data row, read through column positions found once per file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row<'r> {
    record: &'r StringRecord,
}

impl<'r> Row<'r> {
    pub(super) fn new(record: &'r StringRecord) -> Self {
        Self { record }
    }

    /// The trimmed cell; `None` when the column is absent, the cell blank or `NULL`.
    pub(super) fn cell(&self, col: Option<usize>) -> Option<&'r str> {
        let value = self.record.get(col?)?.trim();
        (!value.is_empty() && value != "NULL").then_some(value)
    }

    /// An optional text cell.
    pub(super) fn text(&self, col: Option<usize>) -> Option<String> {
        self.cell(col).map(str::to_owned)
    }

    /// A cell the row cannot do without.
    pub(super) fn required(&self, col: Option<usize>, name: &str) -> Result<&'r str, String> {
        self.cell(col).ok_or_else(|| format!("{name} is blank"))
    }

    /// A name or title: needed on a live record, may be blank on a deletion.
    pub(super) fn label(
        &self,
        col: Option<usize>,
        name: &str,
        status: Status,
    ) -> Result<String, String> {
        match (self.cell(col), status) {
            (Some(value), _) => Ok(value.to_owned()),
            (None, Status::ToBeDeleted) => Ok(String::new()),
            (None, Status::Active) => Err(format!("{name} is blank")),
        }
    }

    /// A comma list such as `"09,10, 11"`, split and trimmed, blanks dropped.
    pub(super) fn list(&self, col: Option<usize>) -> Vec<String> {
        self.cell(col)
            .map(|cell| {
                cell.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty() && *item != "NULL")
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A boolean: `true`/`false` in any case, or `1`/`0`; blank is `default`.
    pub(super) fn flag(
        &self,
        col: Option<usize>,
        name: &str,
        default: bool,
    ) -> Result<bool, String> {
        flag(self.cell(col), name, default)
    }

    /// `status`: blank or `active` is active; `tobedeleted` (or 1.0's `inactive`) a deletion.
    pub(super) fn status(&self, col: Option<usize>) -> Result<Status, String> {
        status(self.cell(col))
    }
}

/// A boolean: `true`/`false` in any case, or `1`/`0`; absent is `default`.
/// The CSV reader and the REST connector read values by the same rule.
pub(crate) fn flag(value: Option<&str>, name: &str, default: bool) -> Result<bool, String> {
    match value {
        None => Ok(default),
        Some("1") => Ok(true),
        Some("0") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(format!("{name} \"{v}\" is not true or false")),
    }
}

/// `status`: absent or `active` is active; `tobedeleted` (or 1.0's `inactive`) a deletion.
pub(crate) fn status(value: Option<&str>) -> Result<Status, String> {
    match value {
        None => Ok(Status::Active),
        Some(v) if v.eq_ignore_ascii_case("active") => Ok(Status::Active),
        Some(v) if v.eq_ignore_ascii_case("tobedeleted") || v.eq_ignore_ascii_case("inactive") => {
            Ok(Status::ToBeDeleted)
        }
        Some(v) => Err(format!("status \"{v}\" is not active or tobedeleted")),
    }
}

/// A person's role (users.csv 1.1 `role`, roles.csv 1.2 `role`), in any case;
/// staff and guardian roles keep the standard's spelling.
pub(crate) fn user_role(value: &str) -> Result<UserRole, String> {
    let known =
        |list: &[&'static str]| list.iter().find(|r| r.eq_ignore_ascii_case(value)).copied();
    if value.eq_ignore_ascii_case("student") {
        Ok(UserRole::Student)
    } else if value.eq_ignore_ascii_case("teacher") {
        Ok(UserRole::Teacher)
    } else if let Some(role) = known(GUARDIAN_ROLES) {
        Ok(UserRole::Guardian(role.to_owned()))
    } else if let Some(role) = known(STAFF_ROLES) {
        Ok(UserRole::Staff(role.to_owned()))
    } else {
        Err(format!(
            "role \"{value}\" is not a OneRoster role ({USER_ROLES})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cells: &[&str]) -> StringRecord {
        StringRecord::from(cells.to_vec())
    }

    #[test]
    fn blank_and_null_cells_are_empty_and_lists_are_trimmed() {
        let rec = record(&["  ", "NULL", "09,10, 11,,", " a "]);
        let row = Row::new(&rec);
        assert_eq!(row.cell(Some(0)), None);
        assert_eq!(row.cell(Some(1)), None);
        assert_eq!(row.cell(Some(9)), None);
        assert_eq!(row.cell(None), None);
        assert_eq!(row.list(Some(2)), ["09", "10", "11"]);
        assert_eq!(row.text(Some(3)).as_deref(), Some("a"));
    }

    #[test]
    fn booleans_take_any_case_and_digits() {
        let rec = record(&["TRUE", "false", "1", "0", "", "yes"]);
        let row = Row::new(&rec);
        let flags: Vec<_> = (0..5)
            .map(|i| row.flag(Some(i), "enabledUser", true).unwrap())
            .collect();
        assert_eq!(flags, [true, false, true, false, true]);
        let error = row.flag(Some(5), "enabledUser", true).unwrap_err();
        assert_eq!(error, "enabledUser \"yes\" is not true or false");
    }

    #[test]
    fn inactive_and_tobedeleted_are_deletions() {
        let rec = record(&["", "active", "tobedeleted", "inactive", "gone"]);
        let row = Row::new(&rec);
        assert_eq!(row.status(Some(0)), Ok(Status::Active));
        assert_eq!(row.status(Some(1)), Ok(Status::Active));
        assert_eq!(row.status(Some(2)), Ok(Status::ToBeDeleted));
        assert_eq!(row.status(Some(3)), Ok(Status::ToBeDeleted));
        assert!(row.status(Some(4)).is_err());
    }

    #[test]
    fn roles_map_to_the_four_kinds() {
        assert_eq!(user_role("Student"), Ok(UserRole::Student));
        assert_eq!(user_role("teacher"), Ok(UserRole::Teacher));
        assert_eq!(user_role("parent"), Ok(UserRole::Guardian("parent".into())));
        assert_eq!(
            user_role("siteadministrator"),
            Ok(UserRole::Staff("siteAdministrator".into()))
        );
        let error = user_role("principle").unwrap_err();
        assert!(
            error.starts_with("role \"principle\" is not a OneRoster role (student, teacher"),
            "{error}"
        );
    }
}
