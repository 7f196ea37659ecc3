//! RO-7: guardian uploads — receiving the file, reading an upload's status
//! and history, its result rows, and the result file (XLSX or CSV).

use chrono::NaiveDateTime;
use homeroom_platform::{
    auth::Principal,
    db::Db,
    report_file::{CSV_CONTENT_TYPE, CsvReport, XLSX_CONTENT_TYPE, XlsxReport},
};

use super::{
    Ctx, access,
    runs::{ReportFile, internal},
};
use crate::{
    domain::{error::RosterError, upload::result_header},
    store::{
        sync::{self, RunRow, SourceRow},
        uploads::{self, ResultRecord, UploadRow},
    },
};

/// Largest file an upload takes (bytes).
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

/// What the first message of an upload says.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// The district, for a district upload.
    pub district_id: Option<String>,
    /// The school, for a school upload.
    pub school_id: Option<String>,
    pub dry_run: bool,
    pub abandon: bool,
    pub force: bool,
    pub filename: String,
    pub idempotency_key: Option<String>,
}

/// An upload and the run it is processed as.
#[derive(Debug, Clone)]
pub struct Upload {
    pub run: RunRow,
    pub upload: UploadRow,
}

/// The district and school an upload is for.
async fn scope(db: &Db, options: &UploadOptions) -> Result<(String, Option<String>), RosterError> {
    match (&options.district_id, &options.school_id) {
        (Some(d), None) if !d.is_empty() => {
            let district = d.clone();
            let exists = db
                .run(move |c| Ok::<_, RosterError>(crate::store::districts::get(c, &district)?))
                .await?;
            match exists {
                Some(_) => Ok((d.clone(), None)),
                None => Err(RosterError::NotFound("no such district".into())),
            }
        }
        (None, Some(s)) if !s.is_empty() => {
            let school = s.clone();
            let district = db
                .run(move |c| {
                    use crate::store::schema::schools;
                    use diesel::prelude::*;
                    schools::table
                        .find(&school)
                        .select(schools::district_id)
                        .first::<String>(c)
                        .optional()
                        .map_err(RosterError::from)
                })
                .await?
                .ok_or_else(|| RosterError::NotFound("no such school".into()))?;
            Ok((district, Some(s.clone())))
        }
        _ => Err(RosterError::InvalidArgument(
            "options.scope: give the district_id or the school_id the guardians belong to".into(),
        )),
    }
}

/// Stores a received file as a queued upload of its scope's UPLOAD source
/// (made on first use), or returns the upload an idempotency key started.
pub async fn receive(
    ctx: &Ctx,
    caller: &Principal,
    options: UploadOptions,
    file: Vec<u8>,
) -> Result<Upload, RosterError> {
    let (district_id, school_id) = scope(&ctx.db, &options).await?;
    access::roster_admin(caller, &district_id, school_id.as_deref()).map_err(|e| {
        match school_id {
            // A school outside the caller's district reads as missing.
            Some(_) if !caller_in_district(caller, &district_id) => {
                RosterError::NotFound("no such school".into())
            }
            _ => e,
        }
    })?;
    if file.len() > MAX_UPLOAD_BYTES {
        return Err(RosterError::InvalidArgument(format!(
            "chunk: the file is larger than {} MB; split it into smaller files",
            MAX_UPLOAD_BYTES / (1024 * 1024)
        )));
    }
    let now = chrono::Utc::now().naive_utc();
    let run_id = uuid::Uuid::now_v7().to_string();
    let key = options.idempotency_key.clone().filter(|k| !k.is_empty());
    let requested_by = match caller {
        Principal::Account { account_id, .. } => Some(account_id.clone()),
        Principal::Service { .. } => None,
    };
    let stored = ctx
        .db
        .transaction(move |c| {
            let source = match uploads::upload_source(c, &district_id, school_id.as_deref())? {
                Some(s) => s,
                None => {
                    let s = upload_source_row(&district_id, school_id.as_deref(), now);
                    sync::insert_source(c, &s)?;
                    s
                }
            };
            if let Some(key) = &key
                && let Some(first) = sync::run_by_key(c, &source.id, key)?
            {
                let found = uploads::get(c, &first.id)?;
                return match found {
                    Some((run, upload))
                        if run.dry_run == options.dry_run
                            && run.forced == options.force
                            && upload.abandon == options.abandon =>
                    {
                        Ok(Upload { run, upload })
                    }
                    _ => Err(RosterError::AlreadyExists(
                        "idempotency_key was already used for a different upload".into(),
                    )),
                };
            }
            let filename = options.filename.trim().to_string();
            let run = RunRow {
                id: run_id.clone(),
                dry_run: options.dry_run,
                forced: options.force,
                idempotency_key: key.clone(),
                requested_by,
                filename: (!filename.is_empty()).then(|| filename.clone()),
                upload_id: Some(run_id.clone()),
                ..RunRow::queued(&source, "upload", now)
            };
            let upload = UploadRow {
                run_id: run_id.clone(),
                district_id: district_id.clone(),
                school_id: school_id.clone(),
                source_id: source.id.clone(),
                filename,
                size_bytes: i64::try_from(file.len()).unwrap_or(i64::MAX),
                encoding: String::new(),
                abandon: options.abandon,
                counts: "{}".into(),
                created_at: now,
            };
            uploads::insert(c, &run, &file, &upload)?;
            Ok(Upload { run, upload })
        })
        .await?;
    ctx.wake.notify_one();
    Ok(stored)
}

fn caller_in_district(caller: &Principal, district_id: &str) -> bool {
    match caller {
        Principal::Service { .. } => true,
        Principal::Account { district_id: d, .. } => d == district_id,
    }
}

/// The UPLOAD source a scope gets on its first upload: it manages guardians
/// and invites the ones it creates; RO-6 is off until an administrator turns
/// it on.
fn upload_source_row(district_id: &str, school_id: Option<&str>, now: NaiveDateTime) -> SourceRow {
    SourceRow {
        id: uuid::Uuid::now_v7().to_string(),
        district_id: district_id.into(),
        school_id: school_id.map(String::from),
        kind: "upload".into(),
        name: "Guardian uploads".into(),
        config: "{}".into(),
        secret_ciphertext: None,
        daily_at: None,
        paused: false,
        manages_guardians: true,
        send_invitations: true,
        unarchive_classes: false,
        update_active_user_contacts: false,
        deactivation_threshold_percent: 20,
        deleted: false,
        student_account_grades: String::new(),
        created_at: now,
        updated_at: now,
    }
}

/// An upload the caller may see.
pub async fn get(db: &Db, caller: &Principal, id: &str) -> Result<Upload, RosterError> {
    let key = id.to_string();
    let (run, upload) = db
        .run(move |c| uploads::get(c, &key).map_err(RosterError::from))
        .await?
        .ok_or_else(|| RosterError::NotFound("no such upload".into()))?;
    access::roster_admin(caller, &upload.district_id, upload.school_id.as_deref())
        .map_err(|_| RosterError::NotFound("no such upload".into()))?;
    Ok(Upload { run, upload })
}

/// A district's (or school's) uploads, newest first.
pub async fn list(
    db: &Db,
    caller: &Principal,
    district_id: &str,
    school_id: Option<String>,
    statuses: Vec<String>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<Upload>, RosterError> {
    access::roster_admin(caller, district_id, school_id.as_deref())?;
    let district = district_id.to_string();
    let rows = db
        .run(move |c| {
            uploads::list(
                c,
                &district,
                school_id.as_deref(),
                &statuses,
                after.as_ref().map(|(t, i)| (*t, i.as_str())),
                limit,
            )
            .map_err(RosterError::from)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|(run, upload)| Upload { run, upload })
        .collect())
}

/// A page of an upload's result rows.
pub async fn rows(
    db: &Db,
    caller: &Principal,
    id: &str,
    result: Option<&'static str>,
    after_seq: i64,
    limit: i64,
) -> Result<(Vec<ResultRecord>, i64), RosterError> {
    get(db, caller, id).await?;
    let key = id.to_string();
    db.run(move |c| uploads::results(c, &key, result, after_seq, limit).map_err(RosterError::from))
        .await
}

/// The result file: every input column in order, then result, action and
/// error; CSV with a BOM, or XLSX.
pub async fn download(
    db: &Db,
    caller: &Principal,
    id: &str,
    xlsx: bool,
) -> Result<ReportFile, RosterError> {
    let up = get(db, caller, id).await?;
    if !matches!(up.run.status.as_str(), "completed" | "failed") {
        return Err(RosterError::FailedPrecondition(
            "the upload is still being processed; download the result when its status is COMPLETED"
                .into(),
        ));
    }
    let key = id.to_string();
    let rows = db
        .run(move |c| {
            let mut all = Vec::new();
            let mut after = 0;
            loop {
                let (page, _) = uploads::results(c, &key, None, after, 20_000)?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                all.extend(page);
            }
            Ok::<_, RosterError>(all)
        })
        .await?;
    let stem = result_stem(&up.upload.filename);
    let header = result_header();
    tokio::task::spawn_blocking(move || {
        let cells = |r: &ResultRecord| {
            let mut line: Vec<String> = r.cells().iter().map(|c| c.to_string()).collect();
            line.push(r.result.clone());
            line.push(r.action.clone().unwrap_or_default());
            line.push(r.error.clone());
            line
        };
        if xlsx {
            let mut book = XlsxReport::new("Result", &header).map_err(internal)?;
            for r in &rows {
                book.row(cells(r)).map_err(internal)?;
            }
            Ok(ReportFile {
                content_type: XLSX_CONTENT_TYPE,
                filename: format!("{stem}-result.xlsx"),
                bytes: book.finish().map_err(internal)?,
            })
        } else {
            let mut csv = CsvReport::new(&header);
            for r in &rows {
                csv.row(cells(r));
            }
            Ok(ReportFile {
                content_type: CSV_CONTENT_TYPE,
                filename: format!("{stem}-result.csv"),
                bytes: csv.into_bytes(),
            })
        }
    })
    .await
    .map_err(|e| RosterError::Internal(e.into()))?
}

/// The result file's name: the upload's name without its extension, kept to
/// safe characters.
fn result_stem(filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if safe.trim_matches('-').is_empty() {
        "guardians".into()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::result_stem;

    #[test]
    fn the_result_file_is_named_after_the_upload() {
        assert_eq!(result_stem("Parents Fall.csv"), "Parents-Fall");
        assert_eq!(result_stem("C:\\Users\\a\\guardians.csv"), "guardians");
        assert_eq!(result_stem(""), "guardians");
        assert_eq!(result_stem("../..csv"), "guardians");
    }
}
