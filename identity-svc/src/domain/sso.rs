//! ID-5 rules: the OpenID Connect providers districts configure, the
//! authorization request of an SSO login, and what a first login may link an
//! account by.

use std::{collections::HashSet, fmt};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::SecretString;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{credential::Email, id_token::IdTokenClaims};

/// Kinds of providers; all speak OpenID Connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// Google Workspace for Education.
    Google,
    /// Microsoft Entra ID (configured per tenant).
    Microsoft,
    /// Clever: its email claim is never verified.
    Clever,
    /// ClassLink LaunchPad.
    ClassLink,
    /// Any other OpenID Connect provider.
    Oidc,
}

impl ProviderKind {
    /// The configuration text of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Google => "google",
            ProviderKind::Microsoft => "microsoft",
            ProviderKind::Clever => "clever",
            ProviderKind::ClassLink => "classlink",
            ProviderKind::Oidc => "oidc",
        }
    }

    fn parse(text: &str) -> Result<ProviderKind, String> {
        [
            ProviderKind::Google,
            ProviderKind::Microsoft,
            ProviderKind::Clever,
            ProviderKind::ClassLink,
            ProviderKind::Oidc,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| {
            format!("kind {text:?} is not one of google, microsoft, clever, classlink, oidc")
        })
    }
}

/// A district's SSO provider, as configured.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Provider id, unique across districts.
    pub id: String,
    /// District whose accounts it signs in.
    pub district_id: String,
    /// Kind.
    pub kind: ProviderKind,
    /// Button label.
    pub display_name: String,
    /// Issuer URL, without a trailing slash.
    pub issuer: String,
    /// OAuth client id (the ID token's audience).
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: SecretString,
    /// ID-token claim carrying the account's external (source) id, if any.
    pub external_id_claim: Option<String>,
    /// Whether a first login may link by a verified email claim.
    pub link_by_verified_email: bool,
    /// Scopes asked for; `openid` is always among them.
    pub scopes: Vec<String>,
}

impl Provider {
    /// Whether a first login may link by email: when configured, and never for
    /// Clever, whose email claim is not verified.
    pub fn links_by_email(&self) -> bool {
        self.link_by_verified_email && self.kind != ProviderKind::Clever
    }

    /// The `iss` values its ID tokens may carry: the issuer, and for Google
    /// also the scheme-less form Google still sends.
    pub fn accepted_issuers(&self) -> Vec<String> {
        let mut issuers = vec![self.issuer.clone()];
        if self.kind == ProviderKind::Google
            && let Some(bare) = self.issuer.strip_prefix("https://")
        {
            issuers.push(bare.to_string());
        }
        issuers
    }
}

/// The providers file: a JSON array, one object per provider.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProviderEntry {
    id: String,
    district_id: String,
    kind: String,
    display_name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    #[serde(default)]
    external_id_claim: Option<String>,
    #[serde(default = "yes")]
    link_by_verified_email: bool,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
}

fn yes() -> bool {
    true
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

/// Parses the providers file; the error names the provider and the problem.
pub fn parse_providers(json: &str) -> Result<Vec<Provider>, String> {
    let entries: Vec<ProviderEntry> =
        serde_json::from_str(json).map_err(|e| format!("not a JSON array of providers: {e}"))?;
    let mut seen = HashSet::new();
    let mut providers = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let name = format!("provider {} ({:?})", index + 1, entry.id);
        let provider = provider(entry).map_err(|e| format!("{name}: {e}"))?;
        if !seen.insert(provider.id.clone()) {
            return Err(format!("{name}: the id is used twice"));
        }
        providers.push(provider);
    }
    Ok(providers)
}

fn provider(entry: ProviderEntry) -> Result<Provider, String> {
    for (field, value) in [
        ("id", &entry.id),
        ("districtId", &entry.district_id),
        ("displayName", &entry.display_name),
        ("clientId", &entry.client_id),
        ("clientSecret", &entry.client_secret),
    ] {
        if value.trim().is_empty() {
            return Err(format!("{field} is required"));
        }
    }
    let issuer = entry.issuer.trim().trim_end_matches('/').to_string();
    if !is_issuer_url(&issuer) {
        return Err(format!(
            "issuer {issuer:?} must be an https URL (http only on 127.0.0.1 or localhost)"
        ));
    }
    if !entry.scopes.iter().any(|s| s == "openid") {
        return Err("scopes must include \"openid\"".into());
    }
    Ok(Provider {
        id: entry.id.trim().to_string(),
        district_id: entry.district_id.trim().to_string(),
        kind: ProviderKind::parse(entry.kind.trim())?,
        display_name: entry.display_name.trim().to_string(),
        issuer,
        client_id: entry.client_id.trim().to_string(),
        client_secret: SecretString::from(entry.client_secret),
        external_id_claim: entry
            .external_id_claim
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        link_by_verified_email: entry.link_by_verified_email,
        scopes: entry.scopes,
    })
}

fn is_issuer_url(url: &str) -> bool {
    let host = |rest: &str| rest.split(['/', '?', '#']).next().unwrap_or("").to_string();
    if url.contains(char::is_whitespace) || url.contains(['?', '#']) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        return !host(rest).is_empty();
    }
    url.strip_prefix("http://").is_some_and(|rest| {
        let host = host(rest);
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.split(':').next().unwrap_or(""),
        };
        matches!(name, "127.0.0.1" | "localhost" | "::1")
    })
}

/// The PKCE S256 challenge of a code verifier (RFC 7636).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What the authorization URL of one login carries.
pub struct AuthorizationRequest<'a> {
    /// The provider's `authorization_endpoint`.
    pub endpoint: &'a str,
    /// Where the provider sends the browser back.
    pub redirect_uri: &'a str,
    /// Opaque state (the gateway binds it to the browser).
    pub state: &'a str,
    /// Nonce the ID token must carry.
    pub nonce: &'a str,
    /// PKCE S256 challenge.
    pub code_challenge: &'a str,
    /// Optional login hint.
    pub login_hint: Option<&'a str>,
}

impl fmt::Debug for AuthorizationRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The provider's authorization URL of a code flow with PKCE.
pub fn authorization_url(provider: &Provider, request: &AuthorizationRequest<'_>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", request.redirect_uri)
        .append_pair("scope", &provider.scopes.join(" "))
        .append_pair("state", request.state)
        .append_pair("nonce", request.nonce)
        .append_pair("code_challenge", request.code_challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(hint) = request.login_hint {
        query.append_pair("login_hint", hint);
    }
    let separator = if request.endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{}{separator}{}", request.endpoint, query.finish())
}

/// What a first login may link an account by, in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstLoginKeys {
    /// The external (source) id from the configured claim.
    pub external_id: Option<String>,
    /// The email, only when verified and the provider may link by it.
    pub email: Option<Email>,
}

/// The keys a verified ID token offers for a first login with `provider`.
pub fn first_login_keys(provider: &Provider, claims: &IdTokenClaims) -> FirstLoginKeys {
    let external_id = provider
        .external_id_claim
        .as_deref()
        .and_then(|claim| claims.text_claim(claim))
        .filter(|id| !id.trim().is_empty());
    let email = claims
        .email
        .as_deref()
        .filter(|_| claims.email_verified && provider.links_by_email())
        .and_then(|e| Email::parse(e).ok());
    FirstLoginKeys { external_id, email }
}
