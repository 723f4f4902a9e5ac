//! One call's outcomes, chunk by chunk, as the workers fill them in: a [`Batch`] counts the chunks
//! still to come, keeps each one's [`ChunkOutcome`] (a worker's encoded run, a thread pool's
//! values, or errors) and wakes whoever waits for them.
//!
//! A worker answers a chunk with one run of encoded outcomes; they stay encoded until the caller
//! asks for them, and are then decoded as the call's result type, strictly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam::channel::Sender;

use super::PoolError;
use super::error::task_error;
use super::record::{CallSpan, Recorder};
use crate::process::tasks::TaskFailure;
use crate::process::{Types, items};

/// The outcome of one closure call on a thread pool: its value, or why there is none.
pub(crate) type Value = Result<Box<dyn std::any::Any + Send>, PoolError>;

/// What a chunk's workers gave back.
pub(crate) enum ChunkOutcome {
    /// One encoded `Result<R, TaskFailure>` per task (a run of items from `start` on), from `who`.
    Encoded {
        /// Which worker ran it, e.g. `worker process 4242`.
        who: String,
        /// The worker's answer.
        bytes: Vec<u8>,
        /// Where the run of outcomes starts in `bytes`.
        start: usize,
    },
    /// Every task of the chunk failed: one error each.
    Failed(Vec<PoolError>),
    /// The values of a closure's calls (thread pools).
    Values(Vec<Value>),
}

impl ChunkOutcome {
    /// Whether any task of the chunk failed.
    fn any_failed(&self) -> bool {
        match self {
            ChunkOutcome::Encoded { bytes, start, .. } => items::split(&bytes[*start..])
                .any(|item| !matches!(item, Ok(item) if item.first() == Some(&0))),
            ChunkOutcome::Failed(errors) => !errors.is_empty(),
            ChunkOutcome::Values(values) => values.iter().any(Result::is_err),
        }
    }
}

/// How a call's result type is decoded from a worker's run of outcomes.
pub(crate) type FromBytes<R> = fn(&[u8], usize) -> Vec<Result<R, TaskFailure>>;

/// For closures, whose values never travel as bytes.
pub(crate) fn no_bytes<R>(_: &[u8], count: usize) -> Vec<Result<R, TaskFailure>> {
    (0..count)
        .map(|_| {
            Err(TaskFailure::BadResult(
                "encoded bytes where a closure's value was expected".into(),
            ))
        })
        .collect()
}

/// The outcomes of the tasks of one call (`apply`: one; `map`: one per input item), in chunks.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(super) task: String,
    /// The handle's types, for errors (none for a closure).
    types: Option<Types>,
    pub(super) len: usize,
    chunksize: usize,
    /// The index (in the call's input) of the batch's first task: an imap's batches are chunks.
    first: usize,
    /// Told this seq number when a chunk finishes (an unordered imap waits on it).
    notify: Option<(Sender<usize>, usize)>,
    /// Nobody waits for the outcomes any more (an imap was dropped): queued chunks are skipped.
    abandoned: AtomicBool,
    /// Where the call is recorded when its last chunk finishes (a pool with a timeline).
    call: Option<CallSpan>,
    state: Mutex<State>,
    changed: Condvar,
}

pub(super) struct State {
    pub(super) chunks: Vec<Option<ChunkOutcome>>,
    pub(super) remaining: usize,
    pub(super) failed: bool,
    /// A worker died running one of the chunks: a call waiting for all of them fails at once.
    pub(super) lost: bool,
    pub(super) taken: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("chunks", &self.chunks.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}

impl Batch {
    /// A batch of `len` tasks of `task` (whose handle says `signature`) in chunks of `chunksize`,
    /// recorded as one call on `recorder`'s timeline if there is one.
    pub(crate) fn new(
        task: String,
        types: Option<Types>,
        len: usize,
        chunksize: usize,
        recorder: Option<&Arc<Recorder>>,
    ) -> Arc<Self> {
        let call = recorder.map(|r| CallSpan {
            recorder: Arc::clone(r),
            start: Instant::now(),
        });
        Self::at(task, types, len, chunksize, 0, None, call)
    }

    /// A batch of `len` tasks starting at task `first` of the call, in chunks of `chunksize`,
    /// that sends `notify`'s number on its channel whenever a chunk finishes.
    pub(super) fn at(
        task: String,
        types: Option<Types>,
        len: usize,
        chunksize: usize,
        first: usize,
        notify: Option<(Sender<usize>, usize)>,
        call: Option<CallSpan>,
    ) -> Arc<Self> {
        let chunksize = chunksize.max(1);
        let chunks = len.div_ceil(chunksize);
        Arc::new(Batch {
            task,
            types,
            len,
            chunksize,
            first,
            notify,
            abandoned: AtomicBool::new(false),
            call,
            state: Mutex::new(State {
                chunks: (0..chunks).map(|_| None).collect(),
                remaining: chunks,
                failed: false,
                lost: false,
                taken: false,
            }),
            changed: Condvar::new(),
        })
    }

    /// The task's name.
    pub(crate) fn task(&self) -> &str {
        &self.task
    }

    /// The types of the call's task handle (none for a closure).
    pub(crate) fn types(&self) -> Option<Types> {
        self.types
    }

    /// The number of chunks.
    pub(crate) fn chunks(&self) -> usize {
        self.len.div_ceil(self.chunksize)
    }

    /// The tasks of chunk `index`: `(first, count)`.
    pub(crate) fn range(&self, index: usize) -> (usize, usize) {
        let first = index * self.chunksize;
        (
            self.first + first,
            self.chunksize.min(self.len.saturating_sub(first)),
        )
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the outcome of chunk `index` (an outcome already recorded is kept).
    pub(crate) fn complete(&self, index: usize, outcome: ChunkOutcome) {
        let failed = outcome.any_failed();
        let lost = matches!(&outcome, ChunkOutcome::Failed(errors) if errors.iter().any(is_lost));
        let mut state = self.lock();
        let recorded = index < state.chunks.len() && state.chunks[index].is_none();
        if recorded {
            state.failed |= failed;
            state.lost |= lost;
            state.chunks[index] = Some(outcome);
            state.remaining -= 1;
        }
        if let (true, 0, Some(call)) = (recorded, state.remaining, &self.call) {
            // Recorded before anyone waiting hears (the timeline's lock is never held while a
            // batch's is taken, so holding this one here cannot deadlock).
            let label = match self.len {
                1 => format!("{}: 1 task", self.task),
                n => format!("{}: {n} tasks, chunks of {}", self.task, self.chunksize),
            };
            call.recorder.call(label, call.start);
        }
        drop(state);
        self.changed.notify_all();
        if let (true, Some((tx, seq))) = (recorded, &self.notify) {
            let _ = tx.send(*seq); // told once per chunk; a dropped imap no longer listens
        }
    }

    /// Marks the batch as one whose outcomes nobody will take: its queued chunks are not run.
    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst);
    }

    /// Whether [`abandon`](Batch::abandon) was called.
    pub(crate) fn abandoned(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Waits until `done(state)` or `deadline`; `None` on timeout.
    pub(super) fn wait_until(
        &self,
        deadline: Instant,
        done: impl Fn(&State) -> bool,
    ) -> Option<MutexGuard<'_, State>> {
        let mut state = self.lock();
        loop {
            if done(&state) {
                return Some(state);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    pub(super) fn timeout(&self, after: Duration, state_hint: &str) -> PoolError {
        PoolError::Timeout {
            what: format!("waiting for {} ({state_hint})", self.task),
            after,
        }
    }

    /// The tasks of the chunks not finished yet.
    pub(super) fn tasks_running(&self, state: &State) -> usize {
        (0..state.chunks.len())
            .filter(|&i| state.chunks[i].is_none())
            .map(|i| self.range(i).1)
            .sum()
    }

    /// The outcomes of chunk `index`, decoded as `R`.
    pub(super) fn decode<R: 'static>(
        &self,
        index: usize,
        outcome: ChunkOutcome,
        from_bytes: FromBytes<R>,
    ) -> Vec<Result<R, PoolError>> {
        let (first, count) = self.range(index);
        match outcome {
            ChunkOutcome::Encoded { who, bytes, start } => from_bytes(&bytes[start..], count)
                .into_iter()
                .enumerate()
                .map(|(k, o)| o.map_err(|f| task_error(&self.task, self.types, first + k, &who, f)))
                .collect(),
            ChunkOutcome::Failed(errors) => errors.into_iter().map(Err).collect(),
            ChunkOutcome::Values(values) => values
                .into_iter()
                .enumerate()
                .map(|(k, v)| {
                    v?.downcast::<R>()
                        .map(|b| *b)
                        .map_err(|_| PoolError::Failed {
                            index: first + k,
                            task: self.task.clone(),
                            message: format!("the result is not a {}", std::any::type_name::<R>()),
                        })
                })
                .collect(),
        }
    }
}

/// Whether an error says that the task's worker died.
pub(super) fn is_lost(e: &PoolError) -> bool {
    matches!(e, PoolError::WorkerDied { .. })
}

/// The instant `timeout` from now (far off for a huge timeout).
pub(super) fn deadline(timeout: Duration) -> Instant {
    crate::process::sys::deadline(timeout)
}

/// What the pool's unit tests build batches and answers with.
#[cfg(test)]
pub(super) mod tests_support {
    use super::*;

    /// A worker's answer: one `Ok(value)` outcome per value.
    pub(in crate::pool) fn encoded<T: serde::Serialize>(values: &[T]) -> ChunkOutcome {
        let mut bytes = vec![9, 9]; // a header before the run, as a worker's frame has
        for v in values {
            items::push_encoded(&mut bytes, &Ok::<&T, TaskFailure>(v), &mut Vec::new()).unwrap();
        }
        ChunkOutcome::Encoded {
            who: "worker process 1".into(),
            bytes,
            start: 2,
        }
    }

    /// A batch of `len` echo tasks in chunks of `chunksize`.
    pub(in crate::pool) fn batch(len: usize, chunksize: usize) -> Arc<Batch> {
        Batch::new("echo".into(), None, len, chunksize, None)
    }
}
