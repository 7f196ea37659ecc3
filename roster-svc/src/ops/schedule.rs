//! RO-2: daily scheduled syncs. Every tick looks at the sources with a daily
//! time that are not paused, works out the latest instant the time fell on in
//! the district's time zone, and queues one run for it unless one was queued
//! already. The run's idempotency key `schedule:<instant>` and the unique
//! (source, key) index make that exactly one run across every replica; the
//! [`super::runner::Runner`] lease then runs it. Only the latest instant is
//! ever queued, so a service that was down for days runs once when it is back.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use homeroom_platform::db::{Db, DbError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::sources::StoredConfig;
use crate::{
    domain::error::RosterError,
    store::sync::{self, RunRow, SourceRow},
};

/// How often the scheduler looks for due sources.
pub const EVERY: Duration = Duration::from_secs(30);

/// A source's daily time, where it applies, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Daily {
    /// The wall-clock time.
    pub time: NaiveTime,
    /// The district's time zone.
    pub zone: Tz,
    /// Instants before this are never due (the time was set, or the source
    /// unpaused, later).
    pub from: DateTime<Utc>,
}

impl Daily {
    /// The schedule of a source in a district's time zone; `None` when it
    /// runs on demand only, is paused or deleted, or the zone is unknown.
    pub fn of(source: &SourceRow, time_zone: &str) -> Option<Daily> {
        if source.paused || source.deleted {
            return None;
        }
        let time = NaiveTime::parse_from_str(source.daily_at.as_deref()?, "%H:%M").ok()?;
        let zone: Tz = time_zone.parse().ok()?;
        let from = StoredConfig::parse(&source.config)
            .schedule_from
            .unwrap_or_else(|| source.created_at.and_utc());
        Some(Daily { time, zone, from })
    }

    /// The latest instant at or before `now` (and not before `from`).
    pub fn due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.instants(now)
            .filter(|at| *at <= now)
            .max()
            .filter(|at| *at >= self.from)
    }

    /// The first instant after `now` (and not before `from`).
    pub fn next(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let after = now.max(self.from - chrono::Duration::nanoseconds(1));
        self.instants(after).filter(|at| *at > after).min()
    }

    /// The time on the days around `now`'s local date.
    fn instants(&self, now: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let today = now.with_timezone(&self.zone).date_naive();
        (-2..=2_i64).filter_map(move |offset| {
            let day = today.checked_add_signed(chrono::Duration::days(offset))?;
            at(day, self.time, self.zone)
        })
    }
}

/// `time` on `day` in `zone`: the earlier of a repeated hour (clocks back),
/// an hour later inside a skipped one (clocks forward).
fn at(day: NaiveDate, time: NaiveTime, zone: Tz) -> Option<DateTime<Utc>> {
    let local = day.and_time(time);
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// The idempotency key of the scheduled run for `due`.
pub fn key(due: DateTime<Utc>) -> String {
    format!(
        "schedule:{}",
        due.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// Queues the due daily runs.
#[derive(Clone)]
pub struct Scheduler {
    db: Db,
    wake: Arc<Notify>,
    every: Duration,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler that looks every [`EVERY`]; `wake` is the runners'.
    pub fn new(db: Db, wake: Arc<Notify>) -> Scheduler {
        Scheduler {
            db,
            wake,
            every: EVERY,
        }
    }

    /// Looks every `every` instead.
    pub fn every(mut self, every: Duration) -> Scheduler {
        self.every = every;
        self
    }

    /// Ticks until `stop` is cancelled.
    pub async fn run_until(self, stop: CancellationToken) {
        loop {
            if let Err(e) = self.tick(Utc::now()).await {
                tracing::warn!(error = %e, "sync scheduler could not look for due sources");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(self.every) => {}
            }
        }
    }

    /// Queues a run for every source due at `now` that has none for its due
    /// instant yet; returns the runs this call queued.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<RunRow>, RosterError> {
        let sources = self
            .db
            .run(|c| sync::scheduled_sources(c).map_err(RosterError::from))
            .await?;
        let mut queued = Vec::new();
        for (source, time_zone) in sources {
            let Some(daily) = Daily::of(&source, &time_zone) else {
                tracing::warn!(source_id = %source.id, time_zone, "scheduled source skipped: unknown time zone or time");
                continue;
            };
            let Some(due) = daily.due(now) else {
                continue;
            };
            if source.kind == "oneroster_csv" && super::sources::location(&source).is_empty() {
                tracing::debug!(source_id = %source.id, "scheduled csv source has no location");
                continue;
            }
            match self.queue(&source, due).await {
                Ok(Some(run)) => {
                    tracing::info!(source_id = %source.id, run_id = %run.id, due = %due, "scheduled sync queued");
                    self.wake.notify_one();
                    queued.push(run);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(source_id = %source.id, error = %e, "scheduled sync not queued");
                }
            }
        }
        Ok(queued)
    }

    /// Queues the run for `due`; `None` when it was queued already (here or
    /// by another replica).
    async fn queue(
        &self,
        source: &SourceRow,
        due: DateTime<Utc>,
    ) -> Result<Option<RunRow>, RosterError> {
        let run = scheduled_run(source, key(due));
        let queued = self
            .db
            .transaction(move |c| {
                let key = run.idempotency_key.as_deref().unwrap_or_default();
                if sync::run_by_key(c, &run.source_id, key)?.is_some() {
                    return Ok::<_, DbError>(None);
                }
                sync::insert_run(c, &run, None)?;
                Ok(Some(run))
            })
            .await;
        match queued {
            Ok(run) => Ok(run),
            // Another replica inserted the same key between our read and write.
            Err(DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            ))) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

fn scheduled_run(source: &SourceRow, key: String) -> RunRow {
    RunRow {
        idempotency_key: Some(key),
        ..RunRow::queued(source, "schedule", Utc::now().naive_utc())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn daily(time: &str, zone: &str, from: &str) -> Daily {
        Daily {
            time: NaiveTime::parse_from_str(time, "%H:%M").unwrap(),
            zone: zone.parse().unwrap(),
            from: utc(from),
        }
    }

    #[test]
    fn the_due_instant_is_the_latest_daily_time_in_the_districts_zone() {
        let d = daily("02:30", "America/Chicago", "2026-01-01T00:00:00Z");
        // 2026-03-02 10:00 UTC is 04:00 in Chicago (CST, UTC-6).
        let now = utc("2026-03-02T10:00:00Z");
        assert_eq!(d.due(now), Some(utc("2026-03-02T08:30:00Z")));
        assert_eq!(d.next(now), Some(utc("2026-03-03T08:30:00Z")));
        // 01:00 in Chicago: today's time has not come, yesterday's is due.
        let early = utc("2026-03-02T07:00:00Z");
        assert_eq!(d.due(early), Some(utc("2026-03-01T08:30:00Z")));
        assert_eq!(d.next(early), Some(utc("2026-03-02T08:30:00Z")));
    }

    #[test]
    fn nothing_is_due_before_the_schedule_was_set() {
        let d = daily("02:30", "UTC", "2026-03-02T12:00:00Z");
        assert_eq!(d.due(utc("2026-03-02T13:00:00Z")), None);
        assert_eq!(
            d.next(utc("2026-03-02T13:00:00Z")),
            Some(utc("2026-03-03T02:30:00Z"))
        );
        assert_eq!(
            d.due(utc("2026-03-05T13:00:00Z")),
            Some(utc("2026-03-05T02:30:00Z"))
        );
    }

    #[test]
    fn a_time_the_clocks_skip_runs_an_hour_later_and_a_repeated_one_runs_once() {
        // 2026-03-08: New York skips 02:00-03:00.
        let skipped = daily("02:30", "America/New_York", "2026-01-01T00:00:00Z");
        assert_eq!(
            skipped.due(utc("2026-03-08T12:00:00Z")),
            Some(utc("2026-03-08T07:30:00Z"))
        );
        // 2026-11-01: 01:30 happens twice; the first (EDT, UTC-4) counts.
        let repeated = daily("01:30", "America/New_York", "2026-01-01T00:00:00Z");
        assert_eq!(
            repeated.due(utc("2026-11-01T12:00:00Z")),
            Some(utc("2026-11-01T05:30:00Z"))
        );
    }

    #[test]
    fn keys_name_the_due_instant() {
        assert_eq!(
            key(utc("2026-03-02T08:30:00Z")),
            "schedule:2026-03-02T08:30:00Z"
        );
    }
}
