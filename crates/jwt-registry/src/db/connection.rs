//! One connection type for both backends.

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
