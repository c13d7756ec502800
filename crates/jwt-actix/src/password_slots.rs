//! The password checks' slots: as many at once as the machine has cores,
//! then a bounded queue waited in for a bounded time. A login past either
//! bound is shed (503 with `Retry-After`) before its password is checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// Why no slot was had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shed {
    /// `login_queue_length` logins were waiting already.
    QueueFull,
    /// The wait passed `login_queue_timeout`.
    WaitedTooLong,
    /// The semaphore was closed (never, in practice).
    Closed,
}

/// The slots and the queue before them.
pub(crate) struct PasswordSlots {
    slots: Arc<Semaphore>,
    /// Logins waiting for a slot.
    waiting: AtomicUsize,
    queue_length: usize,
    timeout: Duration,
}

impl PasswordSlots {
    pub(crate) fn new(slots: usize, queue_length: usize, timeout: Duration) -> Self {
        PasswordSlots {
            slots: Arc::new(Semaphore::new(slots)),
            waiting: AtomicUsize::new(0),
            queue_length,
            timeout,
        }
    }

    /// A slot: at once when one is free, else after waiting in the queue.
    pub(crate) async fn acquire(&self) -> Result<OwnedSemaphorePermit, Shed> {
        match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(Shed::Closed),
            Err(TryAcquireError::NoPermits) => {}
        }
        let place = Waiting::join(&self.waiting);
        if place.ahead >= self.queue_length {
            return Err(Shed::QueueFull);
        }
        match actix_web::rt::time::timeout(self.timeout, Arc::clone(&self.slots).acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Shed::Closed),
            Err(_) => Err(Shed::WaitedTooLong),
        }
    }

    /// What to tell a shed login to wait: the queue's bound in whole
    /// seconds, rounded up (`Retry-After` has no fractions).
    pub(crate) fn retry_after(&self) -> u64 {
        self.timeout.as_secs() + u64::from(self.timeout.subsec_nanos() > 0)
    }
}

/// A place in the login queue, left when dropped (a login that ends, or a
/// request that is dropped while it waits).
struct Waiting<'a> {
    count: &'a AtomicUsize,
    /// How many were waiting when this one came.
    ahead: usize,
}

impl<'a> Waiting<'a> {
    fn join(count: &'a AtomicUsize) -> Self {
        let ahead = count.fetch_add(1, Ordering::SeqCst);
        Waiting { count, ahead }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}
