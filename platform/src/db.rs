//! The database layer: one diesel code base over PostgreSQL and SQLite.
//!
//! [`DbConn`] is a `MultiConnection` enum, [`Db`] an r2d2 pool of it, and
//! [`Db::run`] the one way to reach the database from async code: the closure
//! runs on the blocking pool and keeps the caller's tracing span.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use diesel::{
    Connection,
    connection::SimpleConnection,
    pg::PgConnection,
    r2d2::{self, ManageConnection, R2D2Connection},
    sqlite::SqliteConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

/// A connection to either backend; store functions take `&mut DbConn`.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL, the production backend.
    Pg(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

impl DbConn {
    /// Which backend this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// The two supported database backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL (`postgres://` or `postgresql://` URLs).
    Postgres,
    /// SQLite (a file path, `sqlite://path` or `file:` URL).
    Sqlite,
}

impl Backend {
    /// Picks the backend from a database URL: PostgreSQL URLs by scheme, anything else is a SQLite path.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        })
    }
}

/// A service's embedded migrations, one tree per backend with identical names.
pub struct Migrations {
    /// `migrations/postgres`.
    pub postgres: EmbeddedMigrations,
    /// `migrations/sqlite`.
    pub sqlite: EmbeddedMigrations,
    /// Runs after them on every start, whether any ran or not: checks state
    /// the database derives and cannot keep itself (an index a VACUUM can
    /// invalidate); [`Migrations::NOTHING_AFTER`] when there is none.
    pub after: fn(&mut DbConn) -> Result<(), DbError>,
}

impl Migrations {
    /// For services with nothing to check after their migrations.
    pub const NOTHING_AFTER: fn(&mut DbConn) -> Result<(), DbError> = |_| Ok(());

    /// Runs every pending migration of the connection's backend, then
    /// [`Migrations::after`]; returns how many ran.
    pub fn run_pending(&self, conn: &mut DbConn) -> anyhow::Result<usize> {
        let ran = match conn {
            DbConn::Pg(c) => c
                .run_pending_migrations(Borrowed(&self.postgres))
                .map(|v| v.len()),
            DbConn::Sqlite(c) => c
                .run_pending_migrations(Borrowed(&self.sqlite))
                .map(|v| v.len()),
        };
        let ran = ran.map_err(|e| anyhow::anyhow!("running migrations failed: {e}"))?;
        (self.after)(conn).map_err(|e| {
            anyhow::anyhow!("checking the database after its migrations failed: {e}")
        })?;
        Ok(ran)
    }

    /// Migration names of each backend's tree, in order.
    pub fn names(&self) -> anyhow::Result<(Vec<String>, Vec<String>)> {
        fn names_of<DB: diesel::backend::Backend>(
            source: &EmbeddedMigrations,
        ) -> anyhow::Result<Vec<String>> {
            let migrations = diesel::migration::MigrationSource::<DB>::migrations(source)
                .map_err(|e| anyhow::anyhow!("reading migrations failed: {e}"))?;
            Ok(migrations.iter().map(|m| m.name().to_string()).collect())
        }
        Ok((
            names_of::<diesel::pg::Pg>(&self.postgres)?,
            names_of::<diesel::sqlite::Sqlite>(&self.sqlite)?,
        ))
    }
}

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrations").finish_non_exhaustive()
    }
}

/// Lends a `'static` embedded tree to diesel, which takes migration sources by value.
struct Borrowed<'a>(&'a EmbeddedMigrations);

impl<DB: diesel::backend::Backend> diesel::migration::MigrationSource<DB> for Borrowed<'_> {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        diesel::migration::MigrationSource::<DB>::migrations(self.0)
    }
}

/// Why a database call failed before or outside the query itself.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had from the pool in time.
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// The query failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// The runtime is shutting down and dropped the query's task.
    #[error("database call cancelled: the service is shutting down")]
    Cancelled,
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `postgres://…` or a SQLite file path.
    pub url: String,
    /// Most connections the pool holds.
    pub max_connections: u32,
    /// How long a caller waits for a connection.
    pub connect_timeout: Duration,
    /// The component whose pool this is, for metrics.
    pub name: &'static str,
}

impl DbSettings {
    /// Settings with defaults that suit a laptop.
    pub fn new(url: impl Into<String>) -> Self {
        DbSettings {
            url: url.into(),
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
            name: "db",
        }
    }
}

/// A pool of connections to one service's database.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    bulk: Arc<BulkWrites>,
    name: &'static str,
}

/// Rows this process wrote in bulk, and the count at which statistics are next refreshed.
#[derive(Debug, Default)]
struct BulkWrites {
    written: AtomicU64,
    next_analyze: AtomicU64,
}

/// First bulk-write count that refreshes planner statistics; then each doubling.
const FIRST_ANALYZE_AT: u64 = 2_000;

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Builds the pool without connecting: the first use (or [`Db::ping`]) connects,
    /// so a service can start and report NOT_SERVING while its database is down.
    pub fn new(settings: &DbSettings) -> anyhow::Result<Db> {
        let backend = Backend::of_url(&settings.url);
        if backend == Backend::Sqlite {
            ensure_parent_dir(sqlite_path(&settings.url))?;
        }
        let manager = Manager {
            url: sqlite_path(&settings.url).to_string(),
            backend,
        };
        let pool = r2d2::Pool::builder()
            .max_size(settings.max_connections.max(1))
            .min_idle(Some(0))
            .connection_timeout(settings.connect_timeout)
            // A query per checkout would cost a round trip on every call;
            // broken connections are dropped by `has_broken` instead.
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build_unchecked(manager);
        Ok(Db {
            pool,
            backend,
            name: settings.name,
            bulk: Arc::new(BulkWrites {
                written: AtomicU64::new(0),
                next_analyze: AtomicU64::new(FIRST_ANALYZE_AT),
            }),
        })
    }

    /// The backend this pool talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Connections held and idle now.
    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    /// Most connections the pool holds.
    pub fn max_connections(&self) -> u32 {
        self.pool.max_size()
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, inside the caller's span.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let name = self.name;
        let span = tracing::Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let waited = std::time::Instant::now();
            let conn = pool.get();
            metrics::histogram!("homeroom_db_pool_wait_seconds", "component" => name)
                .record(waited.elapsed().as_secs_f64());
            let mut conn = conn.map_err(DbError::from)?;
            f(&mut conn)
        });
        match task.await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            // The runtime is shutting down: not a bug, and not worth a panic.
            Err(_) => Err(DbError::Cancelled.into()),
        }
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    ///
    /// On SQLite the transaction begins `IMMEDIATE`, taking the write lock up
    /// front: two deferred transactions that both read and then write would
    /// deadlock on the lock upgrade, and SQLite reports that at once instead of
    /// waiting out the busy timeout.
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        self.run(move |conn| match conn {
            DbConn::Pg(_) => conn.transaction(f),
            DbConn::Sqlite(_) => immediate_transaction(conn, f),
        })
        .await
    }

    /// Answers whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
            .await
    }

    /// Notes `rows` written in bulk to `tables`; on PostgreSQL, refreshes their
    /// planner statistics each time this process's bulk writes double. A fresh
    /// district grows from nothing within minutes, faster than autovacuum
    /// analyzes it, and stale statistics turn batch lookups into sequential scans.
    pub async fn after_bulk_write(
        &self,
        rows: u64,
        tables: &'static [&'static str],
    ) -> Result<(), DbError> {
        if self.backend != Backend::Postgres || rows == 0 {
            return Ok(());
        }
        let written = self.bulk.written.fetch_add(rows, Ordering::Relaxed) + rows;
        let due = self.bulk.next_analyze.load(Ordering::Relaxed);
        if written < due
            || self
                .bulk
                .next_analyze
                .compare_exchange(
                    due,
                    written.saturating_mul(2),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return Ok(());
        }
        let sql = format!("ANALYZE {}", tables.join(", "));
        tracing::debug!(written, %sql, "refreshing planner statistics");
        self.run(move |conn| conn.batch_execute(&sql).map_err(DbError::from))
            .await
    }

    /// Runs the service's pending migrations; returns how many ran.
    pub async fn migrate(&self, migrations: &'static Migrations) -> anyhow::Result<usize> {
        self.run(move |conn| {
            let ran = migrations.run_pending(conn)?;
            Ok::<_, anyhow::Error>(ran)
        })
        .await
    }
}

/// SQLite: checks each external-content FTS5 index in `tables` against the
/// table it indexes and rebuilds it when they differ — a VACUUM renumbered
/// the rowids that join them, or the file was edited by hand. A service's
/// [`Migrations::after`] calls it; other backends need nothing.
pub fn ensure_fts_current(conn: &mut DbConn, tables: &[&str]) -> Result<(), DbError> {
    use diesel::connection::SimpleConnection;
    if conn.backend() != Backend::Sqlite {
        return Ok(());
    }
    for table in tables {
        let check = format!("INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)");
        if let Err(e) = conn.batch_execute(&check) {
            tracing::warn!(%table, error = %e, "a search index differs from its table; rebuilding it");
            conn.batch_execute(&format!("INSERT INTO {table} ({table}) VALUES ('rebuild')"))?;
        }
    }
    Ok(())
}

/// A SQLite transaction that begins `IMMEDIATE`; nested `transaction` calls
/// inside `f` become savepoints as usual.
fn immediate_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if let DbConn::Sqlite(c) = &mut *conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        return result;
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(c)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(c) {
                tracing::warn!(error = %rollback, "rolling back a SQLite transaction failed");
            }
            Err(e)
        }
    }
}

/// Accepts `sqlite://path`, `sqlite:path` and plain paths.
fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

fn ensure_parent_dir(path: &str) -> anyhow::Result<()> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let parent = std::path::Path::new(path).parent();
    if let Some(parent) = parent.filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            anyhow::anyhow!(
                "creating database directory {} failed: {e}",
                parent.display()
            )
        })?;
    }
    Ok(())
}

/// Opens connections of the configured backend explicitly (never by trial),
/// and sets SQLite up for a concurrent server: WAL, a busy timeout, foreign keys.
#[derive(Debug)]
struct Manager {
    url: String,
    backend: Backend,
}

/// The busy timeout comes first: switching to WAL takes a lock, and
/// connections opened at once (a pool filling up at start) would otherwise
/// fail with "database is locked" instead of waiting their turn.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn =
                    SqliteConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// For the rest of the current transaction, plans each statement with its
/// actual parameters (PostgreSQL; a no-op on SQLite). diesel prepares every
/// statement, and a generic plan cached while a table was small (a fresh
/// district) keeps scanning it sequentially as it grows; bulk batch lookups
/// (`= ANY($1)`) call this first. Other paths keep cheap cached plans.
pub fn prefer_custom_plans(conn: &mut DbConn) -> diesel::QueryResult<()> {
    match conn {
        DbConn::Pg(c) => c.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan"),
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// Runs one expression against the concrete connection of either backend, for
/// SQL the multi-backend type cannot express (multi-row upserts, `ON CONFLICT`,
/// `FOR UPDATE SKIP LOCKED`): `on_backend!(conn, c => query.execute(c))`.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Inserts new rows in bulk: `COPY … FROM STDIN` on PostgreSQL, multi-row
/// `INSERT`s of `$chunk` rows on SQLite. Evaluates to `QueryResult<usize>`.
/// For rows that cannot conflict (fresh ids); conflicts fail the whole call.
#[macro_export]
macro_rules! bulk_insert {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::DbConn::Pg(c) if !rows.is_empty() => {
                diesel::copy_from($table).from_insertable(rows).execute(c)
            }
            $crate::db::DbConn::Pg(_) => Ok(0),
            $crate::db::DbConn::Sqlite(c) => {
                let mut n = 0;
                for chunk in rows.chunks(($chunk as usize).min($crate::db::SQLITE_INSERT_ROWS)) {
                    n += diesel::insert_into($table).values(chunk).execute(c)?;
                }
                Ok(n)
            }
        }
    }};
}

/// Most rows in one SQLite `INSERT` (callers ask for fewer for wide rows):
/// SQLite keeps each distinct prepared statement, and one of 1,000 rows of
/// twenty columns compiles to megabytes.
pub const SQLITE_INSERT_ROWS: usize = 250;

/// Rows [`bulk_insert!`] builds at a time from an iterator.
pub const BULK_BATCH: usize = 10_000;

/// [`bulk_insert!`] over an iterator of rows, [`BULK_BATCH`] rows built at a
/// time (one `COPY` each on PostgreSQL), so a large write never holds all its
/// rows at once. Evaluates to `QueryResult<usize>`.
#[macro_export]
macro_rules! bulk_insert_each {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr) => {{
        let mut rows = $rows.into_iter().peekable();
        let mut written: diesel::QueryResult<usize> = Ok(0);
        while rows.peek().is_some() {
            let batch: Vec<_> = rows.by_ref().take($crate::db::BULK_BATCH).collect();
            match $crate::bulk_insert!(&mut *$conn, $table, &batch, $chunk) {
                Ok(n) => written = written.map(|w| w + n),
                Err(e) => {
                    written = Err(e);
                    break;
                }
            }
        }
        written
    }};
}
