//! One-time code rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::one_time_codes;

/// A code row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = one_time_codes, treat_none_as_default_value = false)]
pub struct CodeRow {
    pub id: String,
    pub address_id: String,
    pub account_id: Option<String>,
    pub purpose: String,
    pub code_hash: String,
    pub attempts: i32,
    pub idempotency_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

/// Stores a code, unless one with its idempotency key exists for the
/// address (a racing retry); the rows stored, 0 or 1.
pub fn insert_once(conn: &mut DbConn, row: &CodeRow) -> QueryResult<usize> {
    homeroom_platform::on_backend!(conn, c => diesel::insert_into(one_time_codes::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
}

/// Codes of an address still usable at `now`, newest first.
pub fn live(
    conn: &mut DbConn,
    address_id: &str,
    now: NaiveDateTime,
    max_attempts: i32,
) -> QueryResult<Vec<CodeRow>> {
    one_time_codes::table
        .filter(one_time_codes::address_id.eq(address_id))
        .filter(one_time_codes::consumed_at.is_null())
        .filter(one_time_codes::expires_at.gt(now))
        .filter(one_time_codes::attempts.lt(max_attempts))
        .order(one_time_codes::created_at.desc())
        .select(CodeRow::as_select())
        .load(conn)
}

/// The code sent earlier under the same idempotency key, if any.
pub fn by_idempotency_key(
    conn: &mut DbConn,
    address_id: &str,
    key: &str,
) -> QueryResult<Option<CodeRow>> {
    one_time_codes::table
        .filter(one_time_codes::address_id.eq(address_id))
        .filter(one_time_codes::idempotency_key.eq(key))
        .select(CodeRow::as_select())
        .first(conn)
        .optional()
}

/// Counts a wrong try against each of the given codes.
pub fn count_attempt(conn: &mut DbConn, ids: &[String]) -> QueryResult<usize> {
    diesel::update(one_time_codes::table.filter(one_time_codes::id.eq_any(ids)))
        .set(one_time_codes::attempts.eq(one_time_codes::attempts + 1))
        .execute(conn)
}

/// Uses a code once; false when it was used already (a concurrent try won).
pub fn consume(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        one_time_codes::table
            .filter(one_time_codes::id.eq(id))
            .filter(one_time_codes::consumed_at.is_null()),
    )
    .set(one_time_codes::consumed_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}
