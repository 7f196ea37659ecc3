//! RO-1: districts and their settings.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::districts;

/// A district row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = districts, treat_none_as_default_value = false)]
pub struct DistrictRow {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub default_phone_region: String,
    pub supported_languages: String,
    pub status: String,
    pub idempotency_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a district.
pub fn insert(conn: &mut DbConn, row: &DistrictRow) -> QueryResult<()> {
    diesel::insert_into(districts::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A district by id.
pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<Option<DistrictRow>> {
    districts::table
        .find(id)
        .select(DistrictRow::as_select())
        .first(conn)
        .optional()
}

/// The district a creation key made.
pub fn by_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<DistrictRow>> {
    districts::table
        .filter(districts::idempotency_key.eq(key))
        .select(DistrictRow::as_select())
        .first(conn)
        .optional()
}

/// Districts by name then id, after a key.
pub fn list(
    conn: &mut DbConn,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryResult<Vec<DistrictRow>> {
    let mut q = districts::table.into_boxed();
    if let Some((name, id)) = after {
        q = q.filter(
            districts::name
                .gt(name)
                .or(districts::name.eq(name).and(districts::id.gt(id))),
        );
    }
    q.order((districts::name, districts::id))
        .limit(limit)
        .select(DistrictRow::as_select())
        .load(conn)
}

/// Replaces the settings columns.
pub fn update_settings(conn: &mut DbConn, row: &DistrictRow) -> QueryResult<()> {
    diesel::update(districts::table.find(&row.id))
        .set((
            districts::time_zone.eq(&row.time_zone),
            districts::default_phone_region.eq(&row.default_phone_region),
            districts::supported_languages.eq(&row.supported_languages),
            districts::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(|_| ())
}
