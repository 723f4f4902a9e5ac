//! Pools: a process pool and a thread pool with Python's `multiprocessing.Pool` API.
//!
//! - [`ProcessPool`]: long-lived worker processes (the `parlab-worker` binary, started with
//!   `--pool`), each running many typed tasks ([`tasks`],
//!   [`cell_task!`](crate::cell_task)).
//! - [`ThreadPool`]: threads in this process running the same typed tasks (and closures).
//! - [`Pool`]: the trait both implement: `apply`, `map`, `starmap`, `imap`, `imap_unordered`, their
//!   `_async` forms, `close`, `join`, `terminate`. Swap one pool for the other in one line.
//! - [`AsyncResult`] and [`Imap`]: results to come; every wait for them takes a timeout.
//! - [`PoolOptions`]: workers, an initializer, max tasks per child, the timeout of blocking calls,
//!   a [`Timeline`] to record who ran when.
//! - [`PoolError`]: what went wrong, naming the task's index: a panic, a worker that died (it is
//!   replaced), a timeout, a closed or terminated pool, bad input.
//! - [`serve_pool`]: the loop a pool worker process runs.
//! - [`crossover`]: the lesson's exercise: four calc_pi tasks in five ways over sample sizes.
//!
//! Unlike Python's `Pool`, a worker that dies (a panic that aborts, `SIGKILL`) never leaves a call
//! waiting forever: the call gets an error naming what happened, and a new worker takes its place.
//!
//! # Examples
//! ```no_run
//! use parlab::pool::{Pool, PoolError, ProcessPool, ThreadPool};
//! use parlab::process::tasks;
//!
//! let workers = ProcessPool::new(2)?; // or: ThreadPool::new(2)?
//! let one = workers.apply(tasks::CALC_PI, &(1_000_000, 1))?; // a PiEstimate
//! let four = workers.starmap(tasks::CALC_PI, (1..=4).map(|seed| (1_000_000, seed)), None)?;
//! assert_eq!(four.len(), 4);
//! workers.close();
//! workers.join(std::time::Duration::from_secs(5))?;
//! # Ok::<(), PoolError>(())
//! ```

#[cfg(unix)]
mod arrival_check;
mod batch;
pub mod crossover;
mod imap;
mod jobs;
#[cfg(unix)]
mod process_pool;
// Windows has no process pool: what only it records is unused there.
#[cfg_attr(not(unix), allow(dead_code))]
mod record;
mod result;
mod thread_pool;
// Windows: a `ProcessPool` whose constructors return an error that names WSL.
#[cfg(not(unix))]
mod unsupported;
#[cfg_attr(not(unix), allow(dead_code, unused_imports))]
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::process::tasks::{self, TaskFailure, decode_outcomes};
use crate::process::{AsTask, Output, ProcessError, Task, Types, items};
use crate::timeline::Timeline;

#[cfg(unix)]
pub use arrival_check::check_arrival_order;
pub use imap::Imap;
#[cfg(unix)]
pub use process_pool::ProcessPool;
pub use result::AsyncResult;
pub use thread_pool::ThreadPool;
#[cfg(not(unix))]
pub use unsupported::ProcessPool;
pub use worker::{POOL_ARG, serve_pool};

use batch::Batch;
use jobs::{Chunk, JobQueue, Work};
use worker::Call;

/// The most workers a pool may have.
///
/// # Examples
/// ```
/// assert!(parlab::pool::ThreadPool::new(parlab::pool::MAX_WORKERS + 1).is_err());
/// ```
pub const MAX_WORKERS: usize = 1024;

/// How long blocking calls (`apply`, `map`, iterating an [`Imap`]) wait by default.
///
/// # Examples
/// ```
/// assert_eq!(parlab::pool::DEFAULT_TIMEOUT.as_secs(), 60);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong in a pool: bad input, a closed pool, a timeout, or a task that failed.
///
/// A task's error names its index (its position in `map`'s input; 0 for `apply`) and its task.
///
/// # Examples
/// ```
/// use parlab::pool::PoolError;
/// let e = PoolError::Panicked { index: 3, task: "calc_pi".into(), worker: "worker process 42".into(), message: "boom".into() };
/// assert_eq!(e.to_string(), "task 3 (calc_pi) panicked in worker process 42: boom");
/// assert_eq!(e.index(), Some(3));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// A bad argument: 0 workers, a chunk size of 0, `join` before `close`.
    #[error("{0}")]
    Invalid(String),
    /// A task was submitted after `close` or `terminate`.
    #[error("the pool is closed: no new tasks after close() or terminate()")]
    Closed,
    /// The pool was terminated before the task finished.
    #[error("task {index} ({task}) did not finish: the pool was terminated")]
    Terminated {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
    },
    /// Nothing arrived in time (the task keeps running; ask again or terminate the pool).
    #[error("{what}: nothing within {:.3} s", after.as_secs_f64())]
    Timeout {
        /// What was waited for.
        what: String,
        /// The timeout.
        after: Duration,
    },
    /// The task panicked; the worker lives on.
    #[error("task {index} ({task}) panicked in {worker}: {message}")]
    Panicked {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
        /// Which worker, e.g. `worker process 4242` or `worker thread 2`.
        worker: String,
        /// The panic message, and where it happened when known.
        message: String,
    },
    /// The worker process running the task died (abort, a signal, an exit); the cause says whether
    /// a new one replaced it.
    #[error("task {index} ({task}) was lost: {cause}")]
    WorkerDied {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
        /// How the worker ended and what followed, e.g. `worker 4242 was killed by SIGKILL; a new
        /// worker took its place`.
        cause: String,
    },
    /// The task could not run or its result is unusable: an unknown task, arguments of the wrong
    /// type, a result that is not the type asked for.
    #[error("task {index} ({task}) failed: {message}")]
    Failed {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// A worker could not be started (the binary is missing, the system refused, the initializer
    /// failed).
    #[error("could not start a pool worker: {0}")]
    Start(String),
}

impl PoolError {
    /// The index of the task the error is about, if it is about one.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::pool::PoolError::Closed.index(), None);
    /// ```
    pub fn index(&self) -> Option<usize> {
        match self {
            PoolError::Terminated { index, .. }
            | PoolError::Panicked { index, .. }
            | PoolError::WorkerDied { index, .. }
            | PoolError::Failed { index, .. } => Some(*index),
            _ => None,
        }
    }
}

/// Bad samples or estimates (0 samples, no estimates to combine) in code that runs pool tasks.
impl From<crate::pi::PiError> for PoolError {
    fn from(e: crate::pi::PiError) -> Self {
        PoolError::Invalid(e.to_string())
    }
}

impl From<ProcessError> for PoolError {
    fn from(e: ProcessError) -> Self {
        PoolError::Start(e.to_string())
    }
}

/// Turns a task's failure into the error of task `index` of `task` (whose handle has `types`;
/// none for a closure), run by `worker`.
pub(crate) fn task_error(
    task: &str,
    types: Option<Types>,
    index: usize,
    worker: &str,
    failure: TaskFailure,
) -> PoolError {
    let failed = |message| PoolError::Failed {
        index,
        task: task.to_string(),
        message,
    };
    match failure {
        TaskFailure::Panicked(message) => PoolError::Panicked {
            index,
            task: task.to_string(),
            worker: worker.to_string(),
            message,
        },
        TaskFailure::UnknownTask { name, known } => failed(format!(
            "unknown task `{name}`; known tasks: {}",
            known.join(", ")
        )),
        TaskFailure::WrongSignature { worker, shapes, .. } => failed(format!(
            "the task takes {worker} in the worker, but the handle used here says {}{}: {}",
            types.map_or_else(|| "?".into(), |t| t.text()),
            types
                .map(|t| t.differences_clause(shapes.as_deref()))
                .unwrap_or_default(),
            crate::process::WRONG_SIGNATURE_HINT
        )),
        TaskFailure::Unavailable {
            task: name,
            message,
        } => failed(format!("task `{name}` cannot run: {message}")),
        TaskFailure::BadArgs {
            task: name,
            message,
        } => {
            let takes = tasks::TASKS
                .iter()
                .find(|t| t.name == name)
                .map(|t| format!(" (it takes {})", t.signature()))
                .unwrap_or_default();
            failed(format!(
                "the arguments are not what the task takes{takes}: {message}"
            ))
        }
        TaskFailure::BadResult(message) => failed(format!("the result is unusable: {message}")),
    }
}

/// Encodes `items` into chunks of `chunksize`, each a run of items (see `process::items`), and
/// queues them on `jobs`; returns their batch.
fn submit_task<A, R>(
    jobs: &JobQueue,
    task: &Task<A, R>,
    args: &[A],
    chunksize: usize,
) -> Result<Arc<Batch>, PoolError>
where
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
{
    let chunksize = chunksize.max(1);
    let types = task.types();
    let signature = types.signature();
    let batch = Batch::new(
        task.name(),
        Some(types),
        args.len(),
        chunksize,
        jobs.recorder(),
    );
    let mut scratch = Vec::new();
    let mut chunks = Vec::with_capacity(batch.chunks());
    for (index, part) in args.chunks(chunksize).enumerate() {
        let mut run = Vec::with_capacity(part.len() * 10);
        for (k, arg) in part.iter().enumerate() {
            items::push_encoded(&mut run, arg, &mut scratch).map_err(|e| PoolError::Failed {
                index: index * chunksize + k,
                task: task.name(),
                message: format!("the arguments do not serialize: {e}"),
            })?;
        }
        chunks.push(Chunk {
            batch: Arc::clone(&batch),
            index,
            work: Work::Task {
                task: task.id().clone(),
                signature,
                args: run,
            },
        });
    }
    jobs.submit(chunks)?;
    Ok(batch)
}

/// Python's default chunk size for `map`: `len / (4 * workers)`, rounded up (at least 1).
///
/// # Examples
/// ```
/// use parlab::pool::default_chunksize;
/// assert_eq!(default_chunksize(100_000, 2), 12_500);
/// assert_eq!(default_chunksize(4, 2), 1);
/// assert_eq!(default_chunksize(9, 1), 3);
/// assert_eq!(default_chunksize(0, 2), 1);
/// ```
pub fn default_chunksize(len: usize, workers: usize) -> usize {
    len.div_ceil(4 * workers.max(1)).max(1)
}

/// The chunk size to use: the default for `None`, an error for `Some(0)`.
fn chunksize_for(chunksize: Option<usize>, len: usize, workers: usize) -> Result<usize, PoolError> {
    match chunksize {
        Some(0) => Err(PoolError::Invalid(
            "a chunk size of 0: use at least 1, or None for the default (len / (4 x workers), rounded up)"
                .into(),
        )),
        Some(n) => Ok(n),
        None => Ok(default_chunksize(len, workers)),
    }
}

/// Checks a worker count.
fn check_workers(workers: usize) -> Result<(), PoolError> {
    if workers == 0 || workers > MAX_WORKERS {
        return Err(PoolError::Invalid(format!(
            "a pool has 1 to {MAX_WORKERS} workers, not {workers}"
        )));
    }
    Ok(())
}

/// The least time a pool gives its workers to start (and run an initializer), whatever its
/// timeout: starting is not a call, and a short call timeout must not make it a race.
pub const MIN_START_WAIT: Duration = Duration::from_secs(10);

/// How to build a pool: workers, an initializer, max tasks per child, the timeout of blocking
/// calls, and (process pool) the worker binary and where its output goes.
///
/// # Examples
/// ```no_run
/// use std::time::Duration;
/// use parlab::pool::{PoolOptions, ProcessPool};
/// let opts = PoolOptions::new(2)
///     .initializer(parlab::process::tasks::PRINT, &vec!["worker ready".to_string()])
///     .max_tasks_per_child(100)
///     .timeout(Duration::from_secs(10));
/// let pool = ProcessPool::with_options(&opts)?;
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PoolOptions {
    workers: usize,
    initializer: Option<Result<Call, String>>,
    max_tasks_per_child: Option<usize>,
    timeout: Duration,
    worker_binary: Option<PathBuf>,
    output: Output,
    timeline: Option<Timeline>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl PoolOptions {
    /// Options for a pool of `workers` (checked when the pool is built).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::pool::PoolOptions::new(3).workers(), 3);
    /// ```
    pub fn new(workers: usize) -> Self {
        PoolOptions {
            workers,
            initializer: None,
            max_tasks_per_child: None,
            timeout: DEFAULT_TIMEOUT,
            worker_binary: None,
            output: Output::Forward,
            timeline: None,
        }
    }

    /// The number of workers.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::pool::PoolOptions::default().workers() >= 1); // one per core
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs task `task` on `args` in each worker when it starts, like Python's `initializer`.
    ///
    /// If it fails, building the pool fails (and a replacement worker whose initializer fails
    /// fails the task it was started for).
    ///
    /// # Examples
    /// ```
    /// use parlab::process::tasks;
    /// let opts = parlab::pool::PoolOptions::new(1).initializer(tasks::SLEEP, &10);
    /// # let _ = opts;
    /// ```
    #[must_use]
    pub fn initializer<A, R>(mut self, task: impl AsTask<A, R>, args: &A) -> Self
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        let task = task.as_task();
        let mut run = Vec::new();
        let types = task.types();
        self.initializer = Some(
            items::push_encoded(&mut run, args, &mut Vec::new())
                .map(|()| Call {
                    task: task.id().clone(),
                    signature: types.signature(),
                    args: run,
                    types: Some(types),
                })
                .map_err(|e| format!("the initializer's arguments do not serialize: {e}")),
        );
        self
    }

    /// Replaces a worker with a fresh one after it ran `n` tasks (a chunk of `map` counts as one,
    /// as in Python's `maxtasksperchild`).
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::pool::PoolOptions::new(2).max_tasks_per_child(1);
    /// # let _ = opts;
    /// ```
    #[must_use]
    pub fn max_tasks_per_child(mut self, n: usize) -> Self {
        self.max_tasks_per_child = Some(n);
        self
    }

    /// How long blocking calls wait (default [`DEFAULT_TIMEOUT`]); above zero. Starting the
    /// workers may take longer, up to [`MIN_START_WAIT`].
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::pool::PoolOptions::new(2).timeout(std::time::Duration::from_secs(5));
    /// # let _ = opts;
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Process pool: the worker binary (default [`worker_path`](crate::process::worker_path)).
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::pool::PoolOptions::new(2).worker_binary("target/release/parlab-worker");
    /// # let _ = opts;
    /// ```
    #[must_use]
    pub fn worker_binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.worker_binary = Some(path.into());
        self
    }

    /// Process pool: where the workers' stdout and stderr go (default: printed here, prefixed).
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::pool::PoolOptions::new(2).output(parlab::process::Output::Discard);
    /// # let _ = opts;
    /// ```
    #[must_use]
    pub fn output(mut self, output: Output) -> Self {
        self.output = output;
        self
    }

    /// Records who ran when on `timeline`: a lane `caller` with each call (from its submission to
    /// its last result; an `imap`'s waits for its next result), and a lane per worker slot
    /// (`worker 1`, ... for a process pool, `thread 1`, ... for a thread pool) with each worker's
    /// start (a replacement's too) and each chunk it ran, timed by the worker itself: a worker
    /// process reads the machine's monotonic clock, which the caller shares. A chunk whose worker
    /// died shows as cut off. Two pools of one kind on one timeline share their lanes.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, PoolOptions, ThreadPool};
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let threads = ThreadPool::with_options(&PoolOptions::new(2).timeline(&tl))?;
    /// threads.map(parlab::process::tasks::echo(), 0..8u64, Some(2))?;
    /// assert_eq!(tl.lanes(), ["caller", "thread 1", "thread 2"]);
    /// assert_eq!(tl.spans().iter().filter(|s| s.kind == Kind::Task).count(), 4);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    #[must_use]
    pub fn timeline(mut self, timeline: &Timeline) -> Self {
        self.timeline = Some(timeline.clone());
        self
    }

    /// The recorder of a pool built with these options, its worker lanes named `{prefix} N`.
    fn recorder(&self, prefix: &str) -> Option<record::Recorder> {
        let tl = self.timeline.as_ref()?;
        Some(record::Recorder::new(tl, prefix, self.workers))
    }

    /// How long starting the workers (and their initializer) may take, all together: the
    /// timeout, but at least [`MIN_START_WAIT`].
    fn start_wait(&self) -> Duration {
        self.timeout.max(MIN_START_WAIT)
    }

    /// Waits for the `workers` workers to say they started, all together at most
    /// [`start_wait`](PoolOptions::start_wait); the first failure, or a timeout naming `what`,
    /// is the error.
    fn wait_started(
        &self,
        ready: &std::sync::mpsc::Receiver<Result<(), PoolError>>,
        what: &str,
    ) -> Result<(), PoolError> {
        let wait = self.start_wait();
        let deadline = std::time::Instant::now() + wait;
        for _ in 0..self.workers {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match ready.recv_timeout(left) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(PoolError::Timeout {
                        what: what.into(),
                        after: wait,
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks the options; returns the initializer.
    fn check(&self) -> Result<Option<Call>, PoolError> {
        check_workers(self.workers)?;
        if self.timeout.is_zero() {
            return Err(PoolError::Invalid(
                "a timeout of 0: every call would give up before a task could run; give the \
                 longest a call may wait, such as `.timeout(Duration::from_secs(10))`"
                    .into(),
            ));
        }
        if self.max_tasks_per_child == Some(0) {
            return Err(PoolError::Invalid(
                "max tasks per child of 0: use at least 1 (or leave it unset)".into(),
            ));
        }
        match &self.initializer {
            None => Ok(None),
            Some(Ok(init)) => Ok(Some(init.clone())),
            Some(Err(e)) => Err(PoolError::Invalid(e.clone())),
        }
    }
}

mod sealed {
    /// What a pool gives the [`Pool`](super::Pool) trait's provided methods: its queue.
    pub trait Submit {
        /// Where the pool's chunks are queued.
        #[allow(private_interfaces)]
        fn jobs(&self) -> &std::sync::Arc<super::JobQueue>;
    }
}

/// Python's `Pool` API, implemented by [`ProcessPool`] and [`ThreadPool`].
///
/// Tasks are typed handles ([`tasks`], [`cell_task!`](crate::cell_task)):
/// the compiler checks each call's arguments against the task's types and infers the result, and
/// the worker checks the handle's signature again. Arguments and results travel serialized, so the
/// two pools are interchangeable. Blocking calls wait at most the pool's timeout
/// ([`PoolOptions::timeout`]). In Rust a task takes one argument, which may be a tuple, so
/// `starmap` is `map`; both exist so that Python code translates line by line.
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, PoolError, ThreadPool};
/// use parlab::process::tasks;
/// fn total_samples(pool: &impl Pool) -> Result<u64, PoolError> {
///     let results = pool.map(tasks::CALC_PI, (1..=4).map(|seed| (10_000, seed)), None)?;
///     Ok(results.iter().map(|r| r.samples).sum())
/// }
/// assert_eq!(total_samples(&ThreadPool::new(2)?)?, 40_000);
/// # Ok::<(), PoolError>(())
/// ```
pub trait Pool: sealed::Submit {
    /// The number of workers.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// assert_eq!(ThreadPool::new(3)?.workers(), 3);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn workers(&self) -> usize;

    /// How long blocking calls wait.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// assert_eq!(ThreadPool::new(1)?.timeout(), parlab::pool::DEFAULT_TIMEOUT);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn timeout(&self) -> Duration;

    /// Stops taking tasks; the workers finish the queued ones, then exit.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, PoolError, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// threads.close();
    /// assert!(matches!(threads.apply(parlab::process::tasks::SLEEP, &1), Err(PoolError::Closed)));
    /// # Ok::<(), PoolError>(())
    /// ```
    fn close(&self) {
        self.jobs().close();
    }

    /// Waits at most `timeout` for the workers to exit, after [`close`](Pool::close) or
    /// [`terminate`](Pool::terminate).
    ///
    /// # Errors
    /// [`PoolError::Invalid`] if the pool is still open, [`PoolError::Timeout`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// assert!(threads.join(Duration::from_secs(1)).is_err()); // still open
    /// threads.close();
    /// threads.join(Duration::from_secs(1))?;
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn join(&self, timeout: Duration) -> Result<(), PoolError> {
        self.jobs().join(timeout)
    }

    /// Stops at once: queued tasks fail with [`PoolError::Terminated`] now, worker processes are
    /// killed (threads cannot be: a running task finishes in the background). Dropping a pool
    /// terminates it.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// threads.terminate();
    /// threads.join(std::time::Duration::from_secs(1))?;
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn terminate(&self);

    /// Runs `task` on `args` in a worker; returns at once with a result to come.
    ///
    /// # Errors
    /// [`PoolError::Closed`] after close, [`PoolError::Failed`] if `args` does not serialize.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// use parlab::process::tasks;
    /// let threads = ThreadPool::new(2)?;
    /// let pending = threads.apply_async(tasks::SUM, &vec![1.0, 2.0])?;
    /// assert_eq!(pending.get(Duration::from_secs(5))?, 3.0);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn apply_async<A, R>(
        &self,
        task: impl AsTask<A, R>,
        args: &A,
    ) -> Result<AsyncResult<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        let batch = submit_task(self.jobs(), task.as_task(), std::slice::from_ref(args), 1)?;
        Ok(AsyncResult::one(batch, decode_outcomes::<R>))
    }

    /// Runs `task` on `args` in a worker and waits (at most the pool's timeout) for its result.
    ///
    /// # Errors
    /// As [`apply_async`](Pool::apply_async) and [`AsyncResult::get`]: the task's panic, its
    /// worker's death, a timeout.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// let est = threads.apply(parlab::process::tasks::CALC_PI, &(100_000, 1))?;
    /// assert_eq!(est.samples, 100_000);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn apply<A, R>(&self, task: impl AsTask<A, R>, args: &A) -> Result<R, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        self.apply_async(task, args)?.get(self.timeout())
    }

    /// Runs `task` on each item, in chunks of `chunksize` (`None`: `len / (4 x workers)`, rounded
    /// up); returns at once with the results to come, in input order.
    ///
    /// # Errors
    /// [`PoolError::Closed`], [`PoolError::Invalid`] for a chunk size of 0, [`PoolError::Failed`]
    /// if an item does not serialize.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let pending = threads.map_async(parlab::process::tasks::echo(), 0..10u64, Some(3))?;
    /// assert_eq!(pending.get(Duration::from_secs(5))?, (0..10).collect::<Vec<u64>>());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn map_async<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        let args: Vec<A> = items.into_iter().collect();
        let chunk = chunksize_for(chunksize, args.len(), self.workers())?;
        let batch = submit_task(self.jobs(), task.as_task(), &args, chunk)?;
        Ok(AsyncResult::all(batch, decode_outcomes::<R>))
    }

    /// Runs `task` on each item and waits for every result, in input order.
    ///
    /// # Errors
    /// As [`map_async`](Pool::map_async); if tasks fail, the error of the first failed one (by
    /// index), once all have finished; if a worker dies, [`PoolError::WorkerDied`] at once. Use [`imap`](Pool::imap) for each task's own outcome.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// use parlab::process::tasks;
    /// let threads = ThreadPool::new(2)?;
    /// assert_eq!(threads.map(tasks::echo(), [1u32, 4, 9], None)?, [1, 4, 9]);
    /// let e = threads.map(tasks::PANIC, ["no".to_string()], None).unwrap_err();
    /// assert_eq!(e.index(), Some(0));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn map<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        self.map_async(task, items, chunksize)?.get(self.timeout())
    }

    /// Python's `starmap_async`: each item is the task's (tuple of) arguments. The same as
    /// [`map_async`](Pool::map_async), since a Rust task takes one value and a tuple is one value.
    ///
    /// # Errors
    /// As [`map_async`](Pool::map_async).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let r = threads.starmap_async(parlab::process::tasks::CALC_PI, [(1000, 1), (2000, 2)], None)?;
    /// assert_eq!(r.get(Duration::from_secs(5))?[1].samples, 2000);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn starmap_async<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        self.map_async(task, items, chunksize)
    }

    /// Python's `starmap`: each item is the task's (tuple of) arguments; see
    /// [`starmap_async`](Pool::starmap_async).
    ///
    /// # Errors
    /// As [`map`](Pool::map).
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// // Python: pool.starmap(calc_pi, repeat((N, seed), 4))
    /// let r = threads.starmap(parlab::process::tasks::CALC_PI, std::iter::repeat((1000, 1)).take(4), None)?;
    /// assert_eq!(r.len(), 4);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn starmap<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        self.map(task, items, chunksize)
    }

    /// Runs `task` on each item; iterate the outcomes in input order as they become available.
    ///
    /// Each item of the iterator is that task's own `Result`. The input is read lazily, a few
    /// chunks ahead of the results taken (at most [`IMAP_WINDOW`] chunks per worker read and not
    /// yet handed out), so an endless input works with `take` and memory stays bounded. Chunks of
    /// `chunksize` tasks (`None`: as `map` for an input of known length, at most
    /// [`IMAP_MAX_DEFAULT_CHUNKSIZE`]; else 1). Iterating waits at most the pool's timeout per
    /// item (see [`Imap::next_timeout`]). Dropping the iterator early reads no more input and
    /// skips its queued chunks. Unlike Python, `close()` ends the input that was not read yet:
    /// each of those tasks still gets its own outcome, an error that says the pool was closed, so
    /// iterate before closing.
    ///
    /// # Errors
    /// [`PoolError::Closed`], [`PoolError::Invalid`] for a chunk size of 0 or in a forked child.
    /// An item that does not serialize fails the tasks of its chunk.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let words = ["a".to_string(), "b".to_string()];
    /// let outcomes: Vec<_> = threads.imap(parlab::process::tasks::PANIC, words, Some(1))?.collect();
    /// assert!(outcomes[1].as_ref().unwrap_err().to_string().starts_with("task 1 (panic) panicked"));
    /// // An endless input, read as the results are taken:
    /// let first: Vec<u64> = threads.imap(parlab::process::tasks::echo(), 0u64.., None)?.take(5).collect::<Result<_, _>>()?;
    /// assert_eq!(first, [0, 1, 2, 3, 4]);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn imap<'a, A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A, IntoIter: 'a>,
        chunksize: Option<usize>,
    ) -> Result<Imap<'a, R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        lazy_imap(self, task.as_task(), items.into_iter(), chunksize, false)
    }

    /// Like [`imap`](Pool::imap), but in the order the tasks finish.
    ///
    /// # Errors
    /// As [`imap`](Pool::imap).
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let done: Vec<u64> = threads.imap_unordered(parlab::process::tasks::echo(), [3u64, 1, 2], Some(1))?.collect::<Result<_, _>>()?;
    /// assert_eq!(done.len(), 3);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn imap_unordered<'a, A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A, IntoIter: 'a>,
        chunksize: Option<usize>,
    ) -> Result<Imap<'a, R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        lazy_imap(self, task.as_task(), items.into_iter(), chunksize, true)
    }
}

/// How many chunks per worker an [`Imap`] has read and not yet handed out, at most (queued,
/// running, or finished and waiting): it reads its input no further ahead.
///
/// # Examples
/// ```
/// assert_eq!(parlab::pool::IMAP_WINDOW, 4);
/// ```
pub const IMAP_WINDOW: usize = 4;

/// The largest chunk size `imap` picks by itself (`chunksize: None` for an input of known
/// length), so that a long range is read lazily too.
///
/// # Examples
/// ```
/// assert_eq!(parlab::pool::IMAP_MAX_DEFAULT_CHUNKSIZE, 64);
/// ```
pub const IMAP_MAX_DEFAULT_CHUNKSIZE: usize = 64;

/// The `imap` of `pool`: reads `items` chunk by chunk as the results are taken.
fn lazy_imap<'a, P, A, R, I>(
    pool: &P,
    task: &Task<A, R>,
    mut input: I,
    chunksize: Option<usize>,
    unordered: bool,
) -> Result<Imap<'a, R>, PoolError>
where
    P: Pool + ?Sized,
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
    I: Iterator<Item = A> + 'a,
{
    let chunksize = match (chunksize, input.size_hint()) {
        (Some(_), _) => chunksize_for(chunksize, 0, pool.workers())?,
        (None, (low, Some(high))) if low == high => {
            default_chunksize(high, pool.workers()).min(IMAP_MAX_DEFAULT_CHUNKSIZE)
        }
        (None, _) => 1, // Python's imap default: the length is not known
    };
    let jobs = std::sync::Arc::clone(pool.jobs());
    jobs.check_open()?;
    let name = task.name();
    let mut scratch = Vec::new();
    let mut first = 0usize;
    let feed: imap::Feed<'a> = Box::new(move || {
        let mut run = Vec::new();
        let mut count = 0usize;
        let mut bad = None;
        for arg in input.by_ref().take(chunksize) {
            if bad.is_none() {
                if let Err(e) = items::push_encoded(&mut run, &arg, &mut scratch) {
                    bad = Some(format!(
                        "the arguments of task {} do not serialize: {e}",
                        first + count
                    ));
                }
            }
            count += 1;
        }
        first += count;
        (count > 0).then(|| (bad.map_or(Ok(run), Err), count))
    });
    let window = IMAP_WINDOW * pool.workers().max(1);
    let task = imap::ImapTask {
        id: task.id().clone(),
        name,
        types: task.types(),
    };
    Ok(Imap::new(
        jobs,
        task,
        feed,
        window,
        unordered,
        pool.timeout(),
        decode_outcomes::<R>,
    ))
}

/// The resident memory of process `pid` in bytes (Linux: `VmRSS` in `/proc/PID/status`; macOS:
/// `proc_pidinfo`; elsewhere `None`).
///
/// # Examples
/// ```
/// if let Some(rss) = parlab::pool::resident_memory(std::process::id()) {
///     assert!(rss > 0);
/// }
/// ```
pub fn resident_memory(pid: u32) -> Option<u64> {
    crate::process::sys::resident_memory(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_and_options() {
        assert_eq!(default_chunksize(100_000, 2), 12_500);
        assert_eq!(default_chunksize(100_001, 2), 12_501);
        assert_eq!(default_chunksize(1, 8), 1);
        assert_eq!(chunksize_for(None, 10, 1).unwrap(), 3);
        assert_eq!(chunksize_for(Some(7), 10, 1).unwrap(), 7);
        let e = chunksize_for(Some(0), 10, 1).unwrap_err();
        assert!(e.to_string().contains("chunk size of 0"), "{e}");
        assert!(
            PoolOptions::new(0)
                .check()
                .unwrap_err()
                .to_string()
                .contains("not 0")
        );
        assert!(PoolOptions::new(MAX_WORKERS + 1).check().is_err());
        assert!(PoolOptions::new(1).max_tasks_per_child(0).check().is_err());
        let init = PoolOptions::new(1)
            .initializer(tasks::SLEEP, &1)
            .check()
            .unwrap()
            .unwrap();
        assert_eq!(&init.task, tasks::SLEEP.id());
    }

    #[test]
    fn task_errors_name_the_index_and_the_signature() {
        let e = task_error(
            "calc_pi",
            Some(tasks::CALC_PI.types()),
            5,
            "worker thread 1",
            TaskFailure::BadArgs {
                task: "calc_pi".into(),
                message: "unexpected end".into(),
            },
        );
        let text = e.to_string();
        assert!(text.starts_with("task 5 (calc_pi) failed"), "{text}");
        assert!(
            text.contains("(it takes (u64, u64) -> PiEstimate)"),
            "{text}"
        );
        let e = task_error(
            "calc_pi",
            Some(Types::of::<(i32, i32), crate::pi::PiEstimate>()),
            0,
            "w",
            TaskFailure::WrongSignature {
                task: "calc_pi".into(),
                worker: "(u64, u64) -> PiEstimate".into(),
                shapes: Some(Box::new(tasks::CALC_PI.types().shapes())),
            },
        );
        assert!(
            e.to_string().contains(
                "takes (u64, u64) -> PiEstimate in the worker, but the handle used here says \
                 (i32, i32) -> PiEstimate (field 0: u64 in the worker, i32 here; field 1: u64 in \
                 the worker, i32 here)"
            ),
            "{e}"
        );
        let e = task_error(
            "x",
            None,
            0,
            "w",
            TaskFailure::UnknownTask {
                name: "x".into(),
                known: vec!["a".into()],
            },
        );
        assert!(e.to_string().contains("known tasks: a"));
        assert_eq!(e.index(), Some(0));
    }

    #[test]
    fn resident_memory_of_this_process() {
        if cfg!(target_os = "linux") {
            let rss = resident_memory(std::process::id()).unwrap();
            assert!(rss > 100 * 1024, "{rss}");
        }
        assert_eq!(resident_memory(u32::MAX), None);
    }
}
