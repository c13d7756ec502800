//! Freshness checks shared by every request waiting (SQLite).
//!
//! A request must see every change committed before it arrived. Instead of
//! each request asking the database itself (one query, one blocking-pool
//! hop and one lock shared by all requests), a thread of its own runs
//! *rounds*: a round begins, asks the database what changed, applies it,
//! and ends. A request waits — without blocking a thread — for the end of
//! a round that began after it arrived: every request that came during one
//! round is answered by the next. Rounds run only while someone waits, at
//! most one per [`GAP`], so an idle server costs nothing and a busy one
//! pays one query per round rather than one per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The least time between the starts of two rounds: what a request waits
/// at most for the next round to begin, and what bounds the thread's work
/// under load.
pub(super) const GAP: Duration = Duration::from_micros(200);

/// The rounds, and the thread that runs them.
pub(super) struct Rounds {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    /// Rounds begun so far.
    begun: AtomicU64,
    /// The last round that ended (`u64::MAX` once stopped).
    done: AtomicU64,
    /// Whether that round reached the database.
    healthy: AtomicBool,
    queue: Mutex<Queue>,
    /// Wakes the thread when someone waits, and blocking waiters when a
    /// round ends.
    signal: Condvar,
}

#[derive(Default)]
struct Queue {
    /// Tasks waiting, each with the round it needs.
    tasks: Vec<(u64, Waker)>,
    /// The latest round a thread blocked in [`Rounds::wait`] needs.
    blocked: u64,
    stop: bool,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the queue leaves it consistent.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The round a request arriving now needs: the next one to begin.
    fn needed(&self) -> u64 {
        self.begun.load(Ordering::SeqCst) + 1
    }

    /// `Some(healthy)` once round `need` has ended.
    fn ended(&self, need: u64) -> Option<bool> {
        (self.done.load(Ordering::SeqCst) >= need).then(|| self.healthy.load(Ordering::SeqCst))
    }
}

impl Rounds {
    /// Starts the thread; `round` asks the database and applies what
    /// changed, and says whether it could. A thread that cannot start
    /// leaves every wait answered `false` (logged).
    pub(super) fn start(round: impl FnMut() -> bool + Send + 'static) -> Rounds {
        let shared = Arc::new(Shared {
            begun: AtomicU64::new(0),
            done: AtomicU64::new(0),
            healthy: AtomicBool::new(true),
            queue: Mutex::new(Queue::default()),
            signal: Condvar::new(),
        });
        let running = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("jwt-freshness".into())
            .spawn(move || run(&running, round));
        let thread = match thread {
            Ok(handle) => Some(handle),
            Err(err) => {
                tracing::error!(error = %err, "cannot start the freshness thread");
                finish(&shared);
                None
            }
        };
        Rounds {
            shared,
            thread: Mutex::new(thread),
        }
    }

    /// Waits without blocking for a round that began after this call;
    /// `false` when that round could not reach the database.
    pub(super) fn fresh(&self) -> Fresh {
        Fresh {
            need: self.shared.needed(),
            shared: Arc::clone(&self.shared),
        }
    }

    /// The same, blocking the calling thread.
    pub(super) fn wait(&self) -> bool {
        let need = self.shared.needed();
        let mut queue = self.shared.queue();
        loop {
            if let Some(healthy) = self.shared.ended(need) {
                return healthy;
            }
            if queue.stop {
                return false;
            }
            queue.blocked = queue.blocked.max(need);
            self.shared.signal.notify_all();
            queue = self
                .shared
                .signal
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Stops the thread and waits for it; every wait still pending, and
    /// every later one, is answered `false`.
    pub(super) fn stop(&self) {
        self.shared.queue().stop = true;
        self.shared.signal.notify_all();
        let handle = self.thread.lock().ok().and_then(|mut slot| slot.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        finish(&self.shared);
    }
}

/// The thread: a round whenever someone waits, at most one per [`GAP`].
fn run(shared: &Shared, mut round: impl FnMut() -> bool) {
    let mut last: Option<Instant> = None;
    loop {
        {
            let mut queue = shared.queue();
            while queue.tasks.is_empty()
                && queue.blocked <= shared.done.load(Ordering::SeqCst)
                && !queue.stop
            {
                queue = shared
                    .signal
                    .wait(queue)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if queue.stop {
                return;
            }
        }
        if let Some(since) = last.map(|at| at.elapsed())
            && since < GAP
        {
            std::thread::sleep(GAP - since);
        }
        last = Some(Instant::now());
        let this = shared.begun.fetch_add(1, Ordering::SeqCst) + 1;
        let healthy = round();
        shared.healthy.store(healthy, Ordering::SeqCst);
        shared.done.store(this, Ordering::SeqCst);
        let ready: Vec<Waker> = {
            let mut queue = shared.queue();
            let (ready, waiting) = std::mem::take(&mut queue.tasks)
                .into_iter()
                .partition(|(need, _)| *need <= this);
            queue.tasks = waiting;
            ready.into_iter().map(|(_, waker)| waker).collect()
        };
        shared.signal.notify_all();
        for waker in ready {
            waker.wake();
        }
    }
}

/// No more rounds: every wait is answered `false`.
fn finish(shared: &Shared) {
    shared.healthy.store(false, Ordering::SeqCst);
    shared.done.store(u64::MAX, Ordering::SeqCst);
    let tasks = std::mem::take(&mut shared.queue().tasks);
    shared.signal.notify_all();
    for (_, waker) in tasks {
        waker.wake();
    }
}

/// Resolves when a round that began after it was made has ended: `true`
/// when that round reached the database.
pub(crate) struct Fresh {
    need: u64,
    shared: Arc<Shared>,
}

impl Future for Fresh {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        if let Some(healthy) = self.shared.ended(self.need) {
            return Poll::Ready(healthy);
        }
        let mut queue = self.shared.queue();
        // Again under the lock: a round that ended since has already taken
        // the tasks it answers.
        if let Some(healthy) = self.shared.ended(self.need) {
            return Poll::Ready(healthy);
        }
        if queue.stop {
            return Poll::Ready(false);
        }
        let wake_thread = queue.tasks.is_empty();
        queue.tasks.push((self.need, cx.waker().clone()));
        drop(queue);
        if wake_thread {
            self.shared.signal.notify_all();
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::block_on;

    /// Rounds that take `work` each, counting themselves and recording the
    /// value of `committed` they saw.
    fn counted(
        work: Duration,
        committed: &Arc<AtomicU64>,
    ) -> (Rounds, Arc<AtomicU64>, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(AtomicU64::new(0));
        let (c, s, v) = (Arc::clone(&count), Arc::clone(&seen), Arc::clone(committed));
        let rounds = Rounds::start(move || {
            let value = v.load(Ordering::SeqCst);
            std::thread::sleep(work);
            s.store(value, Ordering::SeqCst);
            c.fetch_add(1, Ordering::SeqCst);
            true
        });
        (rounds, count, seen)
    }

    #[test]
    fn a_wait_ends_with_a_round_that_saw_what_was_committed_before_it() {
        let committed = Arc::new(AtomicU64::new(0));
        let (rounds, _, seen) = counted(Duration::from_millis(2), &committed);
        for value in 1..=20 {
            committed.store(value, Ordering::SeqCst);
            if value % 2 == 0 {
                assert!(rounds.wait());
            } else {
                assert!(block_on(rounds.fresh()));
            }
            assert_eq!(seen.load(Ordering::SeqCst), value);
        }
        rounds.stop();
    }

    #[test]
    fn many_waiting_requests_share_few_rounds() {
        let committed = Arc::new(AtomicU64::new(0));
        let (rounds, count, _) = counted(Duration::from_millis(20), &committed);
        let rounds = Arc::new(rounds);
        let waiters: Vec<_> = (0..64)
            .map(|n| {
                let rounds = Arc::clone(&rounds);
                std::thread::spawn(move || {
                    if n % 2 == 0 {
                        rounds.wait()
                    } else {
                        block_on(rounds.fresh())
                    }
                })
            })
            .collect();
        for waiter in waiters {
            assert!(waiter.join().unwrap());
        }
        // 64 requests within about one round's time: two or three rounds,
        // never one each.
        let ran = count.load(Ordering::SeqCst);
        assert!((1..=8).contains(&ran), "{ran} rounds for 64 requests");
        rounds.stop();
    }

    #[test]
    fn no_round_runs_while_nobody_waits() {
        let committed = Arc::new(AtomicU64::new(0));
        let (rounds, count, _) = counted(Duration::ZERO, &committed);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(count.load(Ordering::SeqCst), 0);
        assert!(rounds.wait());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(count.load(Ordering::SeqCst), 1);
        rounds.stop();
    }

    #[test]
    fn a_failed_round_and_a_stopped_thread_answer_false() {
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&healthy);
        let rounds = Rounds::start(move || flag.load(Ordering::SeqCst));
        assert!(rounds.wait());
        healthy.store(false, Ordering::SeqCst);
        assert!(!block_on(rounds.fresh()));
        healthy.store(true, Ordering::SeqCst);
        assert!(rounds.wait(), "the next round reached it again");
        let pending = rounds.fresh();
        rounds.stop();
        assert!(!block_on(pending), "a wait pending at the stop");
        assert!(!rounds.wait(), "a wait after the stop");
    }
}
