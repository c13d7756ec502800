//! Registrations off the request path (`registration_parallel`), in order,
//! never lost: the queue is drained when the app shuts down.

use std::sync::Mutex;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// One worker thread running queued registrations in order.
pub struct Background {
    queue: Mutex<Option<Sender<Job>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Background {
    /// Starts the worker.
    pub fn start() -> std::io::Result<Background> {
        let (queue, jobs) = channel::<Job>();
        let worker = std::thread::Builder::new()
            .name("jwt-registration".into())
            .spawn(move || {
                for job in jobs {
                    // A panicking job (an app's step) must not stop the
                    // worker: later jobs would then run on the caller.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                        tracing::error!("a background registration panicked");
                    }
                }
            })?;
        Ok(Background {
            queue: Mutex::new(Some(queue)),
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Queues a job; after [`Background::flush`], runs it here instead.
    pub(crate) fn submit(&self, job: Job) {
        let refused = match self.queue.lock() {
            Ok(queue) => match queue.as_ref() {
                Some(sender) => sender.send(job).err().map(|err| err.0),
                None => Some(job),
            },
            Err(_) => Some(job),
        };
        if let Some(job) = refused {
            job();
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
