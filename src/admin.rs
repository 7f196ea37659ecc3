//! The first administrator: `homeroom create-admin` (an operator, with the
//! services' shared secret, against a running identity-svc and roster-svc)
//! and the demo district's administrator that `homeroom run` prints.

use anyhow::Context;
use clap::ValueEnum;
use homeroom_proto::identity::v1 as idpb;
use tonic::transport::Channel;

use crate::roster_client::{RosterClient, service_token};

/// The administrative roles an operator can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdminRole {
    /// Everything in the district, roles and reports included.
    DistrictAdmin,
    /// Sync sources, syncs, uploads.
    RosteringAdmin,
    /// Communications.
    CommunicationsAdmin,
    /// Other users' contact details.
    UserManager,
}

impl AdminRole {
    fn pb(self) -> idpb::Role {
        match self {
            AdminRole::DistrictAdmin => idpb::Role::DistrictAdmin,
            AdminRole::RosteringAdmin => idpb::Role::RosteringAdmin,
            AdminRole::CommunicationsAdmin => idpb::Role::CommunicationsAdmin,
            AdminRole::UserManager => idpb::Role::UserManager,
        }
    }
}

/// What `create-admin` is asked.
#[derive(Debug, Clone)]
pub struct AdminRequest {
    /// A district id, or a district's name.
    pub district: String,
    /// Create the district (named `district`) when there is none by that id or name.
    pub create_district: bool,
    /// The administrator's email.
    pub email: String,
    /// Given and family name.
    pub name: (String, String),
    /// The role.
    pub role: AdminRole,
}

/// The administrator and the link that lets them in.
#[derive(Debug, Clone)]
pub struct AdminCreated {
    /// The district's id and name.
    pub district: (String, String),
    /// The account and whether it is new.
    pub answer: idpb::CreateAdministratorResponse,
}

/// Finds (or creates) the district and creates the administrator.
pub async fn create_admin(
    roster_url: &str,
    identity_url: &str,
    secret: &str,
    request: &AdminRequest,
) -> anyhow::Result<AdminCreated> {
    let mut roster = RosterClient::connect(roster_url, identity_url, secret).await?;
    let district = match roster.find_district(&request.district).await? {
        Some(found) => found,
        None if request.create_district => roster.create_district(&request.district).await?,
        None => anyhow::bail!(
            "no district has the id or name {:?}; check the name, or pass --create-district to create it",
            request.district
        ),
    };
    let token = service_token(identity_url, "operator", secret).await?;
    let mut identity = idpb::identity_service_client::IdentityServiceClient::<Channel>::connect(
        identity_url.to_string(),
    )
    .await
    .with_context(|| format!("cannot reach identity-svc at {identity_url}"))?;
    let mut call = tonic::Request::new(idpb::CreateAdministratorRequest {
        district_id: district.0.clone(),
        email: request.email.clone(),
        given_name: request.name.0.clone(),
        family_name: request.name.1.clone(),
        role: request.role.pb() as i32,
    });
    call.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let answer = identity
        .create_administrator(call)
        .await
        .map_err(|s| anyhow::anyhow!("identity-svc refused: {}", s.message()))?
        .into_inner();
    Ok(AdminCreated { district, answer })
}

/// What `create-admin` prints.
pub fn describe(request: &AdminRequest, created: &AdminCreated) -> String {
    let a = &created.answer;
    let mut out = format!(
        "district: {} ({})\nadministrator: {} (account {}, {})\n",
        created.district.1,
        created.district.0,
        request.email,
        a.account_id,
        if a.created { "created" } else { "existed" }
    );
    if a.already_joined {
        out.push_str("they have joined already: they sign in with their password\n");
    } else {
        out.push_str(&format!(
            "join link (single use, valid 24 hours; give it to them, it lets them set a password):\n  {}\n",
            a.join_url
        ));
    }
    out
}

/// The demo district's administrator: created, joined with a random
/// password; the email and password, to print once.
pub async fn demo_admin(
    roster_url: &str,
    identity_url: &str,
    secret: &str,
    district_id: &str,
) -> anyhow::Result<(String, String)> {
    let email = "admin@demo.homeroom.test".to_string();
    let request = AdminRequest {
        district: district_id.into(),
        create_district: false,
        email: email.clone(),
        name: ("Demo".into(), "Administrator".into()),
        role: AdminRole::DistrictAdmin,
    };
    let created = create_admin(roster_url, identity_url, secret, &request).await?;
    let password = format!("demo-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    if created.answer.already_joined {
        anyhow::bail!("the demo administrator joined earlier; their password was printed then");
    }
    idpb::identity_service_client::IdentityServiceClient::<Channel>::connect(
        identity_url.to_string(),
    )
    .await?
    .accept_invitation(idpb::AcceptInvitationRequest {
        code: created.answer.join_token.clone(),
        new_password: password.clone(),
        ..Default::default()
    })
    .await
    .map_err(|s| anyhow::anyhow!("the demo administrator could not join: {}", s.message()))?;
    Ok((email, password))
}
