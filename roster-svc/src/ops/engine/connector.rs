//! RO-2 (API half) in a run: the Clever or OneRoster REST connector built from
//! the source's settings and its opened credentials, a full or incremental
//! read, a failed read worded for the district admin (with the URL and the
//! reason, never a secret), and the Clever event cursor kept after the run.

use super::{Engine, Input, Stop};
use crate::{
    connectors::{
        CleverConfig, CleverConnector, ConnectorError, Fetched, Incremental, OneRosterRestConfig,
        OneRosterRestConnector, RestAuth,
    },
    domain::error::RosterError,
    ops::sources::{CleverSettings, RestAuthMethod, Secrets, StoredConfig, page_size},
    store::sync::{self, RunRow, SourceRow},
};

/// Where a Clever source's next incremental read starts (`None`: with a full
/// read), with the settings it was read under: a cursor is not kept for
/// settings changed meanwhile.
pub(super) struct Cursor {
    event_id: Option<String>,
    base_url: String,
    sealed: Option<String>,
}

impl Engine {
    /// Reads a Clever or OneRoster REST source. A failed read is a [`Stop`]:
    /// nothing of it is kept.
    pub(super) async fn read_api(&self, run: &RunRow, source: &SourceRow) -> Result<Input, Stop> {
        let stored = StoredConfig::parse(&source.config);
        let secrets = Secrets::open(&self.secrets, source).map_err(|e| Stop {
            kind: "invalid_input",
            message: format!("the source's credentials cannot be used: {e}"),
        })?;
        if source.kind == "clever" {
            let settings = stored.clever.unwrap_or_default();
            return self.read_clever(run, source, settings, secrets).await;
        }
        let Some(r) = stored.oneroster_rest else {
            return Err(invalid("the source has no OneRoster REST settings"));
        };
        let (auth, hint) = match r.auth_method {
            RestAuthMethod::OAuth2 => (
                RestAuth::OAuth2 {
                    token_url: r.effective_token_url(),
                    client_id: r.client_id.clone(),
                    client_secret: secrets.client_secret.ok_or_else(|| {
                        invalid("the source has no OAuth 2 client secret: set connector.oneroster_rest.client_secret")
                    })?,
                    scope: Some(r.scope.clone()).filter(|s| !s.is_empty()),
                },
                "update the client id and client secret in the source settings",
            ),
            RestAuthMethod::Bearer => (
                RestAuth::Bearer {
                    token: secrets.bearer_token.ok_or_else(|| {
                        invalid("the source has no bearer token: set connector.oneroster_rest.bearer_token")
                    })?,
                },
                "update the bearer token from the ClassLink console in the source settings",
            ),
            RestAuthMethod::OAuth1 => (
                RestAuth::OAuth1 {
                    consumer_key: r.oauth1_key.clone(),
                    consumer_secret: secrets.oauth1_secret.ok_or_else(|| {
                        invalid("the source has no OAuth 1.0a secret: set connector.oneroster_rest.oauth1_secret")
                    })?,
                },
                "update the OAuth 1.0a key and secret in the source settings",
            ),
        };
        let config = OneRosterRestConfig {
            page_size: page_size(r.page_size),
            retry: self.retry.clone(),
            outbound: self.boundary.outbound.clone(),
            ..OneRosterRestConfig::new(r.base_url.clone(), auth)
        };
        let rejected = |e| stop("The OneRoster server", hint, e);
        let fetched = OneRosterRestConnector::new(config)
            .map_err(rejected)?
            .read()
            .await
            .map_err(rejected)?;
        tracing::info!(
            users = fetched.bundle.users.len(),
            "oneroster rest source read"
        );
        Ok(Input {
            bundle: fetched.into_bundle(),
            cursor: None,
        })
    }

    /// A full read, or with events on, a cursor and no full sync asked for,
    /// the events since the cursor (a full read when the feed cannot serve it).
    async fn read_clever(
        &self,
        run: &RunRow,
        source: &SourceRow,
        settings: CleverSettings,
        secrets: Secrets,
    ) -> Result<Input, Stop> {
        let token = secrets.district_token.ok_or_else(|| {
            invalid("the source has no Clever district token: set connector.clever.district_token")
        })?;
        let base = if settings.base_url.is_empty() {
            CleverConfig::DEFAULT_BASE_URL.to_owned()
        } else {
            settings.base_url.clone()
        };
        let config = CleverConfig {
            page_size: page_size(settings.page_size),
            retry: self.retry.clone(),
            outbound: self.boundary.outbound.clone(),
            ..CleverConfig::new(base, token)
        };
        let hint = "update the district token in the source settings and check that the \
                    district still shares its data with Homeroom";
        let rejected = |e| stop("Clever", hint, e);
        let clever = CleverConnector::new(config).map_err(rejected)?;
        let since = settings
            .cursor
            .as_deref()
            .filter(|_| settings.use_events && !run.full_sync);
        let fetched: Fetched = match since {
            Some(since) => match clever.incremental(Some(since)).await.map_err(rejected)? {
                Incremental::Changes(changes) => {
                    tracing::info!(
                        since,
                        users = changes.bundle.users.len(),
                        "clever events read"
                    );
                    *changes
                }
                Incremental::NeedsFull { reason } => {
                    tracing::info!(
                        reason = %reason,
                        "clever events cannot serve the cursor; reading the whole district"
                    );
                    clever.full().await.map_err(rejected)?
                }
            },
            None => clever.full().await.map_err(rejected)?,
        };
        let cursor = settings.use_events.then(|| Cursor {
            event_id: fetched.cursor.clone(),
            base_url: settings.base_url.clone(),
            sealed: source.secret_ciphertext.clone(),
        });
        Ok(Input {
            bundle: fetched.into_bundle(),
            cursor,
        })
    }

    /// Keeps the event cursor of a completed run, unless the source's Clever
    /// settings or token changed while it ran. A cursor not kept only means
    /// the next run reads events again (replaying them changes nothing).
    pub(super) async fn keep_cursor(&self, source: &SourceRow, cursor: Cursor) {
        let id = source.id.clone();
        let kept = self
            .db
            .transaction(move |c| {
                let Some(row) = sync::source(c, &id)? else {
                    return Ok::<_, RosterError>(false);
                };
                let mut config = StoredConfig::parse(&row.config);
                let Some(clever) = config.clever.as_mut() else {
                    return Ok(false);
                };
                if !clever.use_events
                    || clever.base_url != cursor.base_url
                    || row.secret_ciphertext != cursor.sealed
                {
                    return Ok(false);
                }
                clever.cursor = cursor.event_id;
                sync::set_source_config(c, &id, &config.to_json())?;
                Ok(true)
            })
            .await;
        match kept {
            Ok(true) => {}
            Ok(false) => tracing::info!(
                source_id = %source.id,
                "clever settings changed during the run; its event cursor was not kept"
            ),
            Err(e) => tracing::warn!(
                source_id = %source.id,
                error = %e,
                "clever event cursor not kept; the next run reads the events again"
            ),
        }
    }
}

fn invalid(message: &str) -> Stop {
    Stop {
        kind: "invalid_input",
        message: message.to_owned(),
    }
}

/// A failed read as the run's failure: rejected credentials say what to
/// update; every message names the URL and the reason.
fn stop(vendor: &str, hint: &str, e: ConnectorError) -> Stop {
    match e {
        ConnectorError::CredentialsRejected { url, status } => Stop {
            kind: "credentials_rejected",
            message: format!("{vendor} rejected the credentials (HTTP {status}) at {url}: {hint}"),
        },
        ConnectorError::Unavailable { .. } => Stop {
            kind: "source_unavailable",
            message: e.to_string(),
        },
        ConnectorError::Malformed { .. }
        | ConnectorError::Rejected { .. }
        | ConnectorError::InvalidConfig(_) => Stop {
            kind: "invalid_input",
            message: e.to_string(),
        },
    }
}
