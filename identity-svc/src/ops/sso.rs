//! ID-5: sign-in with a district's OpenID Connect provider.
//!
//! `begin` keeps the state (hashed), nonce and PKCE verifier server side and
//! returns the provider's authorization URL. `complete` takes that pending
//! login once, exchanges the code, verifies the ID token and finds the account:
//! by its (issuer, subject) link, else on a first login by the configured
//! external-id claim, else by the verified email. Only accounts of the
//! provider's district that are not deactivated qualify; an invitee signing in
//! this way has joined and becomes ACTIVE. One account is linked and signed in;
//! several (a shared email) give the account choice of password login, and
//! `SelectAccount` links the one chosen. Whatever fails, the caller reads one
//! message that tells nothing of which accounts exist.

use chrono::NaiveDateTime;
use homeroom_platform::telemetry::mask_address;

use super::{
    Ctx,
    login::{self, SignIn},
    oidc::OidcClient,
    reports::AuditKind,
    tokens::{hash_token, random_token},
};
use crate::{
    domain::{
        accounts::AccountStatus,
        error::IdentityError,
        id_token::{self, Expected, IdTokenClaims},
        sso::{self, AuthorizationRequest, FirstLoginKeys, Provider},
    },
    store::{
        self, accounts::AccountRow, audit::AuditRow, sessions::PendingLink, sso::PendingLoginRow,
    },
};

/// The one message for an SSO login that found no account or failed a check.
pub const SSO_FAILED: &str =
    "signing in with this provider did not work; sign in another way or ask your school";
const LOGIN_EXPIRED: &str = "this sign-in has expired or was already used; start again";
const WRONG_REDIRECT: &str = "this sign-in was started for another address; start again";
/// How long a begun login may take.
const PENDING_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// The configured providers and the HTTP side of their logins.
#[derive(Debug, Default)]
pub struct Sso {
    providers: Vec<Provider>,
    oidc: OidcClient,
}

impl Sso {
    /// SSO over the configured providers.
    pub fn new(providers: Vec<Provider>) -> Sso {
        Sso {
            providers,
            oidc: OidcClient::default(),
        }
    }

    /// The providers of a district, in configuration order.
    pub fn of_district<'a>(&'a self, district_id: &'a str) -> impl Iterator<Item = &'a Provider> {
        self.providers
            .iter()
            .filter(move |p| p.district_id == district_id)
    }

    fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }
}

/// A login to begin, validated at the edge.
#[derive(Debug, Clone)]
pub struct BeginSso {
    /// The provider.
    pub provider_id: String,
    /// The gateway's callback URL.
    pub redirect_uri: String,
    /// Optional login hint for the provider.
    pub login_hint: Option<String>,
}

/// A login begun.
#[derive(Debug, Clone)]
pub struct Begun {
    /// Where to send the browser.
    pub authorization_url: String,
    /// The state the callback must bring back.
    pub state: String,
    /// When the login expires.
    pub expires_at: NaiveDateTime,
}

/// Begins a login: stores its secrets and builds the authorization URL.
#[tracing::instrument(skip_all, fields(provider = %begin.provider_id))]
pub async fn begin(ctx: &Ctx, begin: BeginSso) -> Result<Begun, IdentityError> {
    let provider = ctx.sso.provider(&begin.provider_id).ok_or_else(|| {
        IdentityError::NotFound(format!("no SSO provider {:?}", begin.provider_id))
    })?;
    let discovery = ctx.sso.oidc.discover(provider).await?;
    let (state, nonce, verifier) = (random_token(), random_token(), random_token());
    let now = chrono::Utc::now().naive_utc();
    let expires_at = now + PENDING_LIFETIME;
    let authorization_url = sso::authorization_url(
        provider,
        &AuthorizationRequest {
            endpoint: &discovery.authorization_endpoint,
            redirect_uri: &begin.redirect_uri,
            state: &state,
            nonce: &nonce,
            code_challenge: &sso::pkce_challenge(&verifier),
            login_hint: begin.login_hint.as_deref(),
        },
    );
    let row = PendingLoginRow {
        state_hash: hash_token(&state),
        provider_id: provider.id.clone(),
        nonce,
        code_verifier: verifier,
        redirect_uri: begin.redirect_uri,
        created_at: now,
        expires_at,
    };
    ctx.db
        .run(move |conn| store::sso::insert_pending(conn, &row).map_err(IdentityError::from))
        .await?;
    Ok(Begun {
        authorization_url,
        state,
        expires_at,
    })
}

/// What the provider sent back to the callback, validated at the edge.
#[derive(Debug, Clone)]
pub struct CompleteSso {
    /// The state.
    pub state: String,
    /// The code; empty when the provider sent an error.
    pub code: String,
    /// The provider's `error` and `error_description`, if any.
    pub provider_error: Option<(String, String)>,
    /// The callback URL the browser came back to.
    pub redirect_uri: String,
    /// The client's address, for audit.
    pub client_address: Option<String>,
}

/// Completes a login: tokens for one account, or a choice among several.
#[tracing::instrument(skip_all, fields(provider = tracing::field::Empty))]
pub async fn complete(ctx: &Ctx, done: CompleteSso) -> Result<SignIn, IdentityError> {
    let hash = hash_token(&done.state);
    let now = chrono::Utc::now().naive_utc();
    let pending = ctx
        .db
        .transaction(move |conn| {
            store::sso::take_pending(conn, &hash, now).map_err(IdentityError::from)
        })
        .await?
        .ok_or(IdentityError::Unauthenticated(LOGIN_EXPIRED))?;
    let provider = ctx
        .sso
        .provider(&pending.provider_id)
        .ok_or(IdentityError::Unauthenticated(LOGIN_EXPIRED))?;
    tracing::Span::current().record("provider", provider.id.as_str());
    if pending.redirect_uri != done.redirect_uri {
        return Err(IdentityError::Unauthenticated(WRONG_REDIRECT));
    }
    if let Some((error, description)) = &done.provider_error {
        tracing::info!(provider = %provider.id, error = %printable(error), "sso provider returned an error");
        return Err(IdentityError::PermissionDenied(provider_refusal(
            error,
            description,
        )));
    }
    if done.code.is_empty() {
        return Err(IdentityError::InvalidArgument("code: required".into()));
    }
    let claims = verified_claims(ctx, provider, &pending, &done.code).await?;
    sign_in(ctx, provider, claims, done.client_address.as_deref()).await
}

/// Exchanges the code and verifies the ID token against the provider's keys.
async fn verified_claims(
    ctx: &Ctx,
    provider: &Provider,
    pending: &PendingLoginRow,
    code: &str,
) -> Result<IdTokenClaims, IdentityError> {
    let oidc = &ctx.sso.oidc;
    let discovery = oidc.discover(provider).await?;
    let token = oidc
        .exchange(
            provider,
            &discovery,
            code,
            &pending.redirect_uri,
            &pending.code_verifier,
        )
        .await?;
    let refused = |e: id_token::IdTokenError| {
        tracing::warn!(provider = %provider.id, reason = %e, "sso id token refused");
        IdentityError::Unauthenticated(SSO_FAILED)
    };
    let (kid, _) = id_token::key_id(&token).map_err(refused)?;
    let key = oidc
        .key(&discovery.jwks_uri, kid.as_deref())
        .await?
        .ok_or(id_token::IdTokenError::UnknownKey)
        .map_err(refused)?;
    let issuers = provider.accepted_issuers();
    let expected = Expected {
        issuers: &issuers,
        client_id: &provider.client_id,
        nonce: &pending.nonce,
        now: chrono::Utc::now().timestamp(),
    };
    id_token::verify(&token, &key, &expected).map_err(refused)
}

/// Who a verified identity is.
enum Found {
    /// The account linked to (issuer, subject).
    Linked(Box<AccountRow>),
    /// No link yet: the accounts a first login may link to.
    FirstLogin(Vec<AccountRow>),
}

/// The linked account, else the accounts of the provider's district the
/// first-login keys find: by external id, else by verified email.
async fn find(
    ctx: &Ctx,
    provider: &Provider,
    link: &PendingLink,
    keys: FirstLoginKeys,
) -> Result<Found, IdentityError> {
    let district = provider.district_id.clone();
    let (issuer, subject) = (link.issuer.clone(), link.subject.clone());
    ctx.db
        .run(move |conn| {
            if let Some(account) = store::sso::linked_account(conn, &issuer, &subject)? {
                return Ok::<_, IdentityError>(Found::Linked(Box::new(account)));
            }
            let mut found = Vec::new();
            if let Some(external_id) = &keys.external_id {
                found = store::sso::accounts_by_external_id(conn, &district, external_id)?;
            }
            if let (true, Some(email)) = (found.is_empty(), &keys.email) {
                found =
                    store::accounts::login_holders(conn, "email", email.as_str(), Some(&district))?;
            }
            Ok(Found::FirstLogin(found))
        })
        .await
}

/// Signs in the account of a verified identity, linking it on a first login.
async fn sign_in(
    ctx: &Ctx,
    provider: &Provider,
    claims: IdTokenClaims,
    client_address: Option<&str>,
) -> Result<SignIn, IdentityError> {
    let link = PendingLink {
        // The configured issuer, so Google's two spellings make one link.
        issuer: provider.issuer.clone(),
        subject: claims.sub.clone(),
    };
    let keys = sso::first_login_keys(provider, &claims);
    let masked_email = keys.email.as_ref().map(|e| mask_address(e.as_str()));
    let now = chrono::Utc::now().naive_utc();
    match find(ctx, provider, &link, keys).await? {
        Found::Linked(account) => {
            if account.district_id != provider.district_id
                || account.status() == AccountStatus::Deactivated
                || account.sign_in_disabled
            {
                tracing::warn!(provider = %provider.id, "sso identity is linked to an account that may not sign in here");
                return Err(IdentityError::Unauthenticated(SSO_FAILED));
            }
            let id = account.id.clone();
            ctx.db
                .run(move |conn| {
                    store::sso::activate_invitee(conn, &id, now).map_err(IdentityError::from)
                })
                .await?;
            signed_in(ctx, vec![*account], client_address, None).await
        }
        Found::FirstLogin(candidates) => match candidates.as_slice() {
            [] => {
                tracing::warn!(provider = %provider.id, email = ?masked_email, "sso login matched no account");
                Err(IdentityError::Unauthenticated(SSO_FAILED))
            }
            [one] => {
                link_account(ctx, &link, one, client_address, now).await?;
                signed_in(ctx, candidates, client_address, None).await
            }
            _ => signed_in(ctx, candidates, client_address, Some(link)).await,
        },
    }
}

/// Signs in one account or offers a choice, as password login does.
async fn signed_in(
    ctx: &Ctx,
    accounts: Vec<AccountRow>,
    client_address: Option<&str>,
    link: Option<PendingLink>,
) -> Result<SignIn, IdentityError> {
    let unlocked = ctx
        .db
        .run(move |conn| store::accounts::with_roles(conn, accounts).map_err(IdentityError::from))
        .await?;
    login::finish_linking(ctx, unlocked, client_address, "sso", Vec::new(), link).await
}

/// Links the SSO identity to `account` (audited); an invitee becomes ACTIVE.
/// Refused when the identity got linked to another account meanwhile.
async fn link_account(
    ctx: &Ctx,
    link: &PendingLink,
    account: &AccountRow,
    client_address: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), IdentityError> {
    let (link, account) = (link.clone(), account.clone());
    let client_address = client_address.map(str::to_owned);
    let linked = ctx
        .db
        .transaction(move |conn| {
            let linked_to = store::sso::link(conn, &link.issuer, &link.subject, &account.id, now)?;
            if linked_to != account.id {
                return Ok::<_, IdentityError>(false);
            }
            store::sso::activate_invitee(conn, &account.id, now)?;
            let mut audit = AuditRow::new(AuditKind::SsoLinked.as_str(), &account.district_id, now);
            audit.actor_id = Some(account.id.clone());
            audit.subject_account_id = Some(account.id.clone());
            audit.client_address = client_address;
            audit.detail = format!("issuer={}", link.issuer);
            store::audit::insert(conn, &[audit])?;
            Ok(true)
        })
        .await?;
    if !linked {
        tracing::warn!("sso identity was linked to another account meanwhile");
        return Err(IdentityError::Unauthenticated(SSO_FAILED));
    }
    Ok(())
}

/// After an SSO account choice: links the chosen account.
pub async fn link_chosen(
    ctx: &Ctx,
    link: &PendingLink,
    account_id: &str,
) -> Result<(), IdentityError> {
    let id = account_id.to_string();
    let account = ctx
        .db
        .run(move |conn| store::accounts::find(conn, &id).map_err(IdentityError::from))
        .await?
        .ok_or(IdentityError::Unauthenticated(SSO_FAILED))?;
    link_account(ctx, link, &account, None, chrono::Utc::now().naive_utc()).await
}

/// What the provider said, for the person: printable and short.
fn provider_refusal(error: &str, description: &str) -> String {
    let description = printable(description);
    if description.is_empty() {
        format!("the sign-in provider refused: {}", printable(error))
    } else {
        format!(
            "the sign-in provider refused: {} ({description})",
            printable(error)
        )
    }
}

fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}
