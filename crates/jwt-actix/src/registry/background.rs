//! Registrations off the request path (`registration_parallel`), in order,
//! never lost: the queue is drained when the app shuts down. The queue is
//! bounded: when it is full, the request that submits waits for room
//! (without holding a worker thread), so a burst cannot grow memory.

use std::sync::Mutex;
use std::thread::JoinHandle;

use actix_web::web;
use tokio::sync::mpsc::{Sender, channel};

use super::listener::Job;

/// One worker thread running queued registrations in order.
pub struct Background {
    queue: Mutex<Option<Sender<Job>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

fn run(job: Job) {
    let jtis = job.jtis();
    if let Err(err) = job.run() {
        tracing::error!(error = %err, tokens = ?jtis, "background registration failed");
    }
}

impl Background {
    /// Starts the worker, with room for `capacity` waiting jobs.
    pub(crate) fn start(capacity: usize) -> std::io::Result<Background> {
        let (queue, mut jobs) = channel::<Job>(capacity.max(1));
        let worker = std::thread::Builder::new()
            .name("jwt-registration".into())
            .spawn(move || {
                while let Some(job) = jobs.blocking_recv() {
                    // A panicking job (an app's step) must not stop the
                    // worker: later jobs would then run on the caller.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(job))).is_err()
                    {
                        tracing::error!("a background registration panicked");
                    }
                }
            })?;
        Ok(Background {
            queue: Mutex::new(Some(queue)),
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Queues a job, waiting for room when the queue is full; after
    /// [`Background::flush`], runs it on the blocking pool instead.
    pub(crate) async fn submit(&self, job: Job) {
        let sender = self.queue.lock().ok().and_then(|queue| queue.clone());
        let refused = match sender {
            Some(sender) => sender.send(job).await.err().map(|err| err.0),
            None => Some(job),
        };
        if let Some(job) = refused
            && let Err(err) = web::block(move || run(job)).await
        {
            tracing::error!(error = %err, "a registration could not run");
        }
    }

    /// Runs every queued job and stops the worker. Blocks; call it when the
    /// server has stopped (graceful shutdown).
    pub fn flush(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let worker = self.worker.lock().ok().and_then(|mut worker| worker.take());
        if let Some(worker) = worker {
            let _ = worker.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.flush();
    }
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Background")
    }
}
