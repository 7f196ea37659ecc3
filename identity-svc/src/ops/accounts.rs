//! Reading accounts as the API shows them (ID-1, ID-2, ID-11).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::{Db, DbConn};

use crate::{
    domain::{
        accounts::{
            AccountKind, AccountStatus, CredentialKind, LinkedStudent, Names, ScopedRole,
            parse_role,
        },
        error::IdentityError,
    },
    store::{
        self,
        schema::{account_credentials, account_sources, addresses, linked_students, role_grants},
    },
};

/// One credential on an account, with how many accounts share its address (ID-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialView {
    /// Email, mobile or home phone.
    pub kind: CredentialKind,
    /// Normalised address.
    pub value: String,
    /// Accounts (not deactivated) holding the address, this one included.
    pub shared_count: u32,
    /// ID-7.
    pub confirmed_at: Option<NaiveDateTime>,
    /// When it was put on the account.
    pub added_at: NaiveDateTime,
}

/// A role and whether a sync manages it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleView {
    /// Role and scope.
    pub role: ScopedRole,
    /// Granted by a source (replaced by its next sync).
    pub sync_managed: bool,
}

/// An account as the API shows it.
#[derive(Debug, Clone)]
pub struct AccountView {
    /// The row.
    pub id: String,
    /// District.
    pub district_id: String,
    /// Kind.
    pub kind: AccountKind,
    /// Status.
    pub status: AccountStatus,
    /// Names.
    pub names: Names,
    /// Preferred language.
    pub language: String,
    /// RO-6 flag.
    pub contact_managed_by_sync: bool,
    /// Has a password.
    pub has_password: bool,
    /// (source system, source id) keys.
    pub external_ids: Vec<(String, String)>,
    /// Roles.
    pub roles: Vec<RoleView>,
    /// Credentials with shared counts.
    pub credentials: Vec<CredentialView>,
    /// Linked students.
    pub linked_students: Vec<LinkedStudent>,
    /// Times.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Joined.
    pub activated_at: Option<NaiveDateTime>,
    /// Deactivated.
    pub deactivated_at: Option<NaiveDateTime>,
    /// Last login.
    pub last_login_at: Option<NaiveDateTime>,
}

/// Reads one account with everything the profile shows.
pub async fn get(db: &Db, account_id: String) -> Result<AccountView, IdentityError> {
    db.run(move |conn| view(conn, &account_id)).await
}

/// Builds the view of one account.
pub fn view(conn: &mut DbConn, account_id: &str) -> Result<AccountView, IdentityError> {
    let row = store::accounts::find(conn, account_id)?
        .ok_or_else(|| IdentityError::NotFound("no such account".into()))?;
    let credentials: Vec<(String, String, String, Option<NaiveDateTime>, NaiveDateTime)> =
        account_credentials::table
            .inner_join(addresses::table)
            .filter(account_credentials::account_id.eq(account_id))
            .select((
                account_credentials::kind,
                addresses::id,
                addresses::value,
                account_credentials::confirmed_at,
                account_credentials::created_at,
            ))
            .load(conn)?;
    let address_ids: Vec<String> = credentials.iter().map(|c| c.1.clone()).collect();
    let holders: HashMap<String, i64> = store::accounts::holders(conn, &address_ids)?;
    let mut credentials: Vec<CredentialView> = credentials
        .into_iter()
        .filter_map(|(kind, address_id, value, confirmed_at, added_at)| {
            Some(CredentialView {
                kind: kind.parse().ok()?,
                shared_count: holders.get(&address_id).copied().unwrap_or(1).max(1) as u32,
                value,
                confirmed_at,
                added_at,
            })
        })
        .collect();
    credentials.sort_by_key(|c| c.kind);
    let external_ids = account_sources::table
        .filter(account_sources::account_id.eq(account_id))
        .select((account_sources::source_system, account_sources::source_id))
        .load(conn)?;
    let roles: Vec<(String, String, String)> = role_grants::table
        .filter(role_grants::account_id.eq(account_id))
        .select((
            role_grants::role,
            role_grants::school_id,
            role_grants::source_system,
        ))
        .load(conn)?;
    let roles = roles
        .into_iter()
        .filter_map(|(role, school_id, source)| {
            Some(RoleView {
                role: ScopedRole {
                    role: parse_role(&role).ok()?,
                    school_id,
                },
                sync_managed: !source.is_empty(),
            })
        })
        .collect();
    let linked_students = linked_students::table
        .filter(linked_students::account_id.eq(account_id))
        .select((
            linked_students::student_id,
            linked_students::display_name,
            linked_students::school_id,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(student_id, display_name, school_id)| LinkedStudent {
            student_id,
            display_name,
            school_id,
        })
        .collect();
    Ok(AccountView {
        kind: row.kind(),
        status: row.status(),
        names: row.names(),
        has_password: row.password_hash.is_some(),
        id: row.id,
        district_id: row.district_id,
        language: row.preferred_language,
        contact_managed_by_sync: row.contact_managed_by_sync,
        external_ids,
        roles,
        credentials,
        linked_students,
        created_at: row.created_at,
        updated_at: row.updated_at,
        activated_at: row.activated_at,
        deactivated_at: row.deactivated_at,
        last_login_at: row.last_login_at,
    })
}

/// ID-8: whether `caller` may edit the account's name, email and phone now, and
/// if not, why.
pub fn editable_by(
    caller: &homeroom_platform::auth::Principal,
    view: &AccountView,
) -> (bool, String) {
    use homeroom_platform::auth::{Principal, Role};
    if view.status == AccountStatus::Active && view.contact_managed_by_sync {
        return (false, crate::domain::error::SYNC_MANAGES_CONTACTS.into());
    }
    let allowed = match caller {
        Principal::Account { account_id, .. } if *account_id == view.id => true,
        Principal::Account { .. } => {
            caller.has_district_role(&view.district_id, Role::UserManager)
                || caller.has_district_role(&view.district_id, Role::DistrictAdmin)
        }
        Principal::Service { .. } => false,
    };
    if allowed {
        (true, String::new())
    } else {
        (
            false,
            "only the user or a user manager of the district may change contact details".into(),
        )
    }
}

/// One account's contact point for messaging (MS-2).
#[derive(Debug, Clone)]
pub struct ContactPointView {
    /// The account row.
    pub account: crate::store::accounts::AccountRow,
    /// Email: value, accounts holding it, confirmed.
    pub email: Option<(String, u32, Option<NaiveDateTime>)>,
    /// Mobile phone: value, accounts holding it, confirmed.
    pub mobile_phone: Option<(String, u32, Option<NaiveDateTime>)>,
}

/// Most accounts one `GetContactPoints` call takes.
pub const MAX_CONTACT_POINTS: usize = 5_000;

/// Contact points of a batch of accounts, in request order, and the ids not found.
pub async fn contact_points(
    db: &Db,
    ids: Vec<String>,
) -> Result<(Vec<ContactPointView>, Vec<String>), IdentityError> {
    if ids.len() > MAX_CONTACT_POINTS {
        return Err(IdentityError::InvalidArgument(format!(
            "account_ids: at most {MAX_CONTACT_POINTS} per call, got {}",
            ids.len()
        )));
    }
    db.run(move |conn| {
        let mut rows = HashMap::new();
        for chunk in ids.chunks(1_000) {
            let found: Vec<crate::store::accounts::AccountRow> =
                crate::store::schema::accounts::table
                    .filter(crate::store::schema::accounts::id.eq_any(chunk))
                    .select(crate::store::accounts::AccountRow::as_select())
                    .load(conn)?;
            rows.extend(found.into_iter().map(|r| (r.id.clone(), r)));
        }
        let mut credentials: Vec<(String, String, String, String, Option<NaiveDateTime>)> =
            Vec::new();
        for chunk in ids.chunks(1_000) {
            credentials.extend(
                account_credentials::table
                    .inner_join(addresses::table)
                    .filter(account_credentials::account_id.eq_any(chunk))
                    .filter(account_credentials::kind.ne(CredentialKind::HomePhone.as_str()))
                    .select((
                        account_credentials::account_id,
                        account_credentials::kind,
                        addresses::id,
                        addresses::value,
                        account_credentials::confirmed_at,
                    ))
                    .load::<(String, String, String, String, Option<NaiveDateTime>)>(conn)?,
            );
        }
        let mut address_ids: Vec<String> = credentials.iter().map(|c| c.2.clone()).collect();
        address_ids.sort();
        address_ids.dedup();
        let mut holders = HashMap::new();
        for chunk in address_ids.chunks(1_000) {
            holders.extend(store::accounts::holders(conn, chunk)?);
        }
        let mut points: HashMap<String, ContactPointView> = HashMap::new();
        let mut missing = Vec::new();
        for id in &ids {
            match rows.remove(id) {
                Some(account) => {
                    points.insert(
                        id.clone(),
                        ContactPointView {
                            account,
                            email: None,
                            mobile_phone: None,
                        },
                    );
                }
                None => missing.push(id.clone()),
            }
        }
        for (account_id, kind, address_id, value, confirmed) in credentials {
            let Some(point) = points.get_mut(&account_id) else {
                continue;
            };
            let shared = holders.get(&address_id).copied().unwrap_or(1).max(1) as u32;
            match kind.parse() {
                Ok(CredentialKind::Email) => point.email = Some((value, shared, confirmed)),
                Ok(CredentialKind::MobilePhone) => {
                    point.mobile_phone = Some((value, shared, confirmed))
                }
                _ => {}
            }
        }
        let ordered = ids.iter().filter_map(|id| points.remove(id)).collect();
        Ok((ordered, missing))
    })
    .await
}
