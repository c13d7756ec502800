//! Group commit: many callers' writes in one transaction, each in a
//! savepoint of its own.
//!
//! A commit is the dear part of a small write: on SQLite it appends every
//! page the transaction touched to the WAL (and now and then checkpoints),
//! on PostgreSQL it waits for the WAL to reach the disk. One thread takes
//! the writes that queued up while the last group was committing, runs
//! them one after the other in one write transaction — each in a
//! savepoint, so that one that fails rolls back only its own work — and
//! commits once. Each caller gets its own outcome after that commit, never
//! before: an answer sent on success is durable as much as a transaction of
//! its own would have been. The effect is that of the same writes run one
//! after the other in their own transactions, in the queue's order.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

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
}

impl GroupWriter {
    /// Starts the thread. `None` when it cannot start (logged): then
    /// callers write in transactions of their own.
    pub(crate) fn start(db: Database) -> Option<Arc<GroupWriter>> {
        let (queue, jobs) = sync_channel::<Box<dyn Job>>(4 * GROUP);
        let thread = std::thread::Builder::new()
            .name("jwt-group-commit".into())
            .spawn(move || commit_groups(&db, &jobs));
        match thread {
            Ok(thread) => Some(Arc::new(GroupWriter {
                queue: Mutex::new(Some(queue)),
                thread: Mutex::new(Some(thread)),
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
    }
}

/// The thread: a group of whatever queued up, committed, answered; until
/// the queue is closed and empty.
fn commit_groups(db: &Database, jobs: &Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut outcomes = Vec::with_capacity(group.len());
        let committed = db.write(|conn| {
            for job in &mut group {
                let outcome = run_job(conn, job.as_mut());
                // A deadlock or serialization failure among the group's
                // locks: give it all up and write each alone.
                if let Err(err) = &outcome
                    && err.is_retryable()
                {
                    return Err(DbError::unreachable(err.to_string()));
                }
                outcomes.push(outcome);
            }
            Ok::<_, DbError>(())
        });
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
                for mut job in group {
                    let outcome = db.write(|conn| run_job(conn, job.as_mut()));
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
