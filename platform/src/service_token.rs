//! Service-to-service calls: a service token from identity-svc's
//! `IssueServiceToken` (client id + the shared `HOMEROOM_SERVICE_SECRET`),
//! cached and renewed before it expires, put on outgoing requests.

use std::time::{Duration, Instant};

use homeroom_proto::identity::v1 as idpb;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tonic::{Request, Status, transport::Channel};

/// Service tokens live 15 minutes; renew well before.
const TOKEN_REUSE: Duration = Duration::from_secs(10 * 60);

/// A caller's service tokens.
pub struct ServiceTokens {
    identity: Channel,
    client_id: &'static str,
    secret: Option<SecretString>,
    cached: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTokens")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ServiceTokens {
    /// Tokens for `client_id` ("roster", "messaging", "gateway") from identity.
    pub fn new(identity: Channel, client_id: &'static str, secret: Option<SecretString>) -> Self {
        ServiceTokens {
            identity,
            client_id,
            secret,
            cached: Mutex::new(None),
        }
    }

    /// A valid token, cached or fresh.
    pub async fn token(&self) -> Result<String, Status> {
        let mut cached = self.cached.lock().await;
        if let Some((token, _)) = cached.as_ref().filter(|(_, at)| at.elapsed() < TOKEN_REUSE) {
            return Ok(token.clone());
        }
        let secret = self.secret.as_ref().ok_or_else(|| {
            Status::unavailable(format!(
                "HOMEROOM_SERVICE_SECRET is not set: {} cannot call identity-svc",
                self.client_id
            ))
        })?;
        let token =
            idpb::identity_service_client::IdentityServiceClient::new(self.identity.clone())
                .issue_service_token(idpb::IssueServiceTokenRequest {
                    client_id: self.client_id.into(),
                    client_secret: secret.expose_secret().to_string(),
                    scopes: vec![],
                })
                .await?
                .into_inner()
                .access_token;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// `message` as a request carrying the service token.
    pub async fn request<T>(&self, message: T) -> Result<Request<T>, Status> {
        let mut request = Request::new(message);
        let value = format!("Bearer {}", self.token().await?)
            .parse()
            .map_err(|_| Status::internal("a service token is not a header value"))?;
        request.metadata_mut().insert("authorization", value);
        // The request this call serves, if any: same id and trace downstream.
        crate::request_context::tag(&mut request);
        Ok(request)
    }
}
