//! RO-2 / RO-3 / RO-5: starting runs (on demand, or by pushing a bundle),
//! reading them, and their reports (paged, or downloaded as CSV / XLSX).

use chrono::NaiveDateTime;
use homeroom_platform::{
    auth::Principal,
    db::Db,
    report_file::{CSV_CONTENT_TYPE, CsvReport, XLSX_CONTENT_TYPE, XlsxReport},
};

use super::{Ctx, access, sources};
use crate::{
    domain::{
        error::RosterError,
        records::{Action, Entity},
        report::Totals,
    },
    store::sync::{self, ReportAfter, ReportFilter, ReportRowRecord, RunRow, SourceRow},
};

/// Largest bundle a client may push (bytes).
pub const MAX_BUNDLE_BYTES: usize = 512 * 1024 * 1024;

/// How a run is asked for.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub source_id: String,
    pub dry_run: bool,
    pub force: bool,
    pub full_sync: bool,
    pub idempotency_key: Option<String>,
    pub filename: Option<String>,
}

fn requested_by(caller: &Principal) -> Option<String> {
    match caller {
        Principal::Account { account_id, .. } => Some(account_id.clone()),
        Principal::Service { .. } => None,
    }
}

/// Queues a run of a source; `bundle` is pushed bytes (bundle imports).
pub async fn queue(
    ctx: &Ctx,
    caller: &Principal,
    req: RunRequest,
    trigger: &'static str,
    bundle: Option<Vec<u8>>,
) -> Result<RunRow, RosterError> {
    let source = sources::get(&ctx.db, caller, &req.source_id).await?;
    match (trigger, source.kind.as_str()) {
        ("bundle_import", "oneroster_csv") => {}
        ("bundle_import", _) => {
            return Err(RosterError::FailedPrecondition(
                "bundles can only be imported into a ONEROSTER_CSV source".into(),
            ));
        }
        (_, "upload") => {
            return Err(RosterError::FailedPrecondition(
                "an UPLOAD source runs through UploadGuardians, not StartSync".into(),
            ));
        }
        (_, "clever" | "oneroster_rest") if source.secret_ciphertext.is_none() => {
            return Err(RosterError::FailedPrecondition(
                "the source has no credentials: set them in its connector settings first".into(),
            ));
        }
        (_, "oneroster_csv") if sources::location(&source).is_empty() => {
            return Err(RosterError::FailedPrecondition(
                "the source has no bundle location: set connector.oneroster_csv.location, or push bundles with ImportOneRosterBundle"
                    .into(),
            ));
        }
        _ => {}
    }
    let now = chrono::Utc::now().naive_utc();
    let key = req.idempotency_key.clone().filter(|k| !k.is_empty());
    let run = RunRow {
        dry_run: req.dry_run,
        forced: req.force,
        full_sync: req.full_sync,
        idempotency_key: key.clone(),
        requested_by: requested_by(caller),
        filename: req.filename.clone().filter(|f| !f.is_empty()),
        ..RunRow::queued(&source, trigger, now)
    };
    let queued = ctx
        .db
        .transaction(move |c| {
            if let Some(key) = &key
                && let Some(first) = sync::run_by_key(c, &run.source_id, key)?
            {
                if first.dry_run != run.dry_run || first.forced != run.forced {
                    return Err(RosterError::AlreadyExists(
                        "idempotency_key was already used for a different request".into(),
                    ));
                }
                return Ok(first);
            }
            sync::insert_run(c, &run, bundle.as_deref())?;
            Ok(run)
        })
        .await?;
    ctx.wake.notify_one();
    Ok(queued)
}

/// A run the caller may see.
pub async fn get(
    db: &Db,
    caller: &Principal,
    id: &str,
) -> Result<(RunRow, SourceRow), RosterError> {
    let key = id.to_string();
    let (run, source) = db
        .run(move |c| {
            let Some(run) = sync::run(c, &key)? else {
                return Ok::<_, RosterError>(None);
            };
            let source =
                sync::source_any(c, &run.source_id)?.ok_or(diesel::result::Error::NotFound)?;
            Ok(Some((run, source)))
        })
        .await?
        .ok_or_else(|| RosterError::NotFound("no such sync run".into()))?;
    access::roster_admin(caller, &source.district_id, source.school_id.as_deref())
        .map_err(|_| RosterError::NotFound("no such sync run".into()))?;
    Ok((run, source))
}

/// A district's runs, newest first.
pub async fn list(
    db: &Db,
    caller: &Principal,
    district_id: &str,
    source_id: Option<String>,
    statuses: Vec<String>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<RunRow>, RosterError> {
    access::roster_admin(caller, district_id, None)?;
    let district = district_id.to_string();
    db.run(move |c| {
        sync::runs(
            c,
            &district,
            source_id.as_deref(),
            &statuses,
            after.as_ref().map(|(t, i)| (*t, i.as_str())),
            limit,
        )
        .map_err(RosterError::from)
    })
    .await
}

/// The totals of a run.
pub fn totals(run: &RunRow) -> Totals {
    serde_json::from_str(&run.totals).unwrap_or_default()
}

/// A page of a run's report, in the order `after` names.
pub async fn report_page(
    db: &Db,
    caller: &Principal,
    run_id: &str,
    filter: ReportFilter,
    after: ReportAfter,
    limit: i64,
) -> Result<(Vec<ReportRowRecord>, i64), RosterError> {
    get(db, caller, run_id).await?;
    let id = run_id.to_string();
    db.run(move |c| sync::report_rows(c, &id, &filter, &after, limit).map_err(RosterError::from))
        .await
}

/// Columns of a downloaded report.
const REPORT_HEADER: [&str; 6] = [
    "entity",
    "source_id",
    "name",
    "action",
    "changed_fields",
    "notes",
];

/// A downloadable report file.
#[derive(Debug)]
pub struct ReportFile {
    pub content_type: &'static str,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The whole report as CSV or XLSX (XLSX adds a totals sheet).
pub async fn download(
    db: &Db,
    caller: &Principal,
    run_id: &str,
    filter: ReportFilter,
    xlsx: bool,
) -> Result<ReportFile, RosterError> {
    let (run, _) = get(db, caller, run_id).await?;
    let id = run_id.to_string();
    let rows = db
        .run(move |c| {
            let mut all = Vec::new();
            let mut after = 0;
            loop {
                let (page, _) =
                    sync::report_rows(c, &id, &filter, &ReportAfter::Row(after), 20_000)?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                all.extend(page);
            }
            Ok::<_, RosterError>(all)
        })
        .await?;
    let cells = |r: &ReportRowRecord| {
        [
            r.entity.clone(),
            r.source_id.clone(),
            r.name.clone(),
            r.action.clone(),
            r.changed_fields.replace('\n', ", "),
            r.notes.replace('\n', "; "),
        ]
    };
    let run_totals = totals(&run);
    tokio::task::spawn_blocking(move || {
        if xlsx {
            let mut book = XlsxReport::new("Report", &REPORT_HEADER).map_err(internal)?;
            for r in &rows {
                book.row(cells(r)).map_err(internal)?;
            }
            let mut header = vec!["entity"];
            header.extend(Action::ALL.iter().map(|a| a.as_str()));
            book.add_sheet("Totals", &header).map_err(internal)?;
            for e in Entity::ALL {
                let mut line = vec![e.as_str().to_string()];
                line.extend(
                    Action::ALL
                        .iter()
                        .map(|a| run_totals.get(e, *a).to_string()),
                );
                book.row(line).map_err(internal)?;
            }
            Ok(ReportFile {
                content_type: XLSX_CONTENT_TYPE,
                filename: format!("sync-report-{}.xlsx", run.id),
                bytes: book.finish().map_err(internal)?,
            })
        } else {
            let mut csv = CsvReport::new(&REPORT_HEADER);
            for r in &rows {
                csv.row(cells(r));
            }
            Ok(ReportFile {
                content_type: CSV_CONTENT_TYPE,
                filename: format!("sync-report-{}.csv", run.id),
                bytes: csv.into_bytes(),
            })
        }
    })
    .await
    .map_err(|e| RosterError::Internal(e.into()))?
}

pub(crate) fn internal(e: impl std::error::Error + Send + Sync + 'static) -> RosterError {
    RosterError::Internal(anyhow::Error::new(e))
}
