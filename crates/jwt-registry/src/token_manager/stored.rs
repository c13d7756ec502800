//! What a registration finds already stored of the tokens it names, read
//! under the logins' locks on PostgreSQL.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::{DbConnection, DbError};
use crate::expiry::{self, Rules};
use crate::predicates::accepted_sql;
use crate::raw_sql::Statement;
use crate::record::TokenRecord;
use crate::types::{Moment, RowId, sql};

#[derive(QueryableByName)]
pub(super) struct Found {
    #[diesel(sql_type = sql::Id)]
    pub(super) id: RowId,
    #[diesel(sql_type = Text)]
    pub(super) jti: String,
    #[diesel(sql_type = Text)]
    pub(super) token_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) user_id: Option<String>,
    #[diesel(sql_type = Nullable<sql::Id>)]
    pub(super) root_id: Option<RowId>,
    #[diesel(sql_type = Nullable<sql::Id>)]
    pub(super) parent_id: Option<RowId>,
    #[diesel(sql_type = sql::Moment)]
    pub(super) expired_at: Moment,
    #[diesel(sql_type = sql::Moment)]
    pub(super) internal_expired_at: Moment,
    #[diesel(sql_type = Nullable<sql::Moment>)]
    pub(super) login_cut_at: Option<Moment>,
    /// For a refresh token, its login's live access tokens (when the cap
    /// is on).
    #[diesel(sql_type = BigInt)]
    pub(super) live_access: i64,
}

/// A token the pairs name: stored already, or new.
pub(super) struct Named<'a> {
    pub(super) record: &'a TokenRecord,
    pub(super) parent: Option<&'a str>,
    pub(super) stored: Option<Found>,
}

/// The existing rows of `jtis`, with their logins' live access tokens
/// counted when `count_live` (one statement).
pub(super) fn find_named(
    conn: &mut DbConnection,
    jtis: &[&str],
    count_live: bool,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Found>, DbError> {
    let mut sql = Statement::new(conn);
    let live = if count_live {
        format!(
            "CASE WHEN t.token_type = 'refresh' THEN (SELECT COUNT(*) FROM jwt_token a \
               WHERE a.root_id = t.root_id AND a.token_type = 'access' \
                 AND {}) \
             ELSE CAST(0 AS BIGINT) END",
            accepted_sql("a", &sql.bind(rules.horizon(now)))
        )
    } else {
        "CAST(0 AS BIGINT)".to_owned()
    };
    let named = sql.bind_all(jtis.iter().copied());
    sql.push(&format!(
        "SELECT t.id, t.jti, t.token_type, t.user_id, t.root_id, t.parent_id, t.expired_at, \
                t.internal_expired_at, t.login_cut_at, {live} AS live_access \
         FROM jwt_token t WHERE t.jti IN ({named})"
    ));
    Ok(sql.query().load(conn)?)
}

/// [`find_named`], and on PostgreSQL with the logins of the rows found
/// locked ([`expiry::lock`]) and read again after the lock: a force-expiry
/// of one of them either finished before (and is seen) or waits for this
/// registration (and sees its rows). One statement on SQLite; two on
/// PostgreSQL when a stored token is named (one that finds the logins and
/// locks them, then the read), one when none is.
pub(super) fn find_locked(
    conn: &mut DbConnection,
    jtis: &[&str],
    count_live: bool,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Found>, DbError> {
    if !conn.is_postgres() {
        return find_named(conn, jtis, count_live, rules, now);
    }
    let mut locked = lock_logins_of(conn, jtis)?;
    if locked.is_empty() {
        return Ok(Vec::new());
    }
    // Bounded: a row moves to another login only by a re-link.
    for _ in 0..3 {
        let found = find_named(conn, jtis, count_live, rules, now)?;
        let keys: Vec<i64> = found
            .iter()
            .map(|row| expiry::login_key(row.root_id.unwrap_or(row.id)))
            .filter(|key| !locked.contains(key))
            .collect();
        if keys.is_empty() {
            return Ok(found);
        }
        expiry::lock(conn, &keys)?;
        locked.extend(keys);
    }
    find_named(conn, jtis, count_live, rules, now)
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = BigInt)]
    key: i64,
}

/// PostgreSQL: takes the advisory locks of the logins of the stored rows of
/// `jtis`, in ascending order as [`expiry::lock`] does, in one statement,
/// and returns their keys (none when no row is stored). The key is
/// [`expiry::login_key`] computed in SQL: the two halves of the root's id
/// XORed.
fn lock_logins_of(conn: &mut DbConnection, jtis: &[&str]) -> Result<Vec<i64>, DbError> {
    let mut sql = Statement::new(conn);
    let named = sql.bind_all(jtis.iter().copied());
    sql.push(&format!(
        "SELECT key, pg_advisory_xact_lock(key) AS taken FROM (\
           SELECT DISTINCT {} AS key FROM jwt_token t WHERE t.jti IN ({named}) ORDER BY key\
         ) logins",
        expiry::login_key_sql("COALESCE(t.root_id, t.id)")
    ));
    let rows: Vec<Locked> = sql.query().load(conn)?;
    Ok(rows.into_iter().map(|row| row.key).collect())
}
