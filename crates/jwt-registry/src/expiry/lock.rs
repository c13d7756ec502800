//! On PostgreSQL, a registration into a login and a force-expiry of it
//! take the login's advisory lock before they look: whichever comes second
//! sees what the first wrote.

use diesel::RunQueryDsl;

use super::{Rules, Scope};
use crate::db::{DbConnection, DbError};
use crate::predicates::accepted_sql;
use crate::raw_sql::Statement;
use crate::types::{Moment, RowId, sql};

/// The advisory-lock key of a login (PostgreSQL), from its root's id.
pub(crate) fn login_key(root: RowId) -> i64 {
    let id = root.0.as_u128();
    // Both halves folded: uuids differ in their random bits, not their order.
    i64::from_ne_bytes(((id >> 64) as u64 ^ id as u64).to_ne_bytes())
}

/// [`login_key`] in PostgreSQL's SQL, of the `uuid` expression `root`.
pub(crate) fn login_key_sql(root: &str) -> String {
    let half = |from: u8| {
        format!("('x' || substr(replace(({root})::text, '-', ''), {from}, 16))::bit(64)::bigint")
    };
    format!("({} # {})", half(1), half(17))
}

/// On PostgreSQL, takes the transaction's advisory locks on `keys`
/// (logins), in ascending order. A registration into a login and a
/// force-expiry of it take the same lock before they look, so one runs
/// after the other and sees what it wrote: a token is never born alive
/// into a login cut off meanwhile. Take it in its own statement: the next
/// one reads what committed while it waited. Nothing on SQLite, whose
/// writers are serialised anyway.
pub(crate) fn lock(conn: &mut DbConnection, keys: &[i64]) -> Result<(), DbError> {
    if !conn.is_postgres() || keys.is_empty() {
        return Ok(());
    }
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let mut sql = Statement::new(conn);
    let calls: Vec<String> = keys
        .iter()
        .map(|key| format!("pg_advisory_xact_lock({})", sql.bind(*key)))
        .collect();
    sql.push(&format!("SELECT {}", calls.join(", ")));
    sql.query().execute(conn)?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct RootRow {
    #[diesel(sql_type = sql::Id)]
    root: RowId,
}

/// Logins one force-expiry of a user's tokens locks at most (PostgreSQL):
/// the lock table is shared and bounded.
const USER_LOGINS_AT_ONCE: i64 = 100;

/// Locks (PostgreSQL) the logins `scope` reaches. For a user's tokens,
/// returns the logins locked (at most [`USER_LOGINS_AT_ONCE`] that still
/// hold live tokens), to which the expiry keeps.
pub(super) fn lock_scope(
    conn: &mut DbConnection,
    scope: Scope<'_>,
    rules: &Rules,
    now: Moment,
) -> Result<Option<Vec<RowId>>, DbError> {
    if !conn.is_postgres() {
        return Ok(None);
    }
    let keys: Vec<i64> = match scope {
        Scope::Families(roots) => roots.iter().copied().map(login_key).collect(),
        Scope::AccessBeyond { root, .. } => vec![login_key(root)],
        Scope::User { user_id, except } => {
            let mut sql = Statement::new(conn);
            let user = sql.bind(user_id);
            let accepted = accepted_sql("jwt_token", &sql.bind(rules.horizon(now)));
            let except = match except {
                Some(root) => format!(" AND root_id <> {}", sql.bind(root)),
                None => String::new(),
            };
            let at_once = sql.bind(USER_LOGINS_AT_ONCE);
            sql.push(&format!(
                "SELECT DISTINCT root_id AS root FROM jwt_token WHERE user_id = {user} \
                   AND {accepted}\
                   {except} AND root_id IS NOT NULL LIMIT {at_once}"
            ));
            let roots: Vec<RowId> = sql
                .query()
                .load::<RootRow>(conn)?
                .into_iter()
                .map(|row| row.root)
                .collect();
            let keys: Vec<i64> = roots.iter().copied().map(login_key).collect();
            lock(conn, &keys)?;
            return Ok(Some(roots));
        }
        Scope::Jtis(jtis) | Scope::FamiliesOfJtis(jtis) => {
            let mut sql = Statement::new(conn);
            let named = sql.bind_all(jtis.iter().copied());
            sql.push(&format!(
                "SELECT DISTINCT COALESCE(root_id, id) AS root FROM jwt_token WHERE jti IN ({named})"
            ));
            let rows: Vec<RootRow> = sql.query().load(conn)?;
            rows.into_iter().map(|row| login_key(row.root)).collect()
        }
        Scope::Below { id, .. } => {
            let mut sql = Statement::new(conn);
            let id = sql.bind(id);
            sql.push(&format!(
                "SELECT COALESCE(root_id, id) AS root FROM jwt_token WHERE id = {id}"
            ));
            let rows: Vec<RootRow> = sql.query().load(conn)?;
            rows.into_iter().map(|row| login_key(row.root)).collect()
        }
    };
    lock(conn, &keys)?;
    Ok(None)
}
