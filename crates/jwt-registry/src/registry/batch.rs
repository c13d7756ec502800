//! Long jobs in short write transactions, sized to hold the lock about
//! [`BATCH_TARGET`] each, with pauses for other processes' writers.

use std::time::{Duration, Instant};

use super::Registry;
use crate::db::{Database, DbConnection, DbError};
use crate::expiry::{self, Scope, Spare};
use crate::token_manager::Reach;

/// How long one batch of a long job should hold the write lock.
const BATCH_TARGET: Duration = Duration::from_millis(15);

/// The size of a long job's next batch, and the pause before it.
pub(super) struct Batch {
    rows: usize,
    max: usize,
    /// How long the last batch's work held the write lock.
    took: Duration,
}

impl Batch {
    /// Small at first (a first batch that is too big holds the lock too
    /// long before there is any measure of it), grown while quick.
    pub(super) fn new() -> Self {
        Batch {
            rows: 20,
            max: 5_000,
            took: Duration::ZERO,
        }
    }

    /// At most `max` rows a batch.
    pub(super) fn at_most(max: usize) -> Self {
        let max = max.max(1);
        let batch = Batch::new();
        Batch {
            rows: batch.rows.min(max),
            max,
            ..batch
        }
    }

    /// The next batch's size.
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// Runs one batch's `work` in a write transaction, timed from the moment
    /// it holds the lock to the end of its commit (on SQLite the commit
    /// writes every page the batch touched, which is most of the cost; the
    /// checkpoint that may follow is counted too, erring on the short side).
    pub(super) fn run<T>(
        &mut self,
        db: &Database,
        work: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut started = None;
        let done = db.write(|conn| {
            started = Some(Instant::now());
            work(conn)
        })?;
        self.took = started.map(|at| at.elapsed()).unwrap_or_default();
        Ok(done)
    }

    /// Sizes the next batch from the last (halved when it held the lock
    /// past the target, grown by half when well under it), and pauses as
    /// long as it took (at most the target), so that another process's
    /// writer, retrying under SQLite's busy timeout, finds the lock free.
    pub(super) fn pace(&mut self) {
        if self.took > BATCH_TARGET {
            self.rows = (self.rows / 2).max(20);
        } else if self.took < BATCH_TARGET * 2 / 5 {
            self.rows = (self.rows + self.rows / 2 + 1).min(self.max);
        }
        std::thread::sleep(self.took.min(BATCH_TARGET));
    }
}

impl Registry {
    /// Force-expires `scope` — returning how many tokens — in transactions of a few hundred tokens (the
    /// size adapts to keep each near [`BATCH_TARGET`]), pausing between
    /// them so that writers of other processes get the lock too.
    pub(super) fn expire_in_batches(
        &self,
        scope: Scope<'_>,
        reach: Reach,
    ) -> Result<usize, DbError> {
        let rules = self.inner.rules;
        let mut size = Batch::new();
        let mut expired = 0;
        loop {
            let now = self.now();
            let rows = size.rows;
            let batch = size.run(&self.inner.db, |conn| {
                expiry::expire(conn, scope, Spare::default(), Some(rows), &rules, now)
            })?;
            self.after_expiry(&batch, &[], reach);
            // A user's tokens go a bounded number of logins at a time on
            // PostgreSQL: only an empty batch says they are all done.
            let done =
                batch.is_empty() || (batch.len() < rows && !matches!(scope, Scope::User { .. }));
            expired += batch.len();
            if done {
                return Ok(expired);
            }
            size.pace();
        }
    }
}
