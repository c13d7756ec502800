//! The archiver: tokens past their expiry (and the leeway) deleted in
//! short transactions, then the cleanups; forgetting a deleted user.

use std::time::Duration;

use diesel::prelude::*;

use super::Registry;
use super::batch::Batch;
use crate::db::{DbConnection, DbError};
use crate::raw_sql::Statement;
use crate::schema::jwt_token;
use crate::types::{Moment, sql};

impl Registry {
    /// How many tokens [`Registry::archive`] would delete.
    pub fn archivable(&self, older_than: Duration) -> Result<u64, DbError> {
        let cutoff = self.cutoff(older_than);
        let mut conn = self.inner.db.get()?;
        let count: i64 = jwt_token::table
            .filter(jwt_token::internal_expired_at.le(cutoff))
            .count()
            .get_result(&mut conn)?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Deletes tokens whose own expiry passed at least `older_than` ago —
    /// and never sooner than the leeway after it, so that a force-expired
    /// token verification still accepts is never forgotten — in
    /// transactions of at most `batch` rows (fewer when they take long, so
    /// the table is never locked for long), calling `progress` with the
    /// running total. Children keep their place with no parent;
    /// connections go with their tokens. Then prunes the SQLite revocation
    /// log.
    pub fn archive(
        &self,
        older_than: Duration,
        batch: usize,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, DbError> {
        let cutoff = self.cutoff(older_than);
        let mut size = Batch::at_most(batch);
        let mut total = 0u64;
        loop {
            let rows = size.rows();
            let deleted = size.run(&self.inner.db, |conn| {
                let mut sql = Statement::new(conn);
                let (cutoff, limit) = (
                    sql.bind(cutoff),
                    sql.bind(i64::try_from(rows).unwrap_or(i64::MAX)),
                );
                sql.push(&format!(
                    "DELETE FROM jwt_token WHERE id IN \
                     (SELECT id FROM jwt_token WHERE internal_expired_at <= {cutoff} LIMIT {limit})"
                ));
                sql.query().execute(conn).map_err(DbError::from)
            })?;
            total += deleted as u64;
            progress(total);
            if deleted < rows {
                break;
            }
            size.pace();
        }
        self.prune_log()?;
        if !self.inner.cleanups.is_empty() {
            self.inner.db.write(|conn| self.run_cleanups(conn))?;
        }
        Ok(total)
    }

    /// Deletes the SQLite revocation log's rows nobody needs (their token is
    /// refused anyway), in short transactions; the newest row stays, so a
    /// process that has not read the log since sees what it missed.
    fn prune_log(&self) -> Result<(), DbError> {
        if !self.inner.db.url().is_sqlite() {
            return Ok(());
        }
        let now = self.now();
        loop {
            let deleted = self.inner.db.write(|conn| {
                diesel::sql_query(
                    "DELETE FROM jwt_revocation_log WHERE seq IN (SELECT seq FROM jwt_revocation_log \
                     WHERE until <= ? AND seq < (SELECT MAX(seq) FROM jwt_revocation_log) LIMIT 1000)",
                )
                .bind::<sql::Moment, _>(now)
                .execute(conn)
                .map_err(DbError::from)
            })?;
            if deleted < 1000 {
                return Ok(());
            }
        }
    }

    /// Removes a deleted user's tokens (and with them their connections).
    pub fn forget_user(&self, user_id: &str) -> Result<u64, DbError> {
        let deleted = self.inner.db.write(|conn| {
            let mut sql = Statement::new(conn);
            let user = sql.bind(user_id);
            sql.push(&format!(
                "DELETE FROM jwt_token WHERE id IN \
                 (SELECT token_id FROM jwt_token_user_connection WHERE user_id = {user})"
            ));
            let deleted = sql.query().execute(conn)?;
            self.run_cleanups(conn)?;
            Ok::<_, DbError>(deleted)
        })?;
        Ok(deleted as u64)
    }

    /// The cleanups, in the caller's transaction.
    pub(super) fn run_cleanups(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        for cleanup in &self.inner.cleanups {
            cleanup.clean(conn)?;
        }
        Ok(())
    }

    /// Tokens expiring at or before this are archived: `older_than` ago,
    /// and at least the leeway ago.
    fn cutoff(&self, older_than: Duration) -> Moment {
        self.now().minus(older_than.max(self.inner.rules.leeway))
    }
}
