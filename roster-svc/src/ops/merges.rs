//! RO-8: merging duplicate guardians from the duplicate-guardian report.
//! identity-svc merges the accounts (credentials, SSO identities, roles,
//! linked students; the merge record and its undo are its own); roster then
//! points every guardian record of the merged accounts at the survivor, so
//! audiences and a guardian's own view reach one account, and remembers the
//! accounts they had for an undo. A retried merge finds identity's first
//! merge and repeats the pointing, which changes nothing the second time.

use std::collections::BTreeMap;

use homeroom_platform::auth::{Principal, Role};
use homeroom_proto::identity::v1 as idpb;

use super::Ctx;
use crate::{domain::error::RosterError, store::merges as store};

pub use store::GuardianRecord;

/// A merge as identity answered it, with the roster records of each account.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// identity's merge id (empty for a preview).
    pub merge_id: String,
    /// What the merge does (or did).
    pub preview: idpb::MergePreview,
    /// Account id → its guardian records.
    pub records: BTreeMap<String, Vec<GuardianRecord>>,
    /// An earlier identical merge.
    pub replayed: bool,
    /// Last moment to undo.
    pub undo_until: Option<prost_types::Timestamp>,
}

/// Only the district's administrators merge; others do not learn more.
fn allowed(caller: &Principal, district_id: &str) -> Result<String, RosterError> {
    match caller {
        Principal::Account { account_id, .. }
            if caller.has_district_role(district_id, Role::DistrictAdmin) =>
        {
            Ok(account_id.clone())
        }
        Principal::Service { name } => Ok(format!("service:{name}")),
        _ if caller.district_id() == Some(district_id) => Err(RosterError::PermissionDenied(
            "merging guardians needs the district administrator role".into(),
        )),
        _ => Err(RosterError::NotFound(format!(
            "no district {district_id:?}"
        ))),
    }
}

/// identity's refusal as roster's.
fn refused(status: tonic::Status) -> RosterError {
    let message = status.message().to_owned();
    match status.code() {
        tonic::Code::InvalidArgument => RosterError::InvalidArgument(message),
        tonic::Code::NotFound => RosterError::NotFound(message),
        tonic::Code::PermissionDenied => RosterError::PermissionDenied(message),
        tonic::Code::FailedPrecondition => RosterError::FailedPrecondition(message),
        _ => RosterError::Unavailable(format!("identity-svc is unavailable: {message}")),
    }
}

/// What merging would do.
pub async fn preview(
    ctx: &Ctx,
    caller: &Principal,
    mut merge: idpb::AccountMerge,
) -> Result<Outcome, RosterError> {
    merge.on_behalf_of_account_id = allowed(caller, &merge.district_id)?;
    let answer = ctx
        .accounts
        .preview_merge(idpb::PreviewAccountMergeRequest { merge: Some(merge) })
        .await
        .map_err(refused)?;
    let preview = answer.preview.unwrap_or_default();
    outcome(ctx, String::new(), preview, false, None).await
}

/// Merges, then points the merged accounts' guardian records at the survivor.
pub async fn merge(
    ctx: &Ctx,
    caller: &Principal,
    mut merge: idpb::AccountMerge,
) -> Result<Outcome, RosterError> {
    merge.on_behalf_of_account_id = allowed(caller, &merge.district_id)?;
    let district = merge.district_id.clone();
    let answer = ctx
        .accounts
        .merge(idpb::MergeAccountsRequest { merge: Some(merge) })
        .await
        .map_err(refused)?;
    let preview = answer.preview.unwrap_or_default();
    let survivor = preview
        .survivor
        .as_ref()
        .map(|s| s.account_id.clone())
        .unwrap_or_default();
    let merged: Vec<String> = preview
        .merged
        .iter()
        .map(|m| m.account_id.clone())
        .collect();
    let merge_id = answer.merge_id.clone();
    ctx.db
        .transaction(move |c| {
            store::point_at(c, &district, &merge_id, &merged, &survivor).map_err(RosterError::from)
        })
        .await?;
    tracing::info!(merge_id = %answer.merge_id, replayed = answer.replayed, "guardians merged");
    outcome(
        ctx,
        answer.merge_id,
        preview,
        answer.replayed,
        answer.undo_until,
    )
    .await
}

/// Undoes a merge: identity first (it decides whether the merge can be
/// undone), then the records get their own accounts back.
pub async fn undo(
    ctx: &Ctx,
    caller: &Principal,
    district_id: &str,
    merge_id: &str,
) -> Result<Outcome, RosterError> {
    let actor = allowed(caller, district_id)?;
    let answer = ctx
        .accounts
        .undo_merge(idpb::UndoAccountMergeRequest {
            district_id: district_id.to_owned(),
            merge_id: merge_id.to_owned(),
            on_behalf_of_account_id: actor,
        })
        .await
        .map_err(refused)?;
    let id = merge_id.to_owned();
    ctx.db
        .transaction(move |c| store::point_back(c, &id).map_err(RosterError::from))
        .await?;
    let preview = answer.preview.unwrap_or_default();
    outcome(ctx, merge_id.to_owned(), preview, false, None).await
}

async fn outcome(
    ctx: &Ctx,
    merge_id: String,
    preview: idpb::MergePreview,
    replayed: bool,
    undo_until: Option<prost_types::Timestamp>,
) -> Result<Outcome, RosterError> {
    let accounts: Vec<String> = preview
        .survivor
        .iter()
        .chain(&preview.merged)
        .map(|a| a.account_id.clone())
        .collect();
    let records = ctx
        .db
        .run(move |c| store::records_of(c, &accounts).map_err(RosterError::from))
        .await?;
    Ok(Outcome {
        merge_id,
        preview,
        records,
        replayed,
        undo_until,
    })
}
