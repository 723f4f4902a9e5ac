//! The job-queue skeleton both pools share: chunks of tasks waiting for a worker, the count of
//! running workers, and the pool's lifecycle (open, closed, terminated).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use crossbeam::channel::{self, Receiver, RecvTimeoutError, Sender};

use super::PoolError;
use super::batch::{Batch, ChunkOutcome, Value};
use super::record::Recorder;
use crate::process::{Signature, TaskId, sys};

/// A chunk of a closure's calls: given the worker's name, one outcome per item.
pub(crate) type ClosureChunk = Box<dyn FnOnce(&str) -> Vec<Value> + Send>;

/// What a chunk runs.
pub(crate) enum Work {
    /// A task on a run of encoded arguments (see `process::items`).
    Task {
        /// The task.
        task: TaskId,
        /// The handle's signature, checked by whoever runs it.
        signature: Signature,
        /// The arguments, one item each.
        args: Vec<u8>,
    },
    /// A closure over its items (thread pools only).
    Closure(ClosureChunk),
}

/// Chunk `index` of a call: its tasks `first..first + count`, and what they run.
pub(crate) struct Chunk {
    pub(crate) batch: Arc<Batch>,
    pub(crate) index: usize,
    pub(crate) work: Work,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (first, count) = self.batch.range(self.index);
        f.debug_struct("Chunk")
            .field("task", &self.batch.task())
            .field("first", &first)
            .field("count", &count)
            .finish()
    }
}

impl Chunk {
    /// The chunk's tasks, `(first, count)`.
    pub(crate) fn range(&self) -> (usize, usize) {
        self.batch.range(self.index)
    }

    /// Fails every task of the chunk with `error(index)`.
    pub(crate) fn fail(self, error: impl Fn(usize) -> PoolError) {
        let (first, count) = self.range();
        let errors = (first..first + count).map(error).collect();
        self.batch
            .complete(self.index, ChunkOutcome::Failed(errors));
    }

    /// Fails every task of the chunk: the pool was terminated.
    pub(crate) fn terminated(self) {
        let task = self.batch.task().to_string();
        self.fail(|index| PoolError::Terminated {
            index,
            task: task.clone(),
        });
    }
}

/// Chunks waiting for a worker, the count of running workers, and whether the pool is closed or
/// terminated.
#[derive(Debug)]
pub(crate) struct JobQueue {
    /// Where chunks are queued; `None` once closed.
    tx: Mutex<Option<Sender<Chunk>>>,
    rx: Receiver<Chunk>,
    /// Workers (threads, or managers of worker processes) still running.
    live: Mutex<usize>,
    changed: Condvar,
    terminated: AtomicBool,
    /// The process that made the pool: a forked child has a copy of the queue, but no workers.
    owner: u32,
    /// Where the pool records who ran when ([`PoolOptions::timeline`](super::PoolOptions::timeline)).
    recorder: Option<Arc<Recorder>>,
}

impl JobQueue {
    /// An open queue with no workers yet, recording on `recorder` if given.
    pub(crate) fn new(recorder: Option<Recorder>) -> Self {
        let (tx, rx) = channel::unbounded();
        JobQueue {
            tx: Mutex::new(Some(tx)),
            rx,
            live: Mutex::new(0),
            changed: Condvar::new(),
            terminated: AtomicBool::new(false),
            owner: std::process::id(),
            recorder: recorder.map(Arc::new),
        }
    }

    /// The pool's recorder, if it records a timeline.
    pub(crate) fn recorder(&self) -> Option<&Arc<Recorder>> {
        self.recorder.as_ref()
    }

    /// Whether this is the process that made the pool (not a forked child holding a copy).
    pub(crate) fn is_owner(&self) -> bool {
        std::process::id() == self.owner
    }

    /// The error for a forked child that uses its copy of a pool.
    fn not_owner(&self) -> PoolError {
        PoolError::Invalid(format!(
            "this pool belongs to process {}: a forked child has a copy without workers (make a \
             new pool in the child)",
            self.owner
        ))
    }

    /// Whether the queue stopped taking chunks (closed or terminated).
    fn closed(&self) -> bool {
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Whether the queue is closed and every queued chunk was taken (the process pool's question).
    #[cfg(unix)]
    pub(crate) fn drained(&self) -> bool {
        self.closed() && self.rx.is_empty()
    }

    /// Whether the queue takes chunks: `Ok` if open and this is the pool's process.
    ///
    /// # Errors
    /// [`PoolError::Closed`] after close or terminate, [`PoolError::Invalid`] in a forked child.
    pub(crate) fn check_open(&self) -> Result<(), PoolError> {
        if !self.is_owner() {
            return Err(self.not_owner());
        }
        if self.closed() {
            return Err(PoolError::Closed);
        }
        Ok(())
    }

    /// Queues the chunks of one call, in order.
    ///
    /// # Errors
    /// [`PoolError::Closed`] after close or terminate, [`PoolError::Invalid`] in a forked child.
    pub(crate) fn submit(&self, chunks: Vec<Chunk>) -> Result<(), PoolError> {
        // A check that gave up on the code calling this: stop it before it queues more work.
        crate::exercise::stop_if_overdue();
        if !self.is_owner() {
            return Err(self.not_owner());
        }
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = tx.as_ref() else {
            return Err(PoolError::Closed);
        };
        for chunk in chunks {
            tx.send(chunk).map_err(|_| PoolError::Closed)?;
        }
        Ok(())
    }

    /// How many chunks wait in the queue (a dropped imap's among them, until skipped).
    #[cfg(unix)]
    pub(crate) fn queued(&self) -> usize {
        self.rx.len()
    }

    /// Where queued chunks arrive, for a wait on it beside other channels (it takes nothing).
    #[cfg(unix)]
    pub(crate) fn receiver(&self) -> &Receiver<Chunk> {
        &self.rx
    }

    /// Queues again a chunk that a worker took and never started (it died first), for another
    /// worker; gives it back once the queue is closed.
    #[cfg(unix)]
    pub(crate) fn requeue(&self, chunk: Chunk) -> Result<(), Chunk> {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        match tx.as_ref() {
            Some(tx) => tx.send(chunk).map_err(|e| e.into_inner()),
            None => Err(chunk),
        }
    }

    /// The next chunk, waiting at most `timeout`; disconnected once closed and drained. Chunks of
    /// an abandoned batch (a dropped imap's) are skipped.
    pub(crate) fn next(&self, timeout: Duration) -> Result<Chunk, RecvTimeoutError> {
        let deadline = sys::deadline(timeout);
        loop {
            let chunk = self.rx.recv_deadline(deadline)?;
            if !chunk.batch.abandoned() {
                return Ok(chunk);
            }
        }
    }

    /// Stops taking chunks; workers finish the queued ones. Does nothing in a forked child, whose
    /// copy must not change the parent's pool.
    pub(crate) fn close(&self) {
        if !self.is_owner() {
            return;
        }
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Stops at once: closes, and fails every queued chunk now (a busy worker does not have to
    /// come back for them first).
    pub(crate) fn terminate(&self) {
        if !self.is_owner() {
            return;
        }
        self.terminated.store(true, Ordering::SeqCst);
        self.close();
        while let Ok(chunk) = self.rx.try_recv() {
            chunk.terminated();
        }
    }

    /// Whether [`terminate`](JobQueue::terminate) was called.
    pub(crate) fn terminated(&self) -> bool {
        self.terminated.load(Ordering::SeqCst)
    }

    /// Counts a worker in; it is counted out when the guard drops, however the worker ends.
    pub(crate) fn enter(self: &Arc<Self>) -> LiveGuard {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        LiveGuard(Arc::clone(self))
    }

    /// Waits at most `timeout` for every worker to end.
    ///
    /// # Errors
    /// [`PoolError::Timeout`].
    pub(crate) fn wait_idle(&self, timeout: Duration) -> Result<(), PoolError> {
        let deadline = sys::deadline(timeout);
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *live == 0 {
                return Ok(());
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(PoolError::Timeout {
                    what: format!("waiting for {} pool workers to finish and exit", *live),
                    after: timeout,
                });
            }
            live = self
                .changed
                .wait_timeout(live, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// A pool's `join`: an error on an open pool, else waits for every worker to end.
    ///
    /// # Errors
    /// [`PoolError::Invalid`] while open, [`PoolError::Timeout`].
    pub(crate) fn join(&self, timeout: Duration) -> Result<(), PoolError> {
        if !self.is_owner() {
            return Err(self.not_owner());
        }
        if !self.closed() {
            return Err(PoolError::Invalid(
                "join() waits for a closed pool: call close() (or terminate()) first".into(),
            ));
        }
        self.wait_idle(timeout)
    }
}

/// Counts a worker out of its [`JobQueue`] when dropped.
#[derive(Debug)]
pub(crate) struct LiveGuard(Arc<JobQueue>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        *self.0.live.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.0.changed.notify_all();
    }
}
