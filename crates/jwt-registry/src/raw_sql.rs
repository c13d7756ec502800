//! The few statements the query builder cannot write (recursive CTEs),
//! with each backend's placeholders.

use crate::db::DbConnection;

/// `count` bind placeholders starting at bind number `first` (1-based):
/// `$3, $4` on PostgreSQL, `?3, ?4` on SQLite. Numbered, so one bind may
/// be named several times.
pub(crate) fn placeholders(conn: &DbConnection, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| match conn {
            DbConnection::Pg(_) => format!("${n}"),
            DbConnection::Sqlite(_) => format!("?{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of `jwt_token` connected to the seed rows through parent links,
/// in both directions: the seeds' whole login trees. `seed` is a `SELECT id
/// FROM jwt_token WHERE ...`. One statement, however deep the tree.
///
/// Each token has at most one parent, so the tokens form a forest and a
/// token's connected component is its tree: walk up to the roots (each step
/// a primary-key lookup), then down from them (each step an index lookup
/// on `parent_id`).
pub(crate) fn tree_cte(seed: &str) -> String {
    format!(
        "WITH RECURSIVE \
         up(id, parent_id) AS ( \
             SELECT id, parent_id FROM jwt_token WHERE id IN ({seed}) \
             UNION \
             SELECT t.id, t.parent_id FROM jwt_token t JOIN up ON t.id = up.parent_id \
         ), \
         tree(id) AS ( \
             SELECT id FROM up WHERE parent_id IS NULL \
             UNION \
             SELECT t.id FROM jwt_token t JOIN tree ON t.parent_id = tree.id \
         )"
    )
}

/// The rows of `jwt_token` at or below the seed rows: `tree(id)` for the
/// seeds and everything derived from them, nothing above. One statement.
pub(crate) fn down_cte(seed: &str) -> String {
    format!(
        "WITH RECURSIVE tree(id) AS ( \
             {seed} \
             UNION \
             SELECT t.id FROM jwt_token t JOIN tree ON t.parent_id = tree.id \
         )"
    )
}
