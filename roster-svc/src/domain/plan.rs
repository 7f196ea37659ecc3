//! RO-3: what a sync would do. Given a bundle and what the source supplied
//! before, decide per record: create, update, leave unchanged, deactivate, skip
//! or fail — and the report row for each. Pure: the engine applies the plan.
//!
//! References are resolved to roster ids here (new records get their ids now),
//! so a class names its school's id and an enrollment its class's and person's.
//! A record whose reference cannot be resolved is an ERROR row; the rest of the
//! run goes on.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use homeroom_platform::contact::{Email, Phone, Region};

use super::failed_rows::{FailedRows, Table};
use super::{
    Map, Set, grades,
    records::{
        Action, ClassData, CourseData, Diff, EnrollmentData, Entity, Existing, ExistingPerson,
        LinkData, PersonData, PersonKind, SchoolData, SessionData,
    },
    report::{CompactId, ReportRow},
};
use crate::oneroster::{Bundle, Enrollment, FileMode, OrgKind, Status, User, UserRole};

/// What planning needs to know besides the bundle.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// The source's district.
    pub district_id: String,
    /// The district's name (for the district org's report row).
    pub district_name: String,
    /// A school-scoped source: the school's roster id and its source id.
    pub school_scope: Option<(String, String)>,
    /// The source manages guardians and their links.
    pub manages_guardians: bool,
    /// Archived classes that reappear are unarchived.
    pub unarchive_classes: bool,
    /// Students of these grades (CEDS codes, space-separated) get accounts;
    /// empty: none do.
    pub student_account_grades: String,
    /// Region for phones without a country code.
    pub phone_region: Region,
    /// Active people of the district (every source) before the run.
    pub active_people_in_district: u64,
    /// The deactivation threshold, in percent.
    pub threshold_percent: u32,
}

/// What the source supplied before, keyed by source id.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Schools.
    pub schools: Map<String, Existing<SchoolData>>,
    /// Academic sessions.
    pub sessions: Map<String, Existing<SessionData>>,
    /// Courses.
    pub courses: Map<String, Existing<CourseData>>,
    /// Classes.
    pub classes: Map<String, Existing<ClassData>>,
    /// People.
    pub people: Map<String, ExistingPerson>,
    /// The source's guardian links by (guardian id, student id).
    pub links: Map<(String, String), Existing<LinkData>>,
    /// Schools of other sources of the district, by source id (a school-scoped
    /// source's records may point at a school its district source supplies).
    pub district_schools: Map<String, String>,
}

/// The enrollments the source supplied before, by source id: loaded only
/// when planning reaches them (see [`plan`]), they are the largest part.
pub type StoredEnrollments = Map<String, Existing<EnrollmentData>>;

/// What planning links needs of a user.
struct LinkUser {
    source_id: String,
    role: UserRole,
    status: Status,
    agents: Vec<String>,
}

impl From<User> for LinkUser {
    fn from(u: User) -> LinkUser {
        LinkUser {
            source_id: u.source_id,
            role: u.role,
            status: u.status,
            agents: u.agent_source_ids,
        }
    }
}

/// What to do to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Insert it.
    Create,
    /// Update its data (and reactivate it if it was inactive).
    Update,
    /// Mark it deactivated (classes: archived).
    Deactivate,
}

/// A write to one record, pointing at its report row.
#[derive(Debug, Clone)]
pub struct Change<D> {
    /// Roster id (new for creates).
    pub id: String,
    /// Source id.
    pub source_id: String,
    /// What to do.
    pub op: Op,
    /// The new data, for creates and updates.
    pub data: Option<D>,
    /// Index of its report row in [`Plan::rows`].
    pub row: usize,
}

/// A write to one guardian link.
#[derive(Debug, Clone)]
pub struct LinkChange {
    /// Guardian person id.
    pub guardian_id: String,
    /// Student person id.
    pub student_id: String,
    /// What to do.
    pub op: Op,
    /// The new data, for creates and updates.
    pub data: Option<LinkData>,
}

/// The numbers behind the deactivation guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Guard {
    /// Active people of the district before the run.
    pub people_total: u64,
    /// People the run would deactivate.
    pub would_deactivate: u64,
    /// Threshold in percent.
    pub threshold_percent: u32,
    /// Whether the threshold is exceeded.
    pub exceeded: bool,
}

impl Guard {
    /// The guard's numbers: exceeded when more than `threshold_percent` of
    /// `people_total` would be deactivated.
    pub fn new(would_deactivate: u64, people_total: u64, threshold_percent: u32) -> Guard {
        Guard {
            people_total,
            would_deactivate,
            threshold_percent,
            exceeded: would_deactivate > 0
                && would_deactivate * 100 > u64::from(threshold_percent) * people_total,
        }
    }

    fn percent(&self) -> f64 {
        if self.people_total == 0 {
            100.0
        } else {
            self.would_deactivate as f64 * 100.0 / self.people_total as f64
        }
    }

    /// The message for a run the guard stopped.
    pub fn message(&self) -> String {
        format!(
            "The sync would deactivate {} of {} people ({:.0}%), above the {}% threshold; \
             nothing was written. Check the source, or run again with force to apply.",
            self.would_deactivate,
            self.people_total,
            self.percent(),
            self.threshold_percent
        )
    }

    /// RO-4: what a dry run says when a real run would stop at the guard.
    pub fn dry_run_notice(&self) -> String {
        format!(
            "A real run would stop at the deactivation guard: it would deactivate {} of {} people \
             ({:.0}%), above the {}% threshold. Check the report; to apply, run with force.",
            self.would_deactivate,
            self.people_total,
            self.percent(),
            self.threshold_percent
        )
    }
}

/// A person the engine must send to identity-svc.
#[derive(Debug, Clone)]
pub struct AccountWork {
    /// Person id.
    pub person_id: String,
    /// Index of the person's report row.
    pub row: usize,
}

/// Everything a run would do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Full or delta (the users file's mode, else the orgs file's).
    pub full: bool,
    /// School writes.
    pub schools: Vec<Change<SchoolData>>,
    /// Session writes.
    pub sessions: Vec<Change<SessionData>>,
    /// Course writes.
    pub courses: Vec<Change<CourseData>>,
    /// Class writes.
    pub classes: Vec<Change<ClassData>>,
    /// People writes.
    pub people: Vec<Change<Arc<PersonData>>>,
    /// People whose data is unchanged but whose stored fingerprint is not the
    /// current one (the reader or its hash changed since it was stored): their
    /// record ids and current fingerprints. Storing these keeps the next run
    /// on the fast path, and the person stays UNCHANGED.
    pub fingerprints: Vec<(String, String)>,
    /// Enrollment writes.
    pub enrollments: Vec<Change<EnrollmentData>>,
    /// Link writes.
    pub links: Vec<LinkChange>,
    /// Every person after the run, by id (data, source id, account, active).
    pub people_after: Map<String, PersonAfter>,
    /// Staff and guardians identity-svc must hear about.
    pub accounts: Vec<AccountWork>,
    /// People deactivated by this run that have accounts: their source ids.
    pub deactivated_accounts: Vec<String>,
    /// Each guardian's active students after the run (this source's links).
    pub guardian_students: Map<String, Vec<String>>,
    /// The report rows.
    pub rows: Vec<ReportRow>,
    /// The guard's numbers.
    pub guard: Option<Guard>,
}

/// A person as they will be after the run.
#[derive(Debug, Clone)]
pub struct PersonAfter {
    /// Source id.
    pub source_id: String,
    /// Data.
    pub data: Arc<PersonData>,
    /// Account, if any yet.
    pub account_id: Option<String>,
    /// Active after the run.
    pub active: bool,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Email, mobile phone and home phone, normalised.
type Contacts = (Option<String>, Option<String>, Option<String>);

/// Plans a run. The bundle is taken so that its users are dropped once
/// people and links are planned, and its enrollments are consumed as they are
/// planned: the two never sit in memory beside the enrollments' plan.
///
/// The stored enrollments are asked for once people and links are planned and
/// the state and the bundle's users are gone, and each is dropped once its
/// bundle row is planned.
pub fn plan<E>(
    mut bundle: Bundle,
    state: State,
    ctx: &PlanContext,
    stored_enrollments: impl FnOnce() -> Result<StoredEnrollments, E>,
) -> Result<Plan, E> {
    let enrollments = std::mem::take(&mut bundle.enrollments);
    let link_details = std::mem::take(&mut bundle.link_details);
    let links = bundle
        .users
        .iter()
        .map(|u| u.agent_source_ids.len())
        .sum::<usize>();
    let records = bundle.row_errors.len()
        + bundle.orgs.len()
        + bundle.academic_sessions.len()
        + bundle.courses.len()
        + bundle.classes.len()
        + bundle.users.len()
        + links
        + enrollments.len();
    let mut p = Planner {
        bundle: &bundle,
        state: &state,
        ctx,
        plan: Plan {
            full: bundle.mode("users") == FileMode::Bulk
                || (bundle.mode("users") == FileMode::Absent
                    && bundle.mode("orgs") == FileMode::Bulk),
            people: Vec::with_capacity(bundle.users.len()),
            enrollments: Vec::with_capacity(enrollments.len()),
            rows: Vec::with_capacity(records),
            ..Plan::default()
        },
        school_ids: Map::default(),
        district_orgs: Set::default(),
        class_ids: Map::default(),
        person_ids: Map::default(),
        out_of_scope_people: Set::default(),
        failed: FailedRows::of(&bundle.row_errors),
    };
    p.row_errors();
    p.orgs();
    p.sessions();
    p.courses();
    p.classes();
    p.people();
    // Only the modes and the links' details are read from the bundle from
    // here on.
    let mut modes = Bundle::empty(bundle.version, BTreeMap::new(), bundle.modes.clone());
    modes.link_details = link_details;
    let mut p = p.reading(&modes, &state, ctx);
    // Links need only each user's id, role, status and agents: the rest of the
    // users is dropped before they are planned.
    let mut users: Vec<LinkUser> = std::mem::take(&mut bundle.users)
        .into_iter()
        .map(LinkUser::from)
        .collect();
    users.shrink_to_fit();
    drop(bundle);
    p.links(&users);
    drop(users);
    let nothing = State::default();
    let mut p = p.reading(&modes, &nothing, ctx);
    drop(state);
    p.enrollments(enrollments, stored_enrollments()?);
    p.guard();
    p.accounts();
    Ok(p.plan)
}

struct Planner<'a, 'b> {
    bundle: &'b Bundle,
    state: &'a State,
    ctx: &'a PlanContext,
    plan: Plan,
    /// School source id → roster id (known and planned).
    school_ids: Map<String, String>,
    district_orgs: Set<String>,
    /// Class source id → (roster id, in scope).
    class_ids: Map<String, (Arc<str>, bool)>,
    /// Person source id → (roster id, kind); only people that exist after the run.
    person_ids: Map<String, (Arc<str>, PersonKind)>,
    out_of_scope_people: Set<String>,
    /// Rows that failed to read or validate: their records count as present.
    failed: FailedRows,
}

/// The outcome of diffing one incoming record.
enum Verdict<D> {
    Write(Op, D, Vec<&'static str>),
    Unchanged,
}

fn verdict<D: Diff + Clone>(existing: Option<&Existing<D>>, data: D) -> Verdict<D> {
    match existing {
        None => Verdict::Write(Op::Create, data, Vec::new()),
        Some(e) => {
            let mut changed = e.data.changed(&data);
            if !e.active {
                changed.push("status");
            }
            if changed.is_empty() {
                Verdict::Unchanged
            } else {
                Verdict::Write(Op::Update, data, changed)
            }
        }
    }
}

impl<'a> Planner<'a, '_> {
    /// The same planner, reading `bundle` and `state` from now on.
    fn reading<'c>(
        self,
        bundle: &'c Bundle,
        state: &'c State,
        ctx: &'c PlanContext,
    ) -> Planner<'c, 'c> {
        Planner {
            bundle,
            state,
            ctx,
            plan: self.plan,
            school_ids: self.school_ids,
            district_orgs: self.district_orgs,
            class_ids: self.class_ids,
            person_ids: self.person_ids,
            out_of_scope_people: self.out_of_scope_people,
            failed: self.failed,
        }
    }

    fn row(&mut self, row: ReportRow) -> usize {
        self.plan.rows.push(row);
        self.plan.rows.len() - 1
    }

    fn row_errors(&mut self) {
        for e in &self.bundle.row_errors {
            let source_id = e.source_id.clone().unwrap_or_default();
            let stored_person = self.state.people.get(&source_id);
            let entity = match Table::of_file(&e.file) {
                Some(Table::Orgs) => Entity::School,
                Some(Table::Sessions) => Entity::AcademicSession,
                Some(Table::Courses) => Entity::Course,
                Some(Table::Classes) => Entity::Class,
                Some(Table::Enrollments) => Entity::Enrollment,
                Some(Table::Users) | None => {
                    stored_person.map_or(Entity::Student, |p| p.record.data.kind.entity())
                }
            };
            let mut note = format!("{} line {}: {}", e.file, e.line, e.message);
            if stored_person.is_some() || e.source_id.is_some() {
                note.push_str("; the record is kept as it was");
            }
            let mut row = ReportRow::new(entity, &source_id, "", Action::Error).note(note);
            row.record_id = stored_person.map(|p| CompactId::new(&p.record.id));
            self.row(row);
        }
        for (table, entity) in [
            (Table::Orgs, Entity::School),
            (Table::Sessions, Entity::AcademicSession),
            (Table::Courses, Entity::Course),
            (Table::Classes, Entity::Class),
            (Table::Users, Entity::Student),
            (Table::Enrollments, Entity::Enrollment),
        ] {
            if let Some(why) = self.failed.blinds(table) {
                self.row(ReportRow::new(entity, "", "", Action::Skipped).note(why));
            }
        }
    }

    /// Records one incoming record's verdict: a change and a row.
    fn decide<D: Diff + Clone>(
        &mut self,
        entity: Entity,
        source_id: &str,
        name: &str,
        existing: Option<&Existing<D>>,
        data: D,
    ) -> (String, Option<Change<D>>) {
        let id = existing.map_or_else(new_id, |e| e.id.clone());
        match verdict(existing, data) {
            Verdict::Unchanged => {
                self.row(ReportRow::new(entity, source_id, name, Action::Unchanged).record(&id));
                (id, None)
            }
            Verdict::Write(op, data, changed) => {
                let action = if op == Op::Create {
                    Action::Created
                } else {
                    Action::Updated
                };
                let row = ReportRow::new(entity, source_id, name, action)
                    .record(&id)
                    .changed(changed);
                let row = self.row(row);
                let change = Change {
                    id: id.clone(),
                    source_id: source_id.to_string(),
                    op,
                    data: Some(data),
                    row,
                };
                (id, Some(change))
            }
        }
    }

    /// A deactivation of a stored record: a change and a row (or nothing when it
    /// is already inactive).
    fn retire<D>(
        &mut self,
        entity: Entity,
        source_id: &str,
        name: &str,
        existing: &Existing<D>,
        note: Option<&str>,
    ) -> Option<Change<D>> {
        if !existing.active {
            return None;
        }
        let mut row =
            ReportRow::new(entity, source_id, name, Action::Deactivated).record(&existing.id);
        if let Some(note) = note {
            row.push_note(note);
        }
        let row = self.row(row);
        Some(Change {
            id: existing.id.clone(),
            source_id: source_id.to_string(),
            op: Op::Deactivate,
            data: None,
            row,
        })
    }

    /// The school a school source is scoped to, when another source supplies it.
    fn is_scope_school(&self, school_source_id: &str) -> bool {
        self.ctx.school_scope.as_ref().is_some_and(|(id, sid)| {
            sid == school_source_id && self.state.schools.get(sid).is_none_or(|e| e.id != *id)
        })
    }

    fn in_scope_school(&self, school_source_id: &str) -> bool {
        match &self.ctx.school_scope {
            None => true,
            Some((_, scope_source)) => scope_source == school_source_id,
        }
    }

    fn orgs(&mut self) {
        for (sid, e) in &self.state.schools {
            self.school_ids.insert(sid.clone(), e.id.clone());
        }
        for (sid, id) in &self.state.district_schools {
            self.school_ids
                .entry(sid.clone())
                .or_insert_with(|| id.clone());
        }
        let mut seen = Set::default();
        for org in &self.bundle.orgs {
            seen.insert(org.source_id.clone());
            match &org.kind {
                OrgKind::District => {
                    self.district_orgs.insert(org.source_id.clone());
                    let row = ReportRow::new(
                        Entity::District,
                        &org.source_id,
                        &org.name,
                        Action::Unchanged,
                    )
                    .record(&self.ctx.district_id)
                    .note(format!(
                        "mapped onto the district {}",
                        self.ctx.district_name
                    ));
                    self.row(row);
                }
                OrgKind::Other(kind) => {
                    let row =
                        ReportRow::new(Entity::School, &org.source_id, &org.name, Action::Skipped)
                            .note(format!("org type \"{kind}\" is not rostered"));
                    self.row(row);
                }
                OrgKind::School if self.is_scope_school(&org.source_id) => {
                    // A school source's own school is the school it is scoped to.
                    let id = self.ctx.school_scope.clone().unwrap_or_default().0;
                    self.school_ids.insert(org.source_id.clone(), id.clone());
                    let row = ReportRow::new(
                        Entity::School,
                        &org.source_id,
                        &org.name,
                        Action::Unchanged,
                    )
                    .record(&id)
                    .note("the school this source is limited to");
                    self.row(row);
                }
                OrgKind::School if !self.in_scope_school(&org.source_id) => {
                    let row =
                        ReportRow::new(Entity::School, &org.source_id, &org.name, Action::Skipped)
                            .note("outside the source's school");
                    self.row(row);
                }
                OrgKind::School => {
                    let existing = self.state.schools.get(&org.source_id);
                    if org.status == Status::ToBeDeleted {
                        if let Some(e) = existing
                            && let Some(c) =
                                self.retire(Entity::School, &org.source_id, &org.name, e, None)
                        {
                            self.plan.schools.push(c);
                        }
                        continue;
                    }
                    let data = SchoolData {
                        name: org.name.clone(),
                        identifier: org.identifier.clone(),
                    };
                    let (id, change) =
                        self.decide(Entity::School, &org.source_id, &org.name, existing, data);
                    self.school_ids.insert(org.source_id.clone(), id);
                    self.plan.schools.extend(change);
                }
            }
        }
        if self.bundle.mode("orgs") == FileMode::Bulk && self.failed.blinds(Table::Orgs).is_none() {
            let mut gone: Vec<_> = self
                .state
                .schools
                .iter()
                .filter(|(sid, _)| !seen.contains(*sid) && !self.failed.contains(Table::Orgs, sid))
                .collect();
            gone.sort_by(|a, b| a.0.cmp(b.0));
            for (sid, e) in gone {
                let name = e.data.name.clone();
                if let Some(c) = self.retire(Entity::School, sid, &name, e, None) {
                    self.plan.schools.push(c);
                }
            }
        }
    }

    fn sessions(&mut self) {
        let mut seen = Set::default();
        for s in &self.bundle.academic_sessions {
            seen.insert(s.source_id.clone());
            let existing = self.state.sessions.get(&s.source_id);
            if s.status == Status::ToBeDeleted {
                if let Some(e) = existing
                    && let Some(c) =
                        self.retire(Entity::AcademicSession, &s.source_id, &s.title, e, None)
                {
                    self.plan.sessions.push(c);
                }
                continue;
            }
            let data = SessionData {
                title: s.title.clone(),
                kind: s.kind.clone(),
                start_date: s.start_date.clone(),
                end_date: s.end_date.clone(),
                parent_source_id: s.parent_source_id.clone(),
                school_year: s.school_year.clone(),
            };
            let (_, change) = self.decide(
                Entity::AcademicSession,
                &s.source_id,
                &s.title,
                existing,
                data,
            );
            self.plan.sessions.extend(change);
        }
        if self.bundle.mode("academicSessions") == FileMode::Bulk {
            let gone = sorted_missing(&self.state.sessions, &seen, &self.failed, Table::Sessions);
            for (sid, e) in gone {
                let name = e.data.title.clone();
                if let Some(c) = self.retire(Entity::AcademicSession, &sid, &name, e, None) {
                    self.plan.sessions.push(c);
                }
            }
        }
    }

    fn courses(&mut self) {
        let mut seen = Set::default();
        for c in &self.bundle.courses {
            seen.insert(c.source_id.clone());
            let existing = self.state.courses.get(&c.source_id);
            if c.status == Status::ToBeDeleted {
                if let Some(e) = existing
                    && let Some(ch) = self.retire(Entity::Course, &c.source_id, &c.title, e, None)
                {
                    self.plan.courses.push(ch);
                }
                continue;
            }
            let data = CourseData {
                title: c.title.clone(),
                course_code: c.course_code.clone(),
                org_source_id: c.org_source_id.clone(),
            };
            let (_, change) = self.decide(Entity::Course, &c.source_id, &c.title, existing, data);
            self.plan.courses.extend(change);
        }
        if self.bundle.mode("courses") == FileMode::Bulk {
            for (sid, e) in sorted_missing(&self.state.courses, &seen, &self.failed, Table::Courses)
            {
                let name = e.data.title.clone();
                if let Some(c) = self.retire(Entity::Course, &sid, &name, e, None) {
                    self.plan.courses.push(c);
                }
            }
        }
    }

    fn classes(&mut self) {
        for (sid, e) in &self.state.classes {
            let in_scope = self
                .ctx
                .school_scope
                .as_ref()
                .is_none_or(|(id, _)| *id == e.data.school_id);
            self.class_ids
                .insert(sid.clone(), (e.id.as_str().into(), in_scope));
        }
        let mut seen = Set::default();
        for c in &self.bundle.classes {
            seen.insert(c.source_id.clone());
            let existing = self.state.classes.get(&c.source_id);
            if c.status == Status::ToBeDeleted {
                if let Some(e) = existing
                    && let Some(ch) = self.retire(Entity::Class, &c.source_id, &c.title, e, None)
                {
                    self.plan.classes.push(ch);
                }
                continue;
            }
            if !self.in_scope_school(&c.school_source_id) {
                self.row(
                    ReportRow::new(Entity::Class, &c.source_id, &c.title, Action::Skipped)
                        .note("outside the source's school"),
                );
                let id = existing.map(|e| e.id.clone()).unwrap_or_default();
                self.class_ids
                    .insert(c.source_id.clone(), (id.into(), false));
                continue;
            }
            let Some(school_id) = self.school_ids.get(&c.school_source_id).cloned() else {
                self.row(
                    ReportRow::new(Entity::Class, &c.source_id, &c.title, Action::Error)
                        .note(format!("unknown school {}", c.school_source_id)),
                );
                continue;
            };
            if let Some(e) = existing
                && !e.active
                && !self.ctx.unarchive_classes
            {
                self.row(
                    ReportRow::new(Entity::Class, &c.source_id, &c.title, Action::Skipped)
                        .record(&e.id)
                        .note("the class is archived and the source does not unarchive classes"),
                );
                continue;
            }
            let data = ClassData {
                school_id,
                title: c.title.clone(),
                class_code: c.class_code.clone(),
                class_type: c.class_type.clone(),
                course_source_id: c.course_source_id.clone(),
                term_source_ids: c.term_source_ids.join(" "),
                grades: c.grades.join(" "),
            };
            let (id, change) = self.decide(Entity::Class, &c.source_id, &c.title, existing, data);
            self.class_ids
                .insert(c.source_id.clone(), (id.into(), true));
            self.plan.classes.extend(change);
        }
        if self.bundle.mode("classes") == FileMode::Bulk {
            for (sid, e) in sorted_missing(&self.state.classes, &seen, &self.failed, Table::Classes)
            {
                let in_scope = self.class_ids.get(&sid).is_some_and(|c| c.1);
                if !in_scope {
                    continue;
                }
                let name = e.data.title.clone();
                if let Some(c) = self.retire(Entity::Class, &sid, &name, e, Some("archived")) {
                    self.plan.classes.push(c);
                }
            }
        }
    }

    /// A user's data, or why the user fails.
    fn person_data(
        &self,
        u: &User,
        kind: PersonKind,
        source_hash: String,
        contacts: Option<Result<Contacts, String>>,
    ) -> Result<PersonData, String> {
        let mut school_ids = Vec::new();
        if kind != PersonKind::Guardian {
            for org in &u.org_source_ids {
                if self.district_orgs.contains(org) {
                    continue;
                }
                match self.school_ids.get(org) {
                    Some(id) => school_ids.push(id.clone()),
                    None => return Err(format!("unknown org {org}")),
                }
            }
        }
        let (email, phone, home_phone) = if kind == PersonKind::Student {
            (u.email.clone(), u.sms.clone(), u.phone.clone())
        } else {
            contacts.unwrap_or_else(|| self.contacts(u))?
        };
        let role = match &u.role {
            UserRole::Student => "student".to_string(),
            UserRole::Teacher => "teacher".to_string(),
            UserRole::Staff(r) | UserRole::Guardian(r) => r.clone(),
        };
        Ok(PersonData {
            kind,
            role,
            given_name: u.given_name.trim().to_string(),
            middle_name: u.middle_name.clone(),
            family_name: u.family_name.trim().to_string(),
            preferred_given_name: u.preferred_given_name.clone(),
            identifier: u.identifier.clone(),
            grades: u.grades.join(" "),
            school_id: school_ids.first().cloned(),
            school_ids: school_ids.join(" "),
            email,
            phone,
            home_phone,
            preferred_language: None,
            sign_in_disabled: !u.enabled,
            source_hash,
        })
    }

    /// Email, mobile and home phone of a staff member or guardian, normalised.
    /// The mobile is `sms`, or `phone` when `sms` is blank (many SIS exports
    /// put the only number there); `phone` is the home phone otherwise.
    fn contacts(&self, u: &User) -> Result<Contacts, String> {
        let region = self.ctx.phone_region;
        let email = u
            .email
            .as_deref()
            .map(|e| Email::parse(e).map(|e| e.as_str().to_string()))
            .transpose()
            .map_err(|e| e.to_string())?;
        let parse_phone = |p: &str| {
            Phone::parse(p, region)
                .map(|p| p.as_str().to_string())
                .map_err(|e| e.to_string())
        };
        let (mobile, home) = match (&u.sms, &u.phone) {
            (Some(sms), home) => (Some(sms.as_str()), home.as_deref()),
            (None, phone) if u.phone_not_mobile => (None, phone.as_deref()),
            (None, phone) => (phone.as_deref(), None),
        };
        let mobile = mobile.map(parse_phone).transpose()?;
        let home = home
            .map(|h| parse_phone(h).map_err(|e| format!("home {e}")))
            .transpose()?
            .filter(|h| mobile.as_deref() != Some(h.as_str()));
        Ok((email, mobile, home))
    }

    fn people(&mut self) {
        for (sid, e) in &self.state.people {
            if e.record.active {
                self.person_ids.insert(
                    sid.clone(),
                    (e.record.id.as_str().into(), e.record.data.kind),
                );
            }
        }
        let users_bulk = self.bundle.mode("users") == FileMode::Bulk;
        let mut seen: Set<&str> = Set::default();
        // Parsing staff and guardians' emails and phones is most of planning:
        // do it first, on every core, for the users whose row changed.
        let this: &Self = self;
        let mut prepared = super::parallel::map(&self.bundle.users, |u| {
            let hash = source_hash(u, &this.ctx.phone_region);
            let unchanged = this
                .state
                .people
                .get(&u.source_id)
                .is_some_and(|e| e.record.active && e.record.data.source_hash == hash);
            let contacts =
                (u.role != UserRole::Student && !unchanged && u.status != Status::ToBeDeleted)
                    .then(|| this.contacts(u));
            (hash, contacts)
        });
        for u in &self.bundle.users {
            let (hash, contacts) = prepared.next().unwrap_or_default();
            seen.insert(&u.source_id);
            let kind = match u.role {
                UserRole::Student => PersonKind::Student,
                UserRole::Teacher | UserRole::Staff(_) => PersonKind::Staff,
                UserRole::Guardian(_) => PersonKind::Guardian,
            };
            let name = format!("{} {}", u.given_name.trim(), u.family_name.trim());
            let name = name.trim();
            let entity = kind.entity();
            let existing = self.state.people.get(&u.source_id);
            if kind == PersonKind::Guardian && !self.ctx.manages_guardians {
                self.out_of_scope_people.insert(u.source_id.clone());
                self.row(
                    ReportRow::new(entity, &u.source_id, name, Action::Skipped)
                        .note("the source does not manage guardians"),
                );
                continue;
            }
            // enabledUser false is not a deletion: the person stays rostered
            // with their enrollments and links, and their account cannot
            // sign in until the source enables it again.
            if u.status == Status::ToBeDeleted {
                self.person_ids.remove(&u.source_id);
                if let Some(e) = existing
                    && let Some(c) = self.retire(entity, &u.source_id, name, &e.record, None)
                {
                    self.plan.people.push(c);
                }
                continue;
            }
            if let Some(e) = existing
                && e.record.active
                && e.record.data.source_hash == hash
            {
                // Already in `person_ids`: every active stored person is.
                self.row(
                    ReportRow::new(entity, &u.source_id, name, Action::Unchanged)
                        .record(&e.record.id),
                );
                continue;
            }
            let data = match self.person_data(u, kind, hash, contacts) {
                Ok(d) => d,
                Err(reason) => {
                    let mut row =
                        ReportRow::new(entity, &u.source_id, name, Action::Error).note(reason);
                    row.record_id = existing.map(|e| CompactId::new(&e.record.id));
                    self.row(row);
                    continue;
                }
            };
            if let Some((scope_id, _)) = &self.ctx.school_scope
                && kind != PersonKind::Guardian
                && !data.school_ids.split(' ').any(|s| s == scope_id)
            {
                self.out_of_scope_people.insert(u.source_id.clone());
                self.row(
                    ReportRow::new(entity, &u.source_id, name, Action::Skipped)
                        .note("outside the source's school"),
                );
                continue;
            }
            // Here, a stored person's fingerprint differs from this one.
            let fingerprint = existing.map(|_| data.source_hash.clone());
            let (id, change) = self.decide(
                entity,
                &u.source_id,
                name,
                existing.map(|e| &e.record),
                Arc::new(data),
            );
            match (change, fingerprint) {
                (Some(change), _) => self.plan.people.push(change),
                (None, Some(fingerprint)) => self.plan.fingerprints.push((id.clone(), fingerprint)),
                (None, None) => {}
            }
            self.person_ids
                .insert(u.source_id.clone(), (id.into(), kind));
        }
        if users_bulk && self.failed.blinds(Table::Users).is_none() {
            let mut gone: Vec<_> = self
                .state
                .people
                .iter()
                .filter(|(sid, e)| {
                    !seen.contains(sid.as_str())
                        && !self.failed.contains(Table::Users, sid)
                        && (self.ctx.manages_guardians
                            || e.record.data.kind != PersonKind::Guardian)
                })
                .collect();
            gone.sort_by(|a, b| a.0.cmp(b.0));
            for (sid, e) in gone {
                let name = e.record.data.display_name();
                let entity = e.record.data.kind.entity();
                self.person_ids.remove(sid);
                if let Some(c) = self.retire(entity, sid, &name, &e.record, None) {
                    self.plan.people.push(c);
                }
            }
        }
        self.people_after();
    }

    /// Every person of the source as they will be after the run.
    fn people_after(&mut self) {
        let mut after: Map<String, PersonAfter> = self
            .state
            .people
            .values()
            .map(|e| {
                (
                    e.record.id.clone(),
                    PersonAfter {
                        source_id: String::new(),
                        data: e.record.data.clone(),
                        account_id: e.account_id.clone(),
                        active: e.record.active,
                    },
                )
            })
            .collect();
        for (sid, e) in &self.state.people {
            if let Some(a) = after.get_mut(&e.record.id) {
                a.source_id = sid.clone();
            }
        }
        for c in &self.plan.people {
            match c.op {
                Op::Deactivate => {
                    if let Some(a) = after.get_mut(&c.id) {
                        a.active = false;
                    }
                }
                Op::Create | Op::Update => {
                    if let Some(data) = &c.data {
                        let account_id = after.get(&c.id).and_then(|a| a.account_id.clone());
                        after.insert(
                            c.id.clone(),
                            PersonAfter {
                                source_id: c.source_id.clone(),
                                data: data.clone(),
                                account_id,
                                active: true,
                            },
                        );
                    }
                }
            }
        }
        self.plan.people_after = after;
    }

    /// A link as the source describes it: Clever's own relationship and
    /// contact type for this one link when it gave them, else the guardian's
    /// OneRoster role. Only a `Primary` contact is primary.
    fn link_data(&self, guardian: &str, student: &str, role: &str) -> LinkData {
        let details = &self.bundle.link_details;
        let detail = (!details.is_empty())
            .then(|| details.get(&(guardian.to_owned(), student.to_owned())))
            .flatten();
        let relationship = detail.and_then(|d| d.relationship.clone());
        let contact_type = detail
            .and_then(|d| d.contact_type.clone())
            .unwrap_or_default();
        LinkData {
            relationship: relationship.unwrap_or_else(|| role.to_owned()),
            is_primary: contact_type.trim().eq_ignore_ascii_case("primary"),
            contact_type,
        }
    }

    fn links(&mut self, users: &[LinkUser]) {
        if !self.ctx.manages_guardians {
            return;
        }
        // A copy of the reference, so what is borrowed from the state does
        // not hold `self`.
        let state = self.state;
        // Union of both directions, deduplicated: (guardian sid, student sid)
        // → the guardian's OneRoster role.
        let mut edges: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut broken: BTreeSet<(&str, &str, String)> = BTreeSet::new();
        let kinds: Map<&str, &UserRole> = users
            .iter()
            .map(|u| (u.source_id.as_str(), &u.role))
            .collect();
        let kind_of = |sid: &str| -> Option<PersonKind> {
            match kinds.get(sid) {
                Some(UserRole::Student) => Some(PersonKind::Student),
                Some(UserRole::Guardian(_)) => Some(PersonKind::Guardian),
                Some(_) => Some(PersonKind::Staff),
                None => state.people.get(sid).map(|e| e.record.data.kind),
            }
        };
        let relationship_of = |sid: &str| match kinds.get(sid) {
            Some(UserRole::Guardian(r)) => r.as_str(),
            _ => state
                .people
                .get(sid)
                .map_or("guardian", |e| e.record.data.role.as_str()),
        };
        for u in users {
            if u.status == Status::ToBeDeleted {
                continue;
            }
            let mine = match u.role {
                UserRole::Student => PersonKind::Student,
                UserRole::Guardian(_) => PersonKind::Guardian,
                _ => continue,
            };
            for agent in &u.agents {
                match (mine, kind_of(agent)) {
                    (PersonKind::Student, Some(PersonKind::Guardian)) => {
                        edges.insert((agent, &u.source_id), relationship_of(agent));
                    }
                    (PersonKind::Guardian, Some(PersonKind::Student)) => {
                        edges.insert((&u.source_id, agent), relationship_of(&u.source_id));
                    }
                    (_, None) => {
                        broken.insert((&u.source_id, agent, format!("unknown user {agent}")));
                    }
                    (_, Some(k)) => {
                        broken.insert((
                            &u.source_id,
                            agent,
                            format!("agent {agent} is a {} and cannot be linked", k.as_str()),
                        ));
                    }
                }
            }
        }
        for (from, to, reason) in broken {
            self.row(
                ReportRow::new(
                    Entity::GuardianLink,
                    &format!("{from}:{to}"),
                    "",
                    Action::Error,
                )
                .note(reason),
            );
        }
        // The stored links the bundle still has.
        let mut kept: Set<&(String, String)> = Set::default();
        for ((g_sid, s_sid), relationship) in edges {
            let link_sid = format!("{g_sid}:{s_sid}");
            let (g, s) = match (self.person_ids.get(g_sid), self.person_ids.get(s_sid)) {
                (Some((g, _)), Some((s, _))) => (g.to_string(), s.to_string()),
                _ => {
                    let why = if self.out_of_scope_people.contains(g_sid)
                        || self.out_of_scope_people.contains(s_sid)
                    {
                        "the guardian or the student is not rostered by this source"
                    } else {
                        "the guardian or the student failed or is inactive"
                    };
                    self.row(
                        ReportRow::new(Entity::GuardianLink, &link_sid, "", Action::Skipped)
                            .note(why),
                    );
                    continue;
                }
            };
            let name = self.link_name(&g, &s);
            let key = (g, s);
            let existing = state.links.get_key_value(&key).map(|(k, e)| {
                kept.insert(k);
                e
            });
            let data = self.link_data(g_sid, s_sid, relationship);
            let (_, change) = self.decide(Entity::GuardianLink, &link_sid, &name, existing, data);
            if let Some(c) = change {
                let (guardian_id, student_id) = key;
                self.plan.links.push(LinkChange {
                    guardian_id,
                    student_id,
                    op: c.op,
                    data: c.data,
                });
            }
        }
        // Links of this source that are no longer wanted: in a full sync every one;
        // in a delta only those of people deactivated now.
        let deactivated: Set<&str> = self
            .plan
            .people
            .iter()
            .filter(|c| c.op == Op::Deactivate)
            .map(|c| c.id.as_str())
            .collect();
        // A link of someone whose row failed is kept as it is: the row's
        // agents could not be read.
        let users_blind = self.failed.blinds(Table::Users).is_some();
        let failed_person = |id: &str| {
            self.plan
                .people_after
                .get(id)
                .is_some_and(|p| self.failed.contains(Table::Users, &p.source_id))
        };
        let mut gone: Vec<_> = state
            .links
            .iter()
            .filter(|(k, e)| {
                e.active
                    && !kept.contains(k)
                    && !(users_blind || failed_person(&k.0) || failed_person(&k.1))
                    && (self.plan.full
                        || deactivated.contains(k.0.as_str())
                        || deactivated.contains(k.1.as_str()))
            })
            .map(|(k, _)| k.clone())
            .collect();
        drop(kept);
        gone.sort();
        for (g, s) in gone {
            let sid = format!(
                "{}:{}",
                self.plan
                    .people_after
                    .get(&g)
                    .map_or("", |p| p.source_id.as_str()),
                self.plan
                    .people_after
                    .get(&s)
                    .map_or("", |p| p.source_id.as_str())
            );
            let name = self.link_name(&g, &s);
            self.row(ReportRow::new(
                Entity::GuardianLink,
                &sid,
                &name,
                Action::Deactivated,
            ));
            self.plan.links.push(LinkChange {
                guardian_id: g,
                student_id: s,
                op: Op::Deactivate,
                data: None,
            });
        }
        // Each guardian's students after the run: the stored active links, less
        // those this run deactivates, plus those it creates or updates.
        let ended: Set<(&str, &str)> = self
            .plan
            .links
            .iter()
            .filter(|c| c.op == Op::Deactivate)
            .map(|c| (c.guardian_id.as_str(), c.student_id.as_str()))
            .collect();
        let mut pairs: Vec<(&str, &str)> = state
            .links
            .iter()
            .filter(|(k, e)| e.active && !ended.contains(&(k.0.as_str(), k.1.as_str())))
            .map(|(k, _)| (k.0.as_str(), k.1.as_str()))
            .chain(
                self.plan
                    .links
                    .iter()
                    .filter(|c| c.op != Op::Deactivate)
                    .map(|c| (c.guardian_id.as_str(), c.student_id.as_str())),
            )
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut students: Map<String, Vec<String>> = Map::default();
        for (g, s) in pairs {
            match students.get_mut(g) {
                Some(list) => list.push(s.to_string()),
                None => {
                    students.insert(g.to_string(), vec![s.to_string()]);
                }
            }
        }
        self.plan.guardian_students = students;
    }

    fn link_name(&self, g: &str, s: &str) -> String {
        let name = |id: &str| {
            self.plan
                .people_after
                .get(id)
                .map(|p| p.data.display_name())
                .unwrap_or_default()
        };
        format!("{} → {}", name(g), name(s))
    }

    /// Plans the bundle's enrollments against the stored ones, taking each
    /// stored one out as it is matched: those left are missing from the bundle.
    fn enrollments(&mut self, enrollments: Vec<Enrollment>, mut stored: StoredEnrollments) {
        // (The reader has left out rows whose sourcedId was used before.)
        for en in enrollments {
            let stored_one = stored.remove(&en.source_id);
            let existing = stored_one.as_ref();
            if en.status == Status::ToBeDeleted {
                if let Some(e) = existing
                    && let Some(c) = self.retire(Entity::Enrollment, &en.source_id, "", e, None)
                {
                    self.plan.enrollments.push(c);
                }
                continue;
            }
            let class = self.class_ids.get(&*en.class_source_id).cloned();
            let person = self.person_ids.get(&*en.user_source_id).cloned();
            let (class_id, person_id) = match (class, person) {
                (Some((_, false)), _) => {
                    self.row(
                        ReportRow::new(Entity::Enrollment, &en.source_id, "", Action::Skipped)
                            .note("outside the source's school"),
                    );
                    continue;
                }
                (Some((c, true)), Some((p, _))) => (c, p),
                (None, _) => {
                    self.row(
                        ReportRow::new(Entity::Enrollment, &en.source_id, "", Action::Error)
                            .note(format!("unknown class {}", en.class_source_id)),
                    );
                    continue;
                }
                (Some(_), None) => {
                    let (action, note) = if self.out_of_scope_people.contains(&*en.user_source_id) {
                        (
                            Action::Skipped,
                            "the user is not rostered by this source".to_string(),
                        )
                    } else {
                        (
                            Action::Error,
                            format!("unknown or inactive user {}", en.user_source_id),
                        )
                    };
                    self.row(
                        ReportRow::new(Entity::Enrollment, &en.source_id, "", action).note(note),
                    );
                    continue;
                }
            };
            let data = EnrollmentData {
                class_id,
                person_id,
                role: en.role.to_string(),
                is_primary: en.primary,
            };
            let (_, change) = self.decide(Entity::Enrollment, &en.source_id, "", existing, data);
            self.plan.enrollments.extend(change);
        }
        let blind = [Table::Enrollments, Table::Classes, Table::Users]
            .into_iter()
            .any(|t| self.failed.blinds(t).is_some());
        if self.bundle.mode("enrollments") == FileMode::Bulk && !blind {
            // An enrollment whose row, class or person failed is kept.
            let failed_classes: Set<&str> = self
                .class_ids
                .iter()
                .filter(|(sid, _)| self.failed.contains(Table::Classes, sid))
                .map(|(_, (id, _))| &**id)
                .collect();
            let failed_people: Set<&str> = self
                .plan
                .people_after
                .iter()
                .filter(|(_, p)| self.failed.contains(Table::Users, &p.source_id))
                .map(|(id, _)| id.as_str())
                .collect();
            let mut gone: Vec<_> = stored
                .into_iter()
                .filter(|(sid, e)| {
                    !self.failed.contains(Table::Enrollments, sid)
                        && !failed_classes.contains(&*e.data.class_id)
                        && !failed_people.contains(&*e.data.person_id)
                })
                .collect();
            gone.sort_by(|a, b| a.0.cmp(&b.0));
            for (sid, e) in gone {
                if let Some(c) = self.retire(Entity::Enrollment, &sid, "", &e, None) {
                    self.plan.enrollments.push(c);
                }
            }
        }
    }

    fn guard(&mut self) {
        let would = self
            .plan
            .people
            .iter()
            .filter(|c| c.op == Op::Deactivate)
            .count() as u64;
        self.plan.guard = Some(Guard::new(
            would,
            self.ctx.active_people_in_district,
            self.ctx.threshold_percent,
        ));
    }

    fn accounts(&mut self) {
        account_work(&mut self.plan, &self.ctx.student_account_grades);
    }
}

/// Staff and guardians identity-svc must hear about: created or updated,
/// still without an account, or guardians whose students changed; students
/// too when their grade is one of `student_grades` and the SIS gives them an
/// email.
pub(crate) fn account_work(plan: &mut Plan, student_grades: &str) {
    let has_account = |d: &PersonData| {
        d.kind != PersonKind::Student
            || (d.email.is_some() && grades::any_in(&d.grades, student_grades))
    };
    let mut touched: Set<String> = Set::default();
    let mut rows: Map<String, usize> = Map::default();
    for c in &plan.people {
        rows.insert(c.id.clone(), c.row);
        if c.op != Op::Deactivate {
            touched.insert(c.id.clone());
        }
    }
    // Guardians whose links changed, or whose students' names or schools did.
    let renamed: Set<&str> = plan
        .people
        .iter()
        .filter(|c| {
            c.op == Op::Update
                && c.data
                    .as_ref()
                    .is_some_and(|d| d.kind == PersonKind::Student)
                && plan.rows[c.row].changed_fields().iter().any(|f| {
                    matches!(
                        f.as_str(),
                        "given_name" | "family_name" | "school_id" | "status"
                    )
                })
        })
        .map(|c| c.id.as_str())
        .collect();
    for l in &plan.links {
        touched.insert(l.guardian_id.clone());
    }
    for (g, students) in &plan.guardian_students {
        if students.iter().any(|s| renamed.contains(s.as_str())) {
            touched.insert(g.clone());
        }
    }
    for (id, p) in &plan.people_after {
        if p.active && p.account_id.is_none() && has_account(&p.data) {
            touched.insert(id.clone());
        }
    }
    let index: Map<(Entity, &str), usize> = plan
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.entity, Entity::Staff | Entity::Guardian | Entity::Student))
        .map(|(i, r)| ((r.entity, &*r.source_id), i))
        .collect();
    let mut work: Vec<AccountWork> = touched
        .into_iter()
        .filter_map(|id| {
            let p = plan.people_after.get(&id)?;
            if !p.active || !has_account(&p.data) {
                return None;
            }
            let row = match rows.get(&id) {
                Some(r) => Some(*r),
                None => index
                    .get(&(p.data.kind.entity(), p.source_id.as_str()))
                    .copied(),
            };
            Some((id, row))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(id, row)| {
            // A guardian the bundle did not list whose students changed
            // (a delta deleted a child) gets a row of its own.
            let row = row.unwrap_or_else(|| {
                let p = &plan.people_after[&id];
                let mut r = ReportRow::new(
                    p.data.kind.entity(),
                    &p.source_id,
                    &p.data.display_name(),
                    Action::Updated,
                )
                .record(&id);
                r.push_changed_fields(["linked_students"]);
                plan.rows.push(r);
                plan.rows.len() - 1
            });
            AccountWork { person_id: id, row }
        })
        .collect();
    work.sort_by_key(|w| w.row);
    plan.accounts = work;
    plan.deactivated_accounts = plan
        .people
        .iter()
        .filter(|c| c.op == Op::Deactivate)
        .filter_map(|c| {
            let p = plan.people_after.get(&c.id)?;
            p.account_id.as_ref().map(|_| p.source_id.clone())
        })
        .collect();
}

/// A fingerprint of a user row as read (and the region its phones are read
/// in): equal fingerprints give equal person data.
fn source_hash(u: &User, region: &Region) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    u.hash(&mut h);
    region.as_str().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The stored records of `table` a bulk file no longer has, by source id:
/// none when a row of it failed without a source id, and never one whose
/// row failed.
fn sorted_missing<'s, D, K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    existing: &'s Map<String, Existing<D>>,
    seen: &Set<K>,
    failed: &FailedRows,
    table: Table,
) -> Vec<(String, &'s Existing<D>)> {
    if failed.blinds(table).is_some() {
        return Vec::new();
    }
    let mut gone: Vec<_> = existing
        .iter()
        .filter(|(sid, _)| !seen.contains(sid.as_str()) && !failed.contains(table, sid))
        .map(|(sid, e)| (sid.clone(), e))
        .collect();
    gone.sort_by(|a, b| a.0.cmp(&b.0));
    gone
}
