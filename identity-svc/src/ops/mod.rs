//! Operations: each one loads what the rules need, applies the rules from
//! `domain`, and writes the outcome through `store`, in one transaction.

pub mod accounts;
pub mod admins;
pub mod codes;
pub mod contacts;
pub mod devices;
pub mod invitations;
pub mod login;
pub mod merge;
pub mod messenger;
pub mod oidc;
pub mod pacing;
pub mod password;
pub mod reports;
pub mod roles;
pub mod sessions;
pub mod sso;
pub mod tokens;
pub mod upsert;

use std::sync::Arc;

use homeroom_platform::db::Db;
use tokio::sync::Semaphore;

use crate::domain::password::Passwords;

/// What the operations share.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// identity-svc's database.
    pub db: Db,
    /// Password hashing (counts verifications).
    pub passwords: Passwords,
    /// Bounds concurrent argon2 work to the number of cores.
    pub hashing: Arc<Semaphore>,
    /// Token issuing.
    pub tokens: Arc<tokens::Tokens>,
    /// System messages through messaging-svc.
    pub messenger: Arc<dyn messenger::Messenger>,
    /// The SSO providers and their HTTP client (ID-5).
    pub sso: Arc<sso::Sso>,
    /// The console's external base URL (`HOMEROOM_PUBLIC_URL`): join links
    /// in invitations start with it.
    pub public_url: Option<String>,
    /// The login floor (ID-3: no enumeration by timing).
    pub pacing: Arc<pacing::Pacing>,
    /// Work done after an answer (a one-time code's message): waited for on
    /// shutdown, and by tests.
    pub background: tokio_util::task::TaskTracker,
    /// ID-9's lists of shared addresses, kept until their district changes.
    pub shared_reports: Arc<reports::SharedCache>,
}

impl std::fmt::Debug for dyn messenger::Messenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Messenger")
    }
}

impl Ctx {
    /// A context over `db` with default token lifetimes; `messenger` makes the
    /// messenger from the context's tokens (messaging-svc takes identity's
    /// service token).
    pub fn new(
        db: Db,
        messenger: impl FnOnce(Arc<tokens::Tokens>) -> Arc<dyn messenger::Messenger>,
    ) -> anyhow::Result<Ctx> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let passwords = Passwords::new()?;
        let tokens = Arc::new(tokens::Tokens::new(
            db.clone(),
            tokens::Lifetimes::default(),
        ));
        Ok(Ctx {
            messenger: messenger(tokens.clone()),
            tokens,
            db,
            pacing: Arc::new(pacing::Pacing::calibrated(
                pacing::HOLDERS_COVERED,
                passwords.time_one_verification(),
            )),
            passwords,
            hashing: Arc::new(Semaphore::new(cores)),
            sso: Arc::default(),
            public_url: None,
            background: tokio_util::task::TaskTracker::new(),
            shared_reports: Arc::new(reports::shared_cache()),
        })
    }

    /// Waits for the work started after answers so far (tests; shutdown).
    pub async fn settled(&self) {
        self.background.close();
        self.background.wait().await;
        self.background.reopen();
    }

    /// The same context with the public URL join links start with.
    pub fn with_public_url(self, public_url: Option<String>) -> Ctx {
        Ctx { public_url, ..self }
    }

    /// The same context with this login floor (benchmarks compare without).
    pub fn with_pacing(self, pacing: pacing::Pacing) -> Ctx {
        Ctx {
            pacing: Arc::new(pacing),
            ..self
        }
    }

    /// The same context with these SSO providers (ID-5).
    pub fn with_sso(self, providers: Vec<crate::domain::sso::Provider>) -> Ctx {
        Ctx {
            sso: Arc::new(sso::Sso::new(providers)),
            ..self
        }
    }
}
