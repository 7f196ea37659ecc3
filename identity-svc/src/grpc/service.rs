//! `homeroom.identity.v1.IdentityService`: convert, call the operation, convert back.
//!
//! RPCs not implemented here yet answer UNIMPLEMENTED (the generated defaults).

use std::sync::Arc;

use homeroom_platform::auth::principal;
use homeroom_proto::identity::v1 as pb;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tonic::{Request, Response, Status};

use super::convert;
use crate::{
    domain::{authz, credential::Identifier, error::IdentityError},
    ops::{self, Ctx, login::LoginAttempt, upsert::UpsertBatch},
};

/// Service clients that may ask for service tokens.
pub const SERVICE_CLIENTS: [&str; 3] = ["roster", "messaging", "gateway"];

/// The identity service's gRPC face.
#[derive(Debug, Clone)]
pub struct IdentityApi {
    ctx: Ctx,
    service_secret: Option<Arc<SecretString>>,
}

impl IdentityApi {
    /// A service over the operations' context.
    pub fn new(ctx: Ctx, service_secret: Option<SecretString>) -> IdentityApi {
        IdentityApi {
            ctx,
            service_secret: service_secret.map(Arc::new),
        }
    }
}

type Answer<T> = Result<Response<T>, Status>;

fn client_address<T>(request: &Request<T>, info: Option<&pb::ClientInfo>) -> Option<String> {
    info.map(|c| c.ip_address.trim().to_string())
        .filter(|ip| !ip.is_empty())
        .or_else(|| request.remote_addr().map(|a| a.ip().to_string()))
}

fn identifier(raw: &str, region: &str) -> Result<Identifier, IdentityError> {
    Identifier::parse(raw, convert::region(region)?)
        .map_err(|e| IdentityError::InvalidArgument(e.to_string()))
}

#[tonic::async_trait]
impl pb::identity_service_server::IdentityService for IdentityApi {
    async fn login(&self, request: Request<pb::LoginRequest>) -> Answer<pb::LoginResponse> {
        let client = client_address(&request, request.get_ref().client.as_ref());
        let r = request.into_inner();
        let attempt = LoginAttempt {
            identifier: identifier(&r.identifier, &r.phone_region)?,
            password: r.password,
            district_id: Some(r.district_id).filter(|d| !d.is_empty()),
            client_address: client,
        };
        let outcome = ops::login::login(&self.ctx, attempt).await?;
        Ok(Response::new(pb::LoginResponse {
            outcome: Some(convert::login_outcome(outcome)),
        }))
    }

    async fn select_account(
        &self,
        request: Request<pb::SelectAccountRequest>,
    ) -> Answer<pb::SelectAccountResponse> {
        let r = request.into_inner();
        let tokens = ops::login::select(&self.ctx, &r.selection_token, &r.account_id).await?;
        Ok(Response::new(pb::SelectAccountResponse {
            tokens: Some(convert::auth_tokens(tokens)),
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Answer<pb::RefreshTokenResponse> {
        let tokens = ops::sessions::refresh(&self.ctx, &request.into_inner().refresh_token).await?;
        Ok(Response::new(pb::RefreshTokenResponse {
            tokens: Some(convert::auth_tokens(tokens)),
        }))
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Answer<pb::LogoutResponse> {
        let r = request.into_inner();
        ops::sessions::logout(&self.ctx, &r.refresh_token, r.all_sessions).await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn get_jwks(&self, _request: Request<pb::GetJwksRequest>) -> Answer<pb::GetJwksResponse> {
        let set = self.ctx.tokens.jwks().await?;
        let keys = set
            .keys
            .into_iter()
            .filter_map(|jwk| {
                let value = serde_json::to_value(&jwk).ok()?;
                let text = |k: &str| {
                    value
                        .get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                Some(pb::Jwk {
                    kid: text("kid"),
                    kty: text("kty"),
                    crv: text("crv"),
                    x: text("x"),
                    y: text("y"),
                    alg: text("alg"),
                    r#use: text("use"),
                })
            })
            .collect();
        Ok(Response::new(pb::GetJwksResponse { keys }))
    }

    async fn issue_service_token(
        &self,
        request: Request<pb::IssueServiceTokenRequest>,
    ) -> Answer<pb::IssueServiceTokenResponse> {
        let r = request.into_inner();
        let Some(secret) = &self.service_secret else {
            return Err(IdentityError::FailedPrecondition(
                "service tokens are disabled: set HOMEROOM_SERVICE_SECRET".into(),
            )
            .into());
        };
        let secret_ok: bool = secret
            .expose_secret()
            .as_bytes()
            .ct_eq(r.client_secret.as_bytes())
            .into();
        if !SERVICE_CLIENTS.contains(&r.client_id.as_str()) || !secret_ok {
            return Err(IdentityError::Unauthenticated(
                "the service client id or secret is not correct",
            )
            .into());
        }
        let (access_token, expires_at) = self.ctx.tokens.service_token(&r.client_id).await?;
        Ok(Response::new(pb::IssueServiceTokenResponse {
            access_token,
            expires_at: Some(convert::timestamp(expires_at)),
            token_type: "Bearer".into(),
            scopes: Vec::new(),
        }))
    }

    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Answer<pb::GetAccountResponse> {
        let caller = principal(&request)?;
        let account_id = request.into_inner().account_id;
        let view = match ops::accounts::get(&self.ctx.db, account_id.clone()).await {
            Ok(view) if authz::may_read_account(&caller, &view.id, &view.district_id) => view,
            Ok(_) | Err(IdentityError::NotFound(_)) => {
                return Err(IdentityError::NotFound(format!("no account {account_id:?}")).into());
            }
            Err(e) => return Err(e.into()),
        };
        let editable = ops::accounts::editable_by(&caller, &view);
        Ok(Response::new(pb::GetAccountResponse {
            account: Some(convert::account(view, editable)),
        }))
    }

    async fn get_me(&self, request: Request<pb::GetMeRequest>) -> Answer<pb::GetMeResponse> {
        let caller = principal(&request)?;
        let view =
            ops::accounts::get(&self.ctx.db, authz::account_id(&caller)?.to_string()).await?;
        let editable = ops::accounts::editable_by(&caller, &view);
        Ok(Response::new(pb::GetMeResponse {
            account: Some(convert::account(view, editable)),
        }))
    }

    async fn upsert_accounts(
        &self,
        request: Request<pb::UpsertAccountsRequest>,
    ) -> Answer<pb::UpsertAccountsResponse> {
        authz::require_service(&principal(&request)?, &["roster"])?;
        let r = request.into_inner();
        let region = convert::region(&r.phone_region)?;
        let batch = UpsertBatch {
            items: r
                .accounts
                .into_iter()
                .map(|item| convert::incoming(item, &r.district_id, region))
                .collect(),
            org_labels: r
                .org_labels
                .into_iter()
                .map(|l| (l.org_id, l.name))
                .collect(),
            district_id: r.district_id,
            source_system: r.source_system,
            dry_run: r.dry_run,
        };
        let results = ops::upsert::upsert_accounts(&self.ctx.db, batch).await?;
        Ok(Response::new(convert::upsert_response(results)))
    }

    // -- reports (ID-9, ID-10): delegations to grpc/reports.rs go here --
}
