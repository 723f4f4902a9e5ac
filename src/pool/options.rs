//! How to build a pool: [`PoolOptions`], and the limits and defaults they are checked against.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::PoolError;
use super::record::Recorder;
use super::worker::Call;
use crate::process::{AsTask, Output, items};
use crate::timeline::Timeline;

/// The most workers a pool may have.
///
/// # Examples
/// ```
/// assert!(parlab::pool::ThreadPool::new(parlab::pool::MAX_WORKERS + 1).is_err());
/// ```
pub const MAX_WORKERS: usize = 1024;

/// How long blocking calls (`apply`, `map`, iterating an [`Imap`](super::Imap)) wait by default.
///
/// # Examples
/// ```
/// use parlab::pool::{DEFAULT_TIMEOUT, Pool, ThreadPool};
/// assert_eq!(ThreadPool::new(1)?.timeout(), DEFAULT_TIMEOUT); // 60 s
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

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
    pub(super) workers: usize,
    initializer: Option<Result<Call, String>>,
    pub(super) max_tasks_per_child: Option<usize>,
    pub(super) timeout: Duration,
    pub(super) worker_binary: Option<PathBuf>,
    pub(super) output: Output,
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
            items::push_encoded(&mut run, args)
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
    pub(super) fn recorder(&self, prefix: &str) -> Option<Recorder> {
        let tl = self.timeline.as_ref()?;
        Some(Recorder::new(tl, prefix, self.workers))
    }

    /// How long starting the workers (and their initializer) may take, all together: the
    /// timeout, but at least [`MIN_START_WAIT`].
    pub(super) fn start_wait(&self) -> Duration {
        self.timeout.max(MIN_START_WAIT)
    }

    /// Waits for the `workers` workers to say they started, all together at most
    /// [`start_wait`](PoolOptions::start_wait); the first failure, or a timeout naming `what`,
    /// is the error.
    pub(super) fn wait_started(
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
    pub(super) fn check(&self) -> Result<Option<Call>, PoolError> {
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

/// Checks a worker count.
fn check_workers(workers: usize) -> Result<(), PoolError> {
    if workers == 0 || workers > MAX_WORKERS {
        return Err(PoolError::Invalid(format!(
            "a pool has 1 to {MAX_WORKERS} workers, not {workers}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::tasks;

    #[test]
    fn options_are_checked() {
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
}
