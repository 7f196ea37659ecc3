//! RO-8: merging duplicate guardian accounts into one, shown first as a
//! preview, undoable for 30 days.
//!
//! The survivor keeps its own names, password and preferences; it takes the
//! chosen email and phones (a second, different mobile phone becomes its home
//! phone unless the administrator picks otherwise), every SSO identity, role
//! grant, source record and linked student of the others. The others are
//! deactivated (their sessions end) and keep their own rows, so an undo puts
//! back exactly what the merge changed: the record of that is stored with the
//! merge. Later syncs update the survivor through the merged records
//! ([`crate::domain::upsert::Incoming::as_merged_into`]).

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeDelta};
use homeroom_platform::{
    auth::{Principal, Role},
    db::DbConn,
    telemetry::mask_address,
};
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::{
    domain::{
        accounts::{AccountKind, AccountStatus, CredentialKind},
        error::IdentityError,
    },
    store::{
        self,
        accounts::AccountRow,
        audit::AuditRow,
        merges::{self as merge_store, Grant, MergeRow},
    },
};

/// How long a merge can be undone.
pub const UNDO_WINDOW: TimeDelta = TimeDelta::days(30);
/// Accounts one merge takes, survivor included.
const MAX_ACCOUNTS: usize = 10;

/// Accounts to merge and the contact details to keep.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    /// The district of every account.
    pub district_id: String,
    /// The account that stays.
    pub survivor_id: String,
    /// The accounts merged into it.
    pub merged_ids: Vec<String>,
    /// The value to keep per credential (one of the preview's candidates);
    /// a kind not named keeps the default.
    pub choices: BTreeMap<CredentialKind, String>,
    /// For a service caller: the administrator it acts for (audited).
    pub on_behalf_of: Option<String>,
}

/// One account of a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeAccount {
    pub id: String,
    pub display_name: String,
    pub status: AccountStatus,
}

/// A value one or more of the accounts hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    /// The accounts holding it (as this kind, or for a home phone, as their
    /// mobile phone).
    pub account_ids: Vec<String>,
}

/// What the survivor's credential of one kind will be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChoice {
    pub kind: CredentialKind,
    pub candidates: Vec<Candidate>,
    /// The value kept (`None`: nobody has one).
    pub chosen: Option<String>,
    /// More than one value to choose from.
    pub conflict: bool,
}

/// The preview of a merge: what moves and what needs a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergePlan {
    pub survivor: MergeAccount,
    pub merged: Vec<MergeAccount>,
    pub fields: Vec<FieldChoice>,
    /// Students the survivor will be linked to (id, name).
    pub linked_students: Vec<(String, String)>,
    pub sso_links_moved: usize,
    pub role_grants_added: usize,
    pub source_records_moved: usize,
}

/// A merge done (or found done before with the same accounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub merge_id: String,
    pub plan: MergePlan,
    pub replayed: bool,
    pub undo_until: NaiveDateTime,
}

/// What a merge changed, to put it back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Undo {
    /// The survivor's credentials before: (kind, address id, confirmed at).
    credentials: Vec<(String, String, Option<NaiveDateTime>)>,
    status: String,
    activated_at: Option<NaiveDateTime>,
    password_copied: bool,
    /// The merged accounts before: (id, status, activated at, deactivated at).
    merged: Vec<(String, String, Option<NaiveDateTime>, Option<NaiveDateTime>)>,
    /// SSO identities moved: (issuer, subject, from).
    sso: Vec<(String, String, String)>,
    /// Grants added to the survivor.
    grants: Vec<Grant>,
}

/// Shows what merging would do; changes nothing.
pub async fn preview(
    ctx: &Ctx,
    caller: &Principal,
    request: MergeRequest,
) -> Result<MergePlan, IdentityError> {
    allowed(caller, &request.district_id)?;
    ctx.db
        .run(move |conn| Ok::<_, IdentityError>(load(conn, &request)?.plan))
        .await
}

/// Merges; the same accounts merged again answer the first merge.
pub async fn merge(
    ctx: &Ctx,
    caller: &Principal,
    request: MergeRequest,
    client_address: Option<String>,
) -> Result<Merged, IdentityError> {
    allowed(caller, &request.district_id)?;
    let actor = actor(caller, request.on_behalf_of.as_deref());
    ctx.db
        .transaction(move |conn| apply(conn, &request, &actor, client_address))
        .await
}

/// Puts back what a merge changed, within 30 days, newest merge first.
pub async fn undo(
    ctx: &Ctx,
    caller: &Principal,
    district_id: &str,
    merge_id: &str,
    on_behalf_of: Option<String>,
    client_address: Option<String>,
) -> Result<MergePlan, IdentityError> {
    allowed(caller, district_id)?;
    let actor = actor(caller, on_behalf_of.as_deref());
    let (district, id) = (district_id.to_owned(), merge_id.to_owned());
    ctx.db
        .transaction(move |conn| revert(conn, &district, &id, &actor, client_address))
        .await
}

fn allowed(caller: &Principal, district_id: &str) -> Result<(), IdentityError> {
    match caller {
        Principal::Service { .. } => Ok(()),
        _ if caller.has_district_role(district_id, Role::DistrictAdmin) => Ok(()),
        _ => Err(IdentityError::PermissionDenied(
            "merging guardians needs the district administrator role".into(),
        )),
    }
}

fn actor(caller: &Principal, on_behalf_of: Option<&str>) -> String {
    match (caller, on_behalf_of) {
        (Principal::Account { account_id, .. }, _) => account_id.clone(),
        (Principal::Service { .. }, Some(admin)) if !admin.is_empty() => admin.to_owned(),
        (Principal::Service { name }, _) => format!("service:{name}"),
    }
}

/// The accounts of a request, checked, and the plan.
struct Loaded {
    survivor: AccountRow,
    merged: Vec<AccountRow>,
    credentials: Vec<merge_store::Credential>,
    plan: MergePlan,
}

fn load(conn: &mut DbConn, request: &MergeRequest) -> Result<Loaded, IdentityError> {
    let mut ids = vec![request.survivor_id.clone()];
    for id in &request.merged_ids {
        if ids.contains(id) {
            return Err(IdentityError::InvalidArgument(format!(
                "merged_account_ids: {id:?} is named twice or is the survivor"
            )));
        }
        ids.push(id.clone());
    }
    if ids.len() < 2 || ids.len() > MAX_ACCOUNTS {
        return Err(IdentityError::InvalidArgument(format!(
            "merged_account_ids: name 1 to {} accounts besides the survivor",
            MAX_ACCOUNTS - 1
        )));
    }
    let rows = store::accounts::find_many(conn, &ids)?;
    let mut ordered = Vec::with_capacity(ids.len());
    for id in &ids {
        let row = rows
            .iter()
            .find(|r| r.id == *id && r.district_id == request.district_id)
            .ok_or_else(|| IdentityError::NotFound(format!("no account {id:?} in the district")))?;
        if row.kind() != AccountKind::Guardian {
            return Err(IdentityError::FailedPrecondition(format!(
                "{} is not a guardian: only guardian accounts are merged",
                row.names().display()
            )));
        }
        if row.status() == AccountStatus::Deactivated {
            return Err(IdentityError::FailedPrecondition(format!(
                "{} is deactivated: only active and invited accounts are merged",
                row.names().display()
            )));
        }
        ordered.push(row.clone());
    }
    let credentials = merge_store::credentials(conn, &ids)?;
    let fields = choices(&ids, &credentials, &request.choices)?;
    let mut students: BTreeMap<String, String> = BTreeMap::new();
    let mut grants_added = 0;
    let survivor_grants = merge_store::grants_of(conn, &ids[0])?;
    let mut sources = 0;
    for id in &ids {
        for (student, name, _) in merge_store::linked_of(conn, id)? {
            students.entry(student).or_insert(name);
        }
    }
    for id in &ids[1..] {
        grants_added += merge_store::grants_of(conn, id)?
            .iter()
            .filter(|g| !survivor_grants.contains(g))
            .count();
        sources += account_sources_of(conn, id)?;
    }
    let sso = merge_store::sso_links_of(conn, &ids[1..])?.len();
    let mut accounts = ordered.into_iter();
    let survivor = accounts
        .next()
        .ok_or_else(|| IdentityError::InvalidArgument("survivor_account_id is required".into()))?;
    let merged: Vec<AccountRow> = accounts.collect();
    let plan = MergePlan {
        survivor: summary(&survivor),
        merged: merged.iter().map(summary).collect(),
        fields,
        linked_students: students.into_iter().collect(),
        sso_links_moved: sso,
        role_grants_added: grants_added,
        source_records_moved: sources,
    };
    Ok(Loaded {
        survivor,
        merged,
        credentials,
        plan,
    })
}

fn account_sources_of(conn: &mut DbConn, id: &str) -> Result<usize, IdentityError> {
    use diesel::prelude::*;
    use store::schema::account_sources;
    let n: i64 = account_sources::table
        .filter(account_sources::account_id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

fn summary(row: &AccountRow) -> MergeAccount {
    MergeAccount {
        id: row.id.clone(),
        display_name: row.names().display(),
        status: row.status(),
    }
}

/// Per credential kind: the values held, and the one kept. The default is
/// the survivor's, else the first other account's; a home phone defaults to
/// a mobile phone not kept as the mobile, so two different phones become
/// primary and secondary.
fn choices(
    ids: &[String],
    credentials: &[merge_store::Credential],
    chosen: &BTreeMap<CredentialKind, String>,
) -> Result<Vec<FieldChoice>, IdentityError> {
    let held = |kind: CredentialKind| -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        for id in ids {
            for (account, k, _, value, _) in credentials {
                if account != id || k != kind.as_str() {
                    continue;
                }
                match out.iter_mut().find(|c| c.value == *value) {
                    Some(c) => c.account_ids.push(id.clone()),
                    None => out.push(Candidate {
                        value: value.clone(),
                        account_ids: vec![id.clone()],
                    }),
                }
            }
        }
        out
    };
    let pick =
        |kind: CredentialKind, candidates: &[Candidate], default: Option<String>| match chosen
            .get(&kind)
        {
            Some(value) if candidates.iter().any(|c| c.value == *value) => Ok(Some(value.clone())),
            Some(value) => Err(IdentityError::InvalidArgument(format!(
                "{}: {} is not one of the accounts' values",
                kind.as_str(),
                mask_address(value)
            ))),
            None => Ok(default),
        };
    let mut fields = Vec::new();
    let mut kept_mobile = None;
    for kind in [CredentialKind::Email, CredentialKind::MobilePhone] {
        let candidates = held(kind);
        let value = pick(
            kind,
            &candidates,
            candidates.first().map(|c| c.value.clone()),
        )?;
        if kind == CredentialKind::MobilePhone {
            kept_mobile = value.clone();
        }
        fields.push(FieldChoice {
            kind,
            conflict: candidates.len() > 1,
            chosen: value,
            candidates,
        });
    }
    let mut homes = held(CredentialKind::HomePhone);
    let own_home = homes.first().map(|c| c.value.clone());
    for mobile in held(CredentialKind::MobilePhone) {
        if Some(&mobile.value) != kept_mobile.as_ref()
            && !homes.iter().any(|c| c.value == mobile.value)
        {
            homes.push(mobile);
        }
    }
    let default = own_home.or_else(|| {
        homes
            .iter()
            .find(|c| Some(&c.value) != kept_mobile.as_ref())
            .map(|c| c.value.clone())
    });
    let value = pick(CredentialKind::HomePhone, &homes, default)?;
    fields.push(FieldChoice {
        kind: CredentialKind::HomePhone,
        conflict: homes.len() > 1,
        chosen: value,
        candidates: homes,
    });
    Ok(fields)
}

fn apply(
    conn: &mut DbConn,
    request: &MergeRequest,
    actor: &str,
    client_address: Option<String>,
) -> Result<Merged, IdentityError> {
    // The same accounts merged again (a retried request): the first merge.
    for earlier in merge_store::into_account(conn, &request.survivor_id)? {
        let mut a = earlier.merged();
        let mut b = request.merged_ids.clone();
        a.sort();
        b.sort();
        if a == b {
            let plan = revisit(conn, &earlier)?;
            return Ok(Merged {
                undo_until: earlier.created_at + UNDO_WINDOW,
                merge_id: earlier.id,
                plan,
                replayed: true,
            });
        }
    }
    let loaded = load(conn, request)?;
    let now = chrono::Utc::now().naive_utc();
    let survivor = &loaded.survivor;
    let mut undo = Undo {
        status: survivor.status.clone(),
        activated_at: survivor.activated_at,
        ..Undo::default()
    };
    // Credentials: the chosen values, each with its confirmation.
    for (account, kind, address, _, confirmed) in &loaded.credentials {
        if *account == survivor.id {
            undo.credentials
                .push((kind.clone(), address.clone(), *confirmed));
        }
    }
    for field in &loaded.plan.fields {
        let current = loaded
            .credentials
            .iter()
            .find(|c| c.0 == survivor.id && c.1 == field.kind.as_str())
            .map(|c| c.3.clone());
        if current == field.chosen {
            continue;
        }
        let source = field.chosen.as_ref().and_then(|value| {
            loaded
                .credentials
                .iter()
                .find(|c| c.3 == *value)
                .map(|c| (c.2.as_str(), c.4))
        });
        merge_store::set_credential(conn, &survivor.id, field.kind.as_str(), source, now)?;
    }
    // An invited survivor of an active account becomes active, with its
    // password when it had none.
    let active = loaded
        .merged
        .iter()
        .find(|m| m.status() == AccountStatus::Active);
    if let (AccountStatus::Invitee, Some(active)) = (survivor.status(), active) {
        merge_store::set_status(
            conn,
            &survivor.id,
            AccountStatus::Active.as_str(),
            active.activated_at.or(Some(now)),
            None,
            now,
        )?;
        if survivor.password_hash.is_none() && active.password_hash.is_some() {
            merge_store::copy_password(conn, Some(&active.id), &survivor.id)?;
            undo.password_copied = true;
        }
    }
    let survivor_grants = merge_store::grants_of(conn, &survivor.id)?;
    for m in &loaded.merged {
        undo.merged.push((
            m.id.clone(),
            m.status.clone(),
            m.activated_at,
            m.deactivated_at,
        ));
        for grant in merge_store::grants_of(conn, &m.id)? {
            if !survivor_grants.contains(&grant) && !undo.grants.contains(&grant) {
                undo.grants.push(grant);
            }
        }
        merge_store::move_sources(conn, &m.id, &survivor.id)?;
    }
    merge_store::add_grants(conn, &survivor.id, &undo.grants, now)?;
    let merged_ids: Vec<String> = loaded.merged.iter().map(|m| m.id.clone()).collect();
    for (issuer, subject, from) in merge_store::sso_links_of(conn, &merged_ids)? {
        merge_store::move_sso_link(conn, &issuer, &subject, &survivor.id)?;
        undo.sso.push((issuer, subject, from));
    }
    // Linked students by record: the survivor's own, then each merged one's.
    let buckets = merge_store::buckets(conn, std::slice::from_ref(&survivor.id))?;
    if buckets.is_empty() {
        let own = merge_store::linked_of(conn, &survivor.id)?;
        merge_store::set_bucket(conn, &survivor.id, "", &own)?;
    }
    for m in &merged_ids {
        let theirs = merge_store::linked_of(conn, m)?;
        merge_store::set_bucket(conn, &survivor.id, m, &theirs)?;
    }
    store::accounts::deactivate(conn, &merged_ids, now)?;
    let row = MergeRow {
        id: uuid::Uuid::now_v7().to_string(),
        district_id: request.district_id.clone(),
        survivor_id: survivor.id.clone(),
        merged_ids: merged_ids.join(" "),
        undo: serde_json::to_string(&undo).map_err(|e| IdentityError::Internal(e.into()))?,
        actor_id: actor.to_owned(),
        created_at: now,
        undone_at: None,
    };
    merge_store::insert(conn, &row)?;
    let mut audit = AuditRow::new("accounts_merged", &request.district_id, now);
    audit.actor_id = Some(actor.to_owned());
    audit.subject_account_id = Some(survivor.id.clone());
    audit.client_address = client_address;
    audit.detail = merge_detail(&loaded.plan, &row.id);
    store::audit::insert(conn, &[audit])?;
    Ok(Merged {
        merge_id: row.id,
        plan: loaded.plan,
        replayed: false,
        undo_until: now + UNDO_WINDOW,
    })
}

/// "merged Kevin Smith (acc-2) into Sarah Smith (acc-1); email s***@mail.com …".
fn merge_detail(plan: &MergePlan, merge_id: &str) -> String {
    let merged: Vec<String> = plan
        .merged
        .iter()
        .map(|m| format!("{} ({})", m.display_name, m.id))
        .collect();
    let kept: Vec<String> = plan
        .fields
        .iter()
        .filter_map(|f| {
            f.chosen
                .as_ref()
                .map(|v| format!("{} {}", f.kind.as_str(), mask_address(v)))
        })
        .collect();
    format!(
        "merged {} into {} ({}); kept {}; merge {merge_id}",
        merged.join(", "),
        plan.survivor.display_name,
        plan.survivor.id,
        if kept.is_empty() {
            "no contact details".to_owned()
        } else {
            kept.join(", ")
        }
    )
}

/// The plan of a merge already made, as it reads now.
fn revisit(conn: &mut DbConn, merge: &MergeRow) -> Result<MergePlan, IdentityError> {
    let mut ids = vec![merge.survivor_id.clone()];
    ids.extend(merge.merged());
    let rows = store::accounts::find_many(conn, &ids)?;
    let summary_of = |id: &String| {
        rows.iter()
            .find(|r| r.id == *id)
            .map(summary)
            .ok_or_else(|| IdentityError::NotFound(format!("no account {id:?}")))
    };
    let survivor = summary_of(&merge.survivor_id)?;
    let merged = merge
        .merged()
        .iter()
        .map(summary_of)
        .collect::<Result<Vec<_>, _>>()?;
    let linked = merge_store::linked_of(conn, &merge.survivor_id)?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    Ok(MergePlan {
        survivor,
        merged,
        fields: Vec::new(),
        linked_students: linked,
        sso_links_moved: 0,
        role_grants_added: 0,
        source_records_moved: 0,
    })
}

fn revert(
    conn: &mut DbConn,
    district_id: &str,
    merge_id: &str,
    actor: &str,
    client_address: Option<String>,
) -> Result<MergePlan, IdentityError> {
    let merge = merge_store::find(conn, merge_id)?
        .filter(|m| m.district_id == district_id)
        .ok_or_else(|| IdentityError::NotFound(format!("no merge {merge_id:?} in the district")))?;
    if merge.undone_at.is_some() {
        return Err(IdentityError::FailedPrecondition(
            "this merge was undone already".into(),
        ));
    }
    let now = chrono::Utc::now().naive_utc();
    if now - merge.created_at > UNDO_WINDOW {
        return Err(IdentityError::FailedPrecondition(format!(
            "a merge can be undone for {} days; this one was made on {}",
            UNDO_WINDOW.num_days(),
            merge.created_at.format("%Y-%m-%d")
        )));
    }
    if merge_store::into_account(conn, &merge.survivor_id)?
        .iter()
        .any(|later| later.created_at > merge.created_at && later.id != merge.id)
    {
        return Err(IdentityError::FailedPrecondition(
            "another merge into this account was made later: undo that one first".into(),
        ));
    }
    let undo: Undo = serde_json::from_str(&merge.undo)
        .map_err(|e| IdentityError::Internal(anyhow::anyhow!("merge {merge_id}: {e}")))?;
    let survivor = merge.survivor_id.as_str();
    for kind in CredentialKind::ALL {
        let before = undo
            .credentials
            .iter()
            .find(|c| c.0 == kind.as_str())
            .map(|c| (c.1.as_str(), c.2));
        merge_store::set_credential(conn, survivor, kind.as_str(), before, now)?;
    }
    merge_store::set_status(conn, survivor, &undo.status, undo.activated_at, None, now)?;
    if undo.password_copied {
        merge_store::copy_password(conn, None, survivor)?;
    }
    merge_store::remove_grants(conn, survivor, &undo.grants)?;
    for (issuer, subject, from) in &undo.sso {
        merge_store::move_sso_link(conn, issuer, subject, from)?;
    }
    for (id, status, activated_at, deactivated_at) in &undo.merged {
        merge_store::return_sources(conn, id)?;
        merge_store::drop_bucket(conn, survivor, id)?;
        merge_store::set_status(conn, id, status, *activated_at, *deactivated_at, now)?;
    }
    merge_store::mark_undone(conn, merge_id, now)?;
    let plan = revisit(conn, &merge)?;
    let mut audit = AuditRow::new("merge_undone", district_id, now);
    audit.actor_id = Some(actor.to_owned());
    audit.subject_account_id = Some(merge.survivor_id.clone());
    audit.client_address = client_address;
    audit.detail = format!(
        "undid merge {merge_id}: {} separate from {} again",
        plan.merged
            .iter()
            .map(|m| m.display_name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        plan.survivor.display_name
    );
    store::audit::insert(conn, &[audit])?;
    Ok(plan)
}
