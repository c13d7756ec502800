//! The few statements the query builder cannot write (recursive CTEs,
//! correlated subqueries, `UPDATE ... RETURNING` over a subquery), with each
//! backend's placeholders.

use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

use crate::db::{DbConnection, MultiBackend};
use crate::types::{Moment, RowId, sql};

/// A value bound to a statement.
#[derive(Clone, Debug)]
pub(crate) enum Bind {
    Text(String),
    Id(RowId),
    Moment(Moment),
    Int(i64),
}

impl From<&str> for Bind {
    fn from(text: &str) -> Self {
        Bind::Text(text.to_owned())
    }
}

impl From<RowId> for Bind {
    fn from(id: RowId) -> Self {
        Bind::Id(id)
    }
}

impl From<Moment> for Bind {
    fn from(at: Moment) -> Self {
        Bind::Moment(at)
    }
}

impl From<i64> for Bind {
    fn from(n: i64) -> Self {
        Bind::Int(n)
    }
}

/// A statement written as text, its values bound by number as the text is
/// written: `let now = sql.bind(now);` gives the placeholder to use (as
/// often as needed).
pub(crate) struct Statement {
    pub text: String,
    binds: Vec<Bind>,
    postgres: bool,
}

impl Statement {
    pub fn new(conn: &DbConnection) -> Self {
        Statement {
            text: String::new(),
            binds: Vec::new(),
            postgres: conn.is_postgres(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Binds a value; returns its placeholder.
    pub fn bind(&mut self, value: impl Into<Bind>) -> String {
        self.binds.push(value.into());
        let n = self.binds.len();
        if self.postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    }

    /// Binds each value; returns their placeholders, comma-separated.
    pub fn bind_all<T: Into<Bind>>(&mut self, values: impl IntoIterator<Item = T>) -> String {
        values
            .into_iter()
            .map(|value| self.bind(value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// The query, ready to run.
    /// The statement to run. Unlike Diesel's `sql_query`, it is prepared
    /// once per connection and text: the text says where each value goes
    /// (`?N` / `$N`), and the same text always takes the same types.
    pub fn query(&self) -> Prepared<'_> {
        Prepared { statement: self }
    }

    pub fn just_before(&self, column: &str) -> String {
        if self.postgres {
            format!("({column} - INTERVAL '1 microsecond')")
        } else {
            format!("(strftime('%Y-%m-%d %H:%M:%S', {column}, '-1 second') || '.999999')")
        }
    }
}

/// The rows of `jwt_token` connected to the starting rows through parent links,
/// in both directions: the whole login trees of those rows. `start` is a `SELECT id
/// FROM jwt_token WHERE ...`. One statement, however deep the tree.
///
/// Each token has at most one parent, so the tokens form a forest and a
/// token's connected component is its tree: walk up to the roots (each step
/// a primary-key lookup), then down from them (each step an index lookup
/// on `parent_id`).
/// A [`Statement`] as a query Diesel may keep prepared: its text with the
/// placeholders handed to Diesel one by one, so that the connection's
/// statement cache knows it by text and bind types.
pub(crate) struct Prepared<'a> {
    statement: &'a Statement,
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

impl QueryFragment<MultiBackend> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        let text = self.statement.text.as_str();
        let mut rest = text;
        while let Some(at) = rest.find(['?', '$']) {
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - at - 1, |end| end);
            let Some(bind) = rest[at + 1..at + 1 + digits]
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|n| self.statement.binds.get(n))
            else {
                // Not a placeholder of ours: plain text.
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            };
            out.push_sql(&rest[..at]);
            match bind {
                Bind::Text(text) => out.push_bind_param::<Text, _>(text)?,
                Bind::Id(id) => out.push_bind_param::<sql::Id, _>(id)?,
                Bind::Moment(at) => out.push_bind_param::<sql::Moment, _>(at)?,
                Bind::Int(n) => out.push_bind_param::<BigInt, _>(n)?,
            }
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

#[cfg(any(test, feature = "testing"))]
pub(crate) fn tree_cte(start: &str) -> String {
    format!(
        "WITH RECURSIVE \
         up(id, parent_id) AS ( \
             SELECT id, parent_id FROM jwt_token WHERE id IN ({start}) \
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

/// `name(id)`: the rows of `jwt_token` at or below the starting rows, for the
/// starting rows and everything derived from them, nothing above. To follow `WITH
/// RECURSIVE`. One statement.
pub(crate) fn down_cte(name: &str, start: &str) -> String {
    format!(
        "{name}(id) AS ( \
             {start} \
             UNION \
             SELECT t.id FROM jwt_token t JOIN {name} ON t.parent_id = {name}.id \
         )"
    )
}
