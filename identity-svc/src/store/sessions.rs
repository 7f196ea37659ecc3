//! Signing keys, refresh tokens, selection tokens and login throttle counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use homeroom_platform::{db::DbConn, on_backend};

use super::schema::{login_throttles, refresh_tokens, selection_tokens, signing_keys};
use crate::domain::throttle::Counter;

/// A signing key row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_pkcs8: String,
    pub public_x: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

/// Keys not retired, newest first.
pub fn active_keys(conn: &mut DbConn) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .order(signing_keys::created_at.desc())
        .select(SigningKeyRow::as_select())
        .load(conn)
}

/// Stores a new key.
pub fn insert_key(conn: &mut DbConn, row: &SigningKeyRow) -> QueryResult<usize> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)
}

/// A refresh token row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub family_id: String,
    pub account_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores a refresh token.
pub fn insert_refresh(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<usize> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
}

/// A refresh token by its hash.
pub fn find_refresh(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a token rotated, only if it was not rotated already (so two
/// concurrent uses cannot both succeed); returns whether it was this call.
pub fn mark_rotated(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::rotated_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every token of a family.
pub fn revoke_family(conn: &mut DbConn, family_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every token of an account.
pub fn revoke_account(
    conn: &mut DbConn,
    account_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::account_id.eq(account_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// An SSO identity (issuer, subject) to link to the account chosen (ID-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLink {
    pub issuer: String,
    pub subject: String,
}

/// Stores a selection token for the given accounts (after SSO, with the
/// identity the chosen account is to be linked to).
pub fn insert_selection(
    conn: &mut DbConn,
    token_hash: &str,
    account_ids: &[String],
    link: Option<&PendingLink>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(selection_tokens::table)
        .values((
            selection_tokens::token_hash.eq(token_hash),
            selection_tokens::account_ids.eq(account_ids.join(",")),
            selection_tokens::created_at.eq(now),
            selection_tokens::expires_at.eq(expires_at),
            selection_tokens::sso_issuer.eq(link.map(|l| l.issuer.as_str())),
            selection_tokens::sso_subject.eq(link.map(|l| l.subject.as_str())),
        ))
        .execute(conn)
}

/// Uses a selection token once: returns its accounts (and the SSO identity to
/// link) if it was unused and unexpired.
pub fn take_selection(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(Vec<String>, Option<PendingLink>)>> {
    let taken = diesel::update(
        selection_tokens::table
            .filter(selection_tokens::token_hash.eq(token_hash))
            .filter(selection_tokens::used_at.is_null())
            .filter(selection_tokens::expires_at.gt(now)),
    )
    .set(selection_tokens::used_at.eq(now))
    .execute(conn)?;
    if taken != 1 {
        return Ok(None);
    }
    let (ids, issuer, subject): (String, Option<String>, Option<String>) = selection_tokens::table
        .filter(selection_tokens::token_hash.eq(token_hash))
        .select((
            selection_tokens::account_ids,
            selection_tokens::sso_issuer,
            selection_tokens::sso_subject,
        ))
        .first(conn)?;
    let link = issuer
        .zip(subject)
        .map(|(issuer, subject)| PendingLink { issuer, subject });
    Ok(Some((ids.split(',').map(str::to_owned).collect(), link)))
}

/// Counters and blocks for the given keys.
pub fn throttles(
    conn: &mut DbConn,
    keys: &[String],
) -> QueryResult<Vec<(String, Counter, Option<NaiveDateTime>)>> {
    let rows: Vec<(String, i32, NaiveDateTime, Option<NaiveDateTime>)> = login_throttles::table
        .filter(login_throttles::key.eq_any(keys))
        .select((
            login_throttles::key,
            login_throttles::failures,
            login_throttles::last_failure_at,
            login_throttles::blocked_until,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(key, failures, last_failure_at, blocked)| {
            (
                key,
                Counter {
                    failures,
                    last_failure_at,
                },
                blocked,
            )
        })
        .collect())
}

/// Writes a counter.
pub fn save_throttle(
    conn: &mut DbConn,
    key: &str,
    counter: &Counter,
    blocked_until: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(login_throttles::table)
        .values((
            login_throttles::key.eq(key),
            login_throttles::failures.eq(counter.failures),
            login_throttles::last_failure_at.eq(counter.last_failure_at),
            login_throttles::blocked_until.eq(blocked_until),
        ))
        .on_conflict(login_throttles::key)
        .do_update()
        .set((
            login_throttles::failures.eq(counter.failures),
            login_throttles::last_failure_at.eq(counter.last_failure_at),
            login_throttles::blocked_until.eq(blocked_until),
        ))
        .execute(c))
}

/// Forgets counters (after a success).
pub fn clear_throttles(conn: &mut DbConn, keys: &[String]) -> QueryResult<usize> {
    diesel::delete(login_throttles::table.filter(login_throttles::key.eq_any(keys))).execute(conn)
}

/// Stores a new session's refresh token with the login's bookkeeping (last login
/// time and audit row). One statement on PostgreSQL (data-modifying CTEs), one
/// transaction on SQLite: signing in is on the hot path of every login.
pub fn start_session(
    conn: &mut DbConn,
    refresh: &RefreshTokenRow,
    login: Option<&super::audit::AuditRow>,
) -> QueryResult<()> {
    use diesel::sql_types::{Nullable, Text, Timestamp};
    let Some(audit) = login else {
        return insert_refresh(conn, refresh).map(|_| ());
    };
    match conn {
        DbConn::Pg(c) => diesel::sql_query(
            "WITH r AS (INSERT INTO refresh_tokens (token_hash, family_id, account_id, created_at, expires_at) \
                        VALUES ($1, $2, $3, $4, $5)), \
                  a AS (INSERT INTO audit_events (id, district_id, kind, actor_id, subject_account_id, client_address, detail, created_at) \
                        VALUES ($6, $7, $8, $9, $10, $11, $12, $4)) \
             UPDATE accounts SET last_login_at = $4 WHERE id = $3",
        )
        .bind::<Text, _>(&refresh.token_hash)
        .bind::<Text, _>(&refresh.family_id)
        .bind::<Text, _>(&refresh.account_id)
        .bind::<Timestamp, _>(refresh.created_at)
        .bind::<Timestamp, _>(refresh.expires_at)
        .bind::<Text, _>(&audit.id)
        .bind::<Text, _>(&audit.district_id)
        .bind::<Text, _>(&audit.kind)
        .bind::<Nullable<Text>, _>(&audit.actor_id)
        .bind::<Nullable<Text>, _>(&audit.subject_account_id)
        .bind::<Nullable<Text>, _>(&audit.client_address)
        .bind::<Text, _>(&audit.detail)
        .execute(c)
        .map(|_| ()),
        DbConn::Sqlite(_) => conn.transaction(|conn| {
            insert_refresh(conn, refresh)?;
            super::audit::insert(conn, std::slice::from_ref(audit))?;
            super::accounts::touch_login(conn, &refresh.account_id, refresh.created_at)?;
            Ok(())
        }),
    }
}
