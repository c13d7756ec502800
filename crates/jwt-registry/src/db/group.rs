//! Group commit (SQLite): many callers' writes in one transaction, each in
//! a savepoint of its own.
//!
//! A commit is the dear part of a small write: SQLite appends every page
//! the transaction touched to the WAL (and now and then checkpoints), and
//! takes one writer at a time anyway. One thread takes
//! the writes that queued up while the last group was committing, runs
//! them one after the other in one write transaction — each in a
//! savepoint, so that one that fails rolls back only its own work — and
//! commits once. Each caller gets its own outcome after that commit, never
//! before: an answer sent on success is durable as much as a transaction of
//! its own would have been. The effect is that of the same writes run one
//! after the other in their own transactions, in the queue's order.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::Connection as _;

use super::{Database, DbConnection, DbError};

/// At most this many writes share a transaction.
const GROUP: usize = 64;

/// One caller's write, waiting for its group.
trait Job: Send {
    /// Runs the write in the group's transaction (in a savepoint).
    fn run(&mut self, conn: &mut DbConnection) -> Result<(), DbError>;
    /// Hands the caller its outcome, once the group committed (or failed).
    fn finish(self: Box<Self>, outcome: Result<(), DbError>);
}

struct Pending<T, F> {
    work: F,
    output: Option<T>,
    reply: SyncSender<Result<T, DbError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnMut(&mut DbConnection) -> Result<T, DbError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) -> Result<(), DbError> {
        self.output = Some((self.work)(conn)?);
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<(), DbError>) {
        let Pending { output, reply, .. } = *self;
        let answer = outcome.and_then(|()| {
            output.ok_or_else(|| DbError::unreachable("a grouped write left no result"))
        });
        // A caller that stopped waiting no longer needs it.
        let _ = reply.send(answer);
    }
}

/// The group committer of one database: a thread and its queue.
pub(crate) struct GroupWriter {
    queue: Mutex<Option<SyncSender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Option<Checkpointer>,
}

impl GroupWriter {
    /// Starts the thread, on SQLite. `None` on PostgreSQL, and when it
    /// cannot start (logged): then callers write in transactions of their
    /// own. SQLite has one writer at a time anyway, so one commit per group
    /// is all gain; on PostgreSQL one thread's round trips in a row were
    /// measured slower than the pool's writers side by side (520 against
    /// 990 refreshes/s).
    pub(crate) fn start(db: Database) -> Option<Arc<GroupWriter>> {
        if !db.url().is_sqlite() {
            return None;
        }
        let (queue, jobs) = sync_channel::<Box<dyn Job>>(4 * GROUP);
        let written = Arc::new(AtomicU64::new(0));
        let checkpointer = Checkpointer::start(db.clone(), Arc::clone(&written));
        let thread = std::thread::Builder::new()
            .name("jwt-group-commit".into())
            .spawn(move || commit_groups(&db, &jobs, &written));
        match thread {
            Ok(thread) => Some(Arc::new(GroupWriter {
                queue: Mutex::new(Some(queue)),
                thread: Mutex::new(Some(thread)),
                checkpointer,
            })),
            Err(err) => {
                tracing::error!(error = %err, "cannot start the group-commit thread");
                None
            }
        }
    }

    /// Runs `work` in the next group's transaction, in a savepoint of its
    /// own, and returns its result once that transaction committed. Work
    /// that fails with [`DbError::Conflict`] runs once more, in a new
    /// savepoint. Blocks: call it off the executor. `work` must not begin
    /// or end transactions itself, nor wait for another write.
    pub(crate) fn write<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let (reply, answer) = sync_channel(1);
        let job = Box::new(Pending {
            work,
            output: None,
            reply,
        });
        let queue = self
            .queue
            .lock()
            .ok()
            .and_then(|queue| queue.as_ref().cloned())
            .ok_or_else(|| DbError::unreachable("the group-commit thread has stopped"))?;
        queue
            .send(job)
            .map_err(|_| DbError::unreachable("the group-commit thread has stopped"))?;
        answer
            .recv()
            .map_err(|_| DbError::unreachable("the group-commit thread has stopped"))?
    }

    /// Commits what is queued and stops the thread; later writes fail.
    pub(crate) fn stop(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut slot| slot.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop();
        }
    }
}

/// How often the checkpointer looks whether groups were written.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// SQLite: copies the WAL's pages into the database file (a passive
/// checkpoint: it never waits for a writer or a reader) on a connection and
/// thread of its own, after groups were written; the group committer's
/// connection never checkpoints itself.
struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    fn start(db: Database, written: Arc<AtomicU64>) -> Option<Checkpointer> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("jwt-checkpoint".into())
            .spawn(move || {
                let mut conn = None;
                let mut seen = 0;
                while !stopping.load(Ordering::SeqCst) {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    let now = written.load(Ordering::SeqCst);
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    if conn.is_none() {
                        conn = db.dedicated().ok();
                    }
                    if let Some(c) = conn.as_mut()
                        && let Err(err) = diesel::connection::SimpleConnection::batch_execute(
                            c,
                            "PRAGMA wal_checkpoint(PASSIVE);",
                        )
                    {
                        tracing::debug!(error = %err, "checkpoint failed");
                        conn = None;
                    }
                }
            });
        match thread {
            Ok(thread) => Some(Checkpointer {
                stop,
                thread: Mutex::new(Some(thread)),
            }),
            Err(err) => {
                tracing::error!(error = %err, "cannot start the checkpoint thread");
                None
            }
        }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let thread = self.thread.lock().ok().and_then(|mut slot| slot.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// Where a group is written: a connection of the committer's own that
/// leaves checkpoints to the checkpointer thread (a checkpoint run by the
/// committing connection would hold up every caller waiting for the next
/// group), made again after a failure; a pooled one while it cannot be
/// had.
struct Writer<'a> {
    db: &'a Database,
    own: Option<DbConnection>,
}

impl Writer<'_> {
    fn write<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        if self.own.is_none() {
            self.own = self.db.dedicated().ok().and_then(|mut conn| {
                diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    "PRAGMA wal_autocheckpoint = 0;",
                )
                .ok()
                .map(|()| conn)
            });
        }
        match self.own.as_mut() {
            Some(conn) => self.db.write_on(conn, work),
            None => self.db.write(work),
        }
    }
}

/// The thread: a group of whatever queued up, committed, answered; until
/// the queue is closed and empty.
fn commit_groups(db: &Database, jobs: &Receiver<Box<dyn Job>>, written: &AtomicU64) {
    let mut writer = Writer { db, own: None };
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut outcomes = Vec::with_capacity(group.len());
        let committed = writer.write(|conn| {
            for job in &mut group {
                let outcome = run_job(conn, job.as_mut());
                // A conflict that stayed after its retry: give the group up
                // and write each alone, in a transaction of its own.
                if let Err(err) = &outcome
                    && err.is_retryable()
                {
                    return Err(DbError::unreachable(err.to_string()));
                }
                outcomes.push(outcome);
            }
            Ok::<_, DbError>(())
        });
        written.fetch_add(1, Ordering::SeqCst);
        match committed {
            Ok(()) => {
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    job.finish(outcome);
                }
            }
            Err(err) => {
                // Nothing of the group stayed: each write again, alone,
                // for its own outcome.
                tracing::warn!(error = %err, writes = group.len(), "a group commit failed");
                // A connection of its own that failed is made again.
                writer.own = None;
                for mut job in group {
                    let outcome = writer.write(|conn| run_job(conn, job.as_mut()));
                    job.finish(outcome);
                }
            }
        }
    }
}

/// Runs one job in a savepoint, once more after a conflict.
fn run_job(conn: &mut DbConnection, job: &mut dyn Job) -> Result<(), DbError> {
    match conn.transaction(|conn| job.run(conn)) {
        Err(DbError::Conflict) => conn.transaction(|conn| job.run(conn)),
        outcome => outcome,
    }
}
