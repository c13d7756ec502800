//! Write transactions that cannot deadlock on SQLite.

use diesel::Connection as _;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::DbConnection;

/// Runs `work` in one transaction meant to write. On SQLite it begins with
/// `BEGIN IMMEDIATE`, taking the write lock at once: a deferred transaction
/// that turns into a write fails with SQLITE_BUSY without waiting. On
/// PostgreSQL it is a plain transaction.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if let DbConnection::Sqlite(sqlite) = conn {
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        let outcome = work(conn);
        let DbConnection::Sqlite(sqlite) = conn else {
            // `work` cannot change the variant of the connection it was given.
            return outcome;
        };
        return match outcome {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(sqlite)?;
                Ok(value)
            }
            Err(err) => {
                AnsiTransactionManager::rollback_transaction(sqlite)?;
                Err(err)
            }
        };
    }
    conn.transaction(work)
}
