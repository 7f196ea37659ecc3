//! Reading accounts as the API shows them (ID-1, ID-2, ID-11).

use std::collections::{HashMap, hash_map::Entry};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::{Backend, Db, DbConn};

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
        schema::{
            account_credentials, account_sources, accounts, addresses, linked_students,
            role_grants, sso_links,
        },
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
    /// ID-5: issuers of the SSO identities linked to the account, sorted and
    /// each once (the subjects stay inside identity).
    pub sso_issuers: Vec<String>,
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
    views(conn, &[account_id.to_string()])?
        .pop()
        .ok_or_else(|| IdentityError::NotFound("no such account".into()))
}

/// `query` limited to rows whose `column` is one of `ids`: `= ?` for a single
/// id — a statement the connection keeps prepared, which SQLite cannot do for
/// `IN` lists — and `IN (…)` for several.
macro_rules! of_ids {
    ($query:expr, $column:expr, $ids:expr) => {{
        let query = $query.into_boxed();
        match $ids {
            [one] => query.filter($column.eq(one.clone())),
            many => query.filter($column.eq_any(many.to_vec())),
        }
    }};
}

/// A credential as stored: kind, address id, value, confirmed, added.
type StoredCredential = (String, String, String, Option<NaiveDateTime>, NaiveDateTime);

/// Builds the views of accounts, in the order given (missing ids are left
/// out): a few queries for the whole batch, none per account.
pub fn views(conn: &mut DbConn, ids: &[String]) -> Result<Vec<AccountView>, IdentityError> {
    // The rows, with the issuers of their SSO links joined in (one row per
    // link; most accounts have none or one): one statement, not two.
    let mut rows: Vec<store::accounts::AccountRow> = Vec::with_capacity(ids.len());
    let mut issuers: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(1_000) {
        let joined: Vec<(store::accounts::AccountRow, Option<String>)> = of_ids!(
            accounts::table.left_join(sso_links::table).select((
                store::accounts::AccountRow::as_select(),
                sso_links::issuer.nullable(),
            )),
            accounts::id,
            chunk
        )
        .load(conn)?;
        for (row, issuer) in joined {
            match issuers.entry(row.id.clone()) {
                Entry::Occupied(mut of_row) => of_row.get_mut().extend(issuer),
                Entry::Vacant(of_row) => {
                    of_row.insert(issuer.into_iter().collect());
                    rows.push(row);
                }
            }
        }
    }
    let order: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    rows.sort_by_key(|r| order.get(r.id.as_str()).copied().unwrap_or(usize::MAX));
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut credentials: HashMap<String, Vec<StoredCredential>> = HashMap::new();
    let mut external_ids: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut roles: HashMap<String, Vec<RoleView>> = HashMap::new();
    let mut linked: HashMap<String, Vec<LinkedStudent>> = HashMap::new();
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(
            String,
            String,
            String,
            String,
            Option<NaiveDateTime>,
            NaiveDateTime,
        )> = of_ids!(
            account_credentials::table
                .inner_join(addresses::table)
                .select((
                    account_credentials::account_id,
                    account_credentials::kind,
                    addresses::id,
                    addresses::value,
                    account_credentials::confirmed_at,
                    account_credentials::created_at,
                )),
            account_credentials::account_id,
            chunk
        )
        .load(conn)?;
        for (account, kind, address, value, confirmed, added) in rows {
            credentials
                .entry(account)
                .or_default()
                .push((kind, address, value, confirmed, added));
        }
        let rows: Vec<(String, String, String)> = of_ids!(
            account_sources::table.select((
                account_sources::account_id,
                account_sources::source_system,
                account_sources::source_id,
            )),
            account_sources::account_id,
            chunk
        )
        .load(conn)?;
        for (account, system, id) in rows {
            external_ids.entry(account).or_default().push((system, id));
        }
        let rows: Vec<(String, String, String, String)> = of_ids!(
            role_grants::table.select((
                role_grants::account_id,
                role_grants::role,
                role_grants::school_id,
                role_grants::source_system,
            )),
            role_grants::account_id,
            chunk
        )
        .load(conn)?;
        for (account, role, school_id, source) in rows {
            let Ok(role) = parse_role(&role) else {
                continue;
            };
            roles.entry(account).or_default().push(RoleView {
                role: ScopedRole { role, school_id },
                sync_managed: !source.is_empty(),
            });
        }
        let rows: Vec<(String, String, String, String)> = of_ids!(
            linked_students::table.select((
                linked_students::account_id,
                linked_students::student_id,
                linked_students::display_name,
                linked_students::school_id,
            )),
            linked_students::account_id,
            chunk
        )
        .load(conn)?;
        for (account, student_id, display_name, school_id) in rows {
            linked.entry(account).or_default().push(LinkedStudent {
                student_id,
                display_name,
                school_id,
            });
        }
    }
    let address_ids: Vec<String> = credentials
        .values()
        .flatten()
        .map(|c| c.1.clone())
        .collect();
    let holders = store::accounts::holders(conn, &address_ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut creds: Vec<CredentialView> = credentials
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(kind, address_id, value, confirmed_at, added_at)| {
                    Some(CredentialView {
                        kind: kind.parse().ok()?,
                        shared_count: holders
                            .get(&(address_id, row.district_id.clone()))
                            .copied()
                            .unwrap_or(1)
                            .max(1) as u32,
                        value,
                        confirmed_at,
                        added_at,
                    })
                })
                .collect();
            creds.sort_by_key(|c| c.kind);
            AccountView {
                kind: row.kind(),
                status: row.status(),
                names: row.names(),
                has_password: row.password_hash.is_some(),
                external_ids: external_ids.remove(&row.id).unwrap_or_default(),
                roles: roles.remove(&row.id).unwrap_or_default(),
                linked_students: linked.remove(&row.id).unwrap_or_default(),
                sso_issuers: {
                    let mut issuers = issuers.remove(&row.id).unwrap_or_default();
                    issuers.sort_unstable();
                    issuers.dedup();
                    issuers
                },
                credentials: creds,
                id: row.id,
                district_id: row.district_id,
                language: row.preferred_language,
                contact_managed_by_sync: row.contact_managed_by_sync,
                created_at: row.created_at,
                updated_at: row.updated_at,
                activated_at: row.activated_at,
                deactivated_at: row.deactivated_at,
                last_login_at: row.last_login_at,
            }
        })
        .collect())
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
    /// RO-8: accounts merged into this one.
    pub merged_account_ids: Vec<String>,
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
        let mut merged = HashMap::new();
        for chunk in ids.chunks(1_000) {
            merged.extend(store::merges::merged_into(conn, chunk)?);
        }
        for id in &ids {
            match rows.remove(id) {
                Some(account) => {
                    points.insert(
                        id.clone(),
                        ContactPointView {
                            account,
                            email: None,
                            mobile_phone: None,
                            merged_account_ids: merged.remove(id).unwrap_or_default(),
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
            let district = point.account.district_id.clone();
            let shared = holders
                .get(&(address_id, district))
                .copied()
                .unwrap_or(1)
                .max(1) as u32;
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

/// ID-1: which accounts of a district to list.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// The district.
    pub district_id: String,
    /// Only accounts with a role at, or a student in, one of these schools
    /// (`None`: the whole district).
    pub schools: Option<Vec<String>>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<AccountKind>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<AccountStatus>,
    /// Only accounts holding one of these roles (empty: all).
    pub roles: Vec<homeroom_platform::auth::Role>,
    /// Words in the name, email or phone (case-insensitive).
    pub query: String,
    /// Only these accounts (empty: all).
    pub account_ids: Vec<String>,
    /// Only accounts holding one of these normalised addresses (empty: all).
    pub addresses: Vec<String>,
    /// Only accounts a source system keys.
    pub source_system: String,
    /// Only accounts with an email or mobile phone another account holds.
    pub shared_only: bool,
}

/// A page of accounts ordered by family name, given name, id.
#[derive(Debug)]
pub struct AccountPage {
    /// The accounts.
    pub accounts: Vec<AccountView>,
    /// The sort key of the last one, when there are more.
    pub next: Option<[String; 3]>,
    /// How many match in all.
    pub total: i64,
}

type Boxed<'a> = accounts::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

fn filtered(f: &AccountFilter, backend: Backend) -> Boxed<'_> {
    // SQLite would walk the district's accounts in name order and test each
    // against the few a search or a list of ids or addresses names; with
    // the district's term kept off the index (`+`), it starts from those few.
    let few = !f.query.trim().is_empty() || !f.account_ids.is_empty() || !f.addresses.is_empty();
    let mut q = if few {
        accounts::table
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(store::search::district_term(backend))
                    .bind::<diesel::sql_types::Text, _>(f.district_id.clone()),
            )
            .into_boxed()
    } else {
        accounts::table
            .filter(accounts::district_id.eq(&f.district_id))
            .into_boxed()
    };
    if !f.kinds.is_empty() {
        q = q.filter(accounts::kind.eq_any(f.kinds.iter().map(|k| k.as_str())));
    }
    if !f.statuses.is_empty() {
        q = q.filter(accounts::status.eq_any(f.statuses.iter().map(|s| s.as_str())));
    }
    if !f.account_ids.is_empty() {
        q = q.filter(accounts::id.eq_any(f.account_ids.clone()));
    }
    if !f.addresses.is_empty() {
        q = q.filter(
            accounts::id.eq_any(
                account_credentials::table
                    .inner_join(addresses::table)
                    .filter(addresses::value.eq_any(f.addresses.clone()))
                    .select(account_credentials::account_id),
            ),
        );
    }
    if !f.roles.is_empty() {
        let roles: Vec<&str> = f
            .roles
            .iter()
            .map(|r| crate::domain::accounts::role_str(*r))
            .collect();
        q = q.filter(
            accounts::id.eq_any(
                role_grants::table
                    .filter(role_grants::role.eq_any(roles))
                    .select(role_grants::account_id),
            ),
        );
    }
    if let Some(schools) = &f.schools {
        q = q.filter(
            accounts::id
                .eq_any(
                    role_grants::table
                        .filter(role_grants::school_id.eq_any(schools.clone()))
                        .select(role_grants::account_id),
                )
                .or(accounts::id.eq_any(
                    linked_students::table
                        .filter(linked_students::school_id.eq_any(schools.clone()))
                        .select(linked_students::account_id),
                )),
        );
    }
    if !f.source_system.is_empty() {
        q = q.filter(
            accounts::id.eq_any(
                account_sources::table
                    .filter(account_sources::district_id.eq(&f.district_id))
                    .filter(account_sources::source_system.eq(&f.source_system))
                    .select(account_sources::account_id),
            ),
        );
    }
    if f.shared_only {
        // Addresses of the district held by two or more of its accounts
        // (the tables again, under other names, inside the outer query).
        let (held, holder) = diesel::alias!(account_credentials as held, accounts as holder);
        let shared = held
            .inner_join(
                holder.on(holder
                    .field(accounts::id)
                    .eq(held.field(account_credentials::account_id))),
            )
            .filter(
                holder
                    .field(accounts::district_id)
                    .eq(f.district_id.clone()),
            )
            .filter(
                held.field(account_credentials::kind)
                    .eq_any(["email", "mobile_phone"]),
            )
            .group_by(held.field(account_credentials::address_id))
            .having(diesel::dsl::count(held.field(account_credentials::account_id)).gt(1))
            .select(held.field(account_credentials::address_id));
        q = q.filter(
            accounts::id.eq_any(
                account_credentials::table
                    .filter(account_credentials::address_id.eq_any(shared))
                    .select(account_credentials::account_id),
            ),
        );
    }
    for word in search_words(&f.query) {
        q = q.filter(store::search::word_matches(backend, &word));
    }
    q
}

/// The words a search matches, each against a name or an address: a phone
/// number in any form (`(987) 654-3210`, `987.654.3210`, `+1 987…`) is one
/// word of its digits, which the stored E.164 value contains; anything else
/// is split on spaces (at most five words).
fn search_words(query: &str) -> Vec<String> {
    let phone_like = query
        .chars()
        .all(|c| c.is_ascii_digit() || " ()+-./".contains(c));
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if phone_like && digits.len() >= 4 {
        return vec![digits];
    }
    query
        .split_whitespace()
        .take(5)
        .map(str::to_owned)
        .collect()
}

/// ID-1: a page of a district's accounts matching `filter`, after `after`
/// (the previous page's last sort key).
pub fn list(
    conn: &mut DbConn,
    filter: &AccountFilter,
    after: Option<[String; 3]>,
    size: i64,
) -> Result<AccountPage, IdentityError> {
    let backend = conn.backend();
    let total: i64 = filtered(filter, backend).count().get_result(conn)?;
    let mut q = filtered(filter, backend);
    if let Some([family, given, id]) = after {
        q = q.filter(
            accounts::family_name
                .gt(family.clone())
                .or(accounts::family_name.eq(family).and(
                    accounts::given_name
                        .gt(given.clone())
                        .or(accounts::given_name.eq(given).and(accounts::id.gt(id))),
                )),
        );
    }
    let keys: Vec<(String, String, String)> = q
        .order((accounts::family_name, accounts::given_name, accounts::id))
        .select((accounts::family_name, accounts::given_name, accounts::id))
        .limit(size + 1)
        .load(conn)?;
    let more = keys.len() as i64 > size;
    let keys: Vec<(String, String, String)> = keys.into_iter().take(size as usize).collect();
    let next = more
        .then(|| {
            keys.last()
                .map(|(f, g, i)| [f.clone(), g.clone(), i.clone()])
        })
        .flatten();
    let ids: Vec<String> = keys.into_iter().map(|(_, _, id)| id).collect();
    Ok(AccountPage {
        accounts: views(conn, &ids)?,
        next,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::search_words;

    #[test]
    fn a_phone_in_any_form_is_searched_by_its_digits() {
        for phone in [
            "(987) 654-3210",
            "987.654.3210",
            "+1 987 654 3210",
            "654-3210",
        ] {
            let words = search_words(phone);
            assert_eq!(words.len(), 1, "{phone}");
            assert!("19876543210".contains(&words[0]), "{phone}: {words:?}");
        }
        assert_eq!(search_words("Sarah  Smith"), ["Sarah", "Smith"]);
        assert_eq!(search_words("12"), ["12"]);
        assert_eq!(search_words("smith@mail.com"), ["smith@mail.com"]);
    }
}
