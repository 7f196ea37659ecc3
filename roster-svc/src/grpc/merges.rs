//! The guardian-merge RPCs (RO-8): identity's merge, roster's records.

use homeroom_platform::auth::Principal;
use homeroom_proto::{identity::v1 as idpb, roster::v1 as pb};
use tonic::Status;

use crate::ops::{
    Ctx,
    merges::{self, Outcome},
};

fn identity_request(r: pb::GuardianMerge) -> idpb::AccountMerge {
    idpb::AccountMerge {
        district_id: r.district_id,
        survivor_account_id: r.survivor_account_id,
        merged_account_ids: r.merged_account_ids,
        email: r.email,
        mobile_phone: r.mobile_phone,
        home_phone: r.home_phone,
        on_behalf_of_account_id: String::new(),
    }
}

fn required(r: Option<pb::GuardianMerge>) -> Result<pb::GuardianMerge, Status> {
    match r {
        Some(r) if !r.district_id.is_empty() && !r.survivor_account_id.is_empty() => Ok(r),
        _ => Err(Status::invalid_argument(
            "merge.district_id and merge.survivor_account_id are required",
        )),
    }
}

fn kind(k: i32) -> &'static str {
    match idpb::CredentialKind::try_from(k).unwrap_or(idpb::CredentialKind::Unspecified) {
        idpb::CredentialKind::Email => "email",
        idpb::CredentialKind::MobilePhone => "mobile_phone",
        idpb::CredentialKind::HomePhone => "home_phone",
        idpb::CredentialKind::Unspecified => "",
    }
}

fn status(s: i32) -> &'static str {
    match idpb::AccountStatus::try_from(s).unwrap_or(idpb::AccountStatus::Unspecified) {
        idpb::AccountStatus::Invitee => "invitee",
        idpb::AccountStatus::Active => "active",
        idpb::AccountStatus::Deactivated => "deactivated",
        idpb::AccountStatus::Unspecified => "",
    }
}

fn preview(o: &Outcome) -> pb::GuardianMergePreview {
    let account = |a: &idpb::MergeAccount| pb::GuardianMergeAccount {
        account_id: a.account_id.clone(),
        display_name: a.display_name.clone(),
        status: status(a.status).into(),
        records: o
            .records
            .get(&a.account_id)
            .into_iter()
            .flatten()
            .map(|r| pb::GuardianRecord {
                guardian_id: r.guardian_id.clone(),
                sync_source_id: r.source_system.clone(),
                source_id: r.source_id.clone(),
            })
            .collect(),
    };
    let p = &o.preview;
    pb::GuardianMergePreview {
        survivor: p.survivor.as_ref().map(account),
        merged: p.merged.iter().map(account).collect(),
        fields: p
            .fields
            .iter()
            .map(|f| pb::GuardianMergeField {
                kind: kind(f.kind).into(),
                candidates: f
                    .candidates
                    .iter()
                    .map(|c| pb::GuardianMergeCandidate {
                        value: c.value.clone(),
                        account_ids: c.account_ids.clone(),
                    })
                    .collect(),
                chosen: f.chosen.clone(),
                conflict: f.conflict,
            })
            .collect(),
        student_ids: p.linked_student_ids.clone(),
        student_names: p.linked_student_names.clone(),
        sso_links_moved: p.sso_links_moved,
        role_grants_added: p.role_grants_added,
    }
}

/// PreviewGuardianMerge.
pub async fn preview_merge(
    ctx: &Ctx,
    caller: &Principal,
    r: pb::PreviewGuardianMergeRequest,
) -> Result<pb::PreviewGuardianMergeResponse, Status> {
    let r = required(r.merge)?;
    let outcome = merges::preview(ctx, caller, identity_request(r)).await?;
    Ok(pb::PreviewGuardianMergeResponse {
        preview: Some(preview(&outcome)),
    })
}

/// MergeGuardians.
pub async fn merge(
    ctx: &Ctx,
    caller: &Principal,
    r: pb::MergeGuardiansRequest,
) -> Result<pb::MergeGuardiansResponse, Status> {
    let r = required(r.merge)?;
    let outcome = merges::merge(ctx, caller, identity_request(r)).await?;
    Ok(pb::MergeGuardiansResponse {
        preview: Some(preview(&outcome)),
        merge_id: outcome.merge_id,
        replayed: outcome.replayed,
        undo_until: outcome.undo_until,
    })
}

/// UndoGuardianMerge.
pub async fn undo(
    ctx: &Ctx,
    caller: &Principal,
    r: pb::UndoGuardianMergeRequest,
) -> Result<pb::UndoGuardianMergeResponse, Status> {
    if r.district_id.is_empty() || r.merge_id.is_empty() {
        return Err(Status::invalid_argument(
            "district_id and merge_id are required",
        ));
    }
    let outcome = merges::undo(ctx, caller, &r.district_id, &r.merge_id).await?;
    Ok(pb::UndoGuardianMergeResponse {
        preview: Some(preview(&outcome)),
    })
}
