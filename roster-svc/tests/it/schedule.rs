//! The daily schedule (RO-2) against a real database, with the clock passed
//! in: one run per due time however many replicas tick, a missed day runs
//! once, paused and not-yet-due sources queue nothing, and the queued run
//! goes through the runner like any other.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use roster_svc::{
    grpc::convert,
    ops::{
        runner::Runner,
        runs,
        schedule::{self, Daily, Scheduler},
        sources::{self, SourceInput},
    },
    store::sync::{RunRow, SourceRow},
};
use tokio::sync::Notify;

use crate::sync_engine::{CLASSES, ENROLLMENTS, Fixture, ORGS, USERS, service, write};

const ZONE: &str = "America/New_York";

async fn scheduled(f: &Fixture, daily_at: &str, paused: bool) -> SourceRow {
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    let input = SourceInput {
        daily_at: Some(daily_at.into()),
        paused,
        ..f.csv_source()
    };
    sources::create(&f.ctx, &service(), input).await.unwrap()
}

fn scheduler(f: &Fixture) -> Scheduler {
    Scheduler::new(f.ctx.db.clone(), f.ctx.wake.clone())
}

async fn runs_of(f: &Fixture, source: &str) -> Vec<RunRow> {
    runs::list(
        &f.ctx.db,
        &service(),
        &f.district_id,
        Some(source.to_string()),
        vec![],
        None,
        100,
    )
    .await
    .unwrap()
}

/// The due instant the schedule of `source` has at `now`.
fn due(source: &SourceRow, now: DateTime<Utc>) -> DateTime<Utc> {
    Daily::of(source, ZONE).unwrap().due(now).unwrap()
}

/// `HH:MM` in the district's zone, `ahead` from now.
fn local_time(ahead: Duration) -> String {
    let zone: chrono_tz::Tz = ZONE.parse().unwrap();
    (Utc::now() + ahead)
        .with_timezone(&zone)
        .format("%H:%M")
        .to_string()
}

#[tokio::test]
async fn a_due_source_queues_exactly_one_run_even_when_two_schedulers_tick_at_once() {
    let f = Fixture::new().await;
    let source = scheduled(&f, "02:30", false).await;
    let (one, two) = (scheduler(&f), scheduler(&f));
    let start = Utc::now();
    for day in 2..5 {
        let now = start + Duration::days(day);
        let (a, b) = tokio::join!(one.tick(now), two.tick(now));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.len() + b.len(), 1, "day {day}: {a:?} {b:?}");
        // Later ticks for the same due time are no-ops.
        assert!(one.tick(now).await.unwrap().is_empty());
        assert!(
            two.tick(now + Duration::minutes(1))
                .await
                .unwrap()
                .is_empty()
        );
        let key = schedule::key(due(&source, now));
        let runs = runs_of(&f, &source.id).await;
        let matching: Vec<&RunRow> = runs
            .iter()
            .filter(|r| r.idempotency_key.as_deref() == Some(key.as_str()))
            .collect();
        assert_eq!(matching.len(), 1, "{runs:?}");
        assert_eq!(matching[0].trigger_kind, "schedule");
        assert!(!matching[0].dry_run);
    }
    assert_eq!(runs_of(&f, &source.id).await.len(), 3);
}

#[tokio::test]
async fn a_run_missed_while_the_service_was_down_runs_once_not_once_a_day() {
    let f = Fixture::new().await;
    let source = scheduled(&f, "02:30", false).await;
    // Back after three and a half days: only the latest due time is queued.
    let back = Utc::now() + Duration::days(3) + Duration::hours(12);
    let queued = scheduler(&f).tick(back).await.unwrap();
    assert_eq!(queued.len(), 1);
    let latest = due(&source, back);
    assert!(back - latest < Duration::days(1));
    assert_eq!(
        queued[0].idempotency_key.as_deref(),
        Some(schedule::key(latest).as_str())
    );
    assert!(scheduler(&f).tick(back).await.unwrap().is_empty());
    assert_eq!(runs_of(&f, &source.id).await.len(), 1);
}

#[tokio::test]
async fn a_paused_source_queues_nothing_and_unpausing_does_not_start_a_run_at_once() {
    let f = Fixture::new().await;
    let source = scheduled(&f, "02:30", true).await;
    let later = Utc::now() + Duration::days(2);
    assert!(scheduler(&f).tick(later).await.unwrap().is_empty());

    let unpause = SourceInput {
        paused: false,
        ..SourceInput::default()
    };
    let paths = ["schedule.paused".to_string()];
    sources::update(&f.ctx, &service(), &source.id, unpause, &paths)
        .await
        .unwrap();
    // Yesterday's 02:30 fell while it was paused.
    let now = Utc::now() + Duration::seconds(1);
    assert!(scheduler(&f).tick(now).await.unwrap().is_empty());
    assert_eq!(scheduler(&f).tick(later).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_time_not_yet_due_queues_nothing() {
    let f = Fixture::new().await;
    let source = scheduled(&f, &local_time(Duration::hours(3)), false).await;
    let now = Utc::now();
    assert!(scheduler(&f).tick(now).await.unwrap().is_empty());
    assert!(
        scheduler(&f)
            .tick(now + Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        scheduler(&f)
            .tick(now + Duration::hours(4))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(runs_of(&f, &source.id).await.len(), 1);
}

#[tokio::test]
async fn sources_without_a_time_or_deleted_are_never_scheduled() {
    let f = Fixture::new().await;
    let on_demand = f.source(None, false).await;
    let deleted = scheduled(&f, "02:30", false).await;
    sources::delete(&f.ctx.db, &service(), &deleted.id)
        .await
        .unwrap();
    let later = Utc::now() + Duration::days(2);
    assert!(scheduler(&f).tick(later).await.unwrap().is_empty());
    assert!(runs_of(&f, &on_demand).await.is_empty());
}

#[tokio::test]
async fn the_scheduled_run_goes_through_the_runner() {
    let f = Fixture::new().await;
    let source = scheduled(&f, "02:30", false).await;
    let queued = scheduler(&f)
        .tick(Utc::now() + Duration::days(1) + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let runner = Runner::new(f.ctx.db.clone(), f.engine.clone(), Arc::new(Notify::new()));
    assert_eq!(runner.run_once().await.unwrap(), Some(queued[0].id.clone()));
    let (run, _) = runs::get(&f.ctx.db, &service(), &queued[0].id)
        .await
        .unwrap();
    assert_eq!(run.status, "completed", "{run:?}");
    assert_eq!(run.trigger_kind, "schedule");
    assert_eq!(run.source_id, source.id);
}

#[tokio::test]
async fn the_source_view_shows_the_next_run_in_the_districts_zone() {
    let f = Fixture::new().await;
    let source = scheduled(&f, "02:30", false).await;
    let now = Utc::now() + Duration::days(1);
    let view = convert::source(&source, None, "America/Chicago", now);
    let schedule = view.schedule.unwrap();
    assert_eq!(schedule.time_zone, "America/Chicago");
    let next = Daily::of(&source, "America/Chicago")
        .unwrap()
        .next(now)
        .unwrap();
    assert!(next > now && next - now <= Duration::days(1));
    assert_eq!(
        schedule.next_run_at.map(|t| t.seconds),
        Some(next.timestamp())
    );

    let paused = SourceRow {
        paused: true,
        ..source
    };
    let view = convert::source(&paused, None, "America/Chicago", now);
    assert_eq!(view.schedule.unwrap().next_run_at, None);
}

#[tokio::test]
async fn the_database_refuses_a_second_run_for_the_same_due_time() {
    let f = Fixture::new().await;
    let source = scheduled(&f, "02:30", false).await;
    let queued = scheduler(&f)
        .tick(Utc::now() + Duration::days(2))
        .await
        .unwrap();
    // What a replica that read "not queued yet" just before would insert.
    let twin = RunRow {
        id: uuid::Uuid::now_v7().to_string(),
        ..queued[0].clone()
    };
    let refused = f
        .ctx
        .db
        .run(move |c| {
            roster_svc::store::sync::insert_run(c, &twin, None)
                .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            homeroom_platform::db::DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        ),
        "{refused:?}"
    );
    assert_eq!(runs_of(&f, &source.id).await.len(), 1);
}
