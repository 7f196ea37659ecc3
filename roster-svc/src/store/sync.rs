//! RO-2 / RO-3 / RO-5: sync sources, runs (with their lease and pushed
//! input) and report rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{bulk_insert, db::DbConn, on_backend};

use super::schema::{sync_leases, sync_report_rows, sync_run_inputs, sync_runs, sync_sources};
use crate::domain::{
    records::{Action, Entity},
    report::ReportRow,
};

/// A sync source row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sync_sources, treat_none_as_default_value = false)]
pub struct SourceRow {
    pub id: String,
    pub district_id: String,
    pub school_id: Option<String>,
    pub kind: String,
    pub name: String,
    pub config: String,
    pub secret_ciphertext: Option<String>,
    pub daily_at: Option<String>,
    pub paused: bool,
    pub manages_guardians: bool,
    pub send_invitations: bool,
    pub unarchive_classes: bool,
    pub update_active_user_contacts: bool,
    pub deactivation_threshold_percent: i32,
    pub deleted: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Grades (CEDS codes, space-separated) whose students get accounts.
    pub student_account_grades: String,
}

/// Inserts a source.
pub fn insert_source(conn: &mut DbConn, row: &SourceRow) -> QueryResult<()> {
    diesel::insert_into(sync_sources::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Replaces a source's columns.
pub fn update_source(conn: &mut DbConn, row: &SourceRow) -> QueryResult<()> {
    diesel::update(sync_sources::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// A source that is not deleted.
pub fn source(conn: &mut DbConn, id: &str) -> QueryResult<Option<SourceRow>> {
    sync_sources::table
        .find(id)
        .filter(sync_sources::deleted.eq(false))
        .select(SourceRow::as_select())
        .first(conn)
        .optional()
}

/// A source, deleted or not (runs keep pointing at deleted sources).
pub fn source_any(conn: &mut DbConn, id: &str) -> QueryResult<Option<SourceRow>> {
    sync_sources::table
        .find(id)
        .select(SourceRow::as_select())
        .first(conn)
        .optional()
}

/// A district's sources (optionally of one school), by name then id, after a key.
pub fn sources(
    conn: &mut DbConn,
    district_id: &str,
    school_id: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryResult<Vec<SourceRow>> {
    let mut q = sync_sources::table
        .filter(sync_sources::district_id.eq(district_id))
        .filter(sync_sources::deleted.eq(false))
        .into_boxed();
    if let Some(school) = school_id {
        q = q.filter(sync_sources::school_id.eq(school));
    }
    if let Some((name, id)) = after {
        q = q.filter(
            sync_sources::name
                .gt(name)
                .or(sync_sources::name.eq(name).and(sync_sources::id.gt(id))),
        );
    }
    q.order((sync_sources::name, sync_sources::id))
        .limit(limit)
        .select(SourceRow::as_select())
        .load(conn)
}

/// Sources with a daily time that are not paused or deleted (nor uploads),
/// each with its district's time zone.
pub fn scheduled_sources(conn: &mut DbConn) -> QueryResult<Vec<(SourceRow, String)>> {
    use super::schema::districts;
    let rows: Vec<SourceRow> = sync_sources::table
        .filter(sync_sources::deleted.eq(false))
        .filter(sync_sources::paused.eq(false))
        .filter(sync_sources::daily_at.is_not_null())
        .filter(sync_sources::kind.ne("upload"))
        .order(sync_sources::id)
        .select(SourceRow::as_select())
        .load(conn)?;
    let mut ids: Vec<&str> = rows.iter().map(|r| r.district_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let zones: std::collections::HashMap<String, String> = districts::table
        .filter(districts::id.eq_any(&ids))
        .select((districts::id, districts::time_zone))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let zone = zones.get(&r.district_id)?.clone();
            Some((r, zone))
        })
        .collect())
}

/// Replaces a source's `config` JSON alone.
pub fn set_source_config(conn: &mut DbConn, id: &str, config: &str) -> QueryResult<()> {
    diesel::update(sync_sources::table.find(id))
        .set(sync_sources::config.eq(config))
        .execute(conn)
        .map(|_| ())
}

/// A run row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_runs, treat_none_as_default_value = false)]
pub struct RunRow {
    pub id: String,
    pub source_id: String,
    pub district_id: String,
    pub status: String,
    pub trigger_kind: String,
    pub mode: Option<String>,
    pub dry_run: bool,
    pub forced: bool,
    pub full_sync: bool,
    pub idempotency_key: Option<String>,
    pub requested_by: Option<String>,
    pub phase: String,
    pub records_done: i64,
    pub records_total: i64,
    pub totals: String,
    pub guard: Option<String>,
    pub failure_kind: Option<String>,
    pub failure_message: Option<String>,
    pub oneroster_version: Option<String>,
    pub filename: Option<String>,
    pub upload_id: Option<String>,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

impl RunRow {
    /// A new queued run of `source`, started by `trigger`; callers set the
    /// options the request carries (dry run, force, key, file name …).
    pub fn queued(source: &SourceRow, trigger: &str, now: NaiveDateTime) -> RunRow {
        RunRow {
            id: uuid::Uuid::now_v7().to_string(),
            source_id: source.id.clone(),
            district_id: source.district_id.clone(),
            status: "queued".into(),
            trigger_kind: trigger.into(),
            mode: None,
            dry_run: false,
            forced: false,
            full_sync: false,
            idempotency_key: None,
            requested_by: None,
            phase: "unspecified".into(),
            records_done: 0,
            records_total: 0,
            totals: "{}".into(),
            guard: None,
            failure_kind: None,
            failure_message: None,
            oneroster_version: None,
            filename: None,
            upload_id: None,
            attempts: 0,
            created_at: now,
            started_at: None,
            finished_at: None,
        }
    }
}

/// Queues a run (and its pushed input).
pub fn insert_run(conn: &mut DbConn, run: &RunRow, input: Option<&[u8]>) -> QueryResult<()> {
    diesel::insert_into(sync_runs::table)
        .values(run)
        .execute(conn)?;
    if let Some(bytes) = input {
        diesel::insert_into(sync_run_inputs::table)
            .values((
                sync_run_inputs::run_id.eq(&run.id),
                sync_run_inputs::content.eq(bytes),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A run by id.
pub fn run(conn: &mut DbConn, id: &str) -> QueryResult<Option<RunRow>> {
    sync_runs::table
        .find(id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// The run a source's idempotency key started.
pub fn run_by_key(conn: &mut DbConn, source_id: &str, key: &str) -> QueryResult<Option<RunRow>> {
    sync_runs::table
        .filter(sync_runs::source_id.eq(source_id))
        .filter(sync_runs::idempotency_key.eq(key))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// The latest run of a source.
pub fn last_run(conn: &mut DbConn, source_id: &str) -> QueryResult<Option<RunRow>> {
    sync_runs::table
        .filter(sync_runs::source_id.eq(source_id))
        .order((sync_runs::created_at.desc(), sync_runs::id.desc()))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// Runs of a district, newest first, after a (created_at, id) key.
pub fn runs(
    conn: &mut DbConn,
    district_id: &str,
    source_id: Option<&str>,
    statuses: &[String],
    after: Option<(NaiveDateTime, &str)>,
    limit: i64,
) -> QueryResult<Vec<RunRow>> {
    let mut q = sync_runs::table
        .filter(sync_runs::district_id.eq(district_id))
        .into_boxed();
    if let Some(source) = source_id {
        q = q.filter(sync_runs::source_id.eq(source));
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
        .select(RunRow::as_select())
        .load(conn)
}

/// The bytes pushed for a run.
pub fn run_input(conn: &mut DbConn, run_id: &str) -> QueryResult<Option<Vec<u8>>> {
    sync_run_inputs::table
        .find(run_id)
        .select(sync_run_inputs::content)
        .first(conn)
        .optional()
}

/// Drops a finished run's pushed bytes.
pub fn drop_run_input(conn: &mut DbConn, run_id: &str) -> QueryResult<()> {
    diesel::delete(sync_run_inputs::table.find(run_id))
        .execute(conn)
        .map(|_| ())
}

/// Queued runs (and running ones whose lease lapsed), oldest first.
pub fn runnable(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<RunRow>> {
    let leased: Vec<String> = sync_leases::table
        .filter(sync_leases::expires_at.gt(now))
        .select(sync_leases::source_id)
        .load(conn)?;
    sync_runs::table
        .filter(sync_runs::status.eq_any(["queued", "running"]))
        .filter(sync_runs::source_id.ne_all(leased))
        .order((sync_runs::created_at, sync_runs::id))
        .limit(limit)
        .select(RunRow::as_select())
        .load(conn)
}

/// Takes the source's lease for a run if it is free or lapsed. True when taken.
pub fn take_lease(
    conn: &mut DbConn,
    source_id: &str,
    run_id: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::delete(
        sync_leases::table
            .filter(sync_leases::source_id.eq(source_id))
            .filter(sync_leases::expires_at.le(now)),
    )
    .execute(conn)?;
    let values = (
        sync_leases::source_id.eq(source_id),
        sync_leases::run_id.eq(run_id),
        sync_leases::owner.eq(owner),
        sync_leases::expires_at.eq(until),
    );
    let inserted = on_backend!(conn, c => diesel::insert_into(sync_leases::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Extends a held lease; false when it was lost.
pub fn renew_lease(
    conn: &mut DbConn,
    source_id: &str,
    owner: &str,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        sync_leases::table
            .filter(sync_leases::source_id.eq(source_id))
            .filter(sync_leases::owner.eq(owner)),
    )
    .set(sync_leases::expires_at.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// Releases a held lease.
pub fn release_lease(conn: &mut DbConn, source_id: &str, owner: &str) -> QueryResult<()> {
    diesel::delete(
        sync_leases::table
            .filter(sync_leases::source_id.eq(source_id))
            .filter(sync_leases::owner.eq(owner)),
    )
    .execute(conn)
    .map(|_| ())
}

/// Marks a run running (another attempt).
pub fn start_run(conn: &mut DbConn, run_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sync_runs::table.find(run_id))
        .set((
            sync_runs::status.eq("running"),
            sync_runs::started_at.eq(now),
            sync_runs::attempts.eq(sync_runs::attempts + 1),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Progress of a running run.
pub fn progress(
    conn: &mut DbConn,
    run_id: &str,
    phase: &str,
    done: i64,
    total: i64,
) -> QueryResult<()> {
    diesel::update(sync_runs::table.find(run_id))
        .set((
            sync_runs::phase.eq(phase),
            sync_runs::records_done.eq(done),
            sync_runs::records_total.eq(total),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What a finished run records.
#[derive(Debug, Clone, Default)]
pub struct Finish {
    pub status: &'static str,
    pub mode: Option<&'static str>,
    pub totals: String,
    pub guard: Option<String>,
    pub failure_kind: Option<&'static str>,
    pub failure_message: Option<String>,
    pub oneroster_version: Option<String>,
    pub records: i64,
}

/// Finishes a run.
pub fn finish_run(
    conn: &mut DbConn,
    run_id: &str,
    f: &Finish,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(sync_runs::table.find(run_id))
        .set((
            sync_runs::status.eq(f.status),
            sync_runs::mode.eq(f.mode),
            sync_runs::phase.eq("done"),
            sync_runs::records_done.eq(f.records),
            sync_runs::records_total.eq(f.records),
            sync_runs::totals.eq(&f.totals),
            sync_runs::guard.eq(&f.guard),
            sync_runs::failure_kind.eq(f.failure_kind),
            sync_runs::failure_message.eq(&f.failure_message),
            sync_runs::oneroster_version.eq(&f.oneroster_version),
            sync_runs::finished_at.eq(now),
        ))
        .execute(conn)?;
    drop_run_input(conn, run_id)
}

/// A stored report row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_report_rows, treat_none_as_default_value = false)]
pub struct ReportRowRecord {
    pub run_id: String,
    pub seq: i64,
    pub entity: String,
    pub source_id: String,
    pub name: String,
    pub action: String,
    pub changed_fields: String,
    pub notes: String,
    pub record_id: Option<String>,
    pub account_id: Option<String>,
}

impl ReportRowRecord {
    /// Its entity and action, when both are ones this service writes.
    pub fn kind(&self) -> Option<(Entity, Action)> {
        Entity::parse(&self.entity).zip(Action::parse(&self.action))
    }

    /// The changed fields (stored newline-separated).
    pub fn changed_fields(&self) -> Vec<String> {
        lines(&self.changed_fields)
    }

    /// The notes (stored newline-separated).
    pub fn notes(&self) -> Vec<String> {
        lines(&self.notes)
    }
}

fn lines(s: &str) -> Vec<String> {
    s.split('\n')
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Stores a run's report rows, numbered from 1 in order.
pub fn insert_report(conn: &mut DbConn, run_id: &str, rows: &[ReportRow]) -> QueryResult<usize> {
    insert_report_part(conn, run_id, rows, 0)
}

/// Stores a run's report rows `rows`, the first of which is the run's
/// `before + 1`th.
pub fn insert_report_part(
    conn: &mut DbConn,
    run_id: &str,
    rows: &[ReportRow],
    before: usize,
) -> QueryResult<usize> {
    let mut written = 0;
    for (n, chunk) in rows.chunks(20_000).enumerate() {
        let records: Vec<NewReportRow<'_>> = chunk
            .iter()
            .enumerate()
            .map(|(i, r)| NewReportRow {
                run_id,
                seq: i64::try_from(before + n * 20_000 + i + 1).unwrap_or(i64::MAX),
                entity: r.entity.as_str(),
                source_id: &r.source_id,
                name: &r.name,
                action: r.action.as_str(),
                changed_fields: r.changed_fields().join("\n"),
                notes: r.notes().join("\n"),
                record_id: r.record_id.as_ref().map(ToString::to_string),
                account_id: r.account_id.as_deref(),
            })
            .collect();
        written += bulk_insert!(&mut *conn, sync_report_rows::table, &records, 3_000)?;
    }
    Ok(written)
}

/// A report row to insert, borrowing from the run's rows.
#[derive(Debug, Insertable)]
#[diesel(table_name = sync_report_rows, treat_none_as_default_value = false)]
struct NewReportRow<'a> {
    run_id: &'a str,
    seq: i64,
    entity: &'a str,
    source_id: &'a str,
    name: &'a str,
    action: &'a str,
    changed_fields: String,
    notes: String,
    record_id: Option<String>,
    account_id: Option<&'a str>,
}

/// Filters over a run's report rows.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub entities: Vec<String>,
    pub actions: Vec<String>,
    pub query: Option<String>,
}

/// Deletes a run's report rows (a report stored in parts, one of which failed).
pub fn delete_report(conn: &mut DbConn, run_id: &str) -> QueryResult<usize> {
    diesel::delete(sync_report_rows::table.filter(sync_report_rows::run_id.eq(run_id)))
        .execute(conn)
}

/// Where a page of a report starts: the order, and the last row of the page
/// before (page tokens carry it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportAfter {
    /// By row number, after this row number (0: from the first row).
    Row(i64),
    /// Seed 002: rows with notes first, by their notes, then by row number
    /// (rows without notes last); after this row's (notes, row number), or
    /// from the first row.
    Notes(Option<(String, i64)>),
}

/// A page of report rows after `after`, in its order, and the total matching.
pub fn report_rows(
    conn: &mut DbConn,
    run_id: &str,
    f: &ReportFilter,
    after: &ReportAfter,
    limit: i64,
) -> QueryResult<(Vec<ReportRowRecord>, i64)> {
    use sync_report_rows::{notes, seq};
    macro_rules! query {
        () => {{
            let mut q = sync_report_rows::table
                .filter(sync_report_rows::run_id.eq(run_id))
                .into_boxed();
            if !f.entities.is_empty() {
                q = q.filter(sync_report_rows::entity.eq_any(&f.entities));
            }
            if !f.actions.is_empty() {
                q = q.filter(sync_report_rows::action.eq_any(&f.actions));
            }
            if let Some(text) = &f.query {
                let pattern = format!("%{}%", text.replace('%', "").replace('_', ""));
                q = q.filter(
                    sync_report_rows::source_id
                        .like(pattern.clone())
                        .or(sync_report_rows::name.like(pattern.clone()))
                        .or(notes.like(pattern)),
                );
            }
            q
        }};
    }
    let total: i64 = query!().count().get_result(conn)?;
    let rows = match after {
        ReportAfter::Row(after_seq) => query!()
            .filter(seq.gt(*after_seq))
            .order(seq)
            .limit(limit)
            .select(ReportRowRecord::as_select())
            .load(conn)?,
        ReportAfter::Notes(after) => {
            let mut q = query!();
            match after {
                // Rows without notes come last: after one, only they follow.
                Some((last, last_seq)) if last.is_empty() => {
                    q = q.filter(notes.eq("").and(seq.gt(*last_seq)));
                }
                Some((last, last_seq)) => {
                    q = q.filter(
                        notes
                            .gt(last.as_str())
                            .or(notes.eq(last.as_str()).and(seq.gt(*last_seq)))
                            .or(notes.eq("")),
                    );
                }
                None => {}
            }
            // `notes = ''` is false (first) for rows with notes on both backends.
            q.order((notes.eq(""), notes, seq))
                .limit(limit)
                .select(ReportRowRecord::as_select())
                .load(conn)?
        }
    };
    Ok((rows, total))
}
