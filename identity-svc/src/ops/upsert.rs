//! `UpsertAccounts` (RO-3, RO-6, ID-8): one transaction per batch of up to 1,000.

use std::collections::{HashMap, HashSet};

use homeroom_platform::{db::Db, telemetry::mask_address};

use crate::{
    domain::{
        accounts::AccountStatus,
        error::IdentityError,
        upsert::{Decision, Difference, Field, Incoming, plan},
    },
    store::{self, accounts::Write, audit::AuditRow},
};

/// Most accounts one call takes.
pub const MAX_BATCH: usize = 1_000;

/// A batch from one source.
#[derive(Debug, Clone)]
pub struct UpsertBatch {
    /// District of every item.
    pub district_id: String,
    /// Source system of every item.
    pub source_system: String,
    /// Items, each valid or rejected at the edge with a message.
    pub items: Vec<Result<Incoming, ItemRejected>>,
    /// District and school names to keep for account choices.
    pub org_labels: Vec<(String, String)>,
    /// Compute, write nothing.
    pub dry_run: bool,
}

/// An item the edge could not accept; the rest of the batch still applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRejected {
    /// Its source id, as sent.
    pub source_id: String,
    /// Why, naming the field.
    pub message: String,
}

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// New invitee.
    Created,
    /// Changed.
    Updated,
    /// Nothing to do.
    Unchanged,
    /// Rejected.
    Error,
}

/// The result for one item, in request order.
#[derive(Debug, Clone)]
pub struct ItemResult {
    /// Its source id.
    pub source_id: String,
    /// The account (empty for a dry-run create or an error).
    pub account_id: String,
    /// What happened.
    pub outcome: Outcome,
    /// Status after.
    pub status: Option<AccountStatus>,
    /// Changed field names.
    pub changed_fields: Vec<&'static str>,
    /// RO-6 differences not applied.
    pub not_applied: Vec<Difference>,
    /// RO-6 changes applied.
    pub applied: Vec<Difference>,
    /// Why, for errors.
    pub error: String,
    /// RO-8: the record belongs to an account merged into this one (its
    /// name), so it updated the survivor instead of making an account.
    pub merged_into: Option<String>,
}

impl ItemResult {
    fn error(source_id: String, message: String) -> ItemResult {
        ItemResult {
            source_id,
            account_id: String::new(),
            outcome: Outcome::Error,
            status: None,
            changed_fields: Vec::new(),
            not_applied: Vec::new(),
            applied: Vec::new(),
            error: message,
            merged_into: None,
        }
    }
}

/// Applies (or, on a dry run, only plans) one batch.
#[tracing::instrument(skip_all, fields(district_id = %batch.district_id, items = batch.items.len(), dry_run = batch.dry_run))]
pub async fn upsert_accounts(
    db: &Db,
    batch: UpsertBatch,
) -> Result<Vec<ItemResult>, IdentityError> {
    if batch.items.len() > MAX_BATCH {
        return Err(IdentityError::InvalidArgument(format!(
            "accounts: at most {MAX_BATCH} per call, got {}",
            batch.items.len()
        )));
    }
    if batch.district_id.is_empty() || batch.source_system.is_empty() {
        return Err(IdentityError::InvalidArgument(
            "district_id and source_system are required".into(),
        ));
    }
    let dry_run = batch.dry_run;
    let results = db
        .transaction(move |conn| apply_batch(conn, &batch))
        .await?;
    if !dry_run {
        let written = results
            .iter()
            .filter(|r| r.outcome == Outcome::Created)
            .count() as u64;
        db.after_bulk_write(written, BULK_TABLES).await?;
    }
    Ok(results)
}

/// Tables a batch of new accounts grows.
const BULK_TABLES: &[&str] = &[
    "accounts",
    "account_sources",
    "addresses",
    "account_credentials",
    "role_grants",
];

/// The audit rows of credential changes a sync applied to active accounts:
/// which fields, masked, and which source (the actor is the sync).
fn sync_changes(
    batch: &UpsertBatch,
    changes: &[(&str, &[Difference])],
    now: chrono::NaiveDateTime,
) -> Vec<AuditRow> {
    changes
        .iter()
        .filter_map(|(id, applied)| {
            let detail: Vec<String> = applied
                .iter()
                .filter_map(|d| match d.field {
                    Field::Credential(kind) => Some(format!(
                        "{}={} (was {})",
                        kind.as_str(),
                        mask_address(&d.incoming),
                        mask_address(&d.current)
                    )),
                    _ => None,
                })
                .collect();
            if detail.is_empty() {
                return None;
            }
            let mut row = AuditRow::new("credential_changed", &batch.district_id, now);
            row.actor_id = Some(format!("sync:{}", batch.source_system));
            row.subject_account_id = Some((*id).to_owned());
            row.detail = detail.join(" ");
            Some(row)
        })
        .collect()
}

/// One bucket of a merged survivor's linked students.
fn bucket_students(
    buckets: &HashMap<(String, String), Vec<store::merges::Linked>>,
    account: &str,
    bucket: &str,
) -> Vec<crate::domain::accounts::LinkedStudent> {
    buckets
        .get(&(account.to_owned(), bucket.to_owned()))
        .into_iter()
        .flatten()
        .map(
            |(student, name, school)| crate::domain::accounts::LinkedStudent {
                student_id: student.clone(),
                display_name: name.clone(),
                school_id: school.clone(),
            },
        )
        .collect()
}

fn apply_batch(
    conn: &mut homeroom_platform::db::DbConn,
    batch: &UpsertBatch,
) -> Result<Vec<ItemResult>, IdentityError> {
    homeroom_platform::db::prefer_custom_plans(conn)?;
    let now = chrono::Utc::now().naive_utc();
    let mut seen = HashSet::new();
    let mut valid: Vec<(usize, &Incoming)> = Vec::new();
    let mut results: Vec<Option<ItemResult>> = vec![None; batch.items.len()];
    for (index, item) in batch.items.iter().enumerate() {
        match item {
            Err(rejected) => {
                results[index] = Some(ItemResult::error(
                    rejected.source_id.clone(),
                    rejected.message.clone(),
                ));
            }
            Ok(incoming) if !seen.insert(incoming.source_id.as_str()) => {
                results[index] = Some(ItemResult::error(
                    incoming.source_id.clone(),
                    format!(
                        "source_id {:?} appears twice in the batch",
                        incoming.source_id
                    ),
                ));
            }
            Ok(incoming) => valid.push((index, incoming)),
        }
    }

    let keys: Vec<&str> = valid.iter().map(|(_, i)| i.source_id.as_str()).collect();
    let by_source =
        store::accounts::accounts_by_source(conn, &batch.district_id, &batch.source_system, &keys)?;
    let mut ids: Vec<String> = by_source.values().cloned().collect();
    ids.extend(
        valid
            .iter()
            .filter(|(_, i)| !by_source.contains_key(&i.source_id))
            .filter_map(|(_, i)| i.account_id.clone()),
    );
    ids.sort();
    ids.dedup();
    let snapshots =
        store::accounts::snapshots(conn, &batch.district_id, &batch.source_system, &ids)?;
    // RO-8: records of accounts merged into another, and the linked students
    // of merged survivors by record (bucket).
    let merged_keys: HashMap<String, String> =
        store::merges::merged_from(conn, &batch.district_id, &batch.source_system, &keys)?
            .into_iter()
            .collect();
    let buckets = store::merges::buckets(conn, &ids)?;
    let merged_survivors: HashSet<&str> = buckets.keys().map(|(a, _)| a.as_str()).collect();

    struct Planned<'a> {
        index: usize,
        incoming: &'a Incoming,
        id: String,
        plan: crate::domain::upsert::ItemPlan,
        attached: bool,
        /// For a merged survivor: the record's share of its linked students.
        bucket: Option<String>,
        /// The survivor's name, for a record merged into it.
        merged_into: Option<String>,
    }
    let mut planned = Vec::with_capacity(valid.len());
    for (index, incoming) in valid {
        let keyed = by_source.get(&incoming.source_id);
        let attached = keyed.is_none() && incoming.account_id.is_some();
        let account_id = keyed.or(incoming.account_id.as_ref());
        let current = account_id.and_then(|id| snapshots.get(id));
        if let (Some(id), None) = (account_id, current) {
            results[index] = Some(ItemResult::error(
                incoming.source_id.clone(),
                format!("account_id {id:?} is not an account of this district"),
            ));
            continue;
        }
        let merged_from = merged_keys.get(&incoming.source_id);
        let bucket = current
            .filter(|c| merged_survivors.contains(c.id.as_str()))
            .map(|_| merged_from.cloned().unwrap_or_default());
        let current = current.map(|c| match &bucket {
            Some(b) => {
                let mut own = c.clone();
                own.linked_students = bucket_students(&buckets, &c.id, b);
                std::borrow::Cow::Owned(own)
            }
            None => std::borrow::Cow::Borrowed(c),
        });
        let (plan, merged_into) = match (merged_from, current.as_deref()) {
            (Some(_), Some(survivor)) => (
                plan(&incoming.as_merged_into(survivor), Some(survivor)),
                Some(survivor.names.display()),
            ),
            (_, current) => (plan(incoming, current), None),
        };
        let current = current.as_deref();
        let id = match current {
            Some(snapshot) => snapshot.id.clone(),
            None => uuid::Uuid::now_v7().to_string(),
        };
        planned.push(Planned {
            index,
            incoming,
            id,
            plan,
            attached,
            bucket,
            merged_into,
        });
    }

    if !batch.dry_run {
        // A merged survivor's students are written per record.
        let mut bucket_writes = Vec::new();
        for p in &mut planned {
            if let (Some(bucket), Decision::Update(changes)) = (&p.bucket, &mut p.plan.decision)
                && let Some(students) = changes.linked_students.take()
            {
                bucket_writes.push((p.id.clone(), bucket.clone(), students));
            }
        }
        let writes: Vec<Write<'_>> = planned
            .iter()
            .flat_map(|p| {
                let attach = p.attached.then(|| Write::AttachKey {
                    id: p.id.clone(),
                    source_id: &p.incoming.source_id,
                });
                let write = match &p.plan.decision {
                    Decision::Create => Some(Write::Create {
                        id: p.id.clone(),
                        incoming: p.incoming,
                    }),
                    Decision::Update(changes) => Some(Write::Update {
                        id: p.id.clone(),
                        changes,
                    }),
                    Decision::Unchanged => None,
                };
                attach.into_iter().chain(write)
            })
            .collect();
        store::accounts::apply(conn, &batch.district_id, &batch.source_system, &writes, now)?;
        store::accounts::save_org_labels(conn, &batch.org_labels)?;
        let applied: Vec<(&str, &[Difference])> = planned
            .iter()
            .map(|p| (p.id.as_str(), p.plan.applied.as_slice()))
            .collect();
        store::audit::insert(conn, &sync_changes(batch, &applied, now))?;
        for (id, bucket, students) in bucket_writes {
            let students: Vec<store::merges::Linked> = students
                .into_iter()
                .map(|s| (s.student_id, s.display_name, s.school_id))
                .collect();
            store::merges::set_bucket(conn, &id, &bucket, &students)?;
        }
    }
    // RO-6 notices go to a changed email or phone's previous value: say who
    // else still holds it, so a notice to a shared phone names its account.
    let previous: Vec<String> = planned
        .iter()
        .flat_map(|p| &p.plan.applied)
        .filter(|d| matches!(d.field, Field::Credential(_)) && !d.current.is_empty())
        .map(|d| d.current.clone())
        .collect();
    let holders = if previous.is_empty() {
        HashMap::new()
    } else {
        store::accounts::holder_counts_by_value(conn, &previous)?
    };
    for p in &mut planned {
        for d in &mut p.plan.applied {
            let after = holders.get(&d.current).copied().unwrap_or(0);
            // On a dry run the account still holds it.
            let own = i64::from(batch.dry_run);
            d.others_holding_current = u32::try_from((after - own).max(0)).unwrap_or(0);
        }
    }

    for p in planned {
        let outcome = match (&p.plan.decision, p.attached) {
            (Decision::Create, _) => Outcome::Created,
            (Decision::Update(_), _) | (Decision::Unchanged, true) => Outcome::Updated,
            (Decision::Unchanged, false) => Outcome::Unchanged,
        };
        let mut changed_fields = p.plan.changed_fields;
        if p.attached {
            changed_fields.push("external_ids");
        }
        let dry_create = batch.dry_run && outcome == Outcome::Created;
        results[p.index] = Some(ItemResult {
            source_id: p.incoming.source_id.clone(),
            account_id: if dry_create { String::new() } else { p.id },
            outcome,
            status: Some(p.plan.status_after),
            changed_fields,
            not_applied: p.plan.not_applied,
            applied: p.plan.applied,
            error: String::new(),
            merged_into: p.merged_into,
        });
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.ok_or_else(|| anyhow::anyhow!("item {i} has no result").into()))
        .collect()
}
