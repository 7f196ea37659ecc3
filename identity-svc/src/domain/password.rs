//! Password hashing with argon2id at the OWASP parameters (19 MiB, t=2, p=1),
//! stored as PHC strings so parameters can change later.
//!
//! Every verification is counted: the login path must run the same number of
//! verifications whether or not the identifier exists (ID-3), and tests check
//! that by counting rather than by timing.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, SaltString, rand_core::OsRng},
};

/// Shortest password accepted when one is set.
pub const MIN_LENGTH: usize = 8;
/// Longest password accepted (argon2 takes any length; this bounds the work).
pub const MAX_LENGTH: usize = 256;

/// Hashes and verifies passwords; clones share the verification counter.
#[derive(Debug, Clone)]
pub struct Passwords {
    verifications: Arc<AtomicU64>,
    decoy: Arc<String>,
}

impl Passwords {
    /// A hasher with a decoy hash for verifications that must not find an account.
    pub fn new() -> anyhow::Result<Passwords> {
        let decoy = hash_with_params(&uuid::Uuid::new_v4().to_string())?;
        Ok(Passwords {
            verifications: Arc::new(AtomicU64::new(0)),
            decoy: Arc::new(decoy),
        })
    }

    /// Hashes a password into a PHC string.
    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        hash_with_params(password)
    }

    /// Checks `password` against a PHC string; a malformed hash never matches.
    pub fn verify(&self, phc: &str, password: &str) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        match PasswordHash::new(phc)
            .ok()
            .and_then(|parsed| verify_reusing_memory(&parsed, password))
        {
            Some(matched) => matched,
            // Still spend the same work so a broken row is not a timing signal.
            None => self.verify_decoy_inner(password),
        }
    }

    /// How long one verification takes here and now (uncounted): the login
    /// floor starts from it.
    pub fn time_one_verification(&self) -> std::time::Duration {
        let started = std::time::Instant::now();
        self.verify_decoy_inner("calibration");
        started.elapsed()
    }

    /// Spends one verification's work without any account (unknown identifier).
    pub fn verify_decoy(&self, password: &str) {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        self.verify_decoy_inner(password);
    }

    fn verify_decoy_inner(&self, password: &str) -> bool {
        match PasswordHash::new(&self.decoy)
            .ok()
            .and_then(|p| verify_reusing_memory(&p, password))
        {
            Some(_) => {}
            None => tracing::error!("decoy hash does not parse"),
        }
        false
    }

    /// How many verifications ran since start.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

thread_local! {
    /// Argon2's 19 MiB working memory, kept per thread: allocating and faulting
    /// it in on every verification costs more than the rest of a login.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Recomputes an argon2id PHC hash into this thread's reused memory and compares
/// in constant time. `None` when the PHC string is not one we can check.
fn verify_reusing_memory(parsed: &PasswordHash<'_>, password: &str) -> Option<bool> {
    use subtle::ConstantTimeEq;
    let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed.version.map_or(Some(argon2::Version::V0x13), |v| {
        argon2::Version::try_from(v).ok()
    })?;
    let params = argon2::Params::try_from(parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    BLOCKS.with(|cell| {
        let mut memory = cell.borrow_mut();
        if memory.len() != blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        hasher
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
            .ok()
    })?;
    Some(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
}

fn hash_with_params(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Checks a new password against the policy; the message says what to change.
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(format!(
            "new_password: use at least {MIN_LENGTH} characters"
        ));
    }
    if chars > MAX_LENGTH {
        return Err(format!("new_password: use at most {MAX_LENGTH} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_every_check_is_counted() {
        let passwords = Passwords::new().unwrap();
        let phc = passwords.hash("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(passwords.verify(&phc, "correct horse"));
        assert!(!passwords.verify(&phc, "wrong horse"));
        assert!(!passwords.verify("not a hash", "correct horse"));
        passwords.verify_decoy("anything");
        assert_eq!(passwords.verifications(), 4);
    }

    #[test]
    fn short_passwords_are_refused_with_the_rule() {
        assert!(check_policy("short").unwrap_err().contains("at least 8"));
        assert!(check_policy("long enough").is_ok());
    }
}
