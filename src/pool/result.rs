//! Results to come: the outcomes of one call, chunk by chunk, filled in by the workers, and the
//! handles that wait for them ([`AsyncResult`], [`Imap`]).
//!
//! A worker answers a chunk with one run of encoded outcomes; they stay encoded until the caller
//! asks for them, and are then decoded as the call's result type, strictly.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam::channel::{self, Receiver, Sender};

use super::jobs::{Chunk, JobQueue, Value, Work};
use super::record::{CallSpan, Recorder};
use super::{PoolError, task_error};
use crate::process::tasks::TaskFailure;
use crate::process::{TaskId, Types, items};

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
    /// The handle's types, for errors (none for a closure).
    types: Option<Types>,
    len: usize,
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

struct State {
    chunks: Vec<Option<ChunkOutcome>>,
    remaining: usize,
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
    fn at(
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

    fn lock(&self) -> MutexGuard<'_, State> {
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

/// Encodes the next chunk of an imap's input: the run of its arguments (or why one does not
/// serialize) and how many tasks it holds; `None` at the input's end.
pub(crate) type Feed<'a> = Box<dyn FnMut() -> Option<(Result<Vec<u8>, String>, usize)> + 'a>;

/// What an imap's chunks run.
#[derive(Debug)]
pub(crate) struct ImapTask {
    /// The task.
    pub(crate) id: TaskId,
    /// Its name, for errors.
    pub(crate) name: String,
    /// Its handle's types: their signature is checked by whoever runs it.
    pub(crate) types: Types,
}

/// The outcomes of an `imap` or `imap_unordered` call, as they become available.
///
/// Each item is one task's `Result`. The input is read lazily, chunk by chunk: at most
/// [`IMAP_WINDOW`](super::IMAP_WINDOW) chunks per worker are read and not yet handed out (queued,
/// running, or finished and waiting), so an endless input works with `take` and memory stays
/// bounded. [`Iterator::next`] waits at most the pool's timeout; after a timeout it yields that
/// error and then ends. [`Imap::next_timeout`] waits as long as you say and can be called again
/// after a timeout. Unordered, the tasks of one chunk come together, in order. Dropping it early
/// reads no more input; its queued chunks are not run (running ones finish in the background).
///
/// It borrows what its input borrows and is used on the thread that made it (it holds the input).
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
pub struct Imap<'a, R> {
    jobs: Arc<JobQueue>,
    task: ImapTask,
    /// The input, until it ends (or the pool refuses more).
    feed: Option<Feed<'a>>,
    /// The most chunks read and not yet handed out (the one in `ready` counts).
    window: usize,
    /// Chunks queued, running or finished but not yet taken, in input order, each a batch of its
    /// own, with its seq number.
    in_flight: VecDeque<(usize, Arc<Batch>)>,
    /// Tasks read from the input so far.
    read: usize,
    next_seq: usize,
    /// Seq numbers of finished chunks (unordered).
    done_tx: Sender<usize>,
    done_rx: Receiver<usize>,
    unordered: bool,
    timeout: Duration,
    from_bytes: FromBytes<R>,
    /// Decoded outcomes of the chunk being handed out.
    ready: VecDeque<Result<R, PoolError>>,
    ended: bool,
}

impl<R> std::fmt::Debug for Imap<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("task", &self.task.name)
            .field("unordered", &self.unordered)
            .field("tasks_read", &self.read)
            .field("chunks_in_flight", &self.in_flight.len())
            .finish()
    }
}

impl<'a, R: 'static> Imap<'a, R> {
    /// An imap of `task` over the chunks `feed` reads, at most `window` of them in flight; reads
    /// and queues the first ones now.
    pub(crate) fn new(
        jobs: Arc<JobQueue>,
        task: ImapTask,
        feed: Feed<'a>,
        window: usize,
        unordered: bool,
        timeout: Duration,
        from_bytes: FromBytes<R>,
    ) -> Self {
        let (done_tx, done_rx) = channel::unbounded();
        let mut imap = Imap {
            jobs,
            task,
            feed: Some(feed),
            window: window.max(1),
            in_flight: VecDeque::new(),
            read: 0,
            next_seq: 0,
            done_tx,
            done_rx,
            unordered,
            timeout,
            from_bytes,
            ready: VecDeque::new(),
            ended: false,
        };
        imap.top_up();
        imap
    }

    /// Reads and queues chunks of the input until the window is full or the input ends.
    fn top_up(&mut self) {
        let handing_out = usize::from(!self.ready.is_empty());
        while self.in_flight.len() + handing_out < self.window {
            let Some(feed) = self.feed.as_mut() else {
                return;
            };
            let Some((run, count)) = feed() else {
                self.feed = None;
                return;
            };
            let (seq, first) = (self.next_seq, self.read);
            self.next_seq += 1;
            self.read += count;
            let notify = self.unordered.then(|| (self.done_tx.clone(), seq));
            let batch = Batch::at(
                self.task.name.clone(),
                Some(self.task.types),
                count,
                count,
                first,
                notify,
                None,
            );
            self.in_flight.push_back((seq, Arc::clone(&batch)));
            let refused = match run {
                Ok(args) => {
                    let chunk = Chunk {
                        batch: Arc::clone(&batch),
                        index: 0,
                        work: Work::Task {
                            task: self.task.id.clone(),
                            signature: self.task.types.signature(),
                            args,
                        },
                    };
                    // A closed pool takes no more: every chunk read from here on fails, one
                    // outcome per input, so no input the imap took goes without one.
                    self.jobs.submit(vec![chunk]).err().map(|e| {
                        format!(
                            "{e}; an imap reads its input as it is iterated, so this task was not \
                             sent (iterate the imap before closing the pool)"
                        )
                    })
                }
                Err(message) => Some(message),
            };
            if let Some(message) = refused {
                let errors = (first..first + count)
                    .map(|index| PoolError::Failed {
                        index,
                        task: self.task.name.clone(),
                        message: message.clone(),
                    })
                    .collect();
                batch.complete(0, ChunkOutcome::Failed(errors));
            }
        }
    }

    /// Where in `in_flight` the next chunk to hand out is, once it has finished (by `deadline`).
    fn finished_chunk(&self, deadline: Instant, timeout: Duration) -> Result<usize, PoolError> {
        if !self.unordered {
            let batch = &self.in_flight[0].1;
            if batch
                .wait_until(deadline, |s| s.chunks[0].is_some())
                .is_none()
            {
                let first = batch.range(0).0;
                return Err(batch.timeout(timeout, &format!("task {first}")));
            }
            return Ok(0);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.done_rx.recv_timeout(left) {
                Ok(seq) => {
                    // A chunk handed out already cannot be told twice, but be sure.
                    if let Some(at) = self.in_flight.iter().position(|(s, _)| *s == seq) {
                        return Ok(at);
                    }
                }
                Err(_) => {
                    let running: usize = self.in_flight.iter().map(|(_, b)| b.len).sum();
                    let hint = format!("the next of {running} tasks sent to finish");
                    return Err(self.in_flight[0].1.timeout(timeout, &hint));
                }
            }
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
        let deadline = deadline(timeout);
        loop {
            if let Some(outcome) = self.ready.pop_front() {
                if self.ready.is_empty() {
                    self.top_up(); // that chunk is handed out: send the next
                }
                return Some(outcome);
            }
            self.top_up();
            if self.in_flight.is_empty() {
                return None;
            }
            let waiting = Instant::now();
            let at = match self.finished_chunk(deadline, timeout) {
                Ok(at) => at,
                Err(e) => return Some(Err(e)),
            };
            let (_, batch) = self.in_flight.remove(at)?;
            if let Some(recorder) = self.jobs.recorder() {
                let (first, count) = batch.range(0);
                let call = if self.unordered {
                    "imap_unordered"
                } else {
                    "imap"
                };
                let tasks = crate::timeline::tasks_label(&(first..first + count));
                recorder.waited(format!("{call}: waited for {tasks}"), waiting);
            }
            let outcome = batch.lock().chunks[0].take();
            match outcome {
                Some(outcome) => self.ready.extend(batch.decode(0, outcome, self.from_bytes)),
                None => self
                    .ready
                    .push_back(Err(PoolError::Invalid("a result went missing".into()))),
            }
        }
    }
}

impl<R: 'static> Iterator for Imap<'_, R> {
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

impl<R> Drop for Imap<'_, R> {
    /// Reads no more input; the chunks still queued are skipped by the workers.
    fn drop(&mut self) {
        for (_, batch) in &self.in_flight {
            batch.abandon();
        }
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
        Batch::new("echo".into(), None, len, chunksize, None)
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

    /// An imap over `values` (chunks of `chunksize`) on a queue with no workers: the test plays
    /// the worker. Counts how many input items were read.
    fn imap_on(
        jobs: &Arc<JobQueue>,
        values: Vec<u8>,
        chunksize: usize,
        unordered: bool,
        read: &std::rc::Rc<std::cell::Cell<usize>>,
    ) -> Imap<'static, u8> {
        let read = std::rc::Rc::clone(read);
        let mut input = values
            .into_iter()
            .inspect(move |_| read.set(read.get() + 1));
        let feed: Feed<'static> = Box::new(move || {
            let mut run = Vec::new();
            let mut n = 0;
            for v in input.by_ref().take(chunksize) {
                items::push_encoded(&mut run, &v, &mut Vec::new()).unwrap();
                n += 1;
            }
            (n > 0).then_some((Ok(run), n))
        });
        let task = crate::process::tasks::echo::<u8>();
        let it = ImapTask {
            id: task.id().clone(),
            name: task.name(),
            types: task.types(),
        };
        Imap::new(
            Arc::clone(jobs),
            it,
            feed,
            2,
            unordered,
            Duration::from_millis(5),
            decode_outcomes::<u8>,
        )
    }

    /// Answers the next queued chunk by echoing its arguments.
    fn answer(jobs: &JobQueue) -> usize {
        let chunk = jobs.next(Duration::from_secs(1)).unwrap();
        let Work::Task { args, .. } = &chunk.work else {
            panic!("a task")
        };
        let mut bytes = vec![9];
        for item in items::split(args) {
            let mut outcome = vec![0];
            outcome.extend_from_slice(item.unwrap());
            items::push(&mut bytes, &outcome);
        }
        let first = chunk.range().0;
        chunk.batch.complete(
            chunk.index,
            ChunkOutcome::Encoded {
                who: "w".into(),
                bytes,
                start: 1,
            },
        );
        first
    }

    #[test]
    fn imap_reads_its_input_a_window_ahead_in_order_and_unordered() {
        let jobs = Arc::new(JobQueue::new(None));
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut ordered = imap_on(&jobs, (0..10).collect(), 2, false, &read);
        assert_eq!(read.get(), 4, "two chunks of two read ahead, no more");
        assert!(matches!(
            ordered.next_timeout(Duration::from_millis(1)),
            Some(Err(PoolError::Timeout { .. }))
        ));
        assert_eq!(answer(&jobs), 0);
        assert_eq!(
            ordered
                .next_timeout(Duration::from_secs(1))
                .unwrap()
                .unwrap(),
            0
        );
        assert_eq!(read.get(), 4, "the first chunk is not handed out yet");
        assert_eq!(
            ordered
                .next_timeout(Duration::from_secs(1))
                .unwrap()
                .unwrap(),
            1
        );
        assert_eq!(read.get(), 6);
        let mut got = vec![0, 1];
        while got.len() < 10 {
            answer(&jobs);
            got.push(
                ordered
                    .next_timeout(Duration::from_secs(1))
                    .unwrap()
                    .unwrap(),
            );
            got.push(
                ordered
                    .next_timeout(Duration::from_secs(1))
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(got, (0..10).collect::<Vec<u8>>());
        assert!(ordered.next_timeout(Duration::from_secs(1)).is_none());

        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut any = imap_on(&jobs, (0..4).collect(), 2, true, &read);
        let (a, b) = (
            jobs.next(Duration::from_secs(1)).unwrap(),
            jobs.next(Duration::from_secs(1)).unwrap(),
        );
        let batch = Arc::clone(&b.batch);
        for _ in 0..2 {
            // A chunk recorded twice (a lost worker, then terminate) is handed out once.
            batch.complete(
                0,
                ChunkOutcome::Failed(vec![PoolError::Closed, PoolError::Closed]),
            );
        }
        assert!(
            matches!(any.next(), Some(Err(PoolError::Closed))),
            "the second chunk first"
        );
        assert!(matches!(any.next(), Some(Err(PoolError::Closed))));
        a.batch.complete(0, encoded(&[0u8, 1]));
        assert_eq!(any.next().unwrap().unwrap(), 0);
        assert_eq!(any.next().unwrap().unwrap(), 1);
        assert!(any.next().is_none(), "both chunks, each once");

        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut lost = imap_on(&jobs, (0..2).collect(), 1, true, &read);
        drop(jobs.next(Duration::from_secs(1)).unwrap()); // a chunk that never finishes
        assert!(matches!(lost.next(), Some(Err(PoolError::Timeout { .. }))));
        assert!(lost.next().is_none(), "ends after a timeout");
    }

    #[test]
    fn a_dropped_imap_reads_no_more_and_its_queued_chunks_are_skipped() {
        let jobs = Arc::new(JobQueue::new(None));
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut it = imap_on(&jobs, (0..100).collect(), 1, false, &read);
        answer(&jobs);
        assert_eq!(it.next().unwrap().unwrap(), 0);
        assert_eq!(read.get(), 3, "a window of two chunks ahead, no more");
        drop(it);
        assert_eq!(read.get(), 3);
        assert!(
            jobs.next(Duration::from_millis(20)).is_err(),
            "the dropped imap's queued chunks are not handed to a worker"
        );
        let mut again = imap_on(&jobs, vec![7], 1, false, &read);
        answer(&jobs);
        assert_eq!(again.next().unwrap().unwrap(), 7, "the queue serves on");
    }

    #[test]
    fn imap_after_close_fails_each_input_it_reads() {
        let jobs = Arc::new(JobQueue::new(None));
        jobs.close();
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let outcomes: Vec<_> = imap_on(&jobs, vec![1; 100], 1, false, &read).collect();
        assert_eq!(read.get(), 100);
        assert_eq!(outcomes.len(), 100, "one outcome per input");
        for (i, outcome) in outcomes.iter().enumerate() {
            let e = outcome.as_ref().unwrap_err();
            assert_eq!(e.index(), Some(i));
            assert!(e.to_string().contains("closed"), "{e}");
        }
    }
}
