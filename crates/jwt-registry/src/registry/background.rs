//! Registrations off the request path (`registration_parallel`), in order,
//! never lost: the queue is drained when the app shuts down. The queue is
//! bounded: when it is full, the request that submits waits for room
//! (without holding a thread), so a burst cannot grow memory.

use std::sync::Mutex;
use std::thread::JoinHandle;

use tokio::sync::mpsc::{Sender, channel};

use super::Registry;
use super::issued::Issued;

type Job = (Registry, Issued);

/// One worker thread running queued registrations in order.
pub(super) struct Background {
    queue: Mutex<Option<Sender<Job>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

fn run((registry, issued): Job) {
    let jtis = issued.jtis();
    if let Err(err) = registry.register_issued(issued) {
        tracing::error!(error = %err, tokens = ?jtis, "background registration failed");
    }
}

impl Background {
    /// Starts the worker, with room for `capacity` waiting registrations.
    pub(super) fn start(capacity: usize) -> std::io::Result<Background> {
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

    /// Queues a registration, waiting for room when the queue is full;
    /// after [`Background::flush`], gives it back.
    pub(super) async fn submit(&self, registry: Registry, issued: Issued) -> Result<(), Issued> {
        let sender = self.queue.lock().ok().and_then(|queue| queue.clone());
        match sender {
            Some(sender) => sender.send((registry, issued)).await.map_err(|err| err.0.1),
            None => Err(issued),
        }
    }

    /// Runs every queued registration and stops the worker. Blocks.
    pub(super) fn flush(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let worker = self.worker.lock().ok().and_then(|mut worker| worker.take());
        // The worker itself may drop the last handle on the registry: it
        // then ends after this job, and must not wait for itself.
        if let Some(worker) = worker.filter(|w| w.thread().id() != std::thread::current().id()) {
            let _ = worker.join();
        }
    }
}
