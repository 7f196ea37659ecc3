//! Operations: access checks, then the domain and the store.

use std::sync::Arc;

use homeroom_platform::db::Db;
use tokio::sync::Notify;

pub mod access;
pub mod audience;
pub mod classes;
pub mod clients;
pub mod districts;
pub mod duplicates;
pub mod engine;
pub mod guardians;
pub mod merges;
pub mod reach;
pub mod runner;
pub mod runs;
pub mod schedule;
pub mod schools;
pub mod sources;
pub mod staff;
pub mod students;
pub mod uploads;

/// Sync source id → kind, for the `sources` of the records a read returns.
pub type Kinds = std::collections::HashMap<String, String>;

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
    /// What districts' settings may reach (bundle folders, outbound URLs).
    pub boundary: crate::connectors::location::Boundary,
    /// RO-8's reports, kept until their district changes.
    pub duplicate_reports: Arc<duplicates::DuplicateCache>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").finish_non_exhaustive()
    }
}
