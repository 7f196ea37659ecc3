//! RO-8: the duplicate-guardian report — guardian records of a district that
//! are likely one person, with the students involved, paged or downloaded as
//! CSV so the district can fix its SIS. The grouping rules live in
//! `domain::duplicates`.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use homeroom_platform::{
    auth::Principal,
    db::{Db, DbConn},
    paging,
    report_cache::ReportCache,
    report_file::{CSV_CONTENT_TYPE, CsvReport},
};
use homeroom_proto::roster::v1 as pb;

use super::{access, runs::ReportFile};
use crate::{
    domain::{
        duplicates::{self, Candidate, Group, Reason},
        error::RosterError,
        reads::display_name,
    },
    grpc::convert,
    store::duplicates::{self as store, GuardianRow, StudentRow},
};

/// Columns of the downloaded report: one row per guardian per group. `sources`
/// holds `sync_source_id:source_id` pairs and `students` `Name (code)`
/// entries, each list joined with `"; "`.
pub const CSV_HEADER: [&str; 11] = [
    "group_key",
    "reasons",
    "normalized_name",
    "shared_values",
    "guardian_id",
    "account_id",
    "display_name",
    "email",
    "mobile_phone",
    "sources",
    "students",
];

/// The district, and the school a report is limited to.
struct Scope {
    district_id: String,
    school_id: Option<String>,
}

fn scope(caller: &Principal, district_id: &str, school_id: &str) -> Result<Scope, RosterError> {
    let district_id = district_id.trim();
    if district_id.is_empty() {
        return Err(RosterError::InvalidArgument("district_id: required".into()));
    }
    let school_id = Some(school_id.trim()).filter(|s| !s.is_empty());
    access::roster_admin(caller, district_id, school_id)?;
    Ok(Scope {
        district_id: district_id.to_string(),
        school_id: school_id.map(String::from),
    })
}

/// The reports computed per district, kept until the district's guardians,
/// students, links or sources change (`homeroom_platform::report_cache`):
/// paging through a report, filtering it by school and downloading it read
/// one computation.
pub type DuplicateCache = ReportCache<String, Report>;

/// A cache of the reports of the districts read last. A report holds only
/// the guardians of its groups and their students.
pub fn cache() -> DuplicateCache {
    ReportCache::new(8)
}

/// One page of groups, by normalised name then group key.
#[tracing::instrument(skip_all, fields(district_id = %req.district_id))]
pub async fn list(
    db: &Db,
    cache: &Arc<DuplicateCache>,
    caller: &Principal,
    req: pb::ListDuplicateGuardiansRequest,
) -> Result<pb::ListDuplicateGuardiansResponse, RosterError> {
    let scope = scope(caller, &req.district_id, &req.school_id)?;
    let size = paging::size(req.page_size, 50, 500);
    let bad_token = || RosterError::InvalidArgument(paging::BAD_TOKEN.into());
    let after = match paging::decode(&req.page_token)
        .map_err(|()| bad_token())?
        .as_deref()
    {
        Some([name, key]) => Some((name.clone(), key.clone())),
        Some(_) => return Err(bad_token()),
        None => None,
    };
    let report = Report::load(db, cache, &scope.district_id).await?;
    let groups = report.groups_in(scope.school_id.as_deref());
    let start = after.map_or(0, |(name, key)| {
        groups.partition_point(|g| (&g.normalized_name, &g.key) <= (&name, &key))
    });
    let take = usize::try_from(size).unwrap_or(0).saturating_add(1);
    let mut page: Vec<&Group> = groups.iter().skip(start).take(take).copied().collect();
    let next_page_token = paging::cut(&mut page, size, |g| {
        vec![g.normalized_name.clone(), g.key.clone()]
    });
    tracing::info!(
        groups = groups.len(),
        returned = page.len(),
        "duplicate guardians listed"
    );
    Ok(pb::ListDuplicateGuardiansResponse {
        groups: page.into_iter().map(|g| report.group(g)).collect(),
        next_page_token,
        total_size: i32::try_from(groups.len()).unwrap_or(i32::MAX),
    })
}

/// The whole report as CSV ([`CSV_HEADER`]).
#[tracing::instrument(skip_all, fields(district_id = %req.district_id))]
pub async fn download(
    db: &Db,
    cache: &Arc<DuplicateCache>,
    caller: &Principal,
    req: pb::DownloadDuplicateGuardiansRequest,
) -> Result<ReportFile, RosterError> {
    let scope = scope(caller, &req.district_id, &req.school_id)?;
    let report = Report::load(db, cache, &scope.district_id).await?;
    let filename = match &scope.school_id {
        Some(school) => format!("duplicate-guardians-{}-{school}.csv", scope.district_id),
        None => format!("duplicate-guardians-{}.csv", scope.district_id),
    };
    let bytes = tokio::task::spawn_blocking(move || report.csv(scope.school_id.as_deref()))
        .await
        .map_err(|e| RosterError::Internal(e.into()))?;
    Ok(ReportFile {
        content_type: CSV_CONTENT_TYPE,
        filename,
        bytes,
    })
}

/// The groups of one district, with what their rows show: the guardians of
/// the groups (`Group::members` index them), their students and the kinds of
/// the district's sources.
pub struct Report {
    groups: Vec<Group>,
    guardians: Vec<GuardianRow>,
    students_of: HashMap<String, Vec<String>>,
    students: HashMap<String, StudentRow>,
    kinds: HashMap<String, String>,
}

impl Report {
    /// The district's report, from the cache unless the district changed.
    async fn load(
        db: &Db,
        cache: &Arc<DuplicateCache>,
        district_id: &str,
    ) -> Result<Arc<Report>, RosterError> {
        let district = district_id.to_string();
        let cache = Arc::clone(cache);
        db.run(move |c| {
            cache.get_or_compute(c, &district, district.clone(), |c| {
                Report::compute(c, &district)
            })
        })
        .await
    }

    /// Loads the district and groups it.
    fn compute(c: &mut DbConn, district: &str) -> Result<Report, RosterError> {
        let guardians = store::active_guardians(c, district)?;
        let mut students: HashMap<String, StudentRow> = store::active_students(c, district)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let mut students_of: HashMap<String, Vec<String>> = HashMap::new();
        for (guardian, student) in store::active_links(c, district)? {
            if students.contains_key(&student) {
                students_of.entry(guardian).or_default().push(student);
            }
        }
        // Records merged into one account already are one guardian.
        let mut groups: Vec<Group> = group(&guardians, &students_of)
            .into_iter()
            .filter(|g| {
                let mut accounts = g
                    .members
                    .iter()
                    .map(|&i| guardians[i].account_id.as_deref());
                let first = accounts.next().flatten();
                first.is_none() || !accounts.all(|a| a == first)
            })
            .collect();
        // Keep what the groups show, not the whole district.
        let mut kept: Vec<GuardianRow> = Vec::new();
        let mut moved: HashMap<usize, usize> = HashMap::new();
        for member in groups.iter_mut().flat_map(|g| g.members.iter_mut()) {
            *member = match moved.get(member) {
                Some(&at) => at,
                None => {
                    let at = kept.len();
                    kept.extend(guardians.get(*member).cloned());
                    moved.insert(*member, at);
                    at
                }
            };
        }
        let members: HashSet<&str> = kept.iter().map(|g| g.id.as_str()).collect();
        students_of.retain(|guardian, _| members.contains(guardian.as_str()));
        let shown: HashSet<&str> = students_of.values().flatten().map(String::as_str).collect();
        students.retain(|id, _| shown.contains(id.as_str()));
        Ok(Report {
            groups,
            guardians: kept,
            students_of,
            students,
            kinds: store::source_kinds(c, district)?,
        })
    }

    /// The groups of the district, or those with a student in `school`.
    fn groups_in(&self, school: Option<&str>) -> Vec<&Group> {
        self.groups
            .iter()
            .filter(|g| school.is_none_or(|school| self.in_school(g, school)))
            .collect()
    }

    /// Whether a student of the group is in `school` (primary or any school).
    fn in_school(&self, group: &Group, school: &str) -> bool {
        group.members.iter().flat_map(|&i| self.linked(i)).any(|s| {
            s.school_id.as_deref() == Some(school)
                || s.school_ids.split_whitespace().any(|id| id == school)
        })
    }

    /// The active students linked to the guardian at `index`.
    fn linked(&self, index: usize) -> impl Iterator<Item = &StudentRow> {
        self.guardians
            .get(index)
            .and_then(|g| self.students_of.get(&g.id))
            .into_iter()
            .flatten()
            .filter_map(|id| self.students.get(id))
    }

    fn group(&self, g: &Group) -> pb::DuplicateGuardianGroup {
        pb::DuplicateGuardianGroup {
            group_key: g.key.clone(),
            reasons: g.reasons.iter().map(|r| reason(*r).into()).collect(),
            normalized_name: g.normalized_name.clone(),
            shared_values: g.shared_values.clone(),
            guardians: g.members.iter().filter_map(|&i| self.member(i)).collect(),
        }
    }

    fn member(&self, index: usize) -> Option<pb::DuplicateGuardianMember> {
        let g = self.guardians.get(index)?;
        let mut students: Vec<pb::DuplicateGuardianStudent> =
            self.linked(index).map(student).collect();
        students.sort_by(|a, b| {
            (&a.display_name, &a.student_id).cmp(&(&b.display_name, &b.student_id))
        });
        let kind = self.kinds.get(&g.source_system).map_or("", String::as_str);
        Some(pb::DuplicateGuardianMember {
            guardian_id: g.id.clone(),
            account_id: g.account_id.clone().unwrap_or_default(),
            display_name: display_name(&g.given_name, &g.family_name),
            email: g.email.clone().unwrap_or_default(),
            mobile_phone: g.phone.clone().unwrap_or_default(),
            status: pb::RecordStatus::Active.into(),
            sources: vec![pb::SourceRef {
                sync_source_id: g.source_system.clone(),
                kind: convert::kind(kind).into(),
                source_id: g.source_id.clone(),
            }],
            students,
        })
    }

    /// The CSV file of the groups in `school` (or all): one row per guardian per group.
    fn csv(&self, school: Option<&str>) -> Vec<u8> {
        let mut csv = CsvReport::new(&CSV_HEADER);
        for g in self.groups_in(school) {
            let group = self.group(g);
            let reasons = g
                .reasons
                .iter()
                .map(|r| reason_label(*r))
                .collect::<Vec<_>>();
            for m in &group.guardians {
                let sources: Vec<String> = m
                    .sources
                    .iter()
                    .map(|s| format!("{}:{}", s.sync_source_id, s.source_id))
                    .collect();
                let students: Vec<String> = m
                    .students
                    .iter()
                    .map(|s| format!("{} ({})", s.display_name, s.student_code))
                    .collect();
                csv.row([
                    group.group_key.as_str(),
                    &reasons.join("; "),
                    &group.normalized_name,
                    &group.shared_values.join("; "),
                    &m.guardian_id,
                    &m.account_id,
                    &m.display_name,
                    &m.email,
                    &m.mobile_phone,
                    &sources.join("; "),
                    &students.join("; "),
                ]);
            }
        }
        csv.into_bytes()
    }
}

/// Groups the guardians (all active) with their linked students.
fn group(guardians: &[GuardianRow], students_of: &HashMap<String, Vec<String>>) -> Vec<Group> {
    let candidates: Vec<Candidate<'_>> = guardians
        .iter()
        .map(|g| Candidate {
            id: &g.id,
            given_name: &g.given_name,
            family_name: &g.family_name,
            email: g.email.as_deref(),
            phone: g.phone.as_deref(),
            active: true,
            students: students_of.get(&g.id).map_or(&[], Vec::as_slice),
        })
        .collect();
    duplicates::find_groups(&candidates)
}

fn student(s: &StudentRow) -> pb::DuplicateGuardianStudent {
    let code = s
        .identifier
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(&s.source_id);
    let school = s
        .school_id
        .clone()
        .or_else(|| s.school_ids.split_whitespace().next().map(String::from))
        .unwrap_or_default();
    pb::DuplicateGuardianStudent {
        student_id: s.id.clone(),
        display_name: display_name(&s.given_name, &s.family_name),
        student_code: code.to_string(),
        school_id: school,
    }
}

fn reason(r: Reason) -> pb::DuplicateGuardianReason {
    match r {
        Reason::SharedCredential => pb::DuplicateGuardianReason::SameNameSharedCredential,
        Reason::SameStudent => pb::DuplicateGuardianReason::SameNameSameStudent,
    }
}

/// How a reason reads in the CSV.
fn reason_label(r: Reason) -> &'static str {
    match r {
        Reason::SharedCredential => "same_name_shared_credential",
        Reason::SameStudent => "same_name_same_student",
    }
}
