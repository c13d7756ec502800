//! Lookups only the crate's tests and benches make (through
//! `testing::rows`): whole trees, a user's rows, rows by state.

use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::models::StoredToken;
use crate::predicates::{accepted, refused};
use crate::raw_sql::{Statement, tree_cte};
use crate::schema::{jwt_token, jwt_token_user_connection};
use crate::types::{Moment, RowId, sql};

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = sql::Id)]
    id: RowId,
}

/// The row ids of the whole login trees of `seeds`, following parent links
/// (one statement).
pub fn collect_tree(conn: &mut DbConnection, seeds: &[RowId]) -> Result<Vec<RowId>, DbError> {
    if seeds.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Statement::new(conn);
    let seed = format!(
        "SELECT id FROM jwt_token WHERE id IN ({})",
        sql.bind_all(seeds.iter().copied())
    );
    sql.push(&format!("{} SELECT id FROM tree", tree_cte(&seed)));
    let rows: Vec<IdRow> = sql.query().load(conn)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// The tokens connected to a user, newest first.
pub fn find_by_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .inner_join(jwt_token_user_connection::table)
        .filter(jwt_token_user_connection::user_id.eq(user_id))
        .select(StoredToken::as_select())
        .order(jwt_token::created_at.desc())
        .load(conn)?)
}

/// Tokens verification refuses at `horizon` (now − leeway): force-expired,
/// or with their own expiry at or before it.
pub fn expired(conn: &mut DbConnection, horizon: Moment) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .filter(refused(horizon))
        .select(StoredToken::as_select())
        .load(conn)?)
}

/// Tokens verification accepts at `horizon` (now − leeway): neither
/// force-expired nor with their own expiry at or before it.
pub fn active(conn: &mut DbConnection, horizon: Moment) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .filter(accepted(horizon))
        .select(StoredToken::as_select())
        .load(conn)?)
}
