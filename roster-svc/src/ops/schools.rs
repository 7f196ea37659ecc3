//! RO-1: schools and academic sessions. Any account of the district reads a
//! school; staff list the district's schools (school-scoped staff: their
//! own) and its academic sessions.

use std::collections::HashMap;

use homeroom_platform::{auth::Principal, db::Db};

use super::{
    Kinds, access,
    reach::{Reach, STAFF},
};
use crate::{
    domain::{
        error::RosterError,
        reads::{RecordId, Statuses},
    },
    store::{
        duplicates::source_kinds,
        orgs::{self, SchoolFilter},
        records::{SchoolRow, SessionRow},
    },
};

const NO_SCHOOL: &str = "no such school";
const NO_DISTRICT: &str = "no such district";

fn staff_only(reach: &Reach, what: &str) -> Result<(), RosterError> {
    if reach.whole || !reach.schools.is_empty() {
        Ok(())
    } else {
        Err(RosterError::PermissionDenied(format!(
            "only staff of the district may list its {what}"
        )))
    }
}

/// RO-1: one school of the caller's district.
#[tracing::instrument(skip_all, fields(school_id = %id.as_str()))]
pub async fn get(
    db: &Db,
    caller: &Principal,
    id: RecordId,
) -> Result<(SchoolRow, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let school =
            orgs::school(c, id.as_str())?.ok_or_else(|| RosterError::NotFound(NO_SCHOOL.into()))?;
        access::district_member(&caller, &school.district_id)
            .map_err(|_| RosterError::NotFound(NO_SCHOOL.into()))?;
        let kinds = source_kinds(c, &school.district_id)?;
        Ok((school, kinds))
    })
    .await
}

/// A school list's filters.
#[derive(Debug, Clone)]
pub struct SchoolQuery {
    pub district_id: RecordId,
    pub query: Option<String>,
    pub statuses: Statuses,
}

/// RO-1: a page of the schools the caller may see, by name.
#[tracing::instrument(skip_all, fields(district_id = %q.district_id.as_str()))]
pub async fn list(
    db: &Db,
    caller: &Principal,
    q: SchoolQuery,
    after: Option<[String; 2]>,
    limit: i64,
) -> Result<(Vec<SchoolRow>, Kinds), RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let district = q.district_id.as_str().to_string();
        let reach = Reach::of(&caller, &district, STAFF, NO_DISTRICT)?;
        staff_only(&reach, "schools")?;
        let filter = SchoolFilter {
            district_id: district.clone(),
            only: (!reach.whole).then(|| reach.schools.clone()),
            query: q.query.clone(),
            statuses: q.statuses.as_slice().to_vec(),
        };
        let rows = orgs::schools_page(c, &filter, after.as_ref(), limit)?;
        Ok((rows, source_kinds(c, &district)?))
    })
    .await
}

/// A session's page key: start date ("" when unknown), title, id.
pub type SessionKey = [String; 3];

/// The page key of a session.
pub fn session_key(s: &SessionRow) -> SessionKey {
    [
        s.start_date.clone().unwrap_or_default(),
        s.title.clone(),
        s.id.clone(),
    ]
}

/// A page of academic sessions.
#[derive(Debug, Clone)]
pub struct SessionPage {
    pub sessions: Vec<SessionRow>,
    /// Session id → its parent session's id, where the parent is known.
    pub parents: HashMap<String, String>,
    pub kinds: Kinds,
}

/// RO-1: a page of a district's academic sessions by start date. Sessions
/// are district-wide (OneRoster and Clever terms name no school), so a
/// school filter keeps them all once the school is known.
#[tracing::instrument(skip_all, fields(district_id = %district_id.as_str()))]
pub async fn sessions(
    db: &Db,
    caller: &Principal,
    district_id: RecordId,
    school_id: Option<RecordId>,
    statuses: Statuses,
    after: Option<SessionKey>,
    limit: i64,
) -> Result<SessionPage, RosterError> {
    let caller = caller.clone();
    db.run(move |c| {
        let district = district_id.as_str().to_string();
        let reach = Reach::of(&caller, &district, STAFF, NO_DISTRICT)?;
        staff_only(&reach, "academic sessions")?;
        if let Some(school) = &school_id {
            orgs::school(c, school.as_str())?
                .filter(|s| s.district_id == district)
                .ok_or_else(|| RosterError::NotFound(NO_SCHOOL.into()))?;
        }
        let all = orgs::sessions(c, &district)?;
        let ids: HashMap<(&str, &str), &str> = all
            .iter()
            .map(|s| {
                (
                    (s.source_system.as_str(), s.source_id.as_str()),
                    s.id.as_str(),
                )
            })
            .collect();
        let parents = all
            .iter()
            .filter_map(|s| {
                let parent =
                    ids.get(&(s.source_system.as_str(), s.parent_source_id.as_deref()?))?;
                Some((s.id.clone(), (*parent).to_string()))
            })
            .collect();
        let mut rows: Vec<SessionRow> = all
            .iter()
            .filter(|s| statuses.as_slice().contains(&s.status.as_str()))
            .cloned()
            .collect();
        rows.sort_by_cached_key(session_key);
        let start = after.map_or(0, |k| rows.partition_point(|s| session_key(s) <= k));
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(SessionPage {
            sessions: rows.into_iter().skip(start).take(take).collect(),
            parents,
            kinds: source_kinds(c, &district)?,
        })
    })
    .await
}
