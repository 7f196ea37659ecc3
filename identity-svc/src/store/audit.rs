//! The audit log (ID-10).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::db::DbConn;

use super::schema::audit_events;

/// One audit row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: String,
    pub district_id: String,
    pub kind: String,
    pub actor_id: Option<String>,
    pub subject_account_id: Option<String>,
    pub client_address: Option<String>,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

impl AuditRow {
    /// A row of `kind` now.
    pub fn new(kind: &str, district_id: &str, now: NaiveDateTime) -> AuditRow {
        AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            district_id: district_id.into(),
            kind: kind.into(),
            actor_id: None,
            subject_account_id: None,
            client_address: None,
            detail: String::new(),
            created_at: now,
        }
    }
}

/// Appends rows.
pub fn insert(conn: &mut DbConn, rows: &[AuditRow]) -> QueryResult<usize> {
    let mut n = 0;
    for row in rows {
        n += diesel::insert_into(audit_events::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(n)
}

/// Rows of a district, newest first.
pub fn list(
    conn: &mut DbConn,
    district_id: &str,
    kind: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_events::table
        .filter(audit_events::district_id.eq(district_id))
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        q = q.filter(audit_events::kind.eq(kind));
    }
    q.load(conn)
}
