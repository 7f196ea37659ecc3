//! `known_devices`: which accounts a device (by its token's hash) signed in to.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{db::DbConn, on_backend};

use super::schema::known_devices;

/// The accounts the device signed in to since `since`.
pub fn accounts_of(
    conn: &mut DbConn,
    token_hash: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    known_devices::table
        .filter(known_devices::token_hash.eq(token_hash))
        .filter(known_devices::last_seen_at.ge(since))
        .select(known_devices::account_id)
        .load(conn)
}

/// Records that the device signed in to `account_id` now.
pub fn remember(
    conn: &mut DbConn,
    token_hash: &str,
    account_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(known_devices::table)
        .values((
            known_devices::token_hash.eq(token_hash),
            known_devices::account_id.eq(account_id),
            known_devices::created_at.eq(now),
            known_devices::last_seen_at.eq(now),
        ))
        .on_conflict((known_devices::token_hash, known_devices::account_id))
        .do_update()
        .set(known_devices::last_seen_at.eq(now))
        .execute(c))
}
