//! gRPC edge of merging duplicate guardians (RO-8): parse the request, call
//! `ops::merge`, build the answer. `service.rs` delegates here.

use std::collections::BTreeMap;

use homeroom_platform::auth::principal;
use homeroom_proto::identity::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert;
use crate::{
    domain::accounts::CredentialKind,
    ops::{
        Ctx,
        merge::{self, MergeAccount, MergePlan, MergeRequest},
    },
};

type Answer<T> = Result<Response<T>, Status>;

fn request_of(r: Option<pb::AccountMerge>) -> MergeRequest {
    let r = r.unwrap_or_default();
    let choices: BTreeMap<CredentialKind, String> = [
        (CredentialKind::Email, r.email),
        (CredentialKind::MobilePhone, r.mobile_phone),
        (CredentialKind::HomePhone, r.home_phone),
    ]
    .into_iter()
    .filter_map(|(kind, value)| value.map(|v| (kind, v.trim().to_owned())))
    .collect();
    MergeRequest {
        district_id: r.district_id,
        survivor_id: r.survivor_account_id,
        merged_ids: r.merged_account_ids,
        choices,
        on_behalf_of: Some(r.on_behalf_of_account_id).filter(|a| !a.is_empty()),
    }
}

fn account(a: MergeAccount) -> pb::MergeAccount {
    pb::MergeAccount {
        account_id: a.id,
        display_name: a.display_name,
        status: convert::status_to_pb(a.status).into(),
    }
}

fn preview(p: MergePlan) -> pb::MergePreview {
    let (ids, names) = p.linked_students.into_iter().unzip();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    pb::MergePreview {
        survivor: Some(account(p.survivor)),
        merged: p.merged.into_iter().map(account).collect(),
        fields: p
            .fields
            .into_iter()
            .map(|f| pb::MergeField {
                kind: convert::credential_kind_to_pb(f.kind).into(),
                candidates: f
                    .candidates
                    .into_iter()
                    .map(|c| pb::MergeCandidate {
                        value: c.value,
                        account_ids: c.account_ids,
                    })
                    .collect(),
                chosen: f.chosen.unwrap_or_default(),
                conflict: f.conflict,
            })
            .collect(),
        linked_student_ids: ids,
        linked_student_names: names,
        sso_links_moved: count(p.sso_links_moved),
        role_grants_added: count(p.role_grants_added),
        source_records_moved: count(p.source_records_moved),
    }
}

pub(super) async fn preview_account_merge(
    ctx: &Ctx,
    request: Request<pb::PreviewAccountMergeRequest>,
) -> Answer<pb::PreviewAccountMergeResponse> {
    let caller = principal(&request)?;
    let plan = merge::preview(ctx, &caller, request_of(request.into_inner().merge)).await?;
    Ok(Response::new(pb::PreviewAccountMergeResponse {
        preview: Some(preview(plan)),
    }))
}

pub(super) async fn merge_accounts(
    ctx: &Ctx,
    request: Request<pb::MergeAccountsRequest>,
) -> Answer<pb::MergeAccountsResponse> {
    let caller = principal(&request)?;
    let client = homeroom_platform::forwarded::client_address(&request);
    let merged = merge::merge(ctx, &caller, request_of(request.into_inner().merge), client).await?;
    Ok(Response::new(pb::MergeAccountsResponse {
        merge_id: merged.merge_id,
        preview: Some(preview(merged.plan)),
        replayed: merged.replayed,
        undo_until: Some(convert::timestamp(merged.undo_until)),
    }))
}

pub(super) async fn undo_account_merge(
    ctx: &Ctx,
    request: Request<pb::UndoAccountMergeRequest>,
) -> Answer<pb::UndoAccountMergeResponse> {
    let caller = principal(&request)?;
    let client = homeroom_platform::forwarded::client_address(&request);
    let r = request.into_inner();
    let on_behalf_of = Some(r.on_behalf_of_account_id).filter(|a| !a.is_empty());
    let plan = merge::undo(
        ctx,
        &caller,
        &r.district_id,
        &r.merge_id,
        on_behalf_of,
        client,
    )
    .await?;
    Ok(Response::new(pb::UndoAccountMergeResponse {
        preview: Some(preview(plan)),
    }))
}
