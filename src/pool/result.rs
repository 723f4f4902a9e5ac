//! Results to come: the outcomes of one call, chunk by chunk, filled in by the workers, and the
//! handles that wait for them ([`AsyncResult`], [`Imap`]).
//!
//! A worker answers a chunk with one run of encoded outcomes; they stay encoded until the caller
//! asks for them, and are then decoded as the call's result type, strictly.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::jobs::Value;
use super::{PoolError, task_error};
use crate::process::items;
use crate::process::tasks::TaskFailure;

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
    task: String,
    /// The handle's signature, for errors.
    signature: String,
    len: usize,
    chunksize: usize,
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    chunks: Vec<Option<ChunkOutcome>>,
    remaining: usize,
    /// Chunks in the order they finished, not yet taken by an unordered [`Imap`].
    finished: VecDeque<usize>,
    failed: bool,
    /// A worker died running one of the chunks: a call waiting for all of them fails at once.
    lost: bool,
    taken: bool,
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
    /// A batch of `len` tasks of `task` (whose handle says `signature`) in chunks of `chunksize`.
    pub(crate) fn new(task: String, signature: String, len: usize, chunksize: usize) -> Arc<Self> {
        let chunksize = chunksize.max(1);
        let chunks = len.div_ceil(chunksize);
        Arc::new(Batch {
            task,
            signature,
            len,
            chunksize,
            state: Mutex::new(State {
                chunks: (0..chunks).map(|_| None).collect(),
                remaining: chunks,
                finished: VecDeque::new(),
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

    /// The signature of the call's task handle, e.g. `(u64, u64) -> PiEstimate`.
    pub(crate) fn signature(&self) -> &str {
        &self.signature
    }

    /// The number of chunks.
    pub(crate) fn chunks(&self) -> usize {
        self.len.div_ceil(self.chunksize)
    }

    /// The tasks of chunk `index`: `(first, count)`.
    pub(crate) fn range(&self, index: usize) -> (usize, usize) {
        let first = index * self.chunksize;
        (first, self.chunksize.min(self.len.saturating_sub(first)))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the outcome of chunk `index` (an outcome already recorded is kept).
    pub(crate) fn complete(&self, index: usize, outcome: ChunkOutcome) {
        let failed = outcome.any_failed();
        let lost = matches!(&outcome, ChunkOutcome::Failed(errors) if errors.iter().any(is_lost));
        let mut state = self.lock();
        if index < state.chunks.len() && state.chunks[index].is_none() {
            state.failed |= failed;
            state.lost |= lost;
            state.chunks[index] = Some(outcome);
            state.remaining -= 1;
            state.finished.push_back(index);
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Waits until `done(state)` or `deadline`; `None` on timeout.
    fn wait_until(
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

    fn timeout(&self, after: Duration, state_hint: &str) -> PoolError {
        PoolError::Timeout {
            what: format!("waiting for {} ({state_hint})", self.task),
            after,
        }
    }

    /// The tasks of the chunks not finished yet.
    fn tasks_running(&self, state: &State) -> usize {
        (0..state.chunks.len())
            .filter(|&i| state.chunks[i].is_none())
            .map(|i| self.range(i).1)
            .sum()
    }

    /// The outcomes of chunk `index`, decoded as `R`.
    fn decode<R: 'static>(
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
                .map(|(k, o)| {
                    o.map_err(|f| task_error(&self.task, &self.signature, first + k, &who, f))
                })
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
fn is_lost(e: &PoolError) -> bool {
    matches!(e, PoolError::WorkerDied { .. })
}

fn deadline(timeout: Duration) -> Instant {
    crate::process::sys::deadline(timeout)
}

/// What turns a finished batch into the call's result.
type Finish<T> = Box<dyn Fn(&Batch, Vec<ChunkOutcome>) -> Result<T, PoolError> + Send + Sync>;

/// The result of an `apply_async` or `map_async` call, to come: Python's `AsyncResult`.
///
/// [`get`](AsyncResult::get) waits with a timeout; [`ready`](AsyncResult::ready) and
/// [`wait`](AsyncResult::wait) do not take the value. Dropping it does not cancel the tasks.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::pool::{Pool, ThreadPool};
/// use parlab::process::tasks;
/// let threads = ThreadPool::new(1)?;
/// let slow = threads.apply_async(tasks::SLEEP, &200)?;
/// assert!(!slow.ready());
/// assert!(slow.get(Duration::from_millis(10)).is_err()); // a timeout: ask again later
/// slow.get(Duration::from_secs(5))?;
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[must_use = "the tasks run anyway; call get() to see their results or errors"]
pub struct AsyncResult<T> {
    batch: Arc<Batch>,
    finish: Finish<T>,
}

impl<T> std::fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.batch.lock();
        f.debug_struct("AsyncResult")
            .field("task", &self.batch.task)
            .field("tasks", &self.batch.len)
            .field("running", &self.batch.tasks_running(&state))
            .finish()
    }
}

impl<R: 'static> AsyncResult<R> {
    /// The result of a single task (`apply_async`, `apply_fn_async`).
    pub(crate) fn one(batch: Arc<Batch>, from_bytes: FromBytes<R>) -> Self {
        AsyncResult {
            batch,
            finish: Box::new(move |batch, chunks| {
                let outcome = chunks
                    .into_iter()
                    .next()
                    .ok_or_else(|| PoolError::Invalid("no task in this result".into()))?;
                batch
                    .decode(0, outcome, from_bytes)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| Err(PoolError::Invalid("no task in this result".into())))
            }),
        }
    }
}

impl<R: 'static> AsyncResult<Vec<R>> {
    /// The results of every task, in order (`map_async`, `map_fn`).
    pub(crate) fn all(batch: Arc<Batch>, from_bytes: FromBytes<R>) -> Self {
        AsyncResult {
            batch,
            finish: Box::new(move |batch, chunks| {
                let mut all = Vec::with_capacity(batch.len);
                for (index, outcome) in chunks.into_iter().enumerate() {
                    for outcome in batch.decode(index, outcome, from_bytes) {
                        all.push(outcome?);
                    }
                }
                Ok(all)
            }),
        }
    }
}

impl<T> AsyncResult<T> {
    /// The batch behind it, for an [`Imap`].
    pub(crate) fn into_batch(self) -> Arc<Batch> {
        self.batch
    }

    /// Waits at most `timeout` for every task, then returns the result (once: it is moved out).
    ///
    /// # Errors
    /// [`PoolError::Timeout`] (the tasks keep running: call `get` again),
    /// [`PoolError::WorkerDied`] as soon as a worker dies running one of the tasks (the others run
    /// on), else the first task error by index once all have finished, [`PoolError::Invalid`] if an earlier `get` took the result.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// use parlab::process::tasks;
    /// let threads = ThreadPool::new(2)?;
    /// let r = threads.map_async(tasks::echo(), [1u8, 2], None)?;
    /// assert_eq!(r.get(Duration::from_secs(5))?, [1, 2]);
    /// assert!(r.get(Duration::from_secs(5)).is_err()); // already taken
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn get(&self, timeout: Duration) -> Result<T, PoolError> {
        let Some(mut state) = self
            .batch
            .wait_until(deadline(timeout), |s| s.remaining == 0 || s.lost)
        else {
            let state = self.batch.lock();
            let hint = format!(
                "{} of {} tasks still running",
                self.batch.tasks_running(&state),
                self.batch.len
            );
            return Err(self.batch.timeout(timeout, &hint));
        };
        if state.taken {
            return Err(PoolError::Invalid(
                "the result was already taken by an earlier get()".into(),
            ));
        }
        state.taken = true;
        if state.remaining > 0 {
            // A worker died: say so now rather than after the other tasks (they run on).
            let lost = state.chunks.iter_mut().find_map(|slot| match slot {
                Some(ChunkOutcome::Failed(errors)) if errors.iter().any(is_lost) => {
                    let errors = std::mem::take(errors);
                    errors.into_iter().find(is_lost)
                }
                _ => None,
            });
            return Err(lost.unwrap_or_else(|| PoolError::Invalid("a result went missing".into())));
        }
        let mut chunks = Vec::with_capacity(state.chunks.len());
        for slot in state.chunks.iter_mut() {
            match slot.take() {
                Some(outcome) => chunks.push(outcome),
                None => return Err(PoolError::Invalid("a result went missing".into())),
            }
        }
        drop(state);
        (self.finish)(&self.batch, chunks)
    }

    /// Whether every task has finished (Python's `ready()`).
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async(parlab::process::tasks::PID, &())?;
    /// r.wait(std::time::Duration::from_secs(5));
    /// assert!(r.ready());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn ready(&self) -> bool {
        self.batch.lock().remaining == 0
    }

    /// Waits at most `timeout` for every task to finish; returns whether they have.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async(parlab::process::tasks::SLEEP, &50)?;
    /// assert!(r.wait(std::time::Duration::from_secs(5)));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn wait(&self, timeout: Duration) -> bool {
        self.batch
            .wait_until(deadline(timeout), |s| s.remaining == 0)
            .is_some()
    }

    /// `Some(true)` if every task succeeded, `Some(false)` if one failed, `None` while some run.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async(parlab::process::tasks::PANIC, &"no".into())?;
    /// r.wait(std::time::Duration::from_secs(5));
    /// assert_eq!(r.successful(), Some(false));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn successful(&self) -> Option<bool> {
        let state = self.batch.lock();
        (state.remaining == 0).then_some(!state.failed)
    }
}

/// The outcomes of an `imap` or `imap_unordered` call, as they become available.
///
/// Each item is one task's `Result`. [`Iterator::next`] waits at most the pool's timeout; after a
/// timeout it yields that error and then ends. [`Imap::next_timeout`] waits as long as you say and
/// can be called again after a timeout. Unordered, the tasks of one chunk come together, in order.
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, ThreadPool};
/// let threads = ThreadPool::new(2)?;
/// for outcome in threads.imap(parlab::process::tasks::echo(), [1u8, 2, 3], None)? {
///     println!("{}", outcome?);
/// }
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[must_use = "iterate it to get the results"]
pub struct Imap<R> {
    batch: Arc<Batch>,
    unordered: bool,
    timeout: Duration,
    from_bytes: FromBytes<R>,
    /// Decoded outcomes of the chunk being handed out.
    ready: VecDeque<Result<R, PoolError>>,
    /// Chunks taken from the batch so far.
    taken: usize,
    ended: bool,
}

impl<R> std::fmt::Debug for Imap<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("task", &self.batch.task)
            .field("unordered", &self.unordered)
            .field("chunks_taken", &self.taken)
            .finish()
    }
}

impl<R: 'static> Imap<R> {
    pub(crate) fn new(
        batch: Arc<Batch>,
        unordered: bool,
        timeout: Duration,
        from_bytes: FromBytes<R>,
    ) -> Self {
        Imap {
            batch,
            unordered,
            timeout,
            from_bytes,
            ready: VecDeque::new(),
            taken: 0,
            ended: false,
        }
    }

    /// The next outcome, waiting at most `timeout`; `None` once every task's outcome was given.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, PoolError, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// let mut it = threads.imap(parlab::process::tasks::SLEEP, [300], None)?;
    /// assert!(matches!(it.next_timeout(Duration::from_millis(10)), Some(Err(PoolError::Timeout { .. }))));
    /// assert!(matches!(it.next_timeout(Duration::from_secs(5)), Some(Ok(()))));
    /// assert!(it.next_timeout(Duration::from_secs(5)).is_none());
    /// # Ok::<(), PoolError>(())
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        if let Some(outcome) = self.ready.pop_front() {
            return Some(outcome);
        }
        if self.taken >= self.batch.chunks() {
            return None;
        }
        let (index, outcome) = if self.unordered {
            let Some(mut state) = self
                .batch
                .wait_until(deadline(timeout), |s| !s.finished.is_empty())
            else {
                return Some(Err(self.batch.timeout(timeout, "the next task to finish")));
            };
            let i = state.finished.pop_front()?;
            (i, state.chunks[i].take())
        } else {
            let i = self.taken;
            let Some(mut state) = self
                .batch
                .wait_until(deadline(timeout), |s| s.chunks[i].is_some())
            else {
                let first = self.batch.range(i).0;
                return Some(Err(self.batch.timeout(timeout, &format!("task {first}"))));
            };
            (i, state.chunks[i].take())
        };
        self.taken += 1;
        match outcome {
            Some(outcome) => self
                .ready
                .extend(self.batch.decode(index, outcome, self.from_bytes)),
            None => self
                .ready
                .push_back(Err(PoolError::Invalid("a result went missing".into()))),
        }
        self.ready.pop_front()
    }
}

impl<R: 'static> Iterator for Imap<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let next = self.next_timeout(self.timeout);
        if matches!(next, Some(Err(PoolError::Timeout { .. })) | None) {
            self.ended = true;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::tasks::decode_outcomes;

    /// A worker's answer: one `Ok(value)` outcome per value.
    fn encoded<T: serde::Serialize>(values: &[T]) -> ChunkOutcome {
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

    fn batch(len: usize, chunksize: usize) -> Arc<Batch> {
        Batch::new("echo".into(), "T -> T".into(), len, chunksize)
    }

    #[test]
    fn get_waits_then_takes_once() {
        let b = batch(3, 2);
        let r = AsyncResult::<Vec<u32>>::all(Arc::clone(&b), decode_outcomes::<u32>);
        assert!(!r.ready());
        assert_eq!(r.successful(), None);
        let e = r.get(Duration::from_millis(5)).unwrap_err();
        assert!(e.to_string().contains("3 of 3 tasks still running"), "{e}");
        b.complete(1, encoded(&[30u32]));
        b.complete(0, encoded(&[10u32, 20]));
        assert_eq!(r.successful(), Some(true));
        assert_eq!(r.get(Duration::from_secs(1)).unwrap(), [10, 20, 30]);
        assert!(matches!(
            r.get(Duration::from_secs(1)),
            Err(PoolError::Invalid(_))
        ));
    }

    #[test]
    fn first_error_by_index_and_wrong_types() {
        let b = batch(3, 1);
        let r = AsyncResult::<Vec<u8>>::all(Arc::clone(&b), decode_outcomes::<u8>);
        for i in [1, 2] {
            b.complete(
                i,
                ChunkOutcome::Failed(vec![PoolError::Terminated {
                    index: i,
                    task: "echo".into(),
                }]),
            );
        }
        b.complete(0, encoded(&["not a u8"]));
        assert_eq!(r.successful(), Some(false));
        let e = r.get(Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.index(), Some(0));
        assert!(e.to_string().contains("does not decode as a u8"), "{e}");
        let b = batch(1, 1);
        let r = AsyncResult::<u8>::one(Arc::clone(&b), no_bytes::<u8>);
        b.complete(0, ChunkOutcome::Values(vec![Ok(Box::new("text"))]));
        assert!(r.get(Duration::from_secs(1)).is_err());
    }

    #[test]
    fn imap_in_order_and_unordered() {
        let b = batch(3, 2);
        b.complete(1, encoded(&[3u8]));
        let mut ordered = Imap::<u8>::new(
            Arc::clone(&b),
            false,
            Duration::from_millis(5),
            decode_outcomes::<u8>,
        );
        assert!(matches!(
            ordered.next_timeout(Duration::from_millis(1)),
            Some(Err(PoolError::Timeout { .. }))
        ));
        b.complete(0, encoded(&[1u8, 2]));
        let got: Vec<u8> = ordered.map(Result::unwrap).collect();
        assert_eq!(got, [1, 2, 3]);

        let b = batch(3, 2);
        b.complete(1, encoded(&[3u8]));
        b.complete(0, encoded(&[1u8, 2]));
        let got: Vec<u8> = Imap::<u8>::new(b, true, Duration::from_secs(1), decode_outcomes::<u8>)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, [3, 1, 2]);
    }

    #[test]
    fn iterator_ends_after_a_timeout() {
        let b = batch(2, 1);
        let mut it = Imap::<u8>::new(b, false, Duration::from_millis(1), decode_outcomes::<u8>);
        assert!(matches!(it.next(), Some(Err(PoolError::Timeout { .. }))));
        assert!(it.next().is_none());
    }
}
