//! Database errors, and whether they mean "unreachable".

use diesel::result::{DatabaseErrorKind, Error as QueryError};

/// A database failure. Messages never contain a connection password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// No connection could be had (the server is down, the file cannot be
    /// opened, the pool timed out).
    #[error("database unreachable: {0}")]
    Unreachable(String),
    /// A statement failed.
    #[error("database query failed: {0}")]
    Query(#[from] QueryError),
    /// Another transaction registered the same token meanwhile: run the
    /// work again in a new transaction.
    #[error("a concurrent registration of the same token")]
    Conflict,
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A pool the app handed over that the registry cannot work with (see
    /// [`Database::from_pool`](super::Database::from_pool)).
    #[error("{0}")]
    Unsuitable(String),
}

impl DbError {
    /// An unreachable database, its cause on one line (libpq's messages
    /// span several).
    pub(crate) fn unreachable(cause: impl AsRef<str>) -> Self {
        DbError::Unreachable(
            cause
                .as_ref()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// Whether running the same work again, in a new transaction, may
    /// succeed: a concurrent registration of the same token, or a
    /// transaction PostgreSQL aborted as a deadlock or serialization
    /// failure (it rolled back; nothing of it stayed).
    pub fn is_retryable(&self) -> bool {
        match self {
            DbError::Conflict => true,
            DbError::Query(QueryError::DatabaseError(kind, info)) => {
                matches!(kind, DatabaseErrorKind::SerializationFailure)
                    || info.message().contains("deadlock detected")
            }
            _ => false,
        }
    }

    /// Whether the database could not be reached (answer 503), rather than
    /// a statement failing (answer 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Unreachable(_) => true,
            DbError::Query(QueryError::DatabaseError(kind, info)) => {
                matches!(
                    kind,
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
                ) || is_sqlite_busy(info.message())
            }
            DbError::Query(QueryError::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}

/// SQLite's answer once its busy timeout has passed with another process
/// still holding the lock (SQLITE_BUSY, SQLITE_LOCKED): the database is
/// there but cannot be had now — the same 503 as a server that is down.
fn is_sqlite_busy(message: &str) -> bool {
    [
        "database is locked",
        "database table is locked",
        "database schema is locked",
    ]
    .iter()
    .any(|busy| message.contains(busy))
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        DbError::unreachable(err.to_string())
    }
}
