//! Notification preferences per account and channel (MS-3). No row means on.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{db::DbConn, on_backend};

use super::schema::preferences;
use crate::domain::plan::Channel;

/// The (account, channel) pairs turned off among the given accounts.
pub fn disabled(
    conn: &mut DbConn,
    account_ids: &[String],
) -> QueryResult<BTreeSet<(String, Channel)>> {
    let mut out = BTreeSet::new();
    for chunk in account_ids.chunks(1_000) {
        let rows: Vec<(String, String)> = preferences::table
            .filter(preferences::account_id.eq_any(chunk))
            .filter(preferences::enabled.eq(false))
            .select((preferences::account_id, preferences::channel))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .filter_map(|(a, c)| Channel::parse(&c).map(|c| (a, c))),
        );
    }
    Ok(out)
}

/// Sets one preference.
pub fn set(
    conn: &mut DbConn,
    account_id: &str,
    channel: Channel,
    enabled: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    on_backend!(conn, c => diesel::insert_into(preferences::table)
        .values((
            preferences::account_id.eq(account_id),
            preferences::channel.eq(channel.as_str()),
            preferences::enabled.eq(enabled),
            preferences::updated_at.eq(now),
        ))
        .on_conflict((preferences::account_id, preferences::channel))
        .do_update()
        .set((preferences::enabled.eq(enabled), preferences::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}

/// An account's stored preferences: (channel, enabled, updated at).
pub fn of(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<(Channel, bool, NaiveDateTime)>> {
    let rows: Vec<(String, bool, NaiveDateTime)> = preferences::table
        .filter(preferences::account_id.eq(account_id))
        .select((
            preferences::channel,
            preferences::enabled,
            preferences::updated_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, on, at)| Channel::parse(&c).map(|c| (c, on, at)))
        .collect())
}
