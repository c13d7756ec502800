//! One connection type for both backends.
#![allow(missing_docs)] // the items diesel::MultiConnection generates

use diesel::{PgConnection, SqliteConnection};

/// A connection to SQLite or PostgreSQL: one code path for both, except
/// where the SQL must differ (an explicit `match` on the variant).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    Pg(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// Runs the same query-builder code on the concrete connection of either
/// backend, for what Diesel's multi-backend cannot express (`ON CONFLICT`,
/// multi-row `INSERT`, `RETURNING`): the code is written once and compiled
/// for each.
#[macro_export]
#[doc(hidden)]
macro_rules! on_backend {
    ($conn:expr, $inner:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($inner) => $body,
            $crate::db::DbConnection::Sqlite($inner) => $body,
        }
    };
}
