//! Write transactions that cannot deadlock on SQLite.

use diesel::Connection as _;
#[cfg(feature = "sqlite")]
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::DbConnection;

/// Runs `work` in one transaction meant to write. On SQLite it begins with
/// `BEGIN IMMEDIATE`, taking the write lock at once: a deferred transaction
/// that turns into a write fails with SQLITE_BUSY without waiting. On
/// PostgreSQL it is a plain transaction. It must not be nested (the inner
/// call fails with `AlreadyInTransaction`).
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    #[cfg(feature = "sqlite")]
    if conn.is_sqlite() {
        return sqlite_immediate(conn, work);
    }
    conn.transaction(work)
}

/// [`write_transaction`] on SQLite: `BEGIN IMMEDIATE`, the work, then
/// commit or roll back.
#[cfg(feature = "sqlite")]
fn sqlite_immediate<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    with_sqlite(conn, |sqlite| {
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
    })?;
    let locked = std::time::Instant::now();
    let outcome = match work(conn) {
        Ok(value) => with_sqlite(conn, AnsiTransactionManager::commit_transaction)
            .map(|()| value)
            .map_err(E::from),
        Err(err) => {
            // The work's error is the one to report; a failed rollback
            // (SQLite may have rolled back by itself) is only logged.
            if let Err(rollback) = with_sqlite(conn, AnsiTransactionManager::rollback_transaction) {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    };
    // About how long other writers waited: what long jobs keep short (the
    // commit included, and a checkpoint SQLite may run after it, which
    // holds no write lock).
    tracing::debug!(
        target: "jwt_registry::write_lock",
        held_us = u64::try_from(locked.elapsed().as_micros()).unwrap_or(u64::MAX),
        "SQLite write transaction done"
    );
    outcome
}

#[cfg(feature = "sqlite")]
fn with_sqlite(
    conn: &mut DbConnection,
    step: impl FnOnce(&mut diesel::SqliteConnection) -> diesel::QueryResult<()>,
) -> diesel::QueryResult<()> {
    conn.sqlite().map_or(Ok(()), step)
}
