//! The thread pool: threads in this process running the same typed tasks, and closures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossbeam::channel::RecvTimeoutError;

use super::api::{chunksize_for, sealed};
use super::batch::{Batch, ChunkOutcome, Value};
use super::error::task_error;
use super::jobs::{Chunk, ClosureChunk, JobQueue, Work};
use super::record::Recorder;
use super::result::AsyncResult;
use super::worker::{Call, run_initializer_here};
use super::{Pool, PoolError, PoolOptions};
use crate::process::tasks;

/// The task name that errors of closures carry.
const CLOSURE: &str = "closure";

/// How long an idle thread waits for a chunk before looking again (it also ends when the queue
/// closes, at once).
const IDLE_WAIT: Duration = Duration::from_secs(3600);

/// A pool of threads with Python's `Pool` API (Python's `multiprocessing.pool.ThreadPool`).
///
/// It runs the same typed tasks as [`ProcessPool`](super::ProcessPool), on the same serialized
/// arguments, so one can replace the other in one line; and it also runs closures
/// ([`apply_fn`](ThreadPool::apply_fn), [`map_fn`](ThreadPool::map_fn)). A task's panic is that
/// task's error. Threads cannot be killed: `terminate` fails the queued tasks at once, and a
/// running one finishes in the background. A task that aborts takes the whole process down,
/// unlike in a process pool.
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, ThreadPool};
/// let threads = ThreadPool::new(2)?;
/// let sums = threads.map(parlab::process::tasks::SUM, [vec![1.0, 2.0], vec![3.0]], None)?;
/// assert_eq!(sums, [3.0, 3.0]);
/// let lengths = threads.map_fn(|s: &str| s.len(), ["a", "bcd"], None)?;
/// assert_eq!(lengths, [1, 3]);
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping a pool terminates it"]
pub struct ThreadPool {
    shared: Arc<Shared>,
    workers: usize,
    timeout: Duration,
}

#[derive(Debug)]
struct Shared {
    jobs: Arc<JobQueue>,
    initializer: Option<Call>,
    max_tasks: Option<usize>,
    started: AtomicUsize,
}

impl Shared {
    /// Runs the initializer, if any, on this thread.
    fn initialize(&self, who: &str) -> Result<(), PoolError> {
        match self.initializer.as_ref() {
            None => Ok(()),
            Some(init) => match run_initializer_here(init) {
                None => Ok(()),
                Some(failure) => {
                    let e = task_error(&init.task.to_string(), init.types, 0, who, failure);
                    Err(PoolError::start_from("the initializer failed", e))
                }
            },
        }
    }

    /// Starts the worker thread of `slot` (`ready` hears whether its initializer worked).
    fn spawn(
        self: &Arc<Self>,
        slot: usize,
        ready: Option<mpsc::Sender<Result<(), PoolError>>>,
    ) -> Result<(), PoolError> {
        let live = self.jobs.enter();
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::clone(self);
        let began = Instant::now();
        std::thread::Builder::new()
            .name(format!("parlab-pool-{n}"))
            .spawn(move || {
                let _live = live;
                serve(&shared, Worker { n, slot, began }, ready);
            })
            .map(|_| ())
            .map_err(|e| PoolError::start_from("could not start a thread", e))
    }
}

/// A worker thread: its number (threads started so far), its slot, and when it was asked for.
struct Worker {
    n: usize,
    slot: usize,
    began: Instant,
}

/// A worker thread: runs chunks until the pool closes, or until it hands over to a fresh thread.
fn serve(shared: &Arc<Shared>, me: Worker, ready: Option<mpsc::Sender<Result<(), PoolError>>>) {
    crate::panics::quiet_this_thread(); // a task's panic is its error, not printed
    let Worker { n, slot, began } = me;
    let who = format!("worker thread {n}");
    let mut initialized = shared.initialize(&who);
    if let Some(rec) = shared.jobs.recorder() {
        let init = if shared.initializer.is_some() {
            ", initializer"
        } else {
            ""
        };
        let ok = initialized.is_ok();
        let label = if ok {
            format!("start thread {n}{init}")
        } else {
            format!("thread {n}: the initializer failed")
        };
        rec.started(slot, label, began, ok);
    }
    if let Some(ready) = ready {
        // A thread of a pool being built: a failed initializer fails the build, and the thread ends.
        if let Err(e) = initialized {
            let _ = ready.send(Err(e));
            return;
        }
        let _ = ready.send(Ok(()));
    }
    let mut chunks = 0usize;
    loop {
        let chunk = match shared.jobs.next(IDLE_WAIT) {
            Ok(chunk) => chunk,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if shared.jobs.terminated() {
            chunk.terminated();
            continue;
        }
        if initialized.is_err() {
            initialized = shared.initialize(&who); // a replacement whose initializer failed: retry
        }
        if let Err(e) = &initialized {
            let (message, task) = (
                format!("no worker to run it: {e}"),
                chunk.batch.task().to_string(),
            );
            chunk.fail(|index| PoolError::Failed {
                index,
                task: task.clone(),
                message: message.clone(),
            });
            continue;
        }
        run_chunk(chunk, &who, slot, shared.jobs.recorder());
        chunks += 1;
        if shared.max_tasks.is_some_and(|m| chunks >= m) && !shared.jobs.terminated() {
            if shared.spawn(slot, None).is_ok() {
                return; // a fresh thread takes over
            }
            chunks = 0;
        }
    }
}

/// Runs a chunk on this thread and records its outcomes (and its span, on a timeline).
fn run_chunk(chunk: Chunk, who: &str, slot: usize, recorder: Option<&Arc<Recorder>>) {
    let Chunk { batch, index, work } = chunk;
    let began = Instant::now();
    let outcome = match work {
        Work::Task {
            task,
            signature,
            args,
        } => {
            let (_, count) = batch.range(index);
            match tasks::run_chunk_here(&task, signature, &args, count) {
                Ok(bytes) => ChunkOutcome::Encoded {
                    who: Arc::from(who),
                    bytes: Arc::new(bytes),
                    start: 0,
                },
                Err(failure) => {
                    let (first, count) = batch.range(index);
                    ChunkOutcome::Failed(
                        (first..first + count)
                            .map(|i| {
                                task_error(batch.task(), batch.types(), i, who, failure.clone())
                            })
                            .collect(),
                    )
                }
            }
        }
        Work::Closure(f) => ChunkOutcome::Values(f(who)),
    };
    if let Some(rec) = recorder {
        let (first, count) = batch.range(index);
        rec.ran(slot, first..first + count, began);
    }
    batch.complete(index, outcome);
}

/// The outcome of call `index` of a closure: its value, or its panic.
fn outcome<R: Send + 'static>(
    index: usize,
    who: &str,
    result: Result<R, crate::panics::Caught>,
) -> Value {
    match result {
        Ok(r) => Ok(Box::new(r)),
        Err(caught) => Err(PoolError::Panicked {
            index,
            task: CLOSURE.into(),
            worker: who.to_string(),
            message: caught.to_string(),
        }),
    }
}

impl ThreadPool {
    /// A pool of `workers` threads, with default options.
    ///
    /// # Errors
    /// [`PoolError::Invalid`] for 0 workers, [`PoolError::Start`] if a thread cannot start.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::pool::ThreadPool::new(0).is_err());
    /// ```
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        Self::with_options(&PoolOptions::new(workers))
    }

    /// A pool built with [`PoolOptions`]; returns once every thread is ready.
    ///
    /// # Errors
    /// As [`ThreadPool::new`]; [`PoolError::Start`] if the initializer fails.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{PoolOptions, ThreadPool};
    /// use parlab::process::tasks;
    /// assert!(ThreadPool::with_options(&PoolOptions::new(2).initializer(tasks::PANIC, &"no".into())).is_err());
    /// ```
    pub fn with_options(opts: &PoolOptions) -> Result<Self, PoolError> {
        let initializer = opts.check()?;
        let shared = Arc::new(Shared {
            jobs: Arc::new(JobQueue::new(opts.recorder("thread"))),
            initializer,
            max_tasks: opts.max_tasks_per_child,
            started: AtomicUsize::new(0),
        });
        let pool = ThreadPool {
            shared: Arc::clone(&shared),
            workers: opts.workers,
            timeout: opts.timeout,
        };
        let (ready_tx, ready_rx) = mpsc::channel();
        for slot in 0..opts.workers {
            shared.spawn(slot, Some(ready_tx.clone()))?;
        }
        drop(ready_tx);
        opts.wait_started(&ready_rx, "starting the pool's threads")?;
        Ok(pool)
    }

    /// Runs the closure `f` on a pool thread; returns at once with its result to come.
    ///
    /// # Errors
    /// [`PoolError::Closed`] after close.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let threads = parlab::pool::ThreadPool::new(1)?;
    /// let data = vec![1, 2, 3];
    /// let r = threads.apply_fn_async(move || data.iter().sum::<i32>())?;
    /// assert_eq!(r.get(Duration::from_secs(5))?, 6);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn apply_fn_async<F, R>(&self, f: F) -> Result<AsyncResult<R>, PoolError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let batch = Batch::new(CLOSURE.into(), None, 1, 1, self.shared.jobs.recorder());
        let work: ClosureChunk =
            Box::new(move |who: &str| vec![outcome(0, who, crate::panics::catch_quietly(f))]);
        self.shared.jobs.submit(vec![Chunk {
            batch: Arc::clone(&batch),
            index: 0,
            work: Work::Closure(work),
        }])?;
        Ok(AsyncResult::one(batch, None))
    }

    /// Runs the closure `f` on a pool thread and waits (at most the pool's timeout) for its result.
    ///
    /// # Errors
    /// [`PoolError::Closed`], [`PoolError::Panicked`] if `f` panics, [`PoolError::Timeout`].
    ///
    /// # Examples
    /// ```
    /// let threads = parlab::pool::ThreadPool::new(1)?;
    /// assert_eq!(threads.apply_fn(|| 6 * 7)?, 42);
    /// let e = threads.apply_fn(|| -> u8 { panic!("no") }).unwrap_err();
    /// assert!(e.to_string().starts_with("task 0 (closure) panicked in worker thread"));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn apply_fn<F, R>(&self, f: F) -> Result<R, PoolError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.apply_fn_async(f)?.get(self.timeout)
    }

    /// Runs the closure `f` on each item, in chunks (`None`: `len / (4 x workers)`, rounded up),
    /// and waits for every result, in input order.
    ///
    /// # Errors
    /// [`PoolError::Closed`], [`PoolError::Invalid`] for a chunk size of 0, the first task error
    /// by index, [`PoolError::Timeout`].
    ///
    /// # Examples
    /// ```
    /// let threads = parlab::pool::ThreadPool::new(2)?;
    /// let pis = threads.map_fn(|n| parlab::pi::calc_pi(n, 1).map(|e| e.samples), [1000u64, 2000], None)?;
    /// assert_eq!(pis, [Ok(1000), Ok(2000)]);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn map_fn<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Send + 'static,
        R: Send + 'static,
    {
        let items: Vec<A> = items.into_iter().collect();
        let chunk = chunksize_for(chunksize, items.len(), self.workers)?;
        let batch = Batch::new(
            CLOSURE.into(),
            None,
            items.len(),
            chunk,
            self.shared.jobs.recorder(),
        );
        let f = Arc::new(f);
        let mut chunks = Vec::with_capacity(batch.chunks());
        let mut rest = items.into_iter();
        for index in 0..batch.chunks() {
            let part: Vec<A> = rest.by_ref().take(chunk).collect();
            let (first, f) = (index * chunk, Arc::clone(&f));
            let run: ClosureChunk = Box::new(move |who: &str| {
                part.into_iter()
                    .enumerate()
                    .map(|(k, a)| outcome(first + k, who, crate::panics::catch_quietly(|| f(a))))
                    .collect()
            });
            chunks.push(Chunk {
                batch: Arc::clone(&batch),
                index,
                work: Work::Closure(run),
            });
        }
        self.shared.jobs.submit(chunks)?;
        AsyncResult::<Vec<R>>::all(batch, None).get(self.timeout)
    }
}

impl sealed::Submit for ThreadPool {
    #[allow(private_interfaces)]
    fn jobs(&self) -> &Arc<JobQueue> {
        &self.shared.jobs
    }
}

impl Pool for ThreadPool {
    fn workers(&self) -> usize {
        self.workers
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn terminate(&self) {
        self.shared.jobs.terminate();
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.terminate(); // threads finish their running task and exit; queued ones failed at once
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi::PiEstimate;
    use std::time::Instant;

    const SEC: Duration = Duration::from_secs(10);

    #[test]
    fn named_tasks_in_order_with_errors_by_index() {
        let pool = ThreadPool::new(2).unwrap();
        let r: Vec<PiEstimate> = pool
            .starmap(tasks::CALC_PI, (1..=5).map(|s| (1000, s)), Some(2))
            .unwrap();
        assert_eq!(r.iter().map(|e| e.samples).sum::<u64>(), 5000);
        let outcomes: Vec<Result<(), PoolError>> = pool
            .imap(tasks::PANIC, ["a", "b", "c"].map(String::from), Some(1))
            .unwrap()
            .collect();
        for (i, o) in outcomes.iter().enumerate() {
            let e = o.as_ref().unwrap_err();
            assert_eq!(e.index(), Some(i));
            assert!(matches!(e, PoolError::Panicked { .. }), "{e}");
        }
        let e = pool
            .apply(crate::process::Task::<(), ()>::named("nope"), &())
            .unwrap_err();
        assert!(e.to_string().contains("unknown task `nope`"), "{e}");
        let e = pool.map(tasks::echo(), [1u64, 2], None).unwrap();
        assert_eq!(e, [1, 2]);
    }

    #[test]
    fn closures_bad_input_close_join_terminate() {
        let pool = ThreadPool::new(2).unwrap();
        assert!(pool.map_fn(|x: u8| x, [1], Some(0)).is_err());
        assert_eq!(pool.map_fn(|x: u32| x * 2, 0..100, None).unwrap()[99], 198);
        assert!(matches!(pool.join(SEC), Err(PoolError::Invalid(_))));
        let slow = pool.apply_async(tasks::SLEEP, &300).unwrap();
        let queued: Vec<_> = (0..4)
            .map(|_| pool.apply_async(tasks::SLEEP, &300).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        let start = Instant::now();
        pool.terminate();
        // Both threads are busy with a 300 ms sleep: the three still queued fail now, not later.
        let failed_now = queued.iter().filter(|r| r.ready()).count();
        assert_eq!(
            failed_now, 3,
            "queued tasks fail at once, even with every thread busy"
        );
        assert!(matches!(
            pool.apply(tasks::SLEEP, &1),
            Err(PoolError::Closed)
        ));
        pool.join(SEC).unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "running tasks finish, queued ones do not run"
        );
        assert!(slow.get(SEC).is_ok(), "a running task finishes");
        let terminated = queued
            .iter()
            .filter(|r| matches!(r.get(SEC), Err(PoolError::Terminated { .. })))
            .count();
        assert_eq!(
            terminated, 3,
            "the one running task finishes, the others are terminated"
        );
    }

    #[test]
    fn initializer_and_max_tasks_per_child() {
        let opts = PoolOptions::new(1)
            .initializer(tasks::SLEEP, &1)
            .max_tasks_per_child(2);
        let pool = ThreadPool::with_options(&opts).unwrap();
        let who: Vec<String> = (0..5)
            .map(|_| {
                pool.apply_fn(|| std::thread::current().name().unwrap_or("").to_string())
                    .unwrap()
            })
            .collect();
        assert_eq!(who[0], who[1]);
        assert_ne!(who[1], who[2], "a fresh thread after 2 tasks: {who:?}");
        let e = ThreadPool::with_options(
            &PoolOptions::new(1).initializer(tasks::PANIC, &"init broke".into()),
        )
        .unwrap_err();
        assert!(e.to_string().contains("init broke"), "{e}");
    }

    #[test]
    fn panics_are_quiet_and_timeouts_do_not_hang() {
        let pool =
            ThreadPool::with_options(&PoolOptions::new(1).timeout(Duration::from_millis(50)))
                .unwrap();
        let e = pool.apply(tasks::SLEEP, &500).unwrap_err();
        assert!(matches!(e, PoolError::Timeout { .. }), "{e}");
        let e = pool
            .apply_fn_async(|| -> () { panic!("quiet please") })
            .unwrap()
            .get(SEC)
            .unwrap_err();
        assert!(e.to_string().contains("quiet please"), "{e}");
    }
}
