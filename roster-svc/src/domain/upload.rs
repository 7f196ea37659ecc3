//! RO-7: what a guardian upload would do. Each row names a student and one of
//! their guardians; rows are validated, rows of one guardian are folded into
//! one person (by `parent_code`, or by the same name with a shared email or
//! phone), each person is matched to what earlier uploads made, and the links
//! are planned. With `abandon` the file is the whole list: links earlier
//! uploads made that it no longer names are removed, and a guardian left with
//! no student is deactivated.
//!
//! The result is a [`Plan`] for the sync engine's apply path, plus one
//! [`ResultRow`] per input row (and per abandoned link) for the result file.
//! Pure: no database, no network.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use homeroom_platform::contact::{Email, Phone, Region};

use super::{
    plan::{self, Change, Guard, LinkChange, Op, PersonAfter, Plan, State},
    records::{Action, Diff, Entity, LinkData, PersonData, PersonKind},
    report::ReportRow,
};
use crate::upload::file::{HEADERS, InputRow, RowRead};

/// Relationship stored on links an upload makes.
const RELATIONSHIP: &str = "guardian";

/// What planning an upload needs besides the rows.
#[derive(Debug, Clone)]
pub struct UploadContext {
    /// Region for phones without a country code.
    pub phone_region: Region,
    /// Language codes the district supports; a blank cell means `en`.
    pub languages: Vec<String>,
    /// The file is the whole guardian list of the scope.
    pub abandon: bool,
    /// Active people of the district (every source) before the upload.
    pub active_people_in_district: u64,
    /// The deactivation threshold, in percent.
    pub threshold_percent: u32,
}

/// A rostered student of the upload's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// Roster id.
    pub id: String,
    /// SIS sourcedId.
    pub source_id: String,
    /// Student number, when the SIS gives one.
    pub identifier: Option<String>,
    /// The student's data (for names shown on accounts).
    pub data: PersonData,
}

impl Student {
    /// The code the result file shows: the student number, else the source id.
    pub fn code(&self) -> &str {
        self.identifier.as_deref().unwrap_or(&self.source_id)
    }
}

/// The outcome of one line of the result file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    /// Line of the input (header = 1); 0 for abandoned links.
    pub line: u64,
    /// Every input column, in [`HEADERS`] order.
    pub cells: [String; 8],
    /// CREATED, UPDATED, UNCHANGED or ABANDONED; `None` on error.
    pub action: Option<Action>,
    /// Why the row failed.
    pub error: Option<String>,
    /// The guardian's report row in [`Plan::rows`] (for identity's answer).
    pub guardian_row: Option<usize>,
    /// The guardian's identity account, once known.
    pub account_id: Option<String>,
}

impl ResultRow {
    fn failed(line: u64, cells: [String; 8], error: String) -> ResultRow {
        ResultRow {
            line,
            cells,
            action: None,
            error: Some(error),
            guardian_row: None,
            account_id: None,
        }
    }

    /// Whether the row succeeded.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Counts for the upload's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UploadCounts {
    /// Rows with result SUCCESS.
    pub rows_succeeded: u64,
    /// Rows with result ERROR.
    pub rows_failed: u64,
    /// Guardians created.
    pub created: u64,
    /// Guardians updated.
    pub updated: u64,
    /// Guardians unchanged.
    pub unchanged: u64,
    /// Links removed by abandon.
    pub links_abandoned: u64,
    /// Guardians deactivated for having no student left.
    pub accounts_deactivated: u64,
    /// Invitations sent.
    pub invitations_sent: u64,
}

/// An upload's plan and its result rows.
#[derive(Debug, Clone, Default)]
pub struct UploadPlan {
    /// What to write, in the sync engine's terms.
    pub plan: Plan,
    /// One row per input row, then one per abandoned link.
    pub results: Vec<ResultRow>,
}

impl UploadPlan {
    /// Folds identity's answers (now in the plan's report rows) into the
    /// result rows: an account failure fails the guardian's rows, an account
    /// identity changed makes an unchanged row UPDATED, and each row gets the
    /// account id.
    pub fn settle(&mut self) {
        for r in &mut self.results {
            let Some(g) = r.guardian_row.and_then(|i| self.plan.rows.get(i)) else {
                continue;
            };
            r.account_id = g.account_id.as_deref().map(Into::into);
            if r.action.is_none() {
                continue;
            }
            if g.action == Action::Error {
                r.action = None;
                r.error = Some(
                    g.notes()
                        .last()
                        .cloned()
                        .unwrap_or_else(|| "identity refused the account".into()),
                );
            } else if r.action == Some(Action::Unchanged) && g.action == Action::Updated {
                r.action = Some(Action::Updated);
            }
        }
    }

    /// The counts of the settled plan.
    pub fn counts(&self) -> UploadCounts {
        let mut c = UploadCounts::default();
        for r in &self.results {
            match (r.line, r.succeeded()) {
                (0, _) => {}
                (_, true) => c.rows_succeeded += 1,
                (_, false) => c.rows_failed += 1,
            }
        }
        for row in &self.plan.rows {
            match (row.entity, row.action) {
                (Entity::Guardian, Action::Created) => c.created += 1,
                (Entity::Guardian, Action::Updated) => c.updated += 1,
                (Entity::Guardian, Action::Unchanged) => c.unchanged += 1,
                (Entity::Guardian, Action::Deactivated) => c.accounts_deactivated += 1,
                (Entity::GuardianLink, Action::Abandoned) => c.links_abandoned += 1,
                _ => {}
            }
        }
        c
    }
}

/// Contact and name fields of one row, validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fields {
    given_name: String,
    family_name: String,
    email: Option<String>,
    phone: Option<String>,
    home_phone: Option<String>,
    language: String,
}

impl Fields {
    fn norm_name(&self) -> String {
        normalized_name(&self.given_name, &self.family_name)
    }

    /// Fills this guardian's blanks from another row of theirs; the name of a
    /// field both give differently when they disagree.
    fn merge(&mut self, other: &Fields) -> Result<(), &'static str> {
        if self.norm_name() != other.norm_name() {
            return Err("name");
        }
        fn fill(
            mine: &mut Option<String>,
            theirs: &Option<String>,
            name: &'static str,
        ) -> Result<(), &'static str> {
            match (mine.as_ref(), theirs) {
                (Some(a), Some(b)) if a != b => Err(name),
                (None, Some(b)) => {
                    *mine = Some(b.clone());
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        let mut merged = self.clone();
        fill(&mut merged.email, &other.email, "email")?;
        fill(&mut merged.phone, &other.phone, "phone")?;
        fill(&mut merged.home_phone, &other.home_phone, "home_phone")?;
        if merged.language != other.language {
            return Err("language");
        }
        *self = merged;
        Ok(())
    }
}

/// Given and family name, lower-cased with runs of spaces collapsed: the name
/// two records of one person share.
pub fn normalized_name(given: &str, family: &str) -> String {
    format!("{given} {family}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// One valid row.
struct Valid {
    result: usize,
    student: usize,
    parent_code: Option<String>,
    fields: Fields,
}

/// The rows of one guardian.
struct Group {
    parent_code: Option<String>,
    fields: Fields,
    first_line: u64,
    rows: Vec<usize>,
}

/// Plans an upload against the upload source's state and the scope's students.
pub fn plan_upload(
    rows: &[RowRead],
    students: &[Student],
    state: &State,
    ctx: &UploadContext,
) -> UploadPlan {
    let mut linked: HashMap<String, Vec<String>> = HashMap::new();
    for ((g, s), e) in &state.links {
        if e.active {
            linked.entry(s.clone()).or_default().push(g.clone());
        }
    }
    let mut p = UploadPlanner {
        ctx,
        state,
        students,
        by_code: student_codes(students),
        sid_of: state
            .people
            .iter()
            .map(|(sid, e)| (e.record.id.clone(), sid.clone()))
            .collect(),
        linked,
        out: UploadPlan::default(),
        listed_by_failed: HashSet::new(),
    };
    let valid = p.validate(rows);
    let groups = p.group(valid);
    p.apply_groups(groups);
    p.out
}

/// Student code → index, by student number first, then by source id; a
/// number two students share is ambiguous (`None`).
fn student_codes(students: &[Student]) -> HashMap<String, Option<usize>> {
    let mut by_code: HashMap<String, Option<usize>> = HashMap::new();
    for (i, s) in students.iter().enumerate() {
        if let Some(n) = &s.identifier {
            by_code
                .entry(n.clone())
                .and_modify(|e| *e = None)
                .or_insert(Some(i));
        }
    }
    for (i, s) in students.iter().enumerate() {
        by_code.entry(s.source_id.clone()).or_insert(Some(i));
    }
    by_code
}

struct UploadPlanner<'a> {
    ctx: &'a UploadContext,
    state: &'a State,
    students: &'a [Student],
    by_code: HashMap<String, Option<usize>>,
    /// Person id → source id, for the upload source's people.
    sid_of: HashMap<String, String>,
    /// Student id → guardians (person ids) actively linked by earlier uploads.
    linked: HashMap<String, Vec<String>>,
    out: UploadPlan,
    /// Guardians (person ids) a failed row names: they count as listed.
    listed_by_failed: HashSet<String>,
}

impl<'a> UploadPlanner<'a> {
    fn fail(&mut self, line: u64, cells: [String; 8], source_id: &str, reason: String) {
        let name = normalized_display(&cells[2], &cells[3]);
        let sid = if source_id.is_empty() {
            format!("line {line}")
        } else {
            source_id.to_string()
        };
        self.out.plan.rows.push(
            ReportRow::new(Entity::Guardian, &sid, &name, Action::Error)
                .note(format!("line {line}: {reason}")),
        );
        self.out
            .results
            .push(ResultRow::failed(line, cells, reason));
    }

    /// Checks every row; failed rows get their result now.
    fn validate(&mut self, rows: &[RowRead]) -> Vec<Valid> {
        // Parsing emails and phones is most of the work: spread it over the cores.
        let this: &Self = self;
        let checks = super::parallel::map(rows, |r| match r {
            RowRead::Row(row) => Some(this.check(row)),
            RowRead::Broken { .. } => None,
        });
        let mut valid = Vec::new();
        for (r, check) in rows.iter().zip(checks) {
            match r {
                RowRead::Broken { line, raw, reason } => {
                    let mut cells: [String; 8] = Default::default();
                    for (c, v) in cells.iter_mut().zip(raw) {
                        c.clone_from(v);
                    }
                    self.fail(*line, cells, "", reason.clone());
                }
                RowRead::Row(row) => {
                    let cells = row.cells().map(str::to_string);
                    let checked = check.unwrap_or_else(|| Err("the row could not be read".into()));
                    match checked {
                        Ok((student, fields)) => {
                            valid.push(Valid {
                                result: self.out.results.len(),
                                student,
                                parent_code: non_blank(&row.parent_code),
                                fields,
                            });
                            self.out.results.push(ResultRow {
                                line: row.line,
                                cells,
                                action: None,
                                error: None,
                                guardian_row: None,
                                account_id: None,
                            });
                        }
                        Err(reason) => {
                            self.note_failed_guardian(row);
                            self.fail(row.line, cells, &row.parent_code, reason);
                        }
                    }
                }
            }
        }
        valid
    }

    /// The student and the guardian's fields of a row, or why it fails.
    fn check(&self, row: &InputRow) -> Result<(usize, Fields), String> {
        let code = row.student_code.trim();
        if code.is_empty() {
            return Err("student_code: required".into());
        }
        let student = match self.by_code.get(code) {
            Some(Some(i)) => *i,
            Some(None) => {
                return Err(format!(
                    "Student code {code} matches more than one student; use the student's sourcedId"
                ));
            }
            None => return Err(format!("Unknown student code {code}")),
        };
        if row.first_name.trim().is_empty() && row.last_name.trim().is_empty() {
            return Err("first_name, last_name: a guardian needs a name".into());
        }
        let email = non_blank(&row.email)
            .map(|e| Email::parse(&e).map(|e| e.as_str().to_string()))
            .transpose()
            .map_err(|e| e.to_string())?;
        let region = self.ctx.phone_region;
        let phone = non_blank(&row.phone)
            .map(|p| Phone::parse(&p, region).map(|p| p.as_str().to_string()))
            .transpose()
            .map_err(|e| e.to_string())?;
        let home_phone = non_blank(&row.home_phone)
            .map(|p| Phone::parse(&p, region).map(|p| p.as_str().to_string()))
            .transpose()
            .map_err(|e| format!("home_{e}"))?;
        if email.is_none() && phone.is_none() {
            return Err("email, phone: a guardian needs an email or a phone (or both)".into());
        }
        let language = match row.language.trim().to_lowercase() {
            l if l.is_empty() => "en".to_string(),
            l if self
                .ctx
                .languages
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&l)) =>
            {
                l
            }
            _ => {
                return Err(format!(
                    "language: must be one of {}",
                    self.ctx.languages.join(", ")
                ));
            }
        };
        Ok((
            student,
            Fields {
                given_name: collapse(&row.first_name),
                family_name: collapse(&row.last_name),
                email,
                phone,
                home_phone,
                language,
            },
        ))
    }

    /// A failed row still names its guardian when it can: by parent code, or
    /// as a guardian of its student with the same name. Abandon keeps them.
    fn note_failed_guardian(&mut self, row: &InputRow) {
        if let Some(code) = non_blank(&row.parent_code) {
            if let Some(e) = self.state.people.get(&code) {
                self.listed_by_failed.insert(e.record.id.clone());
            }
            return;
        }
        let Some(Some(student)) = self.by_code.get(row.student_code.trim()) else {
            return;
        };
        let name = normalized_name(&row.first_name, &row.last_name);
        let named: Vec<String> = self
            .linked
            .get(&self.students[*student].id)
            .into_iter()
            .flatten()
            .filter(|g| {
                self.person(g)
                    .is_some_and(|(_, d)| normalized_name(&d.given_name, &d.family_name) == name)
            })
            .cloned()
            .collect();
        self.listed_by_failed.extend(named);
    }

    /// Rows of one guardian become one group: the same parent code, or (for
    /// rows without one) the same name with a shared email or phone. A row
    /// that contradicts its guardian's earlier row fails.
    fn group(&mut self, valid: Vec<Valid>) -> Vec<(Group, Vec<usize>)> {
        let mut groups: Vec<(Group, Vec<usize>)> = Vec::new();
        let mut by_code: HashMap<String, usize> = HashMap::new();
        let mut by_contact: HashMap<(String, String), usize> = HashMap::new();
        for v in valid {
            let name = v.fields.norm_name();
            let found = match &v.parent_code {
                Some(code) => by_code.get(code).copied(),
                None => [&v.fields.email, &v.fields.phone]
                    .into_iter()
                    .flatten()
                    .find_map(|c| by_contact.get(&(name.clone(), c.clone())).copied()),
            };
            let line = self.out.results[v.result].line;
            let joined = match found {
                Some(gi) => match groups[gi].0.fields.merge(&v.fields) {
                    Ok(()) => Some(gi),
                    // The same parent code with other details is a mistake in
                    // the file; a namesake sharing a phone is another person.
                    Err(field) if v.parent_code.is_some() => {
                        let g = &groups[gi].0;
                        let reason = format!(
                            "{field}: line {} gives this guardian a different {field}; one guardian needs one set of details",
                            g.first_line
                        );
                        self.reject(v.result, g.parent_code.clone(), reason);
                        continue;
                    }
                    Err(_) => None,
                },
                None => None,
            };
            let gi = match joined {
                Some(gi) => {
                    groups[gi].0.rows.push(v.result);
                    gi
                }
                None => {
                    groups.push((
                        Group {
                            parent_code: v.parent_code.clone(),
                            fields: v.fields.clone(),
                            first_line: line,
                            rows: vec![v.result],
                        },
                        Vec::new(),
                    ));
                    if let Some(code) = &v.parent_code {
                        by_code.insert(code.clone(), groups.len() - 1);
                    }
                    groups.len() - 1
                }
            };
            groups[gi].1.push(v.student);
            for c in [&v.fields.email, &v.fields.phone].into_iter().flatten() {
                by_contact.entry((name.clone(), c.clone())).or_insert(gi);
            }
        }
        groups
    }

    /// Fails a row that passed validation; its guardian counts as listed.
    fn reject(&mut self, result: usize, parent_code: Option<String>, reason: String) {
        let line = self.out.results[result].line;
        let name = normalized_display(
            &self.out.results[result].cells[2],
            &self.out.results[result].cells[3],
        );
        let sid = parent_code.unwrap_or_else(|| format!("line {line}"));
        if let Some(e) = self.state.people.get(&sid) {
            self.listed_by_failed.insert(e.record.id.clone());
        }
        self.out.plan.rows.push(
            ReportRow::new(Entity::Guardian, &sid, &name, Action::Error)
                .note(format!("line {line}: {reason}")),
        );
        let r = &mut self.out.results[result];
        r.error = Some(reason);
    }

    /// A stored person of the upload source by roster id.
    fn person(&self, id: &str) -> Option<(&'a str, &'a PersonData)> {
        let state: &'a State = self.state;
        let (sid, e) = state.people.get_key_value(self.sid_of.get(id)?)?;
        Some((sid.as_str(), &e.record.data))
    }

    /// The stored guardian a group is: by parent code, else a guardian already
    /// linked to one of its students with the same name and a shared email or
    /// phone.
    /// Of several, the one sharing the most contacts (then the smallest source
    /// id), skipping guardians another group of the file already is — so the
    /// same file always finds the same guardians.
    fn existing_for(
        &self,
        g: &Group,
        students: &[usize],
        owner: &HashMap<String, usize>,
    ) -> Option<String> {
        if let Some(code) = &g.parent_code {
            return self.state.people.contains_key(code).then(|| code.clone());
        }
        let name = g.fields.norm_name();
        students
            .iter()
            .filter_map(|s| self.linked.get(&self.students[*s].id))
            .flatten()
            .filter(|gid| !owner.contains_key(*gid))
            .filter_map(|gid| self.person(gid))
            .filter(|(_, d)| normalized_name(&d.given_name, &d.family_name) == name)
            .map(|(sid, d)| {
                let shared = usize::from(g.fields.email.is_some() && g.fields.email == d.email)
                    + usize::from(g.fields.phone.is_some() && g.fields.phone == d.phone);
                (shared, sid)
            })
            .filter(|(shared, _)| *shared > 0)
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
            .map(|(_, sid)| sid.to_string())
    }

    fn apply_groups(&mut self, groups: Vec<(Group, Vec<usize>)>) {
        // Person id → group that owns it (two groups may find one person).
        let mut owner: HashMap<String, usize> = HashMap::new();
        let mut people: Vec<Change<Arc<PersonData>>> = Vec::new();
        let mut wanted: HashSet<(String, String)> = HashSet::new();
        let mut links: Vec<LinkChange> = Vec::new();
        for (gi, (group, students)) in groups.iter().enumerate() {
            let existing_sid = self.existing_for(group, students, &owner);
            let existing = existing_sid.as_ref().and_then(|s| self.state.people.get(s));
            let source_id = existing_sid
                .clone()
                .or_else(|| group.parent_code.clone())
                .unwrap_or_else(|| format!("upload-{}", uuid::Uuid::now_v7()));
            let id =
                existing.map_or_else(|| uuid::Uuid::now_v7().to_string(), |e| e.record.id.clone());
            if let Some(first) = owner.get(&id) {
                // A second group found the same stored guardian: its rows fail
                // rather than silently giving one person two sets of details.
                let first_line = groups[*first].0.first_line;
                for r in &group.rows {
                    self.reject(
                        *r,
                        Some(source_id.clone()),
                        format!(
                            "this guardian is also on line {first_line} with different details; one guardian needs one set of details"
                        ),
                    );
                }
                continue;
            }
            owner.insert(id.clone(), gi);
            let data = Arc::new(person_data(&group.fields));
            let name = data.display_name();
            let (action, changed) = match existing {
                None => (Action::Created, Vec::new()),
                Some(e) => {
                    let mut changed = e.record.data.changed(&data);
                    if !e.record.active {
                        changed.push("status");
                    }
                    if changed.is_empty() {
                        (Action::Unchanged, changed)
                    } else {
                        (Action::Updated, changed)
                    }
                }
            };
            let row = ReportRow::new(Entity::Guardian, &source_id, &name, action)
                .record(&id)
                .changed(changed.iter().map(|f| f.to_string()));
            self.out.plan.rows.push(row);
            let guardian_row = self.out.plan.rows.len() - 1;
            if action != Action::Unchanged {
                people.push(Change {
                    id: id.clone(),
                    source_id: source_id.clone(),
                    op: if action == Action::Created {
                        Op::Create
                    } else {
                        Op::Update
                    },
                    data: Some(data),
                    row: guardian_row,
                });
            }
            // One link per student; the row's action is the guardian's, or
            // UPDATED when only its link is new.
            let mut link_new: HashMap<usize, bool> = HashMap::new();
            for s in students {
                if link_new.contains_key(s) {
                    continue;
                }
                let student = &self.students[*s];
                let key = (id.clone(), student.id.clone());
                wanted.insert(key.clone());
                let link_name = format!("{name} → {}", student.data.display_name());
                let link_sid = format!("{source_id}:{}", student.source_id);
                let data = LinkData {
                    relationship: RELATIONSHIP.into(),
                    contact_type: String::new(),
                    is_primary: false,
                };
                let (op, action) = match self.state.links.get(&key) {
                    None => (Some(Op::Create), Action::Created),
                    Some(e) if !e.active => (Some(Op::Update), Action::Updated),
                    Some(_) => (None, Action::Unchanged),
                };
                self.out.plan.rows.push(
                    ReportRow::new(Entity::GuardianLink, &link_sid, &link_name, action).record(&id),
                );
                if let Some(op) = op {
                    links.push(LinkChange {
                        guardian_id: id.clone(),
                        student_id: student.id.clone(),
                        op,
                        data: Some(data),
                    });
                }
                link_new.insert(*s, op.is_some());
            }
            for (r, s) in group.rows.iter().zip(students) {
                let result = &mut self.out.results[*r];
                result.guardian_row = Some(guardian_row);
                result.action = Some(match action {
                    Action::Unchanged if link_new.get(s).copied().unwrap_or(false) => {
                        Action::Updated
                    }
                    a => a,
                });
            }
        }
        self.out.plan.people = people;
        self.out.plan.links = links;
        if self.ctx.abandon {
            self.abandon(&wanted);
        }
        self.after();
    }

    /// Links earlier uploads made that the file no longer lists go; a guardian
    /// left with no student is deactivated.
    fn abandon(&mut self, wanted: &HashSet<(String, String)>) {
        let all: &'a [Student] = self.students;
        let students: HashMap<&str, &Student> = all.iter().map(|s| (s.id.as_str(), s)).collect();
        let state: &'a State = self.state;
        let mut gone: Vec<&(String, String)> = state
            .links
            .iter()
            .filter(|(k, e)| {
                e.active && !wanted.contains(*k) && !self.listed_by_failed.contains(&k.0)
            })
            .map(|(k, _)| k)
            .collect();
        gone.sort();
        let mut abandoned = Vec::new();
        for (g, s) in gone {
            let Some((sid, data)) = self.person(g) else {
                continue;
            };
            let student = students.get(s.as_str());
            let student_name = student.map(|s| s.data.display_name()).unwrap_or_default();
            let student_code = student.map(|s| s.code().to_string()).unwrap_or_default();
            self.out.plan.rows.push(
                ReportRow::new(
                    Entity::GuardianLink,
                    &format!("{sid}:{}", student.map_or("", |s| s.source_id.as_str())),
                    &format!("{} → {student_name}", data.display_name()),
                    Action::Abandoned,
                )
                .record(g)
                .note("the upload no longer lists this guardian for this student"),
            );
            let guardian_row = self.out.plan.rows.len() - 1;
            self.out.results.push(ResultRow {
                line: 0,
                cells: [
                    student_code,
                    if sid.starts_with("upload-") {
                        String::new()
                    } else {
                        sid.to_string()
                    },
                    data.given_name.clone(),
                    data.family_name.clone(),
                    data.email.clone().unwrap_or_default(),
                    data.phone.clone().unwrap_or_default(),
                    data.home_phone.clone().unwrap_or_default(),
                    data.preferred_language.clone().unwrap_or_default(),
                ],
                action: Some(Action::Abandoned),
                error: None,
                guardian_row: Some(guardian_row),
                account_id: None,
            });
            abandoned.push(LinkChange {
                guardian_id: g.clone(),
                student_id: s.clone(),
                op: Op::Deactivate,
                data: None,
            });
        }
        self.out.plan.links.extend(abandoned);
        // Guardians with no student left.
        let after = self.students_after();
        let planned: HashSet<String> = self.out.plan.people.iter().map(|c| c.id.clone()).collect();
        let mut retire: Vec<(String, String, String)> = self
            .state
            .people
            .iter()
            .filter(|(_, e)| e.record.active && !planned.contains(&e.record.id))
            .filter(|(_, e)| !self.listed_by_failed.contains(&e.record.id))
            .filter(|(_, e)| after.get(&e.record.id).is_none_or(BTreeSet::is_empty))
            .map(|(sid, e)| {
                (
                    sid.clone(),
                    e.record.id.clone(),
                    e.record.data.display_name(),
                )
            })
            .collect();
        retire.sort();
        for (sid, id, name) in retire {
            self.out.plan.rows.push(
                ReportRow::new(Entity::Guardian, &sid, &name, Action::Deactivated)
                    .record(&id)
                    .note("no student left after abandon"),
            );
            let row = self.out.plan.rows.len() - 1;
            self.out.plan.people.push(Change {
                id,
                source_id: sid,
                op: Op::Deactivate,
                data: None,
                row,
            });
        }
    }

    /// Each guardian's active students once the planned links are written.
    fn students_after(&self) -> HashMap<String, BTreeSet<String>> {
        let mut after: HashMap<String, BTreeSet<String>> = HashMap::new();
        for ((g, s), e) in &self.state.links {
            if e.active {
                after.entry(g.clone()).or_default().insert(s.clone());
            }
        }
        for l in &self.out.plan.links {
            let set = after.entry(l.guardian_id.clone()).or_default();
            if l.op == Op::Deactivate {
                set.remove(&l.student_id);
            } else {
                set.insert(l.student_id.clone());
            }
        }
        after
    }

    /// People after the upload, each guardian's students, the guard and the
    /// accounts identity must hear about.
    fn after(&mut self) {
        let after = self.students_after();
        let plan = &mut self.out.plan;
        let mut people: super::Map<String, PersonAfter> = self
            .state
            .people
            .iter()
            .map(|(sid, e)| {
                (
                    e.record.id.clone(),
                    PersonAfter {
                        source_id: sid.clone(),
                        data: e.record.data.clone(),
                        account_id: e.account_id.clone(),
                        active: e.record.active,
                    },
                )
            })
            .collect();
        for c in &plan.people {
            match (&c.op, &c.data) {
                (Op::Deactivate, _) => {
                    if let Some(p) = people.get_mut(&c.id) {
                        p.active = false;
                    }
                }
                (_, Some(data)) => {
                    let account_id = people.get(&c.id).and_then(|p| p.account_id.clone());
                    people.insert(
                        c.id.clone(),
                        PersonAfter {
                            source_id: c.source_id.clone(),
                            data: data.clone(),
                            account_id,
                            active: true,
                        },
                    );
                }
                (_, None) => {}
            }
        }
        // Students, for the names and schools shown on guardians' accounts.
        let wanted: HashSet<&str> = after.values().flatten().map(String::as_str).collect();
        for s in self.students {
            if wanted.contains(s.id.as_str()) {
                people.insert(
                    s.id.clone(),
                    PersonAfter {
                        source_id: s.source_id.clone(),
                        data: Arc::new(s.data.clone()),
                        account_id: None,
                        active: true,
                    },
                );
            }
        }
        plan.people_after = people;
        plan.guardian_students = after
            .into_iter()
            .map(|(g, set)| (g, set.into_iter().collect()))
            .collect();
        let would = plan
            .people
            .iter()
            .filter(|c| c.op == Op::Deactivate)
            .count() as u64;
        plan.guard = Some(Guard::new(
            would,
            self.ctx.active_people_in_district,
            self.ctx.threshold_percent,
        ));
        plan::account_work(plan, "");
    }
}

fn person_data(f: &Fields) -> PersonData {
    PersonData {
        kind: PersonKind::Guardian,
        role: RELATIONSHIP.into(),
        given_name: f.given_name.clone(),
        middle_name: None,
        family_name: f.family_name.clone(),
        preferred_given_name: None,
        identifier: None,
        grades: String::new(),
        school_id: None,
        school_ids: String::new(),
        email: f.email.clone(),
        phone: f.phone.clone(),
        home_phone: f.home_phone.clone(),
        preferred_language: Some(f.language.clone()),
        sign_in_disabled: false,
        source_hash: String::new(),
    }
}

fn non_blank(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalized_display(given: &str, family: &str) -> String {
    collapse(&format!("{given} {family}"))
}

/// The header of the result file: every input column, then the outcome.
pub fn result_header() -> Vec<&'static str> {
    let mut h = HEADERS.to_vec();
    h.extend(["result", "action", "error"]);
    h
}

#[cfg(test)]
mod tests;
