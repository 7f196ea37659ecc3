//! messaging-svc's tables: small sync functions over `&mut DbConn`.

pub mod addresses;
pub mod audit_outbox;
pub mod communications;
pub mod deliveries;
pub mod delivery_views;
pub mod events;
pub mod history;
pub mod preferences;
pub mod schema;

/// The row lock a claim's inner `SELECT` takes: `FOR UPDATE SKIP LOCKED` on
/// PostgreSQL, so replicas claim different rows; nothing on SQLite, where one
/// writer at a time makes the `UPDATE` itself the lock.
fn skip_locked(conn: &homeroom_platform::db::DbConn) -> &'static str {
    match conn {
        homeroom_platform::db::DbConn::Pg(_) => " FOR UPDATE SKIP LOCKED",
        homeroom_platform::db::DbConn::Sqlite(_) => "",
    }
}
