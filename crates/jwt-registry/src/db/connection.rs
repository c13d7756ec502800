//! One connection type for both backends.
#![allow(missing_docs)] // the items diesel::MultiConnection generates

#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;

/// A connection to SQLite or PostgreSQL (as the crate's `sqlite` and
/// `postgres` features allow): one code path for both, except where the SQL
/// must differ (an explicit `match` on the variant).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Pg(PgConnection),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// Whether this is a PostgreSQL connection.
    pub fn is_postgres(&self) -> bool {
        #[cfg(feature = "postgres")]
        #[allow(irrefutable_let_patterns)]
        if let DbConnection::Pg(_) = self {
            return true;
        }
        false
    }

    /// Whether this is a SQLite connection (the one other backend).
    pub fn is_sqlite(&self) -> bool {
        !self.is_postgres()
    }
}

impl DbConnection {
    /// The SQLite connection inside, for an app's own SQLite queries on a
    /// pool it shares with the registry; `None` on PostgreSQL.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&mut self) -> Option<&mut SqliteConnection> {
        #[allow(irrefutable_let_patterns)]
        if let DbConnection::Sqlite(conn) = self {
            return Some(conn);
        }
        None
    }

    /// The PostgreSQL connection inside; `None` on SQLite.
    #[cfg(feature = "postgres")]
    pub fn postgres(&mut self) -> Option<&mut PgConnection> {
        #[allow(irrefutable_let_patterns)]
        if let DbConnection::Pg(conn) = self {
            return Some(conn);
        }
        None
    }
}

/// Runs the same query-builder code on the concrete connection of either
/// backend, for what Diesel's multi-backend cannot express (`ON CONFLICT`,
/// multi-row `INSERT`, `RETURNING`): the code is written once and compiled
/// for each backend built in.
#[cfg(all(feature = "sqlite", feature = "postgres"))]
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

/// [`on_backend!`] with SQLite alone.
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
#[macro_export]
#[doc(hidden)]
macro_rules! on_backend {
    ($conn:expr, $inner:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($inner) => $body,
        }
    };
}

/// [`on_backend!`] with PostgreSQL alone.
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
#[macro_export]
#[doc(hidden)]
macro_rules! on_backend {
    ($conn:expr, $inner:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($inner) => $body,
        }
    };
}
