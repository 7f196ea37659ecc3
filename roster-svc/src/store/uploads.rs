//! RO-7: guardian uploads (what only an upload has; its status, progress and
//! file are its sync run's), their result rows, and what planning one reads:
//! the scope's UPLOAD source and its students.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{bulk_insert, db::DbConn};

use super::{
    schema::{guardian_upload_rows, guardian_uploads, people, sync_runs, sync_sources},
    sync::{RunRow, SourceRow},
};
use crate::domain::{
    records::{PersonData, PersonKind},
    upload::{ResultRow, Student},
};

const ACTIVE: &str = "active";

/// An upload row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = guardian_uploads, treat_none_as_default_value = false)]
pub struct UploadRow {
    pub run_id: String,
    pub district_id: String,
    pub school_id: Option<String>,
    pub source_id: String,
    pub filename: String,
    pub size_bytes: i64,
    pub encoding: String,
    pub abandon: bool,
    pub counts: String,
    pub created_at: NaiveDateTime,
}

/// The scope's UPLOAD source (not deleted), if it has one.
pub fn upload_source(
    conn: &mut DbConn,
    district_id: &str,
    school_id: Option<&str>,
) -> QueryResult<Option<SourceRow>> {
    let mut q = sync_sources::table
        .filter(sync_sources::district_id.eq(district_id))
        .filter(sync_sources::kind.eq("upload"))
        .filter(sync_sources::deleted.eq(false))
        .into_boxed();
    q = match school_id {
        Some(s) => q.filter(sync_sources::school_id.eq(s)),
        None => q.filter(sync_sources::school_id.is_null()),
    };
    q.order(sync_sources::created_at)
        .select(SourceRow::as_select())
        .first(conn)
        .optional()
}

/// Stores an upload: its run, its file and its row.
pub fn insert(conn: &mut DbConn, run: &RunRow, file: &[u8], upload: &UploadRow) -> QueryResult<()> {
    super::sync::insert_run(conn, run, Some(file))?;
    diesel::insert_into(guardian_uploads::table)
        .values(upload)
        .execute(conn)?;
    Ok(())
}

/// An upload and its run.
pub fn get(conn: &mut DbConn, run_id: &str) -> QueryResult<Option<(RunRow, UploadRow)>> {
    sync_runs::table
        .inner_join(guardian_uploads::table.on(guardian_uploads::run_id.eq(sync_runs::id)))
        .filter(sync_runs::id.eq(run_id))
        .select((RunRow::as_select(), UploadRow::as_select()))
        .first(conn)
        .optional()
}

/// Uploads of a district (or one school), newest first, after a
/// (created_at, id) key.
pub fn list(
    conn: &mut DbConn,
    district_id: &str,
    school_id: Option<&str>,
    statuses: &[String],
    after: Option<(NaiveDateTime, &str)>,
    limit: i64,
) -> QueryResult<Vec<(RunRow, UploadRow)>> {
    let mut q = sync_runs::table
        .inner_join(guardian_uploads::table.on(guardian_uploads::run_id.eq(sync_runs::id)))
        .filter(guardian_uploads::district_id.eq(district_id))
        .into_boxed();
    if let Some(s) = school_id {
        q = q.filter(guardian_uploads::school_id.eq(s));
    }
    if !statuses.is_empty() {
        q = q.filter(sync_runs::status.eq_any(statuses));
    }
    if let Some((at, id)) = after {
        q = q.filter(
            sync_runs::created_at
                .lt(at)
                .or(sync_runs::created_at.eq(at).and(sync_runs::id.lt(id))),
        );
    }
    q.order((sync_runs::created_at.desc(), sync_runs::id.desc()))
        .limit(limit)
        .select((RunRow::as_select(), UploadRow::as_select()))
        .load(conn)
}

/// Records the file's encoding and the upload's counts.
pub fn set_outcome(
    conn: &mut DbConn,
    run_id: &str,
    encoding: &str,
    counts: &str,
) -> QueryResult<()> {
    diesel::update(guardian_uploads::table.find(run_id))
        .set((
            guardian_uploads::encoding.eq(encoding),
            guardian_uploads::counts.eq(counts),
        ))
        .execute(conn)?;
    Ok(())
}

/// Active students of a district, or of one school (primary or not).
pub fn students(
    conn: &mut DbConn,
    district_id: &str,
    school_id: Option<&str>,
) -> QueryResult<Vec<Student>> {
    let rows: Vec<StudentState> = people::table
        .filter(people::district_id.eq(district_id))
        .filter(people::kind.eq(PersonKind::Student.as_str()))
        .filter(people::status.eq(ACTIVE))
        .select(StudentState::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| school_id.is_none_or(|s| r.school_ids.split(' ').any(|x| x == s)))
        .map(|r| Student {
            id: r.id,
            source_id: r.source_id,
            identifier: r.identifier.clone().filter(|i| !i.trim().is_empty()),
            data: PersonData {
                kind: PersonKind::Student,
                role: "student".into(),
                given_name: r.given_name,
                middle_name: None,
                family_name: r.family_name,
                preferred_given_name: None,
                identifier: r.identifier,
                grades: String::new(),
                school_id: r.school_id,
                school_ids: r.school_ids,
                email: None,
                phone: None,
                home_phone: None,
                preferred_language: None,
                sign_in_disabled: false,
                source_hash: String::new(),
            },
        })
        .collect())
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = people)]
struct StudentState {
    id: String,
    source_id: String,
    identifier: Option<String>,
    given_name: String,
    family_name: String,
    school_id: Option<String>,
    school_ids: String,
}

/// A stored line of a result file.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = guardian_upload_rows)]
pub struct ResultRecord {
    pub seq: i64,
    pub line_number: i64,
    pub student_code: String,
    pub parent_code: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub home_phone: String,
    pub language: String,
    pub result: String,
    pub action: Option<String>,
    pub error: String,
    pub account_id: Option<String>,
}

impl ResultRecord {
    /// The input cells, in header order.
    pub fn cells(&self) -> [&str; 8] {
        [
            &self.student_code,
            &self.parent_code,
            &self.first_name,
            &self.last_name,
            &self.email,
            &self.phone,
            &self.home_phone,
            &self.language,
        ]
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = guardian_upload_rows, treat_none_as_default_value = false)]
struct NewResultRow<'a> {
    run_id: &'a str,
    seq: i64,
    line_number: i64,
    student_code: &'a str,
    parent_code: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    phone: &'a str,
    home_phone: &'a str,
    language: &'a str,
    result: &'a str,
    action: Option<&'a str>,
    error: &'a str,
    account_id: Option<&'a str>,
}

/// Stores an upload's result rows, numbered from 1 in order.
pub fn insert_results(conn: &mut DbConn, run_id: &str, rows: &[ResultRow]) -> QueryResult<usize> {
    const CHUNK: usize = 20_000;
    let mut written = 0;
    for (n, chunk) in rows.chunks(CHUNK).enumerate() {
        let records: Vec<NewResultRow<'_>> = chunk
            .iter()
            .enumerate()
            .map(|(i, r)| NewResultRow {
                run_id,
                seq: i64::try_from(n * CHUNK + i + 1).unwrap_or(i64::MAX),
                line_number: i64::try_from(r.line).unwrap_or(i64::MAX),
                student_code: &r.cells[0],
                parent_code: &r.cells[1],
                first_name: &r.cells[2],
                last_name: &r.cells[3],
                email: &r.cells[4],
                phone: &r.cells[5],
                home_phone: &r.cells[6],
                language: &r.cells[7],
                result: if r.succeeded() { "SUCCESS" } else { "ERROR" },
                action: r.action.map(|a| a.as_str()),
                error: r.error.as_deref().unwrap_or(""),
                account_id: r.account_id.as_deref(),
            })
            .collect();
        written += bulk_insert!(&mut *conn, guardian_upload_rows::table, &records, 1_000)?;
    }
    Ok(written)
}

/// A page of result rows after a row number, and the total matching.
pub fn results(
    conn: &mut DbConn,
    run_id: &str,
    result: Option<&str>,
    after_seq: i64,
    limit: i64,
) -> QueryResult<(Vec<ResultRecord>, i64)> {
    macro_rules! query {
        () => {{
            let mut q = guardian_upload_rows::table
                .filter(guardian_upload_rows::run_id.eq(run_id))
                .into_boxed();
            if let Some(r) = result {
                q = q.filter(guardian_upload_rows::result.eq(r));
            }
            q
        }};
    }
    let total: i64 = query!().count().get_result(conn)?;
    let rows = query!()
        .filter(guardian_upload_rows::seq.gt(after_seq))
        .order(guardian_upload_rows::seq)
        .limit(limit)
        .select(ResultRecord::as_select())
        .load(conn)?;
    Ok((rows, total))
}
