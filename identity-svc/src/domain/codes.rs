//! One-time codes (ID-4, ID-7): 6 digits, valid 10 minutes, single use, 5 tries.
//! Stored as a salted hash, never logged.

use std::time::Duration;

use rand::Rng;
use sha2::{Digest, Sha256};

/// Digits in a code.
pub const DIGITS: usize = 6;
/// How long a code is valid.
pub const VALIDITY: Duration = Duration::from_secs(10 * 60);
/// Wrong tries after which a code is dead.
pub const MAX_ATTEMPTS: i32 = 5;
/// Codes one address may be sent within `VALIDITY` before sending pauses.
pub const MAX_SENDS_PER_WINDOW: usize = 5;

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sign in without a password.
    Login,
    /// Join: set a password.
    Invitation,
    /// Confirm a credential (ID-7).
    Confirm,
}

impl Purpose {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Invitation => "invitation",
            Purpose::Confirm => "confirm",
        }
    }
}

/// A fresh random code.
pub fn generate() -> String {
    let n: u32 = rand::rngs::OsRng.gen_range(0..1_000_000);
    format!("{n:0DIGITS$}")
}

/// The stored hash of a code, salted with the code row's id.
pub fn hash(code_id: &str, code: &str) -> String {
    Sha256::digest(format!("{code_id}:{}", normalise(code)).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What people type: spaces and dashes are ignored ("123 456", "123-456").
pub fn normalise(code: &str) -> String {
    code.chars().filter(char::is_ascii_digit).collect()
}

/// Whether a typed code has the right shape at all.
pub fn well_formed(code: &str) -> bool {
    normalise(code).len() == DIGITS
        && code
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_typed_forms_match() {
        for _ in 0..100 {
            let code = generate();
            assert_eq!(code.len(), 6);
            assert!(well_formed(&code));
        }
        assert_eq!(hash("id", "123456"), hash("id", "123-456"));
        assert_ne!(hash("id", "123456"), hash("other", "123456"));
        assert!(!well_formed("12345"));
        assert!(!well_formed("12345a"));
    }
}
