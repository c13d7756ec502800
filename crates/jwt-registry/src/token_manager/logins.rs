//! What a registration does to whole logins: a late token linked in, and
//! the cap on live access tokens.

use std::collections::HashMap;

use diesel::RunQueryDsl;

use super::stored::Named;
use crate::db::{DbConnection, DbError};
use crate::expiry::{self, Revoked, Rules, Scope, Spare};
use crate::raw_sql::Statement;
use crate::types::{Moment, RowId};

/// Links the stored root `id` to `parent` and moves its whole subtree into
/// the login `root` (one statement).
pub(super) fn relink(
    conn: &mut DbConnection,
    id: RowId,
    parent: Option<RowId>,
    root: RowId,
    now: Moment,
) -> Result<(), DbError> {
    let Some(parent) = parent else {
        return Ok(());
    };
    let mut sql = Statement::new(conn);
    let (root, id_ph, parent, now) = (
        sql.bind(root),
        sql.bind(id),
        sql.bind(parent),
        sql.bind(now),
    );
    sql.push(&format!(
        "UPDATE jwt_token SET root_id = {root}, updated_at = {now}, \
             parent_id = CASE WHEN id = {id_ph} THEN {parent} ELSE parent_id END \
         WHERE root_id = {id_ph} OR id = {id_ph}"
    ));
    sql.query().execute(conn)?;
    tracing::warn!(token = %id, "a token used before its registration landed is linked to its parent now");
    Ok(())
}

/// Force-expires the oldest live access tokens of each login that the new
/// tokens take past the cap.
pub(super) fn cap_access_tokens(
    conn: &mut DbConnection,
    new: &[&Named<'_>],
    named: &HashMap<&str, Named<'_>>,
    roots: &HashMap<&str, RowId>,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Revoked>, DbError> {
    if rules.access_cap == 0 {
        return Ok(Vec::new());
    }
    let mut live: HashMap<RowId, i64> = HashMap::new();
    for entry in named.values() {
        if let Some(stored) = &entry.stored
            && stored.token_type == "refresh"
        {
            let root = roots[stored.jti.as_str()];
            let count = live.entry(root).or_default();
            *count = (*count).max(stored.live_access);
        }
    }
    for entry in new {
        if entry.record.token_type == "access" && entry.parent.is_some() {
            *live.entry(roots[entry.record.jti.as_str()]).or_default() += 1;
        }
    }
    let cap = i64::try_from(rules.access_cap).unwrap_or(i64::MAX);
    // Down to nine tenths of the cap at once: a login refreshed in a loop
    // pays for one expiry per tenth of the cap, not one per refresh.
    let keep = rules.access_cap - rules.access_cap / 10;
    let mut revoked = Vec::new();
    for (root, count) in live {
        if count > cap {
            revoked.extend(expiry::expire(
                conn,
                Scope::AccessBeyond { root, keep },
                Spare::default(),
                None,
                rules,
                now,
            )?);
        }
    }
    Ok(revoked)
}
