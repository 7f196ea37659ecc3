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
    domain::{
        accounts::{Role, ScopedRole},
        authz,
        codes::Purpose,
        credential::Identifier,
        error::IdentityError,
    },
    ops::{
        self, Ctx,
        login::{LoginAttempt, SignIn},
        upsert::UpsertBatch,
    },
};

/// Service clients that may ask for service tokens.
pub const SERVICE_CLIENTS: [&str; 4] = ["roster", "messaging", "gateway", "operator"];

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

/// The caller's address for throttles and audit rows: the gateway's
/// forwarded one when the gateway proves it sent it, else the TCP peer. A
/// `ClientInfo.ip_address` is never believed on its own: anyone can write it.
fn client_address<T>(request: &Request<T>) -> Option<String> {
    homeroom_platform::forwarded::client_address(request)
}

/// The device token a sign-in request presented (`ClientInfo.device_token`).
fn device_token(client: Option<&pb::ClientInfo>) -> Option<String> {
    client
        .map(|c| c.device_token.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl IdentityApi {
    /// Tokens with the device token of the client that signed in (ID-3).
    async fn on_device(
        &self,
        mut tokens: pb::AuthTokens,
        presented: Option<String>,
    ) -> Result<pb::AuthTokens, IdentityError> {
        tokens.device_token =
            ops::devices::remember(&self.ctx, presented.as_deref(), &tokens.account_id).await?;
        Ok(tokens)
    }

    /// A sign-in's outcome; tokens carry the device token.
    async fn signed_in(
        &self,
        outcome: SignIn,
        presented: Option<String>,
    ) -> Result<pb::login_response::Outcome, IdentityError> {
        Ok(match convert::login_outcome(outcome) {
            pb::login_response::Outcome::Tokens(t) => {
                pb::login_response::Outcome::Tokens(self.on_device(t, presented).await?)
            }
            choice => choice,
        })
    }
}

/// The signed-in account, which must be `account_id` (or `account_id` empty).
fn own_account(
    caller: &homeroom_platform::auth::Principal,
    account_id: &str,
) -> Result<String, IdentityError> {
    let me = authz::account_id(caller)?;
    if !account_id.is_empty() && account_id != me {
        return Err(IdentityError::PermissionDenied(
            "you can only confirm your own contact details".into(),
        ));
    }
    Ok(me.to_string())
}

fn identifier(raw: &str, region: &str) -> Result<Identifier, IdentityError> {
    Identifier::parse(raw, convert::region(region)?)
        .map_err(|e| IdentityError::InvalidArgument(e.to_string()))
}

#[tonic::async_trait]
impl pb::identity_service_server::IdentityService for IdentityApi {
    async fn login(&self, request: Request<pb::LoginRequest>) -> Answer<pb::LoginResponse> {
        let client = client_address(&request);
        let r = request.into_inner();
        let device = device_token(r.client.as_ref());
        let attempt = LoginAttempt {
            identifier: identifier(&r.identifier, &r.phone_region)?,
            password: r.password,
            district_id: Some(r.district_id).filter(|d| !d.is_empty()),
            client_address: client,
            device_token: device.clone(),
        };
        let outcome = ops::login::login(&self.ctx, attempt).await?;
        Ok(Response::new(pb::LoginResponse {
            outcome: Some(self.signed_in(outcome, device).await?),
        }))
    }

    async fn select_account(
        &self,
        request: Request<pb::SelectAccountRequest>,
    ) -> Answer<pb::SelectAccountResponse> {
        let r = request.into_inner();
        let tokens = ops::login::select(&self.ctx, &r.selection_token, &r.account_id).await?;
        let tokens = convert::auth_tokens(tokens);
        Ok(Response::new(pb::SelectAccountResponse {
            tokens: Some(
                self.on_device(tokens, device_token(r.client.as_ref()))
                    .await?,
            ),
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

    async fn send_one_time_code(
        &self,
        request: Request<pb::SendOneTimeCodeRequest>,
    ) -> Answer<pb::SendOneTimeCodeResponse> {
        let r = request.into_inner();
        let purpose = match pb::OneTimeCodePurpose::try_from(r.purpose).unwrap_or_default() {
            pb::OneTimeCodePurpose::Invitation => Purpose::Invitation,
            pb::OneTimeCodePurpose::Login | pb::OneTimeCodePurpose::Unspecified => Purpose::Login,
        };
        let sent = ops::codes::send(
            &self.ctx,
            ops::codes::SendCode {
                identifier: identifier(&r.identifier, &r.phone_region)?,
                district_id: Some(r.district_id).filter(|d| !d.is_empty()),
                account_id: Some(r.account_id).filter(|a| !a.is_empty()),
                purpose,
                idempotency_key: Some(r.idempotency_key).filter(|k| !k.is_empty()),
            },
        )
        .await?;
        Ok(Response::new(pb::SendOneTimeCodeResponse {
            masked_destination: sent.masked_destination,
            expires_at: Some(convert::timestamp(sent.expires_at)),
        }))
    }

    async fn verify_one_time_code(
        &self,
        request: Request<pb::VerifyOneTimeCodeRequest>,
    ) -> Answer<pb::VerifyOneTimeCodeResponse> {
        let client = client_address(&request);
        let r = request.into_inner();
        let id = identifier(&r.identifier, &r.phone_region)?;
        let outcome = ops::codes::verify(&self.ctx, &id, &r.code, client.as_deref()).await?;
        let outcome = match self
            .signed_in(outcome, device_token(r.client.as_ref()))
            .await?
        {
            pb::login_response::Outcome::Tokens(t) => {
                pb::verify_one_time_code_response::Outcome::Tokens(t)
            }
            pb::login_response::Outcome::AccountChoice(c) => {
                pb::verify_one_time_code_response::Outcome::AccountChoice(c)
            }
        };
        Ok(Response::new(pb::VerifyOneTimeCodeResponse {
            outcome: Some(outcome),
        }))
    }

    async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Answer<pb::AcceptInvitationResponse> {
        let client = client_address(&request);
        let r = request.into_inner();
        // A join link's token names its account; a 6-digit code needs the address.
        let tokens = if r.identifier.trim().is_empty()
            && ops::invitations::is_link_token(r.code.trim())
        {
            ops::invitations::accept(&self.ctx, r.code.trim(), r.new_password, client.as_deref())
                .await?
        } else {
            let id = identifier(&r.identifier, &r.phone_region)?;
            ops::codes::accept_invitation(
                &self.ctx,
                &id,
                &r.code,
                r.new_password,
                client.as_deref(),
            )
            .await?
        };
        let tokens = convert::auth_tokens(tokens);
        Ok(Response::new(pb::AcceptInvitationResponse {
            tokens: Some(
                self.on_device(tokens, device_token(r.client.as_ref()))
                    .await?,
            ),
        }))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Answer<pb::ChangePasswordResponse> {
        let caller = principal(&request)?;
        let client = client_address(&request);
        let r = request.into_inner();
        let tokens = ops::password::change_password(
            &self.ctx,
            authz::account_id(&caller)?,
            r.current_password,
            r.new_password,
            client,
        )
        .await?;
        Ok(Response::new(pb::ChangePasswordResponse {
            tokens: Some(convert::auth_tokens(tokens)),
        }))
    }

    async fn update_contact_details(
        &self,
        request: Request<pb::UpdateContactDetailsRequest>,
    ) -> Answer<pb::UpdateContactDetailsResponse> {
        let caller = principal(&request)?;
        let client = client_address(&request);
        let r = request.into_inner();
        let edit = convert::contact_edit(&r, convert::region(&r.phone_region)?)?;
        let (view, unconfirmed) =
            ops::contacts::update(&self.ctx, &caller, &r.account_id, edit, client).await?;
        let editable = ops::accounts::editable_by(&caller, &view);
        Ok(Response::new(pb::UpdateContactDetailsResponse {
            account: Some(convert::account(view, editable)),
            unconfirmed: unconfirmed
                .into_iter()
                .map(|k| convert::credential_kind(k) as i32)
                .collect(),
        }))
    }

    async fn send_credential_confirmation_code(
        &self,
        request: Request<pb::SendCredentialConfirmationCodeRequest>,
    ) -> Answer<pb::SendCredentialConfirmationCodeResponse> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let me = own_account(&caller, &r.account_id)?;
        let kind = convert::credential_kind_from_pb(r.kind)?;
        let key = Some(r.idempotency_key).filter(|k| !k.is_empty());
        let sent = ops::codes::send_confirmation(&self.ctx, &me, kind, key).await?;
        Ok(Response::new(pb::SendCredentialConfirmationCodeResponse {
            masked_destination: sent.masked_destination,
            expires_at: Some(convert::timestamp(sent.expires_at)),
        }))
    }

    async fn confirm_credential(
        &self,
        request: Request<pb::ConfirmCredentialRequest>,
    ) -> Answer<pb::ConfirmCredentialResponse> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let me = own_account(&caller, &r.account_id)?;
        let kind = convert::credential_kind_from_pb(r.kind)?;
        ops::codes::confirm(&self.ctx, &me, kind, &r.code).await?;
        let view = ops::accounts::get(&self.ctx.db, me).await?;
        let editable = ops::accounts::editable_by(&caller, &view);
        let account = convert::account(view, editable);
        let credential = account
            .credentials
            .into_iter()
            .find(|c| c.kind == convert::credential_kind(kind) as i32);
        Ok(Response::new(pb::ConfirmCredentialResponse { credential }))
    }

    async fn invite_accounts(
        &self,
        request: Request<pb::InviteAccountsRequest>,
    ) -> Answer<pb::InviteAccountsResponse> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let staff = [Role::DistrictAdmin, Role::UserManager, Role::RosteringAdmin];
        if !caller.is_service(&["roster"])
            && !staff
                .iter()
                .any(|&role| caller.has_district_role(&r.district_id, role))
        {
            return Err(IdentityError::PermissionDenied(
                "inviting needs the district administrator, user manager or rostering administrator role".into(),
            )
            .into());
        }
        if r.account_ids.len() > 1_000 {
            return Err(IdentityError::InvalidArgument(
                "account_ids: at most 1,000 per call".into(),
            )
            .into());
        }
        let key = if r.idempotency_key.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            r.idempotency_key
        };
        let results =
            ops::contacts::invite(&self.ctx, &r.district_id, r.account_ids, r.resend, &key).await?;
        Ok(Response::new(pb::InviteAccountsResponse {
            results: results
                .into_iter()
                .map(convert::invitation_result)
                .collect(),
        }))
    }

    async fn assign_roles(
        &self,
        request: Request<pb::AssignRolesRequest>,
    ) -> Answer<pb::AssignRolesResponse> {
        let caller = principal(&request)?;
        let client = client_address(&request);
        let r = request.into_inner();
        let scoped = |list: Vec<pb::RoleAssignment>| -> Result<Vec<ScopedRole>, IdentityError> {
            list.into_iter()
                .map(|a| {
                    Ok(ScopedRole {
                        role: convert::role_from_pb(a.role)
                            .map_err(IdentityError::InvalidArgument)?,
                        school_id: a.school_id,
                    })
                })
                .collect()
        };
        let (grant, revoke) = (scoped(r.grant)?, scoped(r.revoke)?);
        let view =
            ops::roles::assign(&self.ctx, &caller, &r.account_id, grant, revoke, client).await?;
        let editable = ops::accounts::editable_by(&caller, &view);
        Ok(Response::new(pb::AssignRolesResponse {
            account: Some(convert::account(view, editable)),
        }))
    }

    async fn get_contact_points(
        &self,
        request: Request<pb::GetContactPointsRequest>,
    ) -> Answer<pb::GetContactPointsResponse> {
        authz::require_service(&principal(&request)?, &["messaging", "roster"])?;
        let (points, missing) =
            ops::accounts::contact_points(&self.ctx.db, request.into_inner().account_ids).await?;
        Ok(Response::new(pb::GetContactPointsResponse {
            contact_points: points.into_iter().map(convert::contact_point).collect(),
            missing_account_ids: missing,
        }))
    }

    async fn deactivate_accounts(
        &self,
        request: Request<pb::DeactivateAccountsRequest>,
    ) -> Answer<pb::DeactivateAccountsResponse> {
        authz::require_service(&principal(&request)?, &["roster"])?;
        let r = request.into_inner();
        let results = ops::contacts::deactivate(
            &self.ctx,
            &r.district_id,
            &r.source_system,
            r.source_ids,
            r.account_ids,
            r.dry_run,
            &r.reason,
        )
        .await?;
        Ok(Response::new(pb::DeactivateAccountsResponse {
            results: results
                .into_iter()
                .map(convert::deactivation_result)
                .collect(),
        }))
    }

    async fn set_contact_managed_by_sync(
        &self,
        request: Request<pb::SetContactManagedBySyncRequest>,
    ) -> Answer<pb::SetContactManagedBySyncResponse> {
        authz::require_service(&principal(&request)?, &["roster"])?;
        let r = request.into_inner();
        let n = ops::contacts::set_managed_by_sync(
            &self.ctx,
            &r.district_id,
            &r.source_system,
            r.contact_managed_by_sync,
        )
        .await?;
        Ok(Response::new(pb::SetContactManagedBySyncResponse {
            updated_count: n as u32,
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

    async fn filter_held_addresses(
        &self,
        request: Request<pb::FilterHeldAddressesRequest>,
    ) -> Answer<pb::FilterHeldAddressesResponse> {
        if !matches!(
            principal(&request)?,
            homeroom_platform::auth::Principal::Service { .. }
        ) {
            return Err(IdentityError::PermissionDenied(
                "FilterHeldAddresses is for Homeroom's services".into(),
            )
            .into());
        }
        let r = request.into_inner();
        let district_id = r.district_id.trim().to_owned();
        if district_id.is_empty() {
            return Err(IdentityError::InvalidArgument("district_id: required".into()).into());
        }
        if r.addresses.len() > convert::MAX_LISTED_ADDRESSES {
            return Err(IdentityError::InvalidArgument(format!(
                "addresses: at most {}",
                convert::MAX_LISTED_ADDRESSES
            ))
            .into());
        }
        let addresses = r.addresses;
        let held = self
            .ctx
            .db
            .run(move |conn| {
                crate::store::accounts::held_addresses(conn, &district_id, &addresses)
                    .map_err(IdentityError::from)
            })
            .await?;
        Ok(Response::new(pb::FilterHeldAddressesResponse {
            addresses: held,
        }))
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Answer<pb::ListAccountsResponse> {
        let caller = principal(&request)?;
        let (mut filter, after, size) = convert::account_filter(request.into_inner())?;
        if let Some(mine) = authz::may_list_accounts(&caller, &filter.district_id)? {
            filter.schools = Some(match filter.schools.take() {
                Some(asked) if asked.iter().all(|s| mine.contains(s)) => asked,
                Some(_) => {
                    return Err(IdentityError::PermissionDenied(
                        "school_id: not one of the caller's schools".into(),
                    )
                    .into());
                }
                None => mine,
            });
        }
        let page = self
            .ctx
            .db
            .run(move |conn| ops::accounts::list(conn, &filter, after, size))
            .await?;
        Ok(Response::new(pb::ListAccountsResponse {
            next_page_token: page
                .next
                .map(|k| homeroom_platform::paging::encode(&k))
                .unwrap_or_default(),
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
            accounts: page
                .accounts
                .into_iter()
                .map(|view| {
                    let editable = ops::accounts::editable_by(&caller, &view);
                    convert::account(view, editable)
                })
                .collect(),
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

    async fn create_administrator(
        &self,
        request: Request<pb::CreateAdministratorRequest>,
    ) -> Answer<pb::CreateAdministratorResponse> {
        authz::require_service(&principal(&request)?, &["operator"])?;
        let created = ops::admins::create(&self.ctx, request.into_inner()).await?;
        let (join_token, expires_at) = created.link.unwrap_or_default();
        let join_url = if join_token.is_empty() {
            String::new()
        } else {
            ops::invitations::url(&self.ctx, &join_token)
                .unwrap_or_else(|| format!("/join?code={join_token}"))
        };
        Ok(Response::new(pb::CreateAdministratorResponse {
            account_id: created.account_id,
            created: created.created,
            already_joined: join_token.is_empty(),
            join_url,
            expires_at: (!join_token.is_empty()).then(|| convert::timestamp(expires_at)),
            join_token,
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

    async fn list_sso_providers(
        &self,
        request: Request<pb::ListSsoProvidersRequest>,
    ) -> Answer<pb::ListSsoProvidersResponse> {
        let district_id = request.into_inner().district_id;
        if district_id.trim().is_empty() {
            return Err(IdentityError::InvalidArgument("district_id: required".into()).into());
        }
        let providers = self.ctx.sso.of_district(district_id.trim());
        Ok(Response::new(pb::ListSsoProvidersResponse {
            providers: providers.map(convert::sso_provider).collect(),
        }))
    }

    async fn begin_sso_login(
        &self,
        request: Request<pb::BeginSsoLoginRequest>,
    ) -> Answer<pb::BeginSsoLoginResponse> {
        let begun = ops::sso::begin(&self.ctx, request.into_inner().try_into()?).await?;
        Ok(Response::new(pb::BeginSsoLoginResponse {
            authorization_url: begun.authorization_url,
            state: begun.state,
            expires_at: Some(convert::timestamp(begun.expires_at)),
        }))
    }

    async fn complete_sso_login(
        &self,
        request: Request<pb::CompleteSsoLoginRequest>,
    ) -> Answer<pb::CompleteSsoLoginResponse> {
        let client = client_address(&request);
        let r = request.into_inner();
        let device = device_token(r.client.as_ref());
        let done = convert::complete_sso(r, client)?;
        let outcome = match self
            .signed_in(ops::sso::complete(&self.ctx, done).await?, device)
            .await?
        {
            pb::login_response::Outcome::Tokens(t) => {
                pb::complete_sso_login_response::Outcome::Tokens(t)
            }
            pb::login_response::Outcome::AccountChoice(c) => {
                pb::complete_sso_login_response::Outcome::AccountChoice(c)
            }
        };
        Ok(Response::new(pb::CompleteSsoLoginResponse {
            outcome: Some(outcome),
        }))
    }

    // -- reports (ID-9, ID-10): delegations to grpc/reports.rs go here --

    async fn list_shared_credentials(
        &self,
        request: Request<pb::ListSharedCredentialsRequest>,
    ) -> Answer<pb::ListSharedCredentialsResponse> {
        super::reports::list_shared_credentials(&self.ctx, request).await
    }

    async fn download_shared_credentials_report(
        &self,
        request: Request<pb::DownloadSharedCredentialsReportRequest>,
    ) -> Answer<super::reports::CsvStream> {
        super::reports::download_shared_credentials_report(&self.ctx, request).await
    }

    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Answer<pb::ListAuditEventsResponse> {
        super::reports::list_audit_events(&self.ctx, request).await
    }

    async fn record_audit_events(
        &self,
        request: Request<pb::RecordAuditEventsRequest>,
    ) -> Answer<pb::RecordAuditEventsResponse> {
        super::reports::record_audit_events(&self.ctx, request).await
    }

    async fn preview_account_merge(
        &self,
        request: Request<pb::PreviewAccountMergeRequest>,
    ) -> Answer<pb::PreviewAccountMergeResponse> {
        super::merges::preview_account_merge(&self.ctx, request).await
    }

    async fn merge_accounts(
        &self,
        request: Request<pb::MergeAccountsRequest>,
    ) -> Answer<pb::MergeAccountsResponse> {
        super::merges::merge_accounts(&self.ctx, request).await
    }

    async fn undo_account_merge(
        &self,
        request: Request<pb::UndoAccountMergeRequest>,
    ) -> Answer<pb::UndoAccountMergeResponse> {
        super::merges::undo_account_merge(&self.ctx, request).await
    }
}
