//! GW-3 People search: the accounts a word finds in a name or an address, by
//! substring and case-insensitively, through trigram indexes (migration
//! `people_search`): FTS5's trigram tables on SQLite, pg_trgm on PostgreSQL.
//!
//! Both backends find what `lower(x) LIKE '%word%'` finds; SQLite's FTS5 also
//! folds the case of letters beyond ASCII, which only finds more. A word
//! shorter than a trigram is matched by LIKE on either backend (a scan, and
//! rare: nobody searches for two letters twice).

use diesel::{
    BoxableExpression,
    dsl::sql,
    sql_types::{Bool, Text},
};
use homeroom_platform::db::{Backend, DbConn, DbError};

use super::schema::accounts;

type MultiBackend = <DbConn as diesel::Connection>::Backend;

/// `accounts.district_id = ` for a query that should start from a few
/// accounts found otherwise (a search, ids, addresses): on SQLite the column
/// is kept off its index (`+`), which SQLite would otherwise walk, testing
/// every account of the district; PostgreSQL plans it well as it is.
pub fn district_term(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "+accounts.district_id = ",
        Backend::Postgres => "accounts.district_id = ",
    }
}

/// A filter on the `accounts` table.
pub type AccountFilter = Box<dyn BoxableExpression<accounts::table, MultiBackend, SqlType = Bool>>;

/// `accounts.id IN (accounts whose name or an address contains word)`.
pub fn word_matches(backend: Backend, word: &str) -> AccountFilter {
    if backend == Backend::Sqlite && word.chars().count() >= 3 {
        let phrase = format!("\"{}\"", word.replace('"', "\"\""));
        return Box::new(
            sql::<Bool>(
                "accounts.id IN (SELECT s.id FROM accounts s WHERE s.rowid IN \
                 (SELECT rowid FROM accounts_search WHERE accounts_search MATCH ",
            )
            .bind::<Text, _>(phrase.clone())
            .sql(
                ") UNION ALL SELECT c.account_id FROM account_credentials c \
                 JOIN addresses a ON a.id = c.address_id WHERE a.rowid IN \
                 (SELECT rowid FROM addresses_search WHERE addresses_search MATCH ",
            )
            .bind::<Text, _>(phrase)
            .sql("))"),
        );
    }
    // PostgreSQL's trigram indexes serve these LIKEs.
    let pattern = format!(
        "%{}%",
        word.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Box::new(
        sql::<Bool>("accounts.id IN (SELECT s.id FROM accounts s WHERE lower(s.given_name) LIKE ")
            .bind::<Text, _>(pattern.clone())
            .sql(" ESCAPE '\\' OR lower(s.family_name) LIKE ")
            .bind::<Text, _>(pattern.clone())
            .sql(
                " ESCAPE '\\' UNION ALL SELECT c.account_id FROM account_credentials c \
                 JOIN addresses a ON a.id = c.address_id WHERE lower(a.value) LIKE ",
            )
            .bind::<Text, _>(pattern)
            .sql(" ESCAPE '\\')"),
    )
}

/// Checks the SQLite search index at start ([`homeroom_platform::db::ensure_fts_current`]).
pub fn ensure_current(conn: &mut DbConn) -> Result<(), DbError> {
    homeroom_platform::db::ensure_fts_current(conn, &["accounts_search", "addresses_search"])
}
