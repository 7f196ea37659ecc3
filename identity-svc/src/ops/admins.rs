//! ID-9: the first administrator. An operator (`homeroom create-admin`, with
//! the service secret) creates a staff account with an administrative role
//! in a district and receives a single-use join link, valid 24 hours, to
//! hand to that person: they set their password on the join page. The
//! account is keyed by its email under the source `operator`, so running the
//! command again finds it: not joined yet, a new link replaces the old ones;
//! joined, only its role is set.

use std::time::Duration;

use chrono::NaiveDateTime;
use homeroom_proto::identity::v1 as pb;

use super::{
    Ctx,
    tokens::{hash_token, random_token},
    upsert::{Outcome, UpsertBatch, upsert_accounts},
};
use crate::{
    domain::{accounts::AccountStatus, credential::Region, error::IdentityError},
    store::{self, audit::AuditRow},
};

/// How long an administrator's join link works.
pub const LINK_VALID_FOR: Duration = Duration::from_secs(24 * 3600);

/// The source system the operator's accounts belong to.
pub const SOURCE: &str = "operator";

/// What [`create`] did.
#[derive(Debug, Clone)]
pub struct Created {
    /// The account.
    pub account_id: String,
    /// Made now.
    pub created: bool,
    /// The link's token, unless the account has joined already.
    pub link: Option<(String, NaiveDateTime)>,
}

/// Creates (or finds) the administrator and issues a join link.
pub async fn create(
    ctx: &Ctx,
    request: pb::CreateAdministratorRequest,
) -> Result<Created, IdentityError> {
    let role = match pb::Role::try_from(request.role) {
        Ok(pb::Role::Unspecified) | Err(_) => pb::Role::DistrictAdmin,
        Ok(
            role @ (pb::Role::DistrictAdmin
            | pb::Role::RosteringAdmin
            | pb::Role::CommunicationsAdmin
            | pb::Role::UserManager),
        ) => role,
        Ok(other) => {
            return Err(IdentityError::InvalidArgument(format!(
                "role: {} is not an administrative role; use district-admin, rostering-admin, \
                 communications-admin or user-manager",
                other.as_str_name()
            )));
        }
    };
    let district_id = request.district_id.trim().to_string();
    if district_id.is_empty() {
        return Err(IdentityError::InvalidArgument(
            "district_id: name the district the administrator manages".into(),
        ));
    }
    let email = request.email.trim().to_lowercase();
    let or = |s: String, default: &str| {
        let s = s.trim().to_string();
        if s.is_empty() { default.to_string() } else { s }
    };
    let item = pb::AccountUpsert {
        source_id: format!("admin:{email}"),
        kind: pb::AccountKind::Staff as i32,
        given_name: or(request.given_name, "District"),
        family_name: or(request.family_name, "Administrator"),
        email: Some(email.clone()),
        roles: vec![pb::RoleAssignment {
            role: role as i32,
            district_id: district_id.clone(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let incoming = crate::grpc::convert::incoming(item, &district_id, Region::default());
    if let Err(rejected) = &incoming {
        return Err(IdentityError::InvalidArgument(rejected.message.clone()));
    }
    let results = upsert_accounts(
        &ctx.db,
        UpsertBatch {
            district_id: district_id.clone(),
            source_system: SOURCE.into(),
            items: vec![incoming],
            org_labels: Vec::new(),
            dry_run: false,
        },
    )
    .await?;
    let result = results
        .into_iter()
        .next()
        .ok_or_else(|| IdentityError::Internal(anyhow::anyhow!("the upsert answered nothing")))?;
    if result.outcome == Outcome::Error {
        return Err(IdentityError::InvalidArgument(result.error));
    }
    let created = result.outcome == Outcome::Created;
    let account_id = result.account_id;
    let now = chrono::Utc::now().naive_utc();
    let expires_at = now + chrono::Duration::from_std(LINK_VALID_FOR).unwrap_or_default();
    let token = random_token();
    let hash = hash_token(&token);
    let mut audit = AuditRow::new("administrator_created", &district_id, now);
    audit.subject_account_id = Some(account_id.clone());
    let role_text = crate::grpc::convert::role_from_pb(role as i32)
        .map(crate::domain::accounts::role_str)
        .map_err(IdentityError::InvalidArgument)?;
    audit.detail = format!(
        "by the operator: role={role_text}{}",
        if created { ", account created" } else { "" }
    );
    let id = account_id.clone();
    let joined = ctx
        .db
        .transaction(move |conn| {
            let account = store::accounts::find(conn, &id)?
                .ok_or_else(|| IdentityError::Internal(anyhow::anyhow!("the account vanished")))?;
            let joined = account.status() != AccountStatus::Invitee;
            if !joined {
                // One live link at a time: the new one replaces the old.
                store::invitations::consume_all(conn, &id, now)?;
                store::invitations::insert(conn, &hash, &id, now, expires_at)?;
            }
            store::audit::insert(conn, &[audit])?;
            Ok::<_, IdentityError>(joined)
        })
        .await?;
    Ok(Created {
        account_id,
        created,
        link: (!joined).then_some((token, expires_at)),
    })
}
