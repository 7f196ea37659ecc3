//! RO-3 / RO-4 / RO-6: one sync run from input to report. Read the bundle,
//! plan against what the source supplied before, check the deactivation guard,
//! send staff and guardians to identity-svc (a dry run asks identity to dry-run
//! too, so RO-6 notes are exact), write roster's records in one transaction,
//! deactivate accounts, send RO-6 notices and invitations, store the report.

use std::{collections::HashMap, io::Cursor, sync::Arc};

use futures::{StreamExt, TryStreamExt};
use homeroom_platform::{
    contact::Region,
    db::{Backend, Db},
    telemetry::mask_address,
};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb};

use super::clients::{Accounts, Notices};
use crate::{
    domain::{
        error::RosterError,
        plan::{self, AccountWork, Plan, PlanContext},
        records::{Action, Entity, PersonKind},
        report::Totals,
    },
    oneroster::{self, Bundle},
    secrets::SecretsKey,
    store::{
        districts::DistrictRow,
        invitations, records,
        sync::{self, Finish, RunRow, SourceRow},
    },
};

mod connector;
mod upload;

/// identity's UpsertAccounts limit.
const UPSERT_BATCH: usize = 1_000;
/// Upsert batches in flight.
const UPSERT_CONCURRENCY: usize = 2;

/// Runs syncs.
#[derive(Clone)]
pub struct Engine {
    db: Db,
    accounts: Arc<dyn Accounts>,
    notices: Arc<dyn Notices>,
    secrets: SecretsKey,
    retry: crate::connectors::RetryPolicy,
    boundary: crate::connectors::location::Boundary,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// Why a run stopped without writing.
struct Stop {
    kind: &'static str,
    message: String,
}

/// What a run read: the bundle, and for a Clever source with events the
/// event id to start after next time (kept once the run completes).
struct Input {
    bundle: Bundle,
    cursor: Option<connector::Cursor>,
}

impl Engine {
    /// An engine over the database and the two services; connector
    /// credentials open with the development key until [`Engine::with_secrets`].
    pub fn new(db: Db, accounts: Arc<dyn Accounts>, notices: Arc<dyn Notices>) -> Engine {
        Engine {
            db,
            accounts,
            notices,
            secrets: SecretsKey::development(),
            retry: crate::connectors::RetryPolicy::default(),
            boundary: crate::connectors::location::Boundary::default(),
        }
    }

    /// Reads bundle folders, bundle URLs and vendor APIs only where
    /// `boundary` allows (the default: no host folder, public https only).
    pub fn with_boundary(mut self, boundary: crate::connectors::location::Boundary) -> Engine {
        self.boundary = boundary;
        self
    }

    /// Opens the sources' connector credentials with `key`.
    pub fn with_secrets(mut self, key: SecretsKey) -> Engine {
        self.secrets = key;
        self
    }

    /// Retries vendor API requests per `policy` (tests shorten the waits).
    pub fn with_retry(mut self, policy: crate::connectors::RetryPolicy) -> Engine {
        self.retry = policy;
        self
    }

    /// Runs one claimed run to its end and records how it ended.
    #[tracing::instrument(skip_all, fields(run_id = %run.id, source_id = %run.source_id, dry_run = run.dry_run))]
    pub async fn execute(&self, run: &RunRow) -> Result<(), RosterError> {
        let started = std::time::Instant::now();
        let finish = match self.sync(run).await {
            Ok(finish) => finish,
            Err(e) => {
                let (kind, message) = match &e {
                    RosterError::Unavailable(m) => ("source_unavailable", m.clone()),
                    RosterError::InvalidArgument(m) | RosterError::FailedPrecondition(m) => {
                        ("invalid_input", m.clone())
                    }
                    other => {
                        tracing::error!(error = %format!("{other:#}"), "sync failed");
                        (
                            "internal",
                            "the sync failed on an internal error; see the logs".into(),
                        )
                    }
                };
                Finish {
                    status: "failed",
                    failure_kind: Some(kind),
                    failure_message: Some(message),
                    totals: "[]".into(),
                    ..Finish::default()
                }
            }
        };
        tracing::info!(
            status = finish.status,
            records = finish.records,
            "sync run finished"
        );
        metrics::counter!("homeroom_sync_runs_total", "component" => "roster", "status" => finish.status)
            .increment(1);
        let records = u64::try_from(finish.records).unwrap_or(0);
        metrics::counter!("homeroom_sync_records_total", "component" => "roster")
            .increment(records);
        let seconds = started.elapsed().as_secs_f64();
        if records > 0 && seconds > 0.0 {
            metrics::gauge!("homeroom_sync_last_records_per_second", "component" => "roster")
                .set(records as f64 / seconds);
        }
        let id = run.id.clone();
        self.db
            .run(move |c| sync::finish_run(c, &id, &finish, now()).map_err(RosterError::from))
            .await
    }

    async fn sync(&self, run: &RunRow) -> Result<Finish, RosterError> {
        let (source, district) = self.context(run).await?;
        if source.kind == "upload" {
            return self.upload(run, &source, &district).await;
        }
        let mut timer = PhaseTimer::start();
        self.progress(run, "reading").await?;
        // Read the bundle and load what the source supplied before at once.
        // People on one connection, the rest on another.
        let (district_id, source_id) = (district.id.clone(), source.id.clone());
        let load = self.db.run(move |c| {
            let state = records::load_state(c, &district_id, &source_id)?;
            let active = records::active_people(c, &district_id)?;
            Ok::<_, RosterError>((state, active))
        });
        let (district_id, source_id) = (district.id.clone(), source.id.clone());
        let load_people = self.db.run(move |c| {
            records::load_people(c, &district_id, &source_id).map_err(RosterError::from)
        });
        let (read, loaded, people) = tokio::join!(self.read(run, &source), load, load_people);
        let Input { bundle, cursor } = match read? {
            Ok(input) => input,
            Err(stop) => return Ok(failed(stop, None)),
        };
        let (mut state, active) = loaded?;
        state.people = people?;
        let version = Some(bundle.version.as_str().to_string());
        timer.next("reading and loading");
        self.progress(run, "planning").await?;
        let ctx = PlanContext {
            district_id: district.id.clone(),
            district_name: district.name.clone(),
            school_scope: self.scope(&source).await?,
            manages_guardians: source.manages_guardians,
            unarchive_classes: source.unarchive_classes,
            student_account_grades: source.student_account_grades.clone(),
            phone_region: Region::parse(&district.default_phone_region).unwrap_or_default(),
            active_people_in_district: active,
            threshold_percent: u32::try_from(source.deactivation_threshold_percent).unwrap_or(20),
        };
        // Planning asks for the stored enrollments once it reaches them.
        let (district_id, source_id) = (district.id.clone(), source.id.clone());
        let mut plan = self
            .db
            .run(move |c| {
                plan::plan(bundle, state, &ctx, || {
                    records::load_enrollments(c, &district_id, &source_id)
                })
                .map_err(RosterError::from)
            })
            .await?;
        let mode = Some(if plan.full { "full" } else { "delta" });
        let guard = plan.guard;
        // A dry run goes on with the full report; the run then says that a
        // real one would stop here, with the numbers.
        if let Some(g) = guard
            && g.exceeded
            && !run.forced
            && !run.dry_run
        {
            let finish = Finish {
                mode,
                oneroster_version: version,
                ..failed(
                    Stop {
                        kind: "deactivation_guard",
                        message: g.message(),
                    },
                    Some(&plan),
                )
            };
            self.store_report(run, Arc::new(plan)).await?;
            return Ok(finish);
        }
        timer.next("planning");
        self.progress(run, "applying").await?;
        let (accounts, changes) = self
            .upsert_accounts(run, &source, &district, &mut plan)
            .await?;
        let plan = Arc::new(plan);
        if !run.dry_run {
            timer.next("identity");
            self.write(
                run,
                &district,
                &source,
                plan.clone(),
                accounts,
                invitees(&plan, &source),
            )
            .await?;
            timer.next("writing");
            self.deactivate_accounts(run, &district, &source, &plan)
                .await?;
            self.notify(run, &district, &plan, &changes).await;
        }
        timer.next("notifying");
        self.progress(run, "reporting").await?;
        let finish = Finish {
            status: "completed",
            mode,
            totals: serde_json::to_string(&Totals::of(&plan.rows)).unwrap_or_default(),
            guard: guard.and_then(|g| serde_json::to_string(&g).ok()),
            oneroster_version: version,
            records: i64::try_from(plan.rows.len()).unwrap_or(i64::MAX),
            ..Finish::default()
        };
        self.store_report(run, plan).await?;
        timer.next("reporting");
        if !run.dry_run
            && let Some(cursor) = cursor
        {
            self.keep_cursor(&source, cursor).await;
        }
        Ok(finish)
    }

    async fn context(&self, run: &RunRow) -> Result<(SourceRow, DistrictRow), RosterError> {
        let (source_id, district_id) = (run.source_id.clone(), run.district_id.clone());
        let (source, district) = self
            .db
            .run(move |c| {
                Ok::<_, RosterError>((
                    sync::source(c, &source_id)?,
                    crate::store::districts::get(c, &district_id)?,
                ))
            })
            .await?;
        match (source, district) {
            (Some(s), Some(d)) => Ok((s, d)),
            _ => Err(RosterError::FailedPrecondition(
                "the sync source or its district no longer exists".into(),
            )),
        }
    }

    /// The school a school-scoped source is limited to: (id, source id).
    async fn scope(&self, source: &SourceRow) -> Result<Option<(String, String)>, RosterError> {
        let Some(school_id) = source.school_id.clone() else {
            return Ok(None);
        };
        let row = self
            .db
            .run(move |c| {
                use crate::store::schema::schools;
                use diesel::prelude::*;
                schools::table
                    .find(&school_id)
                    .select((schools::id, schools::source_id))
                    .first::<(String, String)>(c)
                    .optional()
                    .map_err(RosterError::from)
            })
            .await?;
        Ok(row)
    }

    async fn progress(&self, run: &RunRow, phase: &'static str) -> Result<(), RosterError> {
        let id = run.id.clone();
        self.db
            .run(move |c| sync::progress(c, &id, phase, 0, 0).map_err(RosterError::from))
            .await
    }

    /// The bundle: from the vendor API for Clever and OneRoster REST sources,
    /// else pushed bytes, else the source's configured location.
    async fn read(
        &self,
        run: &RunRow,
        source: &SourceRow,
    ) -> Result<Result<Input, Stop>, RosterError> {
        if matches!(source.kind.as_str(), "clever" | "oneroster_rest") {
            return Ok(self.read_api(run, source).await);
        }
        let id = run.id.clone();
        let pushed = self
            .db
            .run(move |c| sync::run_input(c, &id).map_err(RosterError::from))
            .await?;
        let location = serde_json::from_str::<serde_json::Value>(&source.config)
            .ok()
            .and_then(|v| v.get("location").and_then(|l| l.as_str()).map(String::from))
            .filter(|l| !l.is_empty());
        let read = match (pushed, location) {
            (Some(bytes), _) => tokio::task::spawn_blocking(move || {
                oneroster::read_zip(Cursor::new(bytes)).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| RosterError::Internal(e.into()))?,
            (None, Some(location)) => {
                self.boundary
                    .read_bundle(&source.district_id, &location)
                    .await
            }
            (None, None) => {
                Err("the source has no bundle location and no bundle was pushed".into())
            }
        };
        Ok(read
            .map(|bundle| Input {
                bundle,
                cursor: None,
            })
            .map_err(|message| Stop {
                kind: "invalid_input",
                message,
            }))
    }

    /// Sends staff and guardians to identity in batches; fills report rows and
    /// returns person id → account id.
    async fn upsert_accounts(
        &self,
        run: &RunRow,
        source: &SourceRow,
        district: &DistrictRow,
        plan: &mut Plan,
    ) -> Result<(HashMap<String, String>, Vec<AppliedChange>), RosterError> {
        if plan.accounts.is_empty() {
            return Ok((HashMap::new(), Vec::new()));
        }
        let district_id = district.id.clone();
        let names = self
            .db
            .run(move |c| records::school_names(c, &district_id).map_err(RosterError::from))
            .await?;
        let mut labels = vec![idpb::OrgLabel {
            org_id: district.id.clone(),
            name: district.name.clone(),
        }];
        labels.extend(names.iter().map(|(id, name)| idpb::OrgLabel {
            org_id: id.clone(),
            name: name.clone(),
        }));
        // Each batch's request is built when it is sent, so at most
        // UPSERT_CONCURRENCY of them exist at once.
        let shared: &Plan = plan;
        let results: Vec<(usize, idpb::UpsertAccountsResponse)> =
            futures::stream::iter((0..shared.accounts.len()).step_by(UPSERT_BATCH))
                .map(|start| {
                    let work =
                        &shared.accounts[start..(start + UPSERT_BATCH).min(shared.accounts.len())];
                    let request = idpb::UpsertAccountsRequest {
                        district_id: district.id.clone(),
                        source_system: source.id.clone(),
                        accounts: work
                            .iter()
                            .filter_map(|w| account_upsert(shared, source, district, w))
                            .collect(),
                        org_labels: labels.clone(),
                        dry_run: run.dry_run,
                        phone_region: district.default_phone_region.clone(),
                    };
                    async move {
                        let response = self.accounts.upsert(request).await.map_err(|s| {
                            RosterError::Unavailable(format!(
                                "identity-svc did not take the accounts: {}",
                                s.message()
                            ))
                        })?;
                        Ok::<_, RosterError>((start, response))
                    }
                })
                .buffered(UPSERT_CONCURRENCY)
                .try_collect()
                .await?;
        let mut accounts = HashMap::new();
        let mut changes = Vec::new();
        // The work is set aside while results are applied to the plan's rows,
        // so no entry is copied.
        let work = std::mem::take(&mut plan.accounts);
        for (start, response) in results {
            let batch = &work[start..(start + UPSERT_BATCH).min(work.len())];
            for (w, r) in batch.iter().zip(response.results) {
                apply_result(plan, w, r, &mut accounts, &mut changes);
            }
        }
        plan.accounts = work;
        Ok((accounts, changes))
    }

    async fn write(
        &self,
        run: &RunRow,
        district: &DistrictRow,
        source: &SourceRow,
        plan: Arc<Plan>,
        accounts: HashMap<String, String>,
        invitees: Vec<String>,
    ) -> Result<(), RosterError> {
        let (district_id, source_id, run_id) =
            (district.id.clone(), source.id.clone(), run.id.clone());
        let written = self
            .db
            .transaction(move |c| {
                homeroom_platform::db::prefer_custom_plans(c)?;
                let now = now();
                let n = records::apply(c, &district_id, &source_id, &plan, &accounts, now)?;
                // Owed with the records, so a crash after this loses none.
                invitations::owe(c, &run_id, &district_id, &invitees, now, now + INVITE_HOLD)?;
                Ok::<_, RosterError>(n)
            })
            .await?;
        tracing::info!(run_id = %run.id, written, "roster records written");
        self.db
            .after_bulk_write(written as u64, records::BULK_TABLES)
            .await?;
        Ok(())
    }

    async fn deactivate_accounts(
        &self,
        run: &RunRow,
        district: &DistrictRow,
        source: &SourceRow,
        plan: &Plan,
    ) -> Result<(), RosterError> {
        for chunk in plan.deactivated_accounts.chunks(UPSERT_BATCH) {
            self.accounts
                .deactivate(idpb::DeactivateAccountsRequest {
                    district_id: district.id.clone(),
                    source_system: source.id.clone(),
                    source_ids: chunk.to_vec(),
                    account_ids: vec![],
                    dry_run: false,
                    reason: format!("missing from sync run {}", run.id),
                })
                .await
                .map_err(|s| {
                    RosterError::Unavailable(format!(
                        "identity-svc did not deactivate the accounts: {}",
                        s.message()
                    ))
                })?;
        }
        Ok(())
    }

    /// RO-6 notices for applied contact changes. Failures are logged: the
    /// sync stands.
    async fn notify(
        &self,
        run: &RunRow,
        district: &DistrictRow,
        plan: &Plan,
        changes: &[AppliedChange],
    ) {
        for n in notices(run, district, plan, changes) {
            let masked = mask_address(&n.address);
            if let Err(status) = self.notices.send(n).await {
                tracing::warn!(address = %masked, error = %status.message(), "contact change notice not sent");
            }
        }
    }

    /// Sends owed invitations to identity-svc, 1,000 at a time: a run's
    /// (right after it finishes), or, with `None`, any run's that are due
    /// (left by a crash or an identity outage). Invitations identity does not
    /// take are retried later with backoff. Returns how many it took.
    pub async fn send_invitations(&self, run_id: Option<&str>) -> Result<u64, RosterError> {
        let mut sent = 0;
        loop {
            let run = run_id.map(String::from);
            let batch = self
                .db
                .transaction(move |c| {
                    let now = now();
                    let owed = invitations::owed(c, run.as_deref(), now, 1_000)?;
                    // One run's at a time; held while this process sends them.
                    let Some(first) = owed.first().map(|o| o.run_id.clone()) else {
                        return Ok::<_, RosterError>(None);
                    };
                    let owed: Vec<_> = owed.into_iter().filter(|o| o.run_id == first).collect();
                    let ids: Vec<String> = owed.iter().map(|o| o.account_id.clone()).collect();
                    invitations::hold(c, &first, &ids, now + INVITE_HOLD)?;
                    Ok(Some(owed))
                })
                .await?;
            let Some(owed) = batch else {
                return Ok(sent);
            };
            let (run, district) = (owed[0].run_id.clone(), owed[0].district_id.clone());
            let ids: Vec<String> = owed.iter().map(|o| o.account_id.clone()).collect();
            let attempts = owed.iter().map(|o| o.attempts).max().unwrap_or(0);
            let request = idpb::InviteAccountsRequest {
                district_id: district,
                account_ids: ids.clone(),
                resend: false,
                idempotency_key: format!("{run}:invite:{}", ids[0]),
            };
            match self.accounts.invite(request).await {
                Ok(_) => {
                    sent += ids.len() as u64;
                    self.db
                        .run(move |c| invitations::sent(c, &run, &ids).map_err(RosterError::from))
                        .await?;
                }
                Err(status) => {
                    tracing::warn!(error = %status.message(), attempts, "invitations not sent; retrying later");
                    let retry = now() + invite_backoff(attempts);
                    self.db
                        .run(move |c| {
                            invitations::failed(c, &run, &ids, retry).map_err(RosterError::from)
                        })
                        .await?;
                    return Ok(sent);
                }
            }
        }
    }

    /// Stores the report. A large one on PostgreSQL is written in two halves
    /// on two connections at once (the database and this process each keep a
    /// core busy); if either fails, neither is kept.
    async fn store_report(&self, run: &RunRow, plan: Arc<Plan>) -> Result<(), RosterError> {
        let halves = if self.db.backend() == Backend::Postgres && plan.rows.len() >= SPLIT_REPORT {
            2
        } else {
            1
        };
        let part = plan.rows.len().div_ceil(halves);
        let writes = (0..halves).map(|h| {
            let (id, plan) = (run.id.clone(), plan.clone());
            self.db.transaction(move |c| {
                let start = (h * part).min(plan.rows.len());
                let rows = &plan.rows[start..(start + part).min(plan.rows.len())];
                sync::insert_report_part(c, &id, rows, start).map_err(RosterError::from)
            })
        });
        let written = match futures::future::try_join_all(writes).await {
            Ok(parts) => parts.into_iter().sum::<usize>(),
            Err(e) => {
                let id = run.id.clone();
                if halves > 1 {
                    self.db
                        .run(move |c| sync::delete_report(c, &id).map_err(RosterError::from))
                        .await?;
                }
                return Err(e);
            }
        };
        self.db
            .after_bulk_write(written as u64, &["sync_report_rows"])
            .await?;
        Ok(())
    }
}

/// Report rows from which PostgreSQL writes a report in two halves at once.
const SPLIT_REPORT: usize = 50_000;

/// How long invitations stay with the process sending them (a run's are left
/// to it this long before any sweeper may take them).
const INVITE_HOLD: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Wait before retrying invitations identity did not take: 1, 2, 4 … 60 min.
fn invite_backoff(attempts: i32) -> chrono::TimeDelta {
    chrono::TimeDelta::minutes(1_i64 << attempts.clamp(0, 6)).min(chrono::TimeDelta::minutes(60))
}

/// New staff and guardians with accounts, when the source invites.
pub(crate) fn invitees(plan: &Plan, source: &SourceRow) -> Vec<String> {
    if !source.send_invitations {
        return Vec::new();
    }
    plan.rows
        .iter()
        .filter(|r| r.action == Action::Created)
        .filter(|r| matches!(r.entity, Entity::Staff | Entity::Guardian))
        .filter_map(|r| r.account_id.as_deref().map(String::from))
        .collect()
}

/// Logs how long each phase of a run took.
struct PhaseTimer(std::time::Instant);

impl PhaseTimer {
    fn start() -> PhaseTimer {
        PhaseTimer(std::time::Instant::now())
    }

    fn next(&mut self, finished: &'static str) {
        let ms = self.0.elapsed().as_millis();
        let (rss_mib, peak_mib) = homeroom_platform::telemetry::memory_mib();
        tracing::info!(phase = finished, ms, rss_mib, peak_mib, "sync phase done");
        metrics::histogram!("homeroom_sync_phase_seconds", "component" => "roster", "phase" => finished)
            .record(self.0.elapsed().as_secs_f64());
        self.0 = std::time::Instant::now();
    }
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

fn failed(stop: Stop, plan: Option<&Plan>) -> Finish {
    Finish {
        status: "failed",
        failure_kind: Some(stop.kind),
        failure_message: Some(stop.message),
        totals: plan
            .and_then(|p| serde_json::to_string(&Totals::of(&p.rows)).ok())
            .unwrap_or_else(|| "{}".into()),
        guard: plan
            .and_then(|p| p.guard)
            .and_then(|g| serde_json::to_string(&g).ok()),
        records: plan.map_or(0, |p| i64::try_from(p.rows.len()).unwrap_or(i64::MAX)),
        ..Finish::default()
    }
}

/// The AccountUpsert for one person.
fn account_upsert(
    plan: &Plan,
    source: &SourceRow,
    district: &DistrictRow,
    w: &AccountWork,
) -> Option<idpb::AccountUpsert> {
    let p = plan.people_after.get(&w.person_id)?;
    let d = &p.data;
    let (kind, roles) = match d.kind {
        PersonKind::Guardian => (
            idpb::AccountKind::Guardian,
            vec![role(idpb::Role::Guardian, &district.id, "")],
        ),
        // A student account (the source's student_account_grades) is for
        // receiving and signing in to its own account; it holds no role.
        PersonKind::Student => (idpb::AccountKind::Student, Vec::new()),
        PersonKind::Staff => {
            let r = if d.role == "teacher" {
                idpb::Role::Teacher
            } else {
                idpb::Role::Staff
            };
            let schools: Vec<&str> = d.school_ids.split(' ').filter(|s| !s.is_empty()).collect();
            let roles = if schools.is_empty() {
                vec![role(r, &district.id, "")]
            } else {
                schools.iter().map(|s| role(r, &district.id, s)).collect()
            };
            (idpb::AccountKind::Staff, roles)
        }
    };
    let linked_students = (d.kind == PersonKind::Guardian).then(|| idpb::LinkedStudentList {
        students: plan
            .guardian_students
            .get(&w.person_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|s| plan.people_after.get(s).map(|st| (s, st)))
                    .filter(|(_, st)| st.active)
                    .map(|(s, st)| idpb::LinkedStudent {
                        student_id: s.clone(),
                        display_name: st.data.display_name(),
                        school_id: st.data.school_id.clone().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    });
    Some(idpb::AccountUpsert {
        source_id: p.source_id.clone(),
        account_id: String::new(),
        kind: kind.into(),
        given_name: d.given_name.clone(),
        middle_name: d.middle_name.clone().unwrap_or_default(),
        family_name: d.family_name.clone(),
        preferred_language: d.preferred_language.clone(),
        email: Some(d.email.clone().unwrap_or_default()),
        // A student account is reached at its SIS email only.
        mobile_phone: (d.kind != PersonKind::Student).then(|| d.phone.clone().unwrap_or_default()),
        home_phone: (d.kind != PersonKind::Student)
            .then(|| d.home_phone.clone().unwrap_or_default()),
        roles,
        contact_managed_by_sync: source.update_active_user_contacts,
        linked_students,
        sign_in_disabled: d.sign_in_disabled,
    })
}

fn role(r: idpb::Role, district_id: &str, school_id: &str) -> idpb::RoleAssignment {
    idpb::RoleAssignment {
        role: r.into(),
        district_id: district_id.into(),
        school_id: school_id.into(),
        sync_managed: true,
    }
}

/// Folds identity's answer for one person into its report row.
fn apply_result(
    plan: &mut Plan,
    w: &AccountWork,
    r: idpb::AccountUpsertResult,
    accounts: &mut HashMap<String, String>,
    changes: &mut Vec<AppliedChange>,
) {
    let Some(row) = plan.rows.get_mut(w.row) else {
        return;
    };
    let outcome =
        idpb::UpsertOutcome::try_from(r.outcome).unwrap_or(idpb::UpsertOutcome::Unspecified);
    if outcome == idpb::UpsertOutcome::Error {
        row.action = Action::Error;
        row.push_note(format!("identity: {}", r.error));
        return;
    }
    if !r.account_id.is_empty() {
        row.account_id = Some(r.account_id.as_str().into());
        accounts.insert(w.person_id.clone(), r.account_id);
    }
    // RO-8: the record's account was merged into another: it updates that one.
    if !r.merged_into_name.is_empty() {
        row.push_note(format!("merged into {}", r.merged_into_name));
    }
    if row.action == Action::Unchanged && outcome == idpb::UpsertOutcome::Updated {
        row.action = Action::Updated;
        row.push_changed_fields(r.changed_fields.iter().cloned());
    }
    for d in &r.contact_differences_not_applied {
        let what = match idpb::ContactField::try_from(d.field) {
            Ok(idpb::ContactField::Email) => "email",
            Ok(idpb::ContactField::MobilePhone) => "phone",
            Ok(idpb::ContactField::HomePhone) => "home phone",
            _ => "name",
        };
        row.push_note(format!(
            "Active user has a new {what} in the SIS import - {}",
            d.current_value
        ));
    }
    for d in r.contact_changes_applied {
        row.push_note(format!(
            "contact change applied to an active user ({}); the user is notified",
            field_name(d.field)
        ));
        if let Some(account_id) = row.account_id.as_deref().map(String::from) {
            changes.push(AppliedChange {
                person_id: w.person_id.clone(),
                account_id,
                field: d.field,
                previous: d.current_value,
                previous_shared: d.current_value_other_holders > 0,
            });
        }
    }
}

fn field_name(field: i32) -> &'static str {
    match idpb::ContactField::try_from(field) {
        Ok(idpb::ContactField::Email) => "email",
        Ok(idpb::ContactField::MobilePhone) => "mobile phone",
        Ok(idpb::ContactField::HomePhone) => "home phone",
        Ok(idpb::ContactField::GivenName) => "given name",
        Ok(idpb::ContactField::MiddleName) => "middle name",
        Ok(idpb::ContactField::FamilyName) => "family name",
        _ => "contact",
    }
}

/// RO-6 ON: a contact change identity applied to an active account.
#[derive(Debug, Clone)]
pub struct AppliedChange {
    person_id: String,
    account_id: String,
    field: i32,
    previous: String,
    /// Other accounts still hold the previous email or phone.
    previous_shared: bool,
}

/// RO-6 ON: one notice per applied change, to the previous address when an
/// email or phone changed (so its owner learns of it), else to the person's
/// email, else their phone.
fn notices(
    run: &RunRow,
    district: &DistrictRow,
    plan: &Plan,
    changes: &[AppliedChange],
) -> Vec<mpb::SendSystemMessageRequest> {
    changes
        .iter()
        .filter_map(|ch| {
            let p = plan.people_after.get(&ch.person_id)?;
            let field = idpb::ContactField::try_from(ch.field).ok()?;
            // To the previous address when there is one: then whether others
            // still hold it says whether the text must name its account.
            let (channel, address, new_value) = match field {
                idpb::ContactField::Email => (
                    mpb::Channel::Email,
                    non_empty(&ch.previous).or(p.data.email.clone())?,
                    p.data.email.clone().unwrap_or_default(),
                ),
                idpb::ContactField::MobilePhone => (
                    mpb::Channel::Sms,
                    non_empty(&ch.previous).or(p.data.phone.clone())?,
                    p.data.phone.clone().unwrap_or_default(),
                ),
                idpb::ContactField::HomePhone => return None,
                _ => match (&p.data.email, &p.data.phone) {
                    (Some(e), _) => (mpb::Channel::Email, e.clone(), p.data.display_name()),
                    (None, Some(ph)) => (mpb::Channel::Sms, ph.clone(), p.data.display_name()),
                    (None, None) => return None,
                },
            };
            let masked = if matches!(
                field,
                idpb::ContactField::Email | idpb::ContactField::MobilePhone
            ) {
                mask_address(&new_value).to_string()
            } else {
                new_value
            };
            Some(mpb::SendSystemMessageRequest {
                idempotency_key: format!("{}:{}:{}", run.id, ch.account_id, field_name(ch.field)),
                district_id: district.id.clone(),
                kind: mpb::SystemMessageKind::ContactChangedNotice.into(),
                account_id: ch.account_id.clone(),
                first_name: p.data.given_name.clone(),
                channel: channel.into(),
                address_shared: ch.previous_shared && address == ch.previous,
                address,
                language: p.data.preferred_language.clone().unwrap_or_default(),
                variables: [
                    ("field".to_string(), field_name(ch.field).to_string()),
                    ("new_value_masked".to_string(), masked),
                    ("district_name".to_string(), district.name.clone()),
                ]
                .into_iter()
                .collect(),
            })
        })
        .collect()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}
