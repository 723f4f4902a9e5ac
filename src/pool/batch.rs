//! One call's outcomes, chunk by chunk, as the workers fill them in: a [`Batch`] counts the chunks
//! still to come, keeps each one's [`ChunkOutcome`] (a worker's encoded run, a thread pool's
//! values, or errors) and wakes whoever waits for them.
//!
//! A worker answers a chunk with one run of encoded outcomes; they stay encoded until the caller
//! asks for them, and are then decoded as the call's result type, strictly: a `get` decodes the
//! chunks that have arrived while it waits for the others ([`Batch::decode_ahead`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam::channel::Sender;

use super::PoolError;
use super::error::task_error;
use super::record::{CallSpan, Recorder};
use serde::de::DeserializeOwned;

use crate::process::tasks::{DecodeInto, TaskFailure, decode_outcomes_into};
use crate::process::{Types, items};

/// The outcome of one closure call on a thread pool: its value, or why there is none.
pub(crate) type Value = Result<Box<dyn std::any::Any + Send>, PoolError>;

/// What a chunk's workers gave back.
pub(crate) enum ChunkOutcome {
    /// One encoded `Result<R, TaskFailure>` per task (a run of items from `start` on), from `who`.
    Encoded {
        /// Which worker ran it, e.g. `worker process 4242`.
        who: Arc<str>,
        /// The worker's answer (shared: the caller decodes it while the batch still holds it).
        bytes: Arc<Vec<u8>>,
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

/// What a call's outcomes are decoded into: the one part of a call's result that knows its
/// type. [`Batch::decode_into`], which drives it, is not generic.
pub(crate) trait Decoded {
    /// The name of the values' type.
    fn type_name(&self) -> &'static str;
    /// Whether the values travel as bytes (a closure's never do).
    fn decodes(&self) -> bool;
    /// Decodes one task's value from all of `bytes` (a worker's) and keeps it; the decoder's
    /// message when it does not decode.
    fn encoded(&mut self, bytes: &[u8]) -> Result<(), String>;
    /// Keeps one closure call's value; gives it back when it is not of the values' type.
    fn value(
        &mut self,
        value: Box<dyn std::any::Any + Send>,
    ) -> Result<(), Box<dyn std::any::Any + Send>>;
    /// Keeps one task's error, or gives it back: decoding then stops, and it is the call's error.
    fn failed(&mut self, error: PoolError) -> Result<(), PoolError>;
}

/// How a task's value decodes from its bytes (none for a closure's).
pub(crate) type Decode<R> = Option<fn(&[u8]) -> Result<R, String>>;

/// The decoding of a task's value: strict, as the result type.
pub(crate) fn task_values<R: DeserializeOwned>() -> Decode<R> {
    Some(items::decode_exact::<R>)
}

/// A call's values, in order, until its first error (`get` of an `apply_async` or `map_async`).
pub(crate) struct Values<R> {
    /// The values decoded so far.
    pub(crate) values: Vec<R>,
    decode: Decode<R>,
}

impl<R> Values<R> {
    /// Room for `len` values, decoded by `decode`.
    pub(crate) fn new(decode: Decode<R>, len: usize) -> Self {
        Values {
            values: Vec::with_capacity(len),
            decode,
        }
    }
}

impl<R: 'static> Decoded for Values<R> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<R>()
    }

    fn decodes(&self) -> bool {
        self.decode.is_some()
    }

    fn encoded(&mut self, bytes: &[u8]) -> Result<(), String> {
        let decode = self.decode.ok_or(NOT_BYTES)?;
        self.values.push(decode(bytes)?);
        Ok(())
    }

    fn value(
        &mut self,
        value: Box<dyn std::any::Any + Send>,
    ) -> Result<(), Box<dyn std::any::Any + Send>> {
        self.values.push(*value.downcast::<R>()?);
        Ok(())
    }

    fn failed(&mut self, error: PoolError) -> Result<(), PoolError> {
        Err(error)
    }
}

/// What a closure's result says when it is given a worker's bytes.
const NOT_BYTES: &str = "encoded bytes where a closure's value was expected";

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
    /// Threads waiting for a change (none, when a call's own thread ran its chunk: then nobody
    /// is woken, and no system call is made for it).
    waiters: usize,
    /// The chunk a caller decoding ahead waits for (see [`Batch::decode_ahead`]): its arrival
    /// wakes the caller, as the last chunk's or a lost one's does.
    awaited: Option<usize>,
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
                waiters: 0,
                awaited: None,
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
        // Whoever waits, waits for the last chunk, a lost one, or the one it decodes next: a map
        // of many chunks wakes its caller a few times, not once per chunk.
        let awaited = state.awaited == Some(index);
        let news = recorded && (state.remaining == 0 || lost || awaited) && state.waiters > 0;
        drop(state);
        if news {
            self.changed.notify_all();
        }
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
            state = self.wait_for_change(state, deadline).ok()?;
        }
    }

    /// Waits, counted among the waiters, until a change is told or `deadline`; the state back as
    /// `Err` once `deadline` has passed (without waiting).
    fn wait_for_change<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> Result<MutexGuard<'a, State>, MutexGuard<'a, State>> {
        let now = Instant::now();
        if now >= deadline {
            return Err(state);
        }
        state.waiters += 1;
        state = self
            .changed
            .wait_timeout(state, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        state.waiters -= 1;
        Ok(state)
    }

    pub(super) fn timeout(&self, after: Duration, state_hint: &str) -> PoolError {
        PoolError::Timeout {
            what: format!("waiting for {} ({state_hint})", self.task),
            after,
        }
    }

    /// Whether every chunk has finished. (This and the two below: non-generic, for
    /// [`AsyncResult`](super::AsyncResult), so that a notebook cell does not compile them again.)
    #[inline(never)]
    pub(super) fn ready(&self) -> bool {
        self.lock().remaining == 0
    }

    /// Waits at most `timeout` for every chunk to finish; whether they have.
    #[inline(never)]
    pub(super) fn wait(&self, timeout: Duration) -> bool {
        self.wait_until(deadline(timeout), |s| s.remaining == 0)
            .is_some()
    }

    /// `Some(true)` if every task succeeded, `Some(false)` if one failed, `None` while some run.
    #[inline(never)]
    pub(super) fn successful(&self) -> Option<bool> {
        let state = self.lock();
        (state.remaining == 0).then_some(!state.failed)
    }

    /// The tasks of the chunks not finished yet.
    pub(super) fn tasks_running(&self, state: &State) -> usize {
        (0..state.chunks.len())
            .filter(|&i| state.chunks[i].is_none())
            .map(|i| self.range(i).1)
            .sum()
    }

    /// Decodes the outcomes of chunks `first..` (every chunk but those decoded ahead), given in
    /// order, into `into`; the first error it gives back.
    ///
    /// Non-generic, as all of decoding but the value itself (see [`Decoded`]), so that a notebook
    /// cell, which compiles every generic function it calls again, does not compile it.
    #[inline(never)]
    pub(crate) fn decode_all(
        &self,
        first: usize,
        chunks: Vec<ChunkOutcome>,
        into: &mut dyn Decoded,
    ) -> Result<(), PoolError> {
        for (index, outcome) in chunks.into_iter().enumerate().skip(first) {
            self.decode_into(index, outcome, into)?;
        }
        Ok(())
    }

    /// Decodes the workers' outcomes of the chunks that have arrived, in order, while the others
    /// still run, so that little is left to decode once the last one arrives: it waits (until
    /// `deadline`) for the next chunks, a few at a time, and stops at the first chunk that is not
    /// a worker's answer, at any task's failure (the chunks are left for [`decode_all`]), when a
    /// worker is lost, or when another `get` took the outcomes.
    ///
    /// The chunks stay in the batch, so a `get` that times out leaves them for the next one. A
    /// value that does not decode is the call's error ([`Ahead::error`]): the first by index,
    /// since every chunk before it decoded.
    ///
    /// [`decode_all`]: Batch::decode_all
    #[inline(never)]
    pub(crate) fn decode_ahead(&self, deadline: Instant, into: &mut dyn Decoded) -> Ahead {
        let total = self.chunks();
        let step = total.div_ceil(WAKE_UPS).max(1);
        let mut ahead = Ahead {
            chunks: 0,
            error: None,
        };
        loop {
            let arrived = self.wait_for_run(ahead.chunks, step, deadline);
            if arrived.is_empty() {
                return ahead;
            }
            for (who, bytes, start) in arrived {
                let run = &bytes[start..];
                if let Err(e) = self.decode_encoded(ahead.chunks, &who, run, into) {
                    ahead.error = Some(e);
                    return ahead;
                }
                ahead.chunks += 1;
            }
        }
    }

    /// The workers' answers of chunks `next..` that have arrived, in order, once chunks
    /// `next..next + step` all have (fewer at the end); none when the next chunk is not a
    /// worker's answer, a task failed, a worker was lost, the outcomes were taken, or at
    /// `deadline`.
    fn wait_for_run(&self, next: usize, step: usize, deadline: Instant) -> Vec<Arrived> {
        let total = self.chunks();
        let window = next..(next + step).min(total);
        let mut state = self.lock();
        loop {
            if state.failed || state.lost || state.taken || next >= total {
                return Vec::new();
            }
            // The last one missing: chunks are handed out in order, so it tends to arrive last,
            // and the caller is woken once for the window, not once per chunk.
            let Some(missing) = window.clone().rev().find(|&i| state.chunks[i].is_none()) else {
                break;
            };
            state.awaited = Some(missing);
            match self.wait_for_change(state, deadline) {
                Ok(back) => state = back,
                Err(mut back) => {
                    back.awaited = None;
                    return Vec::new();
                }
            }
            state.awaited = None;
        }
        state.chunks[next..]
            .iter()
            .map_while(|slot| match slot {
                Some(ChunkOutcome::Encoded { who, bytes, start }) => {
                    Some((Arc::clone(who), Arc::clone(bytes), *start))
                }
                _ => None,
            })
            .collect()
    }

    /// Decodes the outcomes of chunk `index` into `into`, in order; the error it gives back.
    /// Non-generic, as [`decode_all`](Batch::decode_all) (an imap decodes chunk by chunk).
    #[inline(never)]
    pub(crate) fn decode_into(
        &self,
        index: usize,
        outcome: ChunkOutcome,
        into: &mut dyn Decoded,
    ) -> Result<(), PoolError> {
        let first = self.range(index).0;
        match outcome {
            ChunkOutcome::Encoded { who, bytes, start } => {
                self.decode_encoded(index, &who, &bytes[start..], into)
            }
            ChunkOutcome::Failed(errors) => {
                for e in errors {
                    into.failed(e)?;
                }
                Ok(())
            }
            ChunkOutcome::Values(values) => {
                for (k, v) in values.into_iter().enumerate() {
                    let failed = match v {
                        Ok(v) => match into.value(v) {
                            Ok(()) => continue,
                            Err(_) => PoolError::Failed {
                                index: first + k,
                                task: self.task.clone(),
                                message: format!("the result is not a {}", into.type_name()),
                            },
                        },
                        Err(e) => e,
                    };
                    into.failed(failed)?;
                }
                Ok(())
            }
        }
    }

    /// Decodes `run`, the outcomes `who` sent for chunk `index`, into `into`, in order; the error
    /// it gives back.
    fn decode_encoded(
        &self,
        index: usize,
        who: &str,
        run: &[u8],
        into: &mut dyn Decoded,
    ) -> Result<(), PoolError> {
        let (first, count) = self.range(index);
        let mut tasks = Tasks {
            batch: self,
            who,
            next: first,
            into,
            stopped: None,
        };
        if tasks.into.decodes() {
            let type_name = tasks.into.type_name();
            decode_outcomes_into(run, count, type_name, &mut tasks);
        } else {
            for _ in 0..count {
                tasks.failure(TaskFailure::BadResult(NOT_BYTES.into()));
            }
        }
        tasks.stopped.map_or(Ok(()), Err)
    }
}

/// A worker's answer to a chunk, shared with the batch: who sent it, its bytes, and where its
/// run of outcomes starts.
type Arrived = (Arc<str>, Arc<Vec<u8>>, usize);

/// How many times, about, a caller decoding ahead is woken per call: it waits for
/// 1/`WAKE_UPS` of the chunks at a time (a map of 10,000 chunks of 1 wakes it about 16 times,
/// not 10,000).
const WAKE_UPS: usize = 16;

/// What [`Batch::decode_ahead`] did: how many chunks, from the first, it decoded, and the call's
/// error if a value did not decode.
pub(crate) struct Ahead {
    /// The chunks decoded, all of them whole.
    pub(crate) chunks: usize,
    /// The first task's error, when a value did not decode (the call's error).
    pub(crate) error: Option<PoolError>,
}

/// The tasks of a worker's chunk as their outcomes are decoded: each failure becomes the error
/// of its task, by index, until `into` stops.
struct Tasks<'a> {
    batch: &'a Batch,
    who: &'a str,
    /// The index of the next task.
    next: usize,
    into: &'a mut dyn Decoded,
    /// The error `into` gave back.
    stopped: Option<PoolError>,
}

impl DecodeInto for Tasks<'_> {
    fn value(&mut self, bytes: &[u8]) -> Result<(), String> {
        if self.stopped.is_none() {
            self.into.encoded(bytes)?;
        }
        self.next += 1;
        Ok(())
    }

    fn failure(&mut self, failure: TaskFailure) {
        let index = self.next;
        self.next += 1;
        if self.stopped.is_some() {
            return;
        }
        let b = self.batch;
        let e = task_error(&b.task, b.types, index, self.who, failure);
        self.stopped = self.into.failed(e).err();
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
            items::push_encoded(&mut bytes, &Ok::<&T, TaskFailure>(v)).unwrap();
        }
        ChunkOutcome::Encoded {
            who: "worker process 1".into(),
            bytes: Arc::new(bytes),
            start: 2,
        }
    }

    /// A batch of `len` echo tasks in chunks of `chunksize`.
    pub(in crate::pool) fn batch(len: usize, chunksize: usize) -> Arc<Batch> {
        Batch::new("echo".into(), None, len, chunksize, None)
    }
}
