//! Operations: access checks, then the domain and the store.

use std::sync::Arc;

use homeroom_platform::db::Db;
use tokio::sync::Notify;

pub mod access;
pub mod audience;
pub mod clients;
pub mod districts;
pub mod duplicates;
pub mod engine;
pub mod runner;
pub mod runs;
pub mod schedule;
pub mod sources;
pub mod uploads;

/// What operations share.
#[derive(Clone)]
pub struct Ctx {
    /// roster's database.
    pub db: Db,
    /// identity-svc.
    pub accounts: Arc<dyn clients::Accounts>,
    /// Wakes the sync runner when a run is queued.
    pub wake: Arc<Notify>,
    /// Seals and opens the sources' connector credentials.
    pub secrets: crate::secrets::SecretsKey,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").finish_non_exhaustive()
    }
}
