//! Operations: each one loads what the rules need, applies the rules from
//! `domain`, and writes the outcome through `store`, in one transaction.

pub mod accounts;
pub mod login;
pub mod sessions;
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
}

impl Ctx {
    /// A context over `db` with default token lifetimes.
    pub fn new(db: Db) -> anyhow::Result<Ctx> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Ctx {
            tokens: Arc::new(tokens::Tokens::new(
                db.clone(),
                tokens::Lifetimes::default(),
            )),
            db,
            passwords: Passwords::new()?,
            hashing: Arc::new(Semaphore::new(cores)),
        })
    }
}
