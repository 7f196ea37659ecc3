//! Who an audience is and how to reach them: roster-svc resolves students,
//! classes, schools and roles to accounts (`ResolveAudience`), identity-svc
//! gives each account's name, language and addresses (`GetContactPoints`).
//! [`GrpcDirectory`] also carries identity's audit log (`ops::audit`).

use std::{collections::BTreeSet, sync::Arc};

use futures::future::BoxFuture;
use homeroom_platform::service_token::ServiceTokens;
use homeroom_proto::{identity::v1 as idpb, roster::v1 as rpb};
use secrecy::SecretString;
use tonic::transport::Channel;

use crate::domain::{error::MessagingError, plan::Recipient};

/// An audience as the sender wrote it (stored with the communication as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AudienceSpec {
    /// Accounts named directly.
    pub account_ids: Vec<String>,
    /// Students: their guardians.
    pub student_ids: Vec<String>,
    /// Classes.
    pub class_ids: Vec<String>,
    /// Schools.
    pub school_ids: Vec<String>,
    /// Everyone in the district (with `roles`).
    pub whole_district: bool,
    /// Roles within classes/schools/district (roster's `AudienceRole` numbers).
    pub roles: Vec<i32>,
    /// Which guardians of each student (roster's `GuardianContacts` number;
    /// 0: every guardian).
    pub guardian_contacts: i32,
}

impl AudienceSpec {
    /// Whether roster has to resolve part of it.
    pub fn needs_roster(&self) -> bool {
        !self.student_ids.is_empty()
            || !self.class_ids.is_empty()
            || !self.school_ids.is_empty()
            || self.whole_district
    }

    /// Whether it names anyone at all.
    pub fn is_empty(&self) -> bool {
        self.account_ids.is_empty() && !self.needs_roster()
    }
}

/// The resolved audience.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Accounts, deduplicated and sorted.
    pub account_ids: Vec<String>,
    /// Who the audience names but cannot be reached.
    pub unreached: Unreached,
}

/// Who an audience names but nothing reaches, for the sender to see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unreached {
    /// Ids roster did not know.
    pub not_found_ids: Vec<String>,
    /// Rostered people without an account.
    pub people_without_account: u64,
    /// Students asked for without an account of their own (their guardians
    /// are reached).
    pub students_without_account: u64,
}

/// Looks up audiences and contact points.
pub trait Directory: Send + Sync + 'static {
    /// Resolves an audience of a district to accounts.
    fn resolve(
        &self,
        district_id: &str,
        audience: &AudienceSpec,
    ) -> BoxFuture<'_, Result<Resolved, MessagingError>>;
    /// Contact points of accounts (missing ones are left out).
    fn contact_points(
        &self,
        account_ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<Recipient>, MessagingError>>;

    /// An audience's accounts with their contact points, by account id. By
    /// default [`Directory::resolve`], then [`Directory::contact_points`].
    fn recipients(
        &self,
        district_id: &str,
        audience: &AudienceSpec,
    ) -> BoxFuture<'_, Result<(Vec<Recipient>, Unreached), MessagingError>> {
        let (district_id, audience) = (district_id.to_string(), audience.clone());
        Box::pin(async move {
            let resolved = self.resolve(&district_id, &audience).await?;
            let recipients = self.contact_points(resolved.account_ids).await?;
            Ok((recipients, resolved.unreached))
        })
    }

    /// The district of an account, if it exists.
    fn district_of(
        &self,
        account_id: &str,
    ) -> BoxFuture<'_, Result<Option<String>, MessagingError>>;

    /// RO-8: the accounts merged into an account (their history is its).
    fn merged_into(&self, _account_id: &str) -> BoxFuture<'_, Result<Vec<String>, MessagingError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Which of `addresses` (normalised) an account of `district_id` holds.
    fn held_in(
        &self,
        district_id: &str,
        addresses: Vec<String>,
    ) -> BoxFuture<'_, Result<BTreeSet<String>, MessagingError>>;
}

/// The directory over gRPC, with a service token from identity-svc.
pub struct GrpcDirectory {
    identity: Channel,
    roster: Channel,
    tokens: ServiceTokens,
}

impl std::fmt::Debug for GrpcDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcDirectory").finish_non_exhaustive()
    }
}

impl GrpcDirectory {
    /// A directory over lazily connected channels.
    pub fn new(
        identity: Channel,
        roster: Channel,
        secret: Option<SecretString>,
    ) -> Arc<GrpcDirectory> {
        Arc::new(GrpcDirectory {
            tokens: ServiceTokens::new(identity.clone(), "messaging", secret),
            identity,
            roster,
        })
    }

    /// One account's contact point.
    async fn point(&self, id: String) -> Result<Option<idpb::ContactPoint>, MessagingError> {
        let request = self
            .authorised(idpb::GetContactPointsRequest {
                account_ids: vec![id],
            })
            .await?;
        let points =
            idpb::identity_service_client::IdentityServiceClient::new(self.identity.clone())
                .get_contact_points(request)
                .await
                .map_err(|s| unavailable("identity-svc", &s))?
                .into_inner();
        Ok(points.contact_points.into_iter().next())
    }

    /// identity-svc's channel.
    pub(crate) fn identity(&self) -> Channel {
        self.identity.clone()
    }

    /// `message` carrying messaging's service token.
    pub(crate) async fn authorised<T>(
        &self,
        message: T,
    ) -> Result<tonic::Request<T>, MessagingError> {
        self.tokens
            .request(message)
            .await
            .map_err(|s| unavailable("identity-svc", &s))
    }
}

/// An error answer of identity or roster as messaging's error.
pub(crate) fn unavailable(service: &str, status: &tonic::Status) -> MessagingError {
    match status.code() {
        tonic::Code::Unimplemented => MessagingError::Unavailable(format!(
            "{service} cannot resolve this yet: {}",
            status.message()
        )),
        tonic::Code::InvalidArgument | tonic::Code::NotFound => {
            MessagingError::InvalidArgument(status.message().into())
        }
        tonic::Code::PermissionDenied => MessagingError::PermissionDenied(status.message().into()),
        _ => MessagingError::Unavailable(format!("{service} is unavailable: {}", status.message())),
    }
}

/// Accounts per contact-point lookup while an audience streams in, and how
/// many lookups may be under way at once: identity answers one while roster
/// sends the next page (a whole district is about 85,000 accounts).
const CONTACT_CHUNK: usize = 2_000;
const LOOKUPS_IN_FLIGHT: usize = 4;

impl GrpcDirectory {
    /// roster's stream of the audience's members.
    async fn members(
        &self,
        district_id: String,
        audience: &AudienceSpec,
    ) -> Result<tonic::Streaming<rpb::ResolveAudienceResponse>, MessagingError> {
        let request = self
            .authorised(rpb::ResolveAudienceRequest {
                district_id,
                student_ids: audience.student_ids.clone(),
                class_ids: audience.class_ids.clone(),
                school_ids: audience.school_ids.clone(),
                whole_district: audience.whole_district,
                roles: audience.roles.clone(),
                scope: None,
                guardian_contacts: audience.guardian_contacts,
            })
            .await?;
        Ok(
            rpb::roster_service_client::RosterServiceClient::new(self.roster.clone())
                .resolve_audience(request)
                .await
                .map_err(|s| unavailable("roster-svc", &s))?
                .into_inner(),
        )
    }

    /// One identity call: the contact points of `account_ids`.
    async fn contact_chunk(
        &self,
        account_ids: Vec<String>,
    ) -> Result<Vec<Recipient>, MessagingError> {
        let request = self
            .authorised(idpb::GetContactPointsRequest { account_ids })
            .await?;
        let points =
            idpb::identity_service_client::IdentityServiceClient::new(self.identity.clone())
                .get_contact_points(request)
                .await
                .map_err(|s| unavailable("identity-svc", &s))?
                .into_inner();
        Ok(points
            .contact_points
            .into_iter()
            .map(|p| Recipient {
                account_id: p.account_id,
                language: p.preferred_language,
                email: p.email.map(|c| c.value),
                phone: p.mobile_phone.map(|c| c.value),
                merged_account_ids: p.merged_account_ids,
            })
            .collect())
    }
}

impl Directory for GrpcDirectory {
    fn resolve(
        &self,
        district_id: &str,
        audience: &AudienceSpec,
    ) -> BoxFuture<'_, Result<Resolved, MessagingError>> {
        let (district_id, audience) = (district_id.to_string(), audience.clone());
        Box::pin(async move {
            let mut ids: BTreeSet<String> = audience.account_ids.iter().cloned().collect();
            let mut unreached = Unreached::default();
            if audience.needs_roster() {
                let mut stream = self.members(district_id, &audience).await?;
                while let Some(page) = stream
                    .message()
                    .await
                    .map_err(|s| unavailable("roster-svc", &s))?
                {
                    ids.extend(page.members.into_iter().map(|m| m.account_id));
                    if let Some(summary) = page.summary {
                        unreached.not_found_ids.extend(summary.not_found_ids);
                        unreached.people_without_account += summary.people_without_account;
                        unreached.students_without_account += summary.students_without_account;
                    }
                }
            }
            Ok(Resolved {
                account_ids: ids.into_iter().collect(),
                unreached,
            })
        })
    }

    fn district_of(
        &self,
        account_id: &str,
    ) -> BoxFuture<'_, Result<Option<String>, MessagingError>> {
        let id = account_id.to_string();
        Box::pin(async move { Ok(self.point(id).await?.map(|p| p.district_id)) })
    }

    fn merged_into(&self, account_id: &str) -> BoxFuture<'_, Result<Vec<String>, MessagingError>> {
        let id = account_id.to_string();
        Box::pin(async move {
            Ok(self
                .point(id)
                .await?
                .map(|p| p.merged_account_ids)
                .unwrap_or_default())
        })
    }

    fn held_in(
        &self,
        district_id: &str,
        addresses: Vec<String>,
    ) -> BoxFuture<'_, Result<BTreeSet<String>, MessagingError>> {
        let district_id = district_id.to_string();
        Box::pin(async move {
            let mut held = BTreeSet::new();
            for chunk in addresses.chunks(10_000) {
                let request = self
                    .authorised(idpb::FilterHeldAddressesRequest {
                        district_id: district_id.clone(),
                        addresses: chunk.to_vec(),
                    })
                    .await?;
                let answer = idpb::identity_service_client::IdentityServiceClient::new(
                    self.identity.clone(),
                )
                .filter_held_addresses(request)
                .await
                .map_err(|s| unavailable("identity-svc", &s))?
                .into_inner();
                held.extend(answer.addresses);
            }
            Ok(held)
        })
    }

    fn contact_points(
        &self,
        account_ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<Recipient>, MessagingError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(account_ids.len());
            for chunk in account_ids.chunks(5_000) {
                out.extend(self.contact_chunk(chunk.to_vec()).await?);
            }
            Ok(out)
        })
    }

    /// Looks contact points up while roster is still sending the audience:
    /// each [`CONTACT_CHUNK`] new accounts go to identity at once, up to
    /// [`LOOKUPS_IN_FLIGHT`] calls at a time.
    fn recipients(
        &self,
        district_id: &str,
        audience: &AudienceSpec,
    ) -> BoxFuture<'_, Result<(Vec<Recipient>, Unreached), MessagingError>> {
        use futures::{StreamExt, stream::FuturesOrdered};
        let (district_id, audience) = (district_id.to_string(), audience.clone());
        Box::pin(async move {
            let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
            let mut pending: Vec<String> = Vec::new();
            for id in &audience.account_ids {
                if seen.insert(id.clone()) {
                    pending.push(id.clone());
                }
            }
            let mut unreached = Unreached::default();
            let mut lookups = FuturesOrdered::new();
            let mut out: Vec<Recipient> = Vec::new();
            let mut stream = match audience.needs_roster() {
                true => Some(self.members(district_id, &audience).await?),
                false => None,
            };
            while let Some(members) = stream.as_mut() {
                tokio::select! {
                    page = members.message(), if lookups.len() < LOOKUPS_IN_FLIGHT => {
                        let Some(page) = page.map_err(|s| unavailable("roster-svc", &s))? else {
                            stream = None;
                            continue;
                        };
                        for member in page.members {
                            if seen.insert(member.account_id.clone()) {
                                pending.push(member.account_id);
                            }
                        }
                        if let Some(summary) = page.summary {
                            unreached.not_found_ids.extend(summary.not_found_ids);
                            unreached.people_without_account += summary.people_without_account;
                            unreached.students_without_account += summary.students_without_account;
                        }
                        while pending.len() >= CONTACT_CHUNK {
                            let chunk: Vec<String> = pending.drain(..CONTACT_CHUNK).collect();
                            lookups.push_back(self.contact_chunk(chunk));
                        }
                    }
                    Some(found) = lookups.next() => out.extend(found?),
                }
            }
            for chunk in pending.chunks(CONTACT_CHUNK) {
                lookups.push_back(self.contact_chunk(chunk.to_vec()));
            }
            while let Some(found) = lookups.next().await {
                out.extend(found?);
            }
            out.sort_by(|a, b| a.account_id.cmp(&b.account_id));
            Ok((out, unreached))
        })
    }
}
