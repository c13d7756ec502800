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
/// in both directions: the seed's whole login trees. `seed` is a `SELECT id
/// FROM jwt_token WHERE ...`. One statement, however deep the tree.
pub(crate) fn tree_cte(seed: &str) -> String {
    format!(
        "WITH RECURSIVE tree(id) AS ( \
             {seed} \
             UNION \
             SELECT CASE WHEN t.parent_id = tree.id THEN t.id ELSE t.parent_id END \
             FROM jwt_token t JOIN tree \
               ON t.parent_id = tree.id OR (t.id = tree.id AND t.parent_id IS NOT NULL) \
         )"
    )
}
