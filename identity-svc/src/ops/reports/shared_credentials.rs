//! ID-9, the shared-credential report listed by page: the filter, the views of
//! shared addresses and their holders, and the page token of the report order.
//! The sharing rule is in the parent module's doc.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, HashMap},
};

use homeroom_platform::{
    auth::Principal,
    db::{Db, DbConn},
    report_cache::ReportCache,
};
use serde_json::{Value, json};

use super::{PageRequest, SHARED_REPORT, admin_district, bad_token, decode_token, encode_token};
use crate::{
    domain::{
        accounts::{
            AccountKind, AccountStatus, CredentialKind, LinkedStudent, Names, ScopedRole,
            parse_role,
        },
        error::IdentityError,
    },
    ops::accounts::RoleView,
    store::{
        self,
        reports::{HolderRow, SharedAddress},
    },
};

/// Which shared credentials to report.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SharedFilter {
    /// District; empty means the caller's.
    pub district_id: String,
    /// Only credentials with a (counted) holder in this school.
    pub school_id: Option<String>,
    /// Credential kinds that count.
    pub kinds: BTreeSet<CredentialKind>,
}

impl SharedFilter {
    /// No kinds means email and mobile phone; `include_home_phones` adds home phones.
    pub fn new(
        district_id: &str,
        school_id: &str,
        kinds: impl IntoIterator<Item = CredentialKind>,
        include_home_phones: bool,
    ) -> SharedFilter {
        let mut kinds: BTreeSet<CredentialKind> = kinds.into_iter().collect();
        if kinds.is_empty() {
            kinds.extend([CredentialKind::Email, CredentialKind::MobilePhone]);
        }
        if include_home_phones {
            kinds.insert(CredentialKind::HomePhone);
        }
        SharedFilter {
            district_id: district_id.trim().to_string(),
            school_id: Some(school_id.trim().to_string()).filter(|s| !s.is_empty()),
            kinds,
        }
    }

    pub(super) fn kind_texts(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|k| k.as_str()).collect()
    }
}

/// One account holding a shared credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderView {
    /// The account.
    pub account_id: String,
    /// "Sarah Smith".
    pub display_name: String,
    /// Kind.
    pub kind: AccountKind,
    /// Status (DEACTIVATED holders are listed but not counted).
    pub status: AccountStatus,
    /// Roles with scope.
    pub roles: Vec<RoleView>,
    /// Linked students.
    pub linked_students: Vec<LinkedStudent>,
    /// Whether this holder confirmed the credential (ID-7).
    pub confirmed: bool,
}

/// One address held by two or more accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedCredentialView {
    /// Email, mobile phone or (only held as such) home phone.
    pub kind: CredentialKind,
    /// Normalised address.
    pub value: String,
    /// Counted holders (see the module doc).
    pub shared_count: u32,
    /// Every holder in the district, by name.
    pub holders: Vec<HolderView>,
}

/// One page of the report.
#[derive(Debug, Clone)]
pub struct SharedPage {
    /// Most shared first, then by address.
    pub credentials: Vec<SharedCredentialView>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Shared credentials matching the filter.
    pub total_size: usize,
}

/// Report order: most shared first, then by address (bytewise, so the same on
/// both backends whatever their collation), then by id.
type SharedKey = (Reverse<i64>, String, String);

fn shared_key(a: &SharedAddress) -> SharedKey {
    (Reverse(a.holders), a.value.clone(), a.address_id.clone())
}

fn decode_shared_token(token: &str) -> Result<SharedKey, IdentityError> {
    match decode_token(token)?.as_slice() {
        [Value::Number(n), Value::String(value), Value::String(id)] => Ok((
            Reverse(n.as_i64().ok_or_else(bad_token)?),
            value.clone(),
            id.clone(),
        )),
        _ => Err(bad_token()),
    }
}

/// The shared addresses computed per district and filter, kept until the
/// district's accounts, credentials, roles or linked students change
/// (`homeroom_platform::report_cache`): every page and download of a report
/// reads one list, and paging through it costs no recomputation.
pub type SharedCache = ReportCache<(String, SharedFilter), Vec<SharedAddress>>;

/// A cache of the lists of the filters used last (a district's filters are
/// few: a school, the kinds).
pub fn shared_cache() -> SharedCache {
    ReportCache::new(32)
}

/// The district's shared addresses matching the filter, in report order.
pub(super) fn shared_in(
    conn: &mut DbConn,
    cache: &SharedCache,
    district_id: &str,
    filter: &SharedFilter,
) -> Result<std::sync::Arc<Vec<SharedAddress>>, IdentityError> {
    let key = (district_id.to_string(), filter.clone());
    cache.get_or_compute(conn, district_id, key, |conn| {
        let kinds = filter.kind_texts();
        let mut found = store::reports::shared_addresses(conn, district_id, &kinds)?;
        if let Some(school_id) = &filter.school_id {
            let in_school =
                store::reports::addresses_in_school(conn, district_id, school_id, &kinds)?;
            found.retain(|a| in_school.contains(&a.address_id));
        }
        found.sort_by_cached_key(shared_key);
        Ok(found)
    })
}

/// ID-9: one page of the district's shared credentials with their holders.
#[tracing::instrument(skip_all, fields(district_id = %filter.district_id))]
pub async fn list_shared_credentials(
    db: &Db,
    cache: &std::sync::Arc<SharedCache>,
    caller: &Principal,
    filter: SharedFilter,
    page: PageRequest,
) -> Result<SharedPage, IdentityError> {
    let district = admin_district(caller, &filter.district_id, SHARED_REPORT)?;
    let after = page.token.as_deref().map(decode_shared_token).transpose()?;
    let cache = std::sync::Arc::clone(cache);
    db.run(move |conn| {
        let found = shared_in(conn, &cache, &district, &filter)?;
        let start = after.map_or(0, |key| found.partition_point(|a| shared_key(a) <= key));
        let end = found.len().min(start + page.size);
        let slice = found.get(start..end).unwrap_or_default();
        let next_page_token = match slice.last() {
            Some(last) if end < found.len() => {
                encode_token(json!([last.holders, last.value, last.address_id]))
            }
            _ => String::new(),
        };
        Ok(SharedPage {
            credentials: with_holders(conn, &district, slice, &filter.kind_texts())?,
            next_page_token,
            total_size: found.len(),
        })
    })
    .await
}

/// The addresses with every holder's roles and linked students.
pub(super) fn with_holders(
    conn: &mut DbConn,
    district_id: &str,
    addresses: &[SharedAddress],
    kinds: &[&str],
) -> Result<Vec<SharedCredentialView>, IdentityError> {
    let ids: Vec<String> = addresses.iter().map(|a| a.address_id.clone()).collect();
    let rows = store::reports::holders(conn, district_id, &ids, kinds)?;
    let account_ids: Vec<String> = rows
        .iter()
        .map(|r| r.account_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Per role and scope: managed by a sync unless an administrator granted it too.
    let mut grants: HashMap<String, BTreeMap<ScopedRole, bool>> = HashMap::new();
    for (account_id, role, school_id, source) in store::reports::grants_of(conn, &account_ids)? {
        if let Ok(role) = parse_role(&role) {
            let managed = grants
                .entry(account_id)
                .or_default()
                .entry(ScopedRole { role, school_id })
                .or_insert(true);
            *managed &= !source.is_empty();
        }
    }
    let mut students: HashMap<String, Vec<LinkedStudent>> = HashMap::new();
    for (account_id, student_id, display_name, school_id) in
        store::reports::students_of(conn, &account_ids)?
    {
        students.entry(account_id).or_default().push(LinkedStudent {
            student_id,
            display_name,
            school_id,
        });
    }
    let mut by_address: HashMap<String, BTreeMap<String, HolderView>> = HashMap::new();
    for row in rows {
        let holders = by_address.entry(row.address_id.clone()).or_default();
        if let Some(seen) = holders.get_mut(&row.account_id) {
            // The same address as mobile and home phone of one account.
            seen.confirmed |= row.confirmed;
            continue;
        }
        let view = holder_view(row, &grants, &students);
        holders.insert(view.account_id.clone(), view);
    }
    Ok(addresses
        .iter()
        .map(|a| {
            let mut holders: Vec<HolderView> = by_address
                .remove(&a.address_id)
                .unwrap_or_default()
                .into_values()
                .collect();
            holders.sort_by(|x, y| {
                (&x.display_name, &x.account_id).cmp(&(&y.display_name, &y.account_id))
            });
            SharedCredentialView {
                kind: a.credential_kind.parse().unwrap_or(CredentialKind::Email),
                value: a.value.clone(),
                shared_count: u32::try_from(a.holders).unwrap_or(u32::MAX),
                holders,
            }
        })
        .collect())
}

fn holder_view(
    row: HolderRow,
    grants: &HashMap<String, BTreeMap<ScopedRole, bool>>,
    students: &HashMap<String, Vec<LinkedStudent>>,
) -> HolderView {
    let names = Names {
        given: row.given_name,
        middle: row.middle_name,
        family: row.family_name,
    };
    let mut linked = students.get(&row.account_id).cloned().unwrap_or_default();
    linked.sort();
    HolderView {
        display_name: names.display(),
        kind: row.account_kind.parse().unwrap_or(AccountKind::Guardian),
        status: row.status.parse().unwrap_or(AccountStatus::Invitee),
        roles: grants
            .get(&row.account_id)
            .map(|g| {
                g.iter()
                    .map(|(role, managed)| RoleView {
                        role: role.clone(),
                        sync_managed: *managed,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        linked_students: linked,
        confirmed: row.confirmed,
        account_id: row.account_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_junk_is_invalid_argument() {
        let token = encode_token(json!([3, "a@b.org", "id-1"]));
        assert_eq!(
            decode_shared_token(&token).unwrap(),
            (Reverse(3), "a@b.org".into(), "id-1".into())
        );
        for junk in ["!!", "e30", &encode_token(json!([1, 2]))] {
            assert!(matches!(
                decode_shared_token(junk),
                Err(IdentityError::InvalidArgument(_))
            ));
        }
    }
}
