//! users.csv, and for 1.2 roles.csv folded into it: a person's role comes from
//! the primary role row (else the first), their orgs from all rows, primary first.

use std::collections::{HashMap, HashSet};

use super::cells::user_role;
use super::headers::Header;
use super::model::{FileMode, Status, User, UserRole, Version};
use super::reader::BundleError;
use super::table::{Keyed, Report, Table};

/// A roles.csv row, waiting for its user.
#[derive(Debug)]
struct RoleRow {
    active: bool,
    primary: bool,
    role: UserRole,
    org: String,
}

/// Repeated role rows do no harm, so they are not looked for.
impl Keyed for (String, RoleRow) {
    fn source_id(&self) -> Option<&str> {
        None
    }
}

/// roles.csv rows by `userSourcedId`, in file order.
#[derive(Debug, Default)]
pub(super) struct Roles {
    supplied: bool,
    by_user: HashMap<String, Vec<RoleRow>>,
}

pub(super) fn roles(
    table: Table<'_>,
    mode: FileMode,
    report: &mut Report,
) -> Result<Roles, BundleError> {
    let c = |name| table.header.col(name);
    let (user, status, kind, role, org) = (
        c("userSourcedId"),
        c("status"),
        c("roleType"),
        c("role"),
        c("orgSourcedId"),
    );
    let rows = table.rows(mode, report, |row| {
        let role_row = RoleRow {
            active: row.status(status)? == Status::Active,
            primary: role_type(row.required(kind, "roleType")?)?,
            role: user_role(row.required(role, "role")?)?,
            org: row.required(org, "orgSourcedId")?.to_owned(),
        };
        Ok((row.required(user, "userSourcedId")?.to_owned(), role_row))
    })?;
    let mut by_user: HashMap<String, Vec<RoleRow>> = HashMap::new();
    for (user, role_row) in rows {
        by_user.entry(user).or_default().push(role_row);
    }
    Ok(Roles {
        supplied: true,
        by_user,
    })
}

/// Reads users.csv; for 1.2, `roles` gives each user's role and orgs.
pub(super) fn users(
    table: Table<'_>,
    mode: FileMode,
    version: Version,
    roles: &Roles,
    report: &mut Report,
) -> Result<Vec<User>, BundleError> {
    let c = Columns::new(&table.header);
    let users = table.rows(mode, report, |row| {
        let source_id = row.required(c.id, "sourcedId")?;
        let status = row.status(c.status)?;
        let (role, org_source_ids) = match version {
            Version::V1_1 => (user_role(row.required(c.role, "role")?)?, row.list(c.orgs)),
            Version::V1_2 | Version::V1_2_1 => fold(roles, source_id, row.cell(c.primary_org))?,
        };
        Ok(User {
            source_id: source_id.to_owned(),
            status,
            enabled: row.flag(c.enabled, "enabledUser", true)?,
            role,
            org_source_ids,
            username: row.text(c.username),
            given_name: row.label(c.given_name, "givenName", status)?,
            family_name: row.label(c.family_name, "familyName", status)?,
            middle_name: row.text(c.middle_name),
            preferred_given_name: row.text(c.preferred_given_name),
            identifier: row.text(c.identifier),
            email: row.text(c.email),
            sms: row.text(c.sms),
            phone: row.text(c.phone),
            phone_not_mobile: false,
            agent_source_ids: row.list(c.agents),
            grades: row.list(c.grades),
        })
    })?;
    warn_about_roles_without_users(roles, &users, report);
    Ok(users)
}

/// The users.csv columns, found once.
struct Columns {
    id: Option<usize>,
    status: Option<usize>,
    enabled: Option<usize>,
    role: Option<usize>,
    orgs: Option<usize>,
    primary_org: Option<usize>,
    username: Option<usize>,
    given_name: Option<usize>,
    family_name: Option<usize>,
    middle_name: Option<usize>,
    preferred_given_name: Option<usize>,
    identifier: Option<usize>,
    email: Option<usize>,
    sms: Option<usize>,
    phone: Option<usize>,
    agents: Option<usize>,
    grades: Option<usize>,
}

impl Columns {
    fn new(header: &Header) -> Self {
        let c = |name| header.col(name);
        Self {
            id: c("sourcedId"),
            status: c("status"),
            enabled: c("enabledUser"),
            role: c("role"),
            orgs: c("orgSourcedIds"),
            primary_org: c("primaryOrgSourcedId"),
            username: c("username"),
            given_name: c("givenName"),
            family_name: c("familyName"),
            middle_name: c("middleName"),
            preferred_given_name: c("preferredGivenName"),
            identifier: c("identifier"),
            email: c("email"),
            sms: c("sms"),
            phone: c("phone"),
            agents: c("agentSourcedIds"),
            grades: c("grades"),
        }
    }
}

/// A 1.2 user's role and orgs from their roles.csv rows (live rows first;
/// a deleted user may have only deleted ones). `primaryOrgSourcedId` leads the orgs.
fn fold(
    roles: &Roles,
    user: &str,
    primary_org: Option<&str>,
) -> Result<(UserRole, Vec<String>), String> {
    let rows = roles
        .by_user
        .get(user)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let live: Vec<&RoleRow> = rows.iter().filter(|r| r.active).collect();
    let candidates: Vec<&RoleRow> = if live.is_empty() {
        rows.iter().collect()
    } else {
        live
    };
    let Some(main) = candidates.iter().find(|r| r.primary).or(candidates.first()) else {
        return Err(if roles.supplied {
            "no roles.csv row gives this user a role".to_owned()
        } else {
            "no roles.csv row gives this user a role: OneRoster 1.2 keeps roles in roles.csv, \
             which this bundle does not supply"
                .to_owned()
        });
    };
    let mut orgs: Vec<String> = Vec::with_capacity(candidates.len() + 1);
    let ordered = primary_org
        .into_iter()
        .chain(std::iter::once(main.org.as_str()));
    for org in ordered.chain(candidates.iter().map(|r| r.org.as_str())) {
        if !orgs.iter().any(|o| o == org) {
            orgs.push(org.to_owned());
        }
    }
    Ok((main.role.clone(), orgs))
}

fn role_type(value: &str) -> Result<bool, String> {
    if value.eq_ignore_ascii_case("primary") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("secondary") {
        Ok(false)
    } else {
        Err(format!("roleType \"{value}\" is not primary or secondary"))
    }
}

fn warn_about_roles_without_users(roles: &Roles, users: &[User], report: &mut Report) {
    let known: HashSet<&str> = users.iter().map(|u| u.source_id.as_str()).collect();
    let orphans = roles
        .by_user
        .keys()
        .filter(|id| !known.contains(id.as_str()))
        .count();
    if orphans > 0 {
        report.warnings.push(format!(
            "roles.csv: {orphans} user(s) with roles are not in users.csv; their roles were ignored"
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::oneroster::tests::{MANIFEST_1_2, ORGS, ROLES_HEADER, USERS_1_2, read};
    use crate::oneroster::*;

    #[test]
    fn roles_fold_into_1_2_users_primary_first() {
        let users = format!(
            "{USERS_1_2}t1,,,,,,Edna,Krabappel,,,,,,,,,,,,,s2,\nt2,,,,,,Ned,Flanders,,,,,,,,,,Neddy,,,,\n\
             p1,,,,,,Homer,Simpson,,,,,,,,,,,,,,\nx1,,,,,,No,Role,,,,,,,,,,,,,,\n"
        );
        let roles = format!(
            "{ROLES_HEADER}r1,,,t1,secondary,aide,,,s1,\nr2,,,t1,primary,teacher,,,s3,\nr3,,,t1,secondary,aide,,,s1,\n\
             r4,,,t2,secondary,counselor,,,s1,\nr5,,,p1,primary,parent,,,s1,\nr6,,,ghost,primary,student,,,s1,\n"
        );
        let bundle = read(&[
            ("manifest.csv", MANIFEST_1_2.as_bytes()),
            ("orgs.csv", ORGS.as_bytes()),
            ("users.csv", users.as_bytes()),
            ("roles.csv", roles.as_bytes()),
        ])
        .unwrap();
        let [edna, ned, homer] = bundle.users.as_slice() else {
            panic!("{:?}", bundle.users)
        };
        assert_eq!(edna.role, UserRole::Teacher);
        assert_eq!(edna.org_source_ids, ["s2", "s3", "s1"]);
        assert_eq!(ned.role, UserRole::Staff("counselor".into()));
        assert_eq!(ned.preferred_given_name.as_deref(), Some("Neddy"));
        assert_eq!(edna.preferred_given_name, None);
        assert_eq!(homer.role, UserRole::Guardian("parent".into()));
        let [missing] = bundle.row_errors.as_slice() else {
            panic!("{:?}", bundle.row_errors)
        };
        assert_eq!(
            (missing.line, missing.message.as_str()),
            (5, "no roles.csv row gives this user a role")
        );
        assert!(
            bundle
                .warnings
                .iter()
                .any(|w| w.starts_with("roles.csv: 1 user(s) with roles are not in users.csv"))
        );
    }

    #[test]
    fn both_1_2_users_headers_are_accepted() {
        let with_resources = USERS_1_2.replace(
            "userMasterIdentifier,",
            "userMasterIdentifier,resourceSourcedIds,",
        );
        let row = "p1,,,,,,Homer,Simpson,,,,,,,,,,,,,,,\n";
        let roles = format!("{ROLES_HEADER}r5,,,p1,primary,parent,,,s1,\n");
        let bundle = read(&[
            ("manifest.csv", MANIFEST_1_2.as_bytes()),
            ("orgs.csv", ORGS.as_bytes()),
            ("users.csv", format!("{with_resources}{row}").as_bytes()),
            ("roles.csv", roles.as_bytes()),
        ])
        .unwrap();
        assert_eq!(bundle.users.len(), 1, "{:?}", bundle.row_errors);
    }

    #[test]
    fn a_1_2_bundle_without_roles_reports_each_user() {
        let manifest = "propertyName,value\noneroster.version,1.2\nfile.users,delta\n";
        let users = format!("{USERS_1_2}p1,active,,,,,Homer,Simpson,,,,,,,,,,,,,,\n");
        let bundle = read(&[
            ("manifest.csv", manifest.as_bytes()),
            ("users.csv", users.as_bytes()),
        ])
        .unwrap();
        assert!(bundle.users.is_empty());
        assert!(
            bundle.row_errors[0]
                .message
                .contains("which this bundle does not supply")
        );
        assert!(
            bundle
                .warnings
                .iter()
                .any(|w| w.starts_with("users.csv is supplied without roles.csv"))
        );
    }

    #[test]
    fn a_deleted_1_2_user_whose_roles_are_deleted_too_is_still_read() {
        let manifest =
            "propertyName,value\noneroster.version,1.2.1\nfile.users,delta\nfile.roles,delta\n";
        let users = format!("{USERS_1_2}p1,tobedeleted,,,,,,,,,,,,,,,,,,,,\n");
        let roles = format!("{ROLES_HEADER}r5,tobedeleted,,p1,primary,parent,,,s1,\n");
        let bundle = read(&[
            ("manifest.csv", manifest.as_bytes()),
            ("users.csv", users.as_bytes()),
            ("roles.csv", roles.as_bytes()),
        ])
        .unwrap();
        let [homer] = bundle.users.as_slice() else {
            panic!("{:?}", bundle.row_errors)
        };
        assert_eq!(homer.status, Status::ToBeDeleted);
        assert_eq!(homer.role, UserRole::Guardian("parent".into()));
        assert_eq!(homer.given_name, "");
    }
}
