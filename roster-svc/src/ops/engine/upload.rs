//! RO-7: a guardian upload as a sync run of its scope's UPLOAD source: read
//! the stored file, plan it against what earlier uploads made, then the same
//! guard, identity upserts, writes, invitations and report as any sync, plus
//! the result file's rows and the upload's counts.

use std::sync::Arc;

use homeroom_platform::contact::Region;

use super::{Engine, PhaseTimer, Stop, failed};
use crate::{
    domain::{
        error::RosterError,
        report::Totals,
        upload::{UploadContext, UploadPlan, plan_upload},
    },
    store::{
        districts::DistrictRow,
        records,
        sync::{self, Finish, RunRow, SourceRow},
        uploads,
    },
    upload::file,
};

impl Engine {
    /// Runs one upload to its end.
    pub(super) async fn upload(
        &self,
        run: &RunRow,
        source: &SourceRow,
        district: &DistrictRow,
    ) -> Result<Finish, RosterError> {
        let mut timer = PhaseTimer::start();
        let id = run.id.clone();
        let bytes = self
            .db
            .run(move |c| sync::run_input(c, &id).map_err(RosterError::from))
            .await?
            .unwrap_or_default();
        let parsed = tokio::task::spawn_blocking(move || file::read(&bytes))
            .await
            .map_err(|e| RosterError::Internal(e.into()))?;
        let parsed = match parsed {
            Ok(f) => f,
            Err(e) => {
                return Ok(failed(
                    Stop {
                        kind: "invalid_input",
                        message: e.to_string(),
                    },
                    None,
                ));
            }
        };
        let total = i64::try_from(parsed.rows.len()).unwrap_or(i64::MAX);
        let encoding = parsed.encoding.as_str();
        self.upload_progress(run, "planning", 0, total).await?;
        timer.next("reading");

        let (district_id, source_id, school_id) = (
            district.id.clone(),
            source.id.clone(),
            source.school_id.clone(),
        );
        let (state, students, active) = self
            .db
            .run(move |c| {
                let mut state = records::load_state(c, &district_id, &source_id)?;
                state.people = records::load_people(c, &district_id, &source_id)?;
                Ok::<_, RosterError>((
                    state,
                    uploads::students(c, &district_id, school_id.as_deref())?,
                    records::active_people(c, &district_id)?,
                ))
            })
            .await?;
        let ctx = UploadContext {
            phone_region: Region::parse(&district.default_phone_region).unwrap_or_default(),
            languages: district
                .supported_languages
                .split(' ')
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            abandon: self.abandons(run).await?,
            active_people_in_district: active,
            threshold_percent: u32::try_from(source.deactivation_threshold_percent).unwrap_or(20),
        };
        let mut up =
            tokio::task::spawn_blocking(move || plan_upload(&parsed.rows, &students, &state, &ctx))
                .await
                .map_err(|e| RosterError::Internal(e.into()))?;
        timer.next("planning");

        let guard = up.plan.guard;
        if let Some(g) = guard
            && g.exceeded
            && !run.forced
        {
            let finish = Finish {
                records: total,
                ..failed(
                    Stop {
                        kind: "deactivation_guard",
                        message: g.message().replace("The sync", "The upload"),
                    },
                    Some(&up.plan),
                )
            };
            self.store_upload(run, encoding, up).await?;
            return Ok(finish);
        }
        self.upload_progress(run, "applying", 0, total).await?;
        let (accounts, changes) = self
            .upsert_accounts(run, source, district, &mut up.plan)
            .await?;
        up.settle();
        let mut invited = 0;
        if !run.dry_run {
            let plan = Arc::new(std::mem::take(&mut up.plan));
            timer.next("identity");
            let owed = super::invitees(&plan, source);
            invited = owed.len() as u64;
            self.write(run, district, source, plan.clone(), accounts, owed)
                .await?;
            timer.next("writing");
            self.deactivate_accounts(run, district, source, &plan)
                .await?;
            self.notify(run, district, &plan, &changes).await;
            up.plan = Arc::try_unwrap(plan).unwrap_or_else(|p| (*p).clone());
        }
        self.upload_progress(run, "reporting", total, total).await?;
        let finish = Finish {
            status: "completed",
            mode: Some("delta"),
            totals: serde_json::to_string(&Totals::of(&up.plan.rows)).unwrap_or_default(),
            guard: guard.and_then(|g| serde_json::to_string(&g).ok()),
            records: total,
            ..Finish::default()
        };
        let mut counts = up.counts();
        counts.invitations_sent = invited;
        self.store_upload_with(run, encoding, up, counts).await?;
        timer.next("reporting");
        Ok(finish)
    }

    async fn abandons(&self, run: &RunRow) -> Result<bool, RosterError> {
        let id = run.id.clone();
        let row = self
            .db
            .run(move |c| uploads::get(c, &id).map_err(RosterError::from))
            .await?;
        Ok(row.is_some_and(|(_, u)| u.abandon))
    }

    async fn upload_progress(
        &self,
        run: &RunRow,
        phase: &'static str,
        done: i64,
        total: i64,
    ) -> Result<(), RosterError> {
        let id = run.id.clone();
        self.db
            .run(move |c| sync::progress(c, &id, phase, done, total).map_err(RosterError::from))
            .await
    }

    async fn store_upload(
        &self,
        run: &RunRow,
        encoding: &'static str,
        up: UploadPlan,
    ) -> Result<(), RosterError> {
        let counts = up.counts();
        self.store_upload_with(run, encoding, up, counts).await
    }

    /// The report rows, the result rows and the counts, in one transaction.
    async fn store_upload_with(
        &self,
        run: &RunRow,
        encoding: &'static str,
        up: UploadPlan,
        counts: crate::domain::upload::UploadCounts,
    ) -> Result<(), RosterError> {
        let id = run.id.clone();
        let counts = serde_json::to_string(&counts).unwrap_or_default();
        let written = self
            .db
            .transaction(move |c| {
                let mut n = sync::insert_report(c, &id, &up.plan.rows)?;
                n += uploads::insert_results(c, &id, &up.results)?;
                uploads::set_outcome(c, &id, encoding, &counts)?;
                Ok::<_, RosterError>(n)
            })
            .await?;
        self.db
            .after_bulk_write(
                written as u64,
                &["sync_report_rows", "guardian_upload_rows"],
            )
            .await?;
        Ok(())
    }
}
