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

    /// Whether the database could not be reached (answer 503), rather than
    /// a statement failing (answer 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Unreachable(_) => true,
            DbError::Query(QueryError::DatabaseError(kind, _)) => {
                matches!(
                    kind,
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
                )
            }
            DbError::Query(QueryError::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        DbError::unreachable(err.to_string())
    }
}
