//! District-wide reports computed once per change of what they read.
//!
//! A report that groups a whole district's records (identity's shared
//! credentials, roster's duplicate guardians) reads every one of them: a few
//! hundred milliseconds on a district of 50,000 students, for every page. The
//! records change only when a sync, an upload or a person writes, so a service
//! keeps the last computed report per key in a [`ReportCache`] together with
//! the district's *generation* it was computed at, and computes it again only
//! when that generation moved.
//!
//! The generation lives in two tables each service's migrations create, kept
//! by triggers on the tables its reports read:
//! - `report_generations (district_id, folded)`;
//! - `report_changes (district_id, xid)`.
//!
//! The generation is `folded` plus the district's `report_changes` rows.
//! - **SQLite** writes one transaction at a time, so its triggers simply add
//!   one to `folded`.
//! - **PostgreSQL** triggers insert one `report_changes` row per district per
//!   writing transaction, keyed by `txid_current()`. Inserts of distinct rows
//!   never wait on each other. A counter row would serialise every writer of a
//!   district, and two multi-statement transactions could deadlock on it.
//!   [`generation`] folds the rows into `folded` once there are many; the sum
//!   does not change when it does.
//!
//! The generation is read before the report's data. A write that commits in
//! between is in the data but not in the generation, so the next reader sees a
//! newer generation and computes again: an extra computation, never a stale
//! answer.

use std::{
    hash::Hash,
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use diesel::{
    QueryResult, QueryableByName, RunQueryDsl,
    sql_types::{BigInt, Text},
};
use lru::LruCache;

use crate::db::DbConn;

/// `report_changes` rows of one district above which [`generation`] folds them.
const FOLD_ABOVE: i64 = 256;

/// (SQLite numbers `$n` parameters by first appearance; `$1` is one parameter.)
const GENERATION_SQL: &str = "SELECT \
       COALESCE((SELECT folded FROM report_generations WHERE district_id = $1), 0) AS folded, \
       (SELECT COUNT(*) FROM report_changes WHERE district_id = $1) AS changes";

/// Moves the district's change rows into `folded` in one statement, so the
/// sum stays what it was (PostgreSQL only: SQLite never writes them).
const FOLD_SQL: &str = "WITH gone AS (DELETE FROM report_changes WHERE district_id = $1 RETURNING 1) \
     INSERT INTO report_generations (district_id, folded) \
     SELECT $1, COUNT(*) FROM gone \
     ON CONFLICT (district_id) DO UPDATE SET folded = report_generations.folded + EXCLUDED.folded";

#[derive(QueryableByName)]
struct Generation {
    #[diesel(sql_type = BigInt)]
    folded: i64,
    #[diesel(sql_type = BigInt)]
    changes: i64,
}

/// The district's generation: it differs from every earlier reading once a
/// transaction that changed a table the service's reports read has committed.
pub fn generation(conn: &mut DbConn, district_id: &str) -> QueryResult<i64> {
    let read = diesel::sql_query(GENERATION_SQL).bind::<Text, _>(district_id);
    let found: Generation = crate::on_backend!(conn, c => read.get_result(c))?;
    if let DbConn::Pg(c) = conn
        && found.changes > FOLD_ABOVE
    {
        diesel::sql_query(FOLD_SQL)
            .bind::<Text, _>(district_id)
            .execute(c)?;
    }
    Ok(found.folded + found.changes)
}

/// The last report computed per key, with the generation of its district.
pub struct ReportCache<K, V> {
    entries: Mutex<LruCache<K, (i64, Arc<V>)>>,
}

impl<K: Hash + Eq + Clone, V> ReportCache<K, V> {
    /// Keeps the reports of the `capacity` keys used last (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        ReportCache {
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The report of `key`, a key of `district_id`: the cached one when the
    /// district has not changed since it was computed, else `compute`'s.
    pub fn get_or_compute<E>(
        &self,
        conn: &mut DbConn,
        district_id: &str,
        key: K,
        compute: impl FnOnce(&mut DbConn) -> Result<V, E>,
    ) -> Result<Arc<V>, E>
    where
        E: From<diesel::result::Error>,
    {
        let now = generation(conn, district_id)?;
        if let Some((at, report)) = self.lock().get(&key)
            && *at == now
        {
            return Ok(Arc::clone(report));
        }
        let report = Arc::new(compute(conn)?);
        self.lock().put(key, (now, Arc::clone(&report)));
        Ok(report)
    }

    /// A poisoned lock only means another request panicked while holding it:
    /// the map itself is whole.
    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<K, (i64, Arc<V>)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<K, V> std::fmt::Debug for ReportCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportCache").finish_non_exhaustive()
    }
}
