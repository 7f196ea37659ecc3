//! Connector credentials at rest: XChaCha20-Poly1305 with a random nonce per
//! value, stored as `v1:<base64(nonce ‖ ciphertext)>` and bound to the row it
//! belongs to (a sealed value copied to another source does not open).
//!
//! The key is `HOMEROOM_SECRETS_KEY` (32 bytes, base64); without it one is
//! derived from `HOMEROOM_SERVICE_SECRET` (or, on a laptop with neither, from a
//! fixed label), so `cargo run` works. Production sets the key.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    Key, KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, OsRng, Payload},
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The prefix of values this version writes.
const PREFIX: &str = "v1:";
/// XChaCha20's nonce length.
const NONCE_LEN: usize = 24;
/// Separates a derived key from every other use of the service secret.
const LABEL: &[u8] = b"homeroom roster-svc sync source secrets v1\0";

/// Where a key came from (for the start-up warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `HOMEROOM_SECRETS_KEY`.
    Configured,
    /// Derived from `HOMEROOM_SERVICE_SECRET`.
    ServiceSecret,
    /// Derived from a fixed label: fine on a laptop, never in production.
    Development,
}

/// The key that seals and opens stored credentials. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretsKey {
    key: Key,
    origin: KeyOrigin,
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsKey")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Why a key or a stored value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// The configured key is not 32 bytes of base64.
    #[error(
        "HOMEROOM_SECRETS_KEY must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)"
    )]
    BadKey,
    /// The stored value is not one this version wrote.
    #[error("the stored credentials are not in a format this version reads; enter them again")]
    Format,
    /// The key does not open the value (another key, or the value was altered).
    #[error(
        "the stored credentials cannot be decrypted with this HOMEROOM_SECRETS_KEY \
         (the key changed, or the value was altered); enter them again"
    )]
    Decrypt,
}

impl SecretsKey {
    /// A key from `HOMEROOM_SECRETS_KEY`: 32 bytes, base64.
    pub fn from_base64(text: &str) -> Result<SecretsKey, SecretsError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretsError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretsError::BadKey)?;
        Ok(SecretsKey {
            key: Key::from(key),
            origin: KeyOrigin::Configured,
        })
    }

    /// A stable key derived from the service secret (SHA-256 over a fixed
    /// label and the secret), or from the label alone without one.
    pub fn derived(service_secret: Option<&SecretString>) -> SecretsKey {
        let mut hash = Sha256::new();
        hash.update(LABEL);
        if let Some(secret) = service_secret {
            hash.update(secret.expose_secret().as_bytes());
        }
        SecretsKey {
            key: hash.finalize(),
            origin: if service_secret.is_some() {
                KeyOrigin::ServiceSecret
            } else {
                KeyOrigin::Development
            },
        }
    }

    /// The laptop key: derived from the label alone.
    pub fn development() -> SecretsKey {
        SecretsKey::derived(None)
    }

    /// Where this key came from.
    pub fn origin(&self) -> KeyOrigin {
        self.origin
    }

    /// Encrypts `plaintext` for the row `context` (e.g. the source id).
    pub fn seal(&self, context: &str, plaintext: &str) -> Result<String, SecretsError> {
        let cipher = XChaCha20Poly1305::new(&self.key);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Format)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Decrypts a value [`SecretsKey::seal`] made for the same `context`.
    pub fn open(&self, context: &str, stored: &str) -> Result<SecretString, SecretsError> {
        let encoded = stored.strip_prefix(PREFIX).ok_or(SecretsError::Format)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretsError::Format)?;
        let (nonce, sealed) = bytes
            .split_at_checked(NONCE_LEN)
            .ok_or(SecretsError::Format)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretsError::Format)?;
        let plain = XChaCha20Poly1305::new(&self.key)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Decrypt)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| SecretsError::Format)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const TOKEN: &str = "clever-district-token-7f3a9c";

    fn key(byte: u8) -> SecretsKey {
        SecretsKey::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_does_not_contain_the_secret() {
        let k = key(7);
        let sealed = k.seal("src-1", TOKEN).unwrap();
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains(TOKEN));
        assert!(!sealed.contains(&STANDARD.encode(TOKEN)));
        assert_eq!(k.open("src-1", &sealed).unwrap().expose_secret(), TOKEN);
    }

    #[test]
    fn each_seal_uses_a_new_nonce() {
        let k = key(7);
        assert_ne!(k.seal("s", TOKEN).unwrap(), k.seal("s", TOKEN).unwrap());
    }

    #[test]
    fn another_key_or_another_row_fails_to_open_with_a_clear_error() {
        let sealed = key(7).seal("src-1", TOKEN).unwrap();
        let wrong = key(8).open("src-1", &sealed).unwrap_err();
        assert_eq!(wrong, SecretsError::Decrypt);
        assert!(
            wrong.to_string().contains("HOMEROOM_SECRETS_KEY"),
            "{wrong}"
        );
        assert_eq!(
            key(7).open("src-2", &sealed).unwrap_err(),
            SecretsError::Decrypt
        );
        assert_eq!(
            key(7).open("src-1", "plain text").unwrap_err(),
            SecretsError::Format
        );
        assert_eq!(
            key(7).open("src-1", "v1:AAAA").unwrap_err(),
            SecretsError::Format
        );
    }

    #[test]
    fn a_configured_key_must_be_32_bytes_of_base64() {
        assert_eq!(
            SecretsKey::from_base64("c2hvcnQ=").unwrap_err(),
            SecretsError::BadKey
        );
        assert_eq!(
            SecretsKey::from_base64("not base64!").unwrap_err(),
            SecretsError::BadKey
        );
        assert_eq!(key(1).origin(), KeyOrigin::Configured);
    }

    #[test]
    fn a_derived_key_is_stable_and_depends_on_the_service_secret() {
        let secret = SecretString::from("service-secret");
        let a = SecretsKey::derived(Some(&secret));
        let b = SecretsKey::derived(Some(&secret));
        assert_eq!(a.origin(), KeyOrigin::ServiceSecret);
        let sealed = a.seal("s", TOKEN).unwrap();
        assert_eq!(b.open("s", &sealed).unwrap().expose_secret(), TOKEN);
        assert!(SecretsKey::development().open("s", &sealed).is_err());
        assert_eq!(SecretsKey::development().origin(), KeyOrigin::Development);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", key(0x41));
        assert!(!shown.contains("65"), "{shown}");
        assert!(!shown.contains("QUFB"), "{shown}");
        assert!(shown.contains("Configured"));
    }
}
