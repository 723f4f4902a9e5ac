//! The thread pool: threads in this process running the same named tasks, and closures.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crossbeam::channel::{self, Receiver, Sender};

use super::process_pool::{LiveCount, close_jobs, join_closed, submit};
use super::result::{AsyncResult, Batch, Item, Payload};
use super::worker::run_caught;
use super::{Initializer, Pool, PoolError, PoolOptions, chunksize_for, sealed, task_error};
use crate::process::Task;

/// The task name that errors of closures carry.
const CLOSURE: &str = "closure";

/// A pool of threads with Python's `Pool` API (Python's `multiprocessing.pool.ThreadPool`).
///
/// It runs the same named tasks as [`ProcessPool`](super::ProcessPool), on the same serialized
/// arguments, so one can replace the other in one line; and it also runs closures
/// ([`apply_fn`](ThreadPool::apply_fn), [`map_fn`](ThreadPool::map_fn)). A task's panic is that
/// task's error. Threads cannot be killed: `terminate` fails the queued tasks, and a running one
/// finishes in the background. A task that aborts takes the whole process down, unlike in a
/// process pool.
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, ThreadPool};
/// let pool = ThreadPool::new(2)?;
/// let sums: Vec<f64> = pool.map("sum", [vec![1.0, 2.0], vec![3.0]], None)?;
/// assert_eq!(sums, [3.0, 3.0]);
/// let lengths = pool.map_fn(|s: &str| s.len(), ["a", "bcd"], None)?;
/// assert_eq!(lengths, [1, 3]);
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[derive(Debug)]
pub struct ThreadPool {
    shared: Arc<Shared>,
    workers: usize,
    timeout: Duration,
}

#[derive(Debug)]
struct Shared {
    jobs: Mutex<Option<Sender<Job>>>,
    rx: Receiver<Job>,
    state: Mutex<State>,
    changed: Condvar,
    initializer: Option<Initializer>,
    max_tasks: Option<usize>,
    started: AtomicUsize,
}

#[derive(Debug)]
struct State {
    terminated: bool,
    live: usize,
}

impl LiveCount for State {
    fn live(&self) -> usize {
        self.live
    }
}

/// A chunk of a closure's tasks: given the worker's name, one outcome per item.
type ClosureChunk = Box<dyn FnOnce(&str) -> Vec<Item> + Send>;

/// The work of one chunk.
enum Work {
    /// A named task on serialized arguments.
    Named(Task, Vec<Vec<u8>>),
    /// A closure over its items, given the worker's name; one outcome per item.
    Closure(usize, ClosureChunk),
}

struct Job {
    batch: Arc<Batch>,
    first: usize,
    work: Work,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("first", &self.first)
            .field("tasks", &self.len())
            .finish()
    }
}

impl Job {
    fn len(&self) -> usize {
        match &self.work {
            Work::Named(_, args) => args.len(),
            Work::Closure(n, _) => *n,
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the initializer on this thread, if there is one.
    fn initialize(&self, who: &str) -> Result<(), PoolError> {
        match &self.initializer {
            None => Ok(()),
            Some(init) => run_caught(&init.task, &init.args).map(|_| ()).map_err(|f| {
                let e = task_error(&init.task.to_string(), 0, who, f);
                PoolError::Start(format!("the initializer failed: {e}"))
            }),
        }
    }

    /// Starts one more worker thread; `ready` hears whether its initializer succeeded.
    fn spawn(
        self: &Arc<Self>,
        ready: Option<mpsc::Sender<Result<(), PoolError>>>,
    ) -> Result<(), PoolError> {
        self.lock().live += 1;
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(format!("parlab-pool-{n}"))
            .spawn(move || serve(shared, n, ready));
        spawned.map(|_| ()).map_err(|e| {
            self.lock().live -= 1;
            self.changed.notify_all();
            PoolError::Start(format!("could not start a thread: {e}"))
        })
    }
}

/// Counts a worker thread out when it ends.
struct LiveGuard(Arc<Shared>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.lock().live -= 1;
        self.0.changed.notify_all();
    }
}

/// A worker thread: runs chunks until the pool closes, or until it hands over to a fresh thread.
fn serve(shared: Arc<Shared>, n: usize, ready: Option<mpsc::Sender<Result<(), PoolError>>>) {
    let _guard = LiveGuard(Arc::clone(&shared));
    crate::panics::quiet_this_thread(); // a task's panic is its error, not printed
    let who = format!("worker thread {n}");
    let mut initialized = shared.initialize(&who);
    if let Some(ready) = ready {
        let failed = initialized.is_err();
        let _ = ready.send(
            initialized
                .as_ref()
                .map(|_| ())
                .map_err(|e| PoolError::Start(e.to_string())),
        );
        if failed {
            return;
        }
    }
    let mut chunks = 0usize;
    while let Ok(job) = shared.rx.recv() {
        let (first, count) = (job.first, job.len());
        if shared.lock().terminated {
            let task = job.batch.task().to_string();
            job.batch.fail(first, count, |index| PoolError::Terminated {
                index,
                task: task.clone(),
            });
            continue;
        }
        if initialized.is_err() {
            initialized = shared.initialize(&who); // a replacement whose initializer failed: retry
        }
        let outcomes: Vec<Item> = match (&initialized, job.work) {
            (Err(e), work) => {
                let message = format!("no worker to run it: {e}");
                let task = match &work {
                    Work::Named(task, _) => task.to_string(),
                    Work::Closure(..) => CLOSURE.to_string(),
                };
                (first..first + count)
                    .map(|index| {
                        Err(PoolError::Failed {
                            index,
                            task: task.clone(),
                            message: message.clone(),
                        })
                    })
                    .collect()
            }
            (Ok(()), Work::Named(task, args)) => {
                let name = task.to_string();
                args.iter()
                    .enumerate()
                    .map(|(k, a)| {
                        run_caught(&task, a)
                            .map(Payload::Bytes)
                            .map_err(|f| task_error(&name, first + k, &who, f))
                    })
                    .collect()
            }
            (Ok(()), Work::Closure(_, f)) => f(&who),
        };
        job.batch.complete(first, outcomes);
        chunks += 1;
        if shared.max_tasks.is_some_and(|m| chunks >= m) && !shared.lock().terminated {
            if shared.spawn(None).is_ok() {
                return; // a fresh thread takes over
            }
            chunks = 0;
        }
    }
}

/// Runs `f` on each item, catching panics: the outcomes of tasks `first..`.
fn run_closure<A, R, F>(f: &F, items: Vec<A>, first: usize, who: &str) -> Vec<Item>
where
    F: Fn(A) -> R,
    R: Send + 'static,
{
    items
        .into_iter()
        .enumerate()
        .map(|(k, a)| outcome(first + k, who, crate::panics::catch_quietly(|| f(a))))
        .collect()
}

/// The outcome of task `index` of a closure: its value, or its panic.
fn outcome<R: Send + 'static>(
    index: usize,
    who: &str,
    result: Result<R, crate::panics::Caught>,
) -> Item {
    match result {
        Ok(r) => Ok(Payload::Value(Box::new(r))),
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
    /// use parlab::pool::{Pool, ThreadPool};
    /// assert_eq!(ThreadPool::new(2)?.workers(), 2);
    /// assert!(ThreadPool::new(0).unwrap_err().to_string().contains("not 0"));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        Self::with_options(&PoolOptions::new(workers))
    }

    /// A pool built with [`PoolOptions`] (the worker binary and output options do not apply);
    /// returns once every thread ran the initializer.
    ///
    /// # Errors
    /// As [`ThreadPool::new`]; [`PoolError::Start`] if the initializer fails.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{PoolOptions, ThreadPool};
    /// assert!(ThreadPool::with_options(&PoolOptions::new(2).initializer("panic", "no")).is_err());
    /// ```
    pub fn with_options(opts: &PoolOptions) -> Result<Self, PoolError> {
        let initializer = opts.check()?;
        let (tx, rx) = channel::unbounded();
        let shared = Arc::new(Shared {
            jobs: Mutex::new(Some(tx)),
            rx,
            state: Mutex::new(State {
                terminated: false,
                live: 0,
            }),
            changed: Condvar::new(),
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
        for _ in 0..opts.workers {
            shared.spawn(Some(ready_tx.clone()))?;
        }
        drop(ready_tx);
        for _ in 0..opts.workers {
            match ready_rx.recv_timeout(opts.timeout) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(PoolError::Timeout {
                        what: "starting the pool's threads".into(),
                        after: opts.timeout,
                    });
                }
            }
        }
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
    /// let pool = parlab::pool::ThreadPool::new(1)?;
    /// let data = vec![1, 2, 3];
    /// let r = pool.apply_fn_async(move || data.iter().sum::<i32>())?;
    /// assert_eq!(r.get(Duration::from_secs(5))?, 6);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn apply_fn_async<F, R>(&self, f: F) -> Result<AsyncResult<R>, PoolError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let batch = Batch::new(CLOSURE.into(), 1);
        let work = Work::Closure(
            1,
            Box::new(move |who: &str| vec![outcome(0, who, crate::panics::catch_quietly(f))]),
        );
        self.send(vec![Job {
            batch: Arc::clone(&batch),
            first: 0,
            work,
        }])?;
        Ok(AsyncResult::value(batch))
    }

    /// Runs the closure `f` on a pool thread and waits (at most the pool's timeout) for its result.
    ///
    /// # Errors
    /// [`PoolError::Closed`], [`PoolError::Panicked`] if `f` panics, [`PoolError::Timeout`].
    ///
    /// # Examples
    /// ```
    /// let pool = parlab::pool::ThreadPool::new(1)?;
    /// assert_eq!(pool.apply_fn(|| 6 * 7)?, 42);
    /// let e = pool.apply_fn(|| -> u8 { panic!("no") }).unwrap_err();
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
    /// let pool = parlab::pool::ThreadPool::new(2)?;
    /// let pis = pool.map_fn(|n| parlab::pi::calc_pi(n, 1).map(|e| e.samples), [1000u64, 2000], None)?;
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
        let batch = Batch::new(CLOSURE.into(), items.len());
        let f = Arc::new(f);
        let mut jobs = Vec::new();
        let mut rest = items.into_iter();
        let mut first = 0;
        loop {
            let part: Vec<A> = rest.by_ref().take(chunk).collect();
            if part.is_empty() {
                break;
            }
            let (n, f) = (part.len(), Arc::clone(&f));
            let run = move |who: &str| run_closure(&*f, part, first, who);
            jobs.push(Job {
                batch: Arc::clone(&batch),
                first,
                work: Work::Closure(n, Box::new(run)),
            });
            first += n;
        }
        self.send(jobs)?;
        AsyncResult::<Vec<R>>::values(batch).get(self.timeout)
    }

    /// Queues jobs of closures.
    fn send(&self, jobs: Vec<Job>) -> Result<(), PoolError> {
        let tx = self
            .shared
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = tx.as_ref() else {
            return Err(PoolError::Closed);
        };
        for job in jobs {
            tx.send(job).map_err(|_| PoolError::Closed)?;
        }
        Ok(())
    }
}

impl sealed::Submit for ThreadPool {
    fn submit(
        &self,
        task: Task,
        args: Vec<Vec<u8>>,
        chunksize: usize,
    ) -> Result<Arc<Batch>, PoolError> {
        submit(
            &self.shared.jobs,
            task,
            args,
            chunksize,
            |batch, first, task, args| Job {
                batch,
                first,
                work: Work::Named(task, args),
            },
        )
    }
}

impl Pool for ThreadPool {
    fn workers(&self) -> usize {
        self.workers
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn close(&self) {
        close_jobs(&self.shared.jobs);
    }

    fn join(&self, timeout: Duration) -> Result<(), PoolError> {
        join_closed(
            &self.shared.jobs,
            &self.shared.state,
            &self.shared.changed,
            timeout,
        )
    }

    fn terminate(&self) {
        self.shared.lock().terminated = true;
        self.close();
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.terminate(); // threads finish their running task, fail the rest, and exit
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
            .starmap("calc_pi", (1..=5u64).map(|s| (1000u64, s)), Some(2))
            .unwrap();
        assert_eq!(r.iter().map(|e| e.samples).sum::<u64>(), 5000);
        let outcomes: Vec<Result<(), PoolError>> = pool
            .imap("panic", ["a", "b", "c"], Some(1))
            .unwrap()
            .collect();
        for (i, o) in outcomes.iter().enumerate() {
            let e = o.as_ref().unwrap_err();
            assert_eq!(e.index(), Some(i));
            assert!(matches!(e, PoolError::Panicked { .. }), "{e}");
        }
        let e = pool.apply::<_, ()>("nope", &()).unwrap_err();
        assert!(e.to_string().contains("unknown task `nope`"), "{e}");
        let e = pool.map::<_, u64>("echo", [1u64, 2], None).unwrap();
        assert_eq!(e, [1, 2]);
    }

    #[test]
    fn closures_bad_input_close_join_terminate() {
        let pool = ThreadPool::new(2).unwrap();
        assert!(pool.map_fn(|x: u8| x, [1], Some(0)).is_err());
        assert_eq!(pool.map_fn(|x: u32| x * 2, 0..100, None).unwrap()[99], 198);
        assert!(matches!(pool.join(SEC), Err(PoolError::Invalid(_))));
        let slow = pool.apply_async::<_, ()>("sleep", &300u64).unwrap();
        let queued: Vec<_> = (0..4)
            .map(|_| pool.apply_async::<_, ()>("sleep", &300u64).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        let start = Instant::now();
        pool.terminate();
        assert!(matches!(
            pool.apply::<_, ()>("sleep", &1u64),
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
        assert!(terminated >= 2, "{terminated}");
    }

    #[test]
    fn initializer_and_max_tasks_per_child() {
        let opts = PoolOptions::new(1)
            .initializer("sleep", &1u64)
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
        let e = ThreadPool::with_options(&PoolOptions::new(1).initializer("panic", "init broke"))
            .unwrap_err();
        assert!(e.to_string().contains("init broke"), "{e}");
    }

    #[test]
    fn panics_are_quiet_and_timeouts_do_not_hang() {
        let pool =
            ThreadPool::with_options(&PoolOptions::new(1).timeout(Duration::from_millis(50)))
                .unwrap();
        let e = pool.apply::<_, ()>("sleep", &500u64).unwrap_err();
        assert!(matches!(e, PoolError::Timeout { .. }), "{e}");
        let e = pool
            .apply_fn_async(|| -> () { panic!("quiet please") })
            .unwrap()
            .get(SEC)
            .unwrap_err();
        assert!(e.to_string().contains("quiet please"), "{e}");
    }
}
