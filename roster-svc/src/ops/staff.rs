//! RO-1: staff members. Any staff account of the district reads them
//! (school-scoped staff: the staff of their schools); a staff member reads
//! their own record.

use homeroom_platform::{auth::Principal, db::Db};

use super::{
    Kinds,
    reach::{Reach, STAFF, schools_of},
};
use crate::{
    domain::{
        error::RosterError,
        reads::{PersonKey, RecordId, StaffKind, Statuses},
    },
    store::{
        duplicates::source_kinds,
        people::{self, NameKey, PeopleFilter},
        records::PersonRow,
    },
};

const ACTIVE: &str = "active";
const NO_STAFF: &str = "no such staff member";

/// RO-1: one staff member the caller may see; by account, the active
/// record changed last.
#[tracing::instrument(skip_all)]
pub async fn get(
    db: &Db,
    caller: &Principal,
    key: PersonKey,
) -> Result<(PersonRow, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let not_found = || RosterError::NotFound(NO_STAFF.into());
        let staff = match &key {
            PersonKey::Id(id) => people::person(c, id.as_str(), "staff")?,
            PersonKey::Account(account) => {
                let mut records = people::by_account(c, account, "staff")?;
                records.sort_by_key(|r| (r.status != ACTIVE, std::cmp::Reverse(r.updated_at)));
                records.into_iter().next()
            }
        }
        .ok_or_else(not_found)?;
        let reach = Reach::of(&caller, &staff.district_id, STAFF, NO_STAFF)?;
        if !(reach.any_school(schools_of(&staff)) || reach.is_account(staff.account_id.as_deref()))
        {
            return Err(not_found());
        }
        let kinds = source_kinds(c, &staff.district_id)?;
        Ok((staff, kinds))
    })
    .await
}

/// A staff list's filters.
#[derive(Debug, Clone)]
pub struct StaffQuery {
    pub district_id: RecordId,
    pub school_id: Option<RecordId>,
    /// Empty for any.
    pub kinds: Vec<StaffKind>,
    pub query: Option<String>,
    pub statuses: Statuses,
}

/// The stored roles the kinds name, and — when `Other` is asked for — the
/// roles every other kind names, which "other" excludes.
fn roles(kinds: &[StaffKind]) -> Option<(Vec<&'static str>, Option<Vec<&'static str>>)> {
    if kinds.is_empty() {
        return None;
    }
    let named = kinds
        .iter()
        .filter_map(|k| k.spellings())
        .flatten()
        .collect();
    let others = kinds.contains(&StaffKind::Other).then(StaffKind::named);
    Some((named, others))
}

/// RO-1: a page of the staff the caller may see, by name.
#[tracing::instrument(skip_all, fields(district_id = %q.district_id.as_str()))]
pub async fn list(
    db: &Db,
    caller: &Principal,
    q: StaffQuery,
    after: Option<NameKey>,
    limit: i64,
) -> Result<(Vec<PersonRow>, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let district = q.district_id.as_str().to_string();
        let reach = Reach::of(&caller, &district, STAFF, "no such district")?;
        if !reach.whole && reach.schools.is_empty() {
            return Err(RosterError::PermissionDenied(
                "only staff of the district may list its staff".into(),
            ));
        }
        let filter = PeopleFilter {
            district_id: district.clone(),
            kind: "staff",
            visible: reach.visible([]),
            school_id: q.school_id.as_ref().map(|s| s.as_str().into()),
            ids: None,
            grade: None,
            codes: vec![],
            roles: roles(&q.kinds),
            query: q.query.clone(),
            statuses: q.statuses.as_slice().to_vec(),
        };
        let rows = people::page(c, &filter, after.as_ref(), limit)?;
        Ok((rows, source_kinds(c, &district)?))
    })
    .await
}
