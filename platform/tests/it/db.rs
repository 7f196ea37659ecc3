//! The database layer on the backend the environment selects (SQLite by
//! default, PostgreSQL with `TEST_DATABASE_URL`).

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use homeroom_platform::{
    db::{Backend, DbError, Migrations},
    testing::{TestDb, assert_migration_trees_match},
};

static PROBE_MIGRATIONS: Migrations = Migrations {
    postgres: diesel_migrations::embed_migrations!("tests/migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("tests/migrations/sqlite"),
    after: Migrations::NOTHING_AFTER,
};

diesel::table! {
    probes (id) {
        id -> Text,
        label -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Insertable, Selectable)]
#[diesel(table_name = probes)]
struct Probe {
    id: String,
    label: String,
    active: bool,
    created_at: NaiveDateTime,
}

fn probe(label: &str) -> Probe {
    Probe {
        id: uuid::Uuid::now_v7().to_string(),
        label: label.into(),
        active: true,
        // Both backends keep microseconds.
        created_at: Utc::now().naive_utc().with_nanosecond_rounded(),
    }
}

trait Micros {
    fn with_nanosecond_rounded(self) -> Self;
}
impl Micros for NaiveDateTime {
    fn with_nanosecond_rounded(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(self.nanosecond() / 1000 * 1000)
            .unwrap_or(self)
    }
}

#[derive(Debug, thiserror::Error)]
enum TestError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("rolled back on purpose")]
    OnPurpose,
}

#[tokio::test]
async fn the_probe_trees_have_identical_names() {
    assert_migration_trees_match(&PROBE_MIGRATIONS).unwrap();
}

#[tokio::test]
async fn migrate_insert_and_read_back() {
    let test_db = TestDb::migrated(&PROBE_MIGRATIONS).await.unwrap();
    let expected_backend = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    assert_eq!(test_db.backend(), expected_backend);

    let new = probe("first");
    let row = new.clone();
    test_db
        .db
        .run(move |c| {
            diesel::insert_into(probes::table)
                .values(&row)
                .execute(c)
                .map_err(TestError::from)
        })
        .await
        .unwrap();
    let read: Vec<Probe> = test_db
        .db
        .run(|c| {
            probes::table
                .select(Probe::as_select())
                .load(c)
                .map_err(TestError::from)
        })
        .await
        .unwrap();
    assert_eq!(read, vec![new]);
}

#[tokio::test]
async fn a_failed_transaction_leaves_nothing_behind() {
    let test_db = TestDb::migrated(&PROBE_MIGRATIONS).await.unwrap();
    let result: Result<(), TestError> = test_db
        .db
        .transaction(|c| {
            diesel::insert_into(probes::table)
                .values(&probe("doomed"))
                .execute(c)?;
            Err(TestError::OnPurpose)
        })
        .await;
    assert!(matches!(result, Err(TestError::OnPurpose)));

    let count: i64 = test_db
        .db
        .run(|c| probes::table.count().get_result(c).map_err(TestError::from))
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn migrations_run_once() {
    let test_db = TestDb::empty().await.unwrap();
    assert_eq!(test_db.db.migrate(&PROBE_MIGRATIONS).await.unwrap(), 1);
    assert_eq!(test_db.db.migrate(&PROBE_MIGRATIONS).await.unwrap(), 0);
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    let test_db = TestDb::empty().await.unwrap();
    if test_db.backend() != Backend::Sqlite {
        return;
    }
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Fk {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        foreign_keys: i32,
    }
    let (mode, fk) = test_db
        .db
        .run(|c| {
            let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(c)?;
            let fk: Fk = diesel::sql_query("PRAGMA foreign_keys").get_result(c)?;
            Ok::<_, TestError>((mode.journal_mode, fk.foreign_keys))
        })
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
}
