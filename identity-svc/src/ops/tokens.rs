//! Sessions (ID-6): EdDSA access tokens signed with a key kept in the database
//! (its public half served as a JWKS), opaque refresh tokens stored hashed and
//! rotated on every use, single-use selection tokens for account choices.

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::NaiveDateTime;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use homeroom_platform::{
    auth::{AUDIENCE, AccessClaims, ISSUER, KeySource, RoleGrant},
    db::Db,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::JwkSet};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::{
    domain::error::IdentityError,
    store::sessions::{self, RefreshTokenRow, SigningKeyRow},
};

/// Lifetimes of the tokens.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Access tokens (15 minutes).
    pub access: Duration,
    /// Refresh tokens (30 days).
    pub refresh: Duration,
    /// Selection tokens of an account choice (5 minutes).
    pub selection: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            access: Duration::from_secs(15 * 60),
            refresh: Duration::from_secs(30 * 24 * 3600),
            selection: Duration::from_secs(5 * 60),
        }
    }
}

/// A session's tokens.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// The signed JWT.
    pub access_token: String,
    /// When it expires.
    pub access_expires_at: NaiveDateTime,
    /// The opaque refresh token (shown once; stored hashed).
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: NaiveDateTime,
    /// The account.
    pub account_id: String,
}

struct Signer {
    kid: String,
    key: EncodingKey,
}

/// Issues and checks tokens.
pub struct Tokens {
    db: Db,
    signer: OnceCell<Arc<Signer>>,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    /// Tokens over the given database (the key is loaded, or made, on first use).
    pub fn new(db: Db, lifetimes: Lifetimes) -> Tokens {
        Tokens {
            db,
            signer: OnceCell::new(),
            lifetimes,
        }
    }

    async fn signer(&self) -> Result<Arc<Signer>, IdentityError> {
        self.signer
            .get_or_try_init(|| async {
                let row = self
                    .db
                    .run(|conn| {
                        if let Some(newest) = sessions::active_keys(conn)?.into_iter().next() {
                            return Ok::<_, IdentityError>(newest);
                        }
                        let row = generate_key()?;
                        sessions::insert_key(conn, &row)?;
                        tracing::info!(kid = %row.kid, "generated a signing key");
                        Ok(row)
                    })
                    .await?;
                let der = base64::engine::general_purpose::STANDARD
                    .decode(&row.private_pkcs8)
                    .map_err(|e| anyhow::anyhow!("stored signing key is not base64: {e}"))?;
                Ok::<_, IdentityError>(Arc::new(Signer {
                    kid: row.kid,
                    key: EncodingKey::from_ed_der(&der),
                }))
            })
            .await
            .cloned()
    }

    /// The public keys of every key not retired.
    pub async fn jwks(&self) -> Result<JwkSet, IdentityError> {
        self.signer().await?;
        let rows = self
            .db
            .run(|conn| sessions::active_keys(conn).map_err(IdentityError::from))
            .await?;
        let keys: Vec<serde_json::Value> = rows
            .iter()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "x": k.public_x,
                    "kid": k.kid, "alg": "EdDSA", "use": "sig"
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "keys": keys }))
            .map_err(|e| IdentityError::Internal(e.into()))
    }

    /// Signs an access token for an account.
    pub async fn access_token(
        &self,
        account_id: &str,
        district_id: &str,
        roles: Vec<RoleGrant>,
    ) -> Result<(String, NaiveDateTime), IdentityError> {
        self.issue(account_id.into(), Some(district_id.into()), roles, None)
            .await
    }

    /// Signs a service token (`service` claim) for roster, messaging or the gateway.
    pub async fn service_token(
        &self,
        service: &str,
    ) -> Result<(String, NaiveDateTime), IdentityError> {
        self.issue(
            format!("service:{service}"),
            None,
            Vec::new(),
            Some(service.into()),
        )
        .await
    }

    /// Signs access-token claims valid for the access lifetime from now.
    async fn issue(
        &self,
        sub: String,
        district_id: Option<String>,
        roles: Vec<RoleGrant>,
        service: Option<String>,
    ) -> Result<(String, NaiveDateTime), IdentityError> {
        let now = chrono::Utc::now();
        let exp = now + chrono::Duration::from_std(self.lifetimes.access).unwrap_or_default();
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub,
            exp: exp.timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::now_v7().to_string(),
            district_id,
            roles,
            service,
        };
        Ok((self.sign(&claims).await?, exp.naive_utc()))
    }

    async fn sign(&self, claims: &AccessClaims) -> Result<String, IdentityError> {
        let signer = self.signer().await?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signer.kid.clone());
        jsonwebtoken::encode(&header, claims, &signer.key)
            .map_err(|e| IdentityError::Internal(e.into()))
    }

    /// A new refresh token row for `account_id` in `family_id`; returns the plain token.
    pub fn new_refresh(
        &self,
        account_id: &str,
        family_id: &str,
        now: NaiveDateTime,
    ) -> (String, RefreshTokenRow) {
        let token = random_token();
        let row = RefreshTokenRow {
            token_hash: hash_token(&token),
            family_id: family_id.into(),
            account_id: account_id.into(),
            created_at: now,
            expires_at: now
                + chrono::Duration::from_std(self.lifetimes.refresh).unwrap_or_default(),
            rotated_at: None,
            revoked_at: None,
        };
        (token, row)
    }
}

/// A key source for identity-svc's own verifier: its signing keys in the database.
pub struct OwnKeys(pub Arc<Tokens>);

impl KeySource for OwnKeys {
    fn fetch(&self) -> futures::future::BoxFuture<'_, anyhow::Result<JwkSet>> {
        Box::pin(async move { self.0.jwks().await.map_err(|e| anyhow::anyhow!("{e}")) })
    }
}

/// 32 random bytes, base64url: refresh and selection tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 hex of a token, as stored.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn generate_key() -> Result<SigningKeyRow, IdentityError> {
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let der = key
        .to_pkcs8_der()
        .map_err(|e| anyhow::anyhow!("encoding a signing key failed: {e}"))?;
    Ok(SigningKeyRow {
        kid: uuid::Uuid::now_v7().to_string(),
        private_pkcs8: base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        public_x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        created_at: chrono::Utc::now().naive_utc(),
        retired_at: None,
    })
}
