//! The process pool: long-lived `parlab-worker --pool` processes, one manager thread each.

use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crossbeam::channel::{self, Receiver, RecvTimeoutError, Sender};

use super::result::{Batch, Item, Payload};
use super::worker::{FromWorker, Hello, MAGIC, POOL_ARG, ToWorker};
use super::{Initializer, Pool, PoolError, PoolOptions, sealed, task_error};
use crate::process::{self, Options, Process, ProcessError, Task, decode, encode, sys};

/// How often an idle manager checks that its worker is still alive.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// How long a manager waits for a worker's answer: forever, in practice (a worker that dies closes
/// the socket, and `terminate` shuts it down, so the wait always ends).
const FOREVER: Duration = Duration::from_secs(86_400 * 365);

/// How long dropping a pool waits for its workers to be killed and reaped.
const DROP_WAIT: Duration = Duration::from_secs(5);

/// A pool of worker processes with Python's `Pool` API (see [`Pool`]).
///
/// Each worker is the `parlab-worker` binary started once (with `--pool`) and running many tasks,
/// named in the [task registry](crate::process::tasks). A task that panics fails alone; a worker
/// that dies (abort, `SIGKILL`) is replaced and the call waiting for it gets
/// [`PoolError::WorkerDied`]. Dropping the pool terminates it: no worker outlives it.
///
/// # Examples
/// ```no_run
/// use parlab::pool::{Pool, ProcessPool};
/// let pool = ProcessPool::new(2)?;
/// let sizes: Vec<u64> = pool.map("echo", [1u64, 2, 3], None)?;
/// assert_eq!(sizes, [1, 2, 3]);
/// println!("workers: {:?}", pool.pids());
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[derive(Debug)]
pub struct ProcessPool {
    shared: Arc<Shared>,
    workers: usize,
    timeout: Duration,
}

#[derive(Debug)]
struct Shared {
    /// Where tasks are queued; `None` once closed.
    jobs: Mutex<Option<Sender<Job>>>,
    rx: Receiver<Job>,
    state: Mutex<State>,
    changed: Condvar,
    opts: PoolOptions,
    initializer: Option<Initializer>,
    /// Workers started so far, for their names (`pool-1`, `pool-2`, ...).
    started: AtomicUsize,
}

#[derive(Debug)]
struct State {
    terminated: bool,
    /// Manager threads still running.
    live: usize,
    /// Per slot: the worker's pid and a handle on the socket to it, to shut it down on terminate.
    workers: Vec<Option<(u32, UnixStream)>>,
}

/// A chunk of tasks of one call.
#[derive(Debug)]
struct Job {
    batch: Arc<Batch>,
    first: usize,
    task: Task,
    args: Vec<Vec<u8>>,
}

impl Job {
    fn fail(&self, error: impl Fn(usize) -> PoolError) {
        self.batch.fail(self.first, self.args.len(), error);
    }
}

/// A running worker process.
struct Worker {
    process: Process<()>,
    pid: u32,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn terminated(&self) -> bool {
        self.lock().terminated
    }

    /// Starts a worker for `slot`: the process, then the handshake (and the initializer).
    fn start(&self, slot: usize) -> Result<Worker, PoolError> {
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let opts = Options {
            name: Some(format!("pool-{n}")),
            output: self.opts.output,
            worker: self.opts.worker_binary.clone(),
            warn: false,
        };
        let mut process = process::start_worker::<()>(&[POOL_ARG], &opts)?;
        let pid = process.pid();
        let t = self.opts.timeout;
        let hello = encode(&ToWorker::Start {
            initializer: self
                .initializer
                .as_ref()
                .map(|i| (i.task.clone(), i.args.clone())),
        })?;
        let chan = process.channel();
        let answer = chan
            .send(&hello, sys::deadline(t), t)
            .and_then(|()| chan.recv(sys::deadline(t), t, "a new pool worker's hello"));
        let bytes = match answer {
            Ok(bytes) => bytes,
            Err(ProcessError::Closed) => {
                return Err(PoolError::Start(format!(
                    "{} as it started",
                    process.ended()
                )));
            }
            Err(e) => return Err(PoolError::Start(e.to_string())),
        };
        let hello = decode::<Hello>(&bytes)
            .ok()
            .filter(|h| h.magic == MAGIC)
            .ok_or_else(|| {
                PoolError::Start(format!(
                    "the worker binary does not speak the pool protocol (built before parlab::pool \
                     existed?): rebuild it with `{}`",
                    process::BUILD_WORKER
                ))
            })?;
        if let Some(failure) = hello.init_failed {
            let task = self
                .initializer
                .as_ref()
                .map_or_else(String::new, |i| i.task.to_string());
            let e = task_error(&task, 0, &format!("worker process {pid}"), failure);
            return Err(PoolError::Start(format!("the initializer failed: {e}")));
        }
        let socket = chan.stream().try_clone().map_err(|e| {
            PoolError::Start(format!("could not keep a handle on a worker's socket: {e}"))
        })?;
        let mut state = self.lock();
        if state.terminated {
            return Err(PoolError::Start("the pool was terminated".into()));
        }
        state.workers[slot] = Some((pid, socket));
        Ok(Worker { process, pid })
    }

    /// Runs one chunk on `worker`; `Err` says how the worker ended (it is then dead or killed).
    fn run_chunk(&self, worker: &mut Worker, job: Job) -> Result<(), (Job, String)> {
        let Job {
            batch,
            first,
            task,
            args,
        } = job;
        let n = args.len();
        let msg = match encode(&ToWorker::Chunk {
            task: task.clone(),
            args,
        }) {
            Ok(msg) => msg,
            Err(e) => {
                let message = format!("the arguments do not serialize: {e}");
                batch.fail(first, n, |index| PoolError::Failed {
                    index,
                    task: task.to_string(),
                    message: message.clone(),
                });
                return Ok(());
            }
        };
        let chan = worker.process.channel();
        let outcome = chan
            .send(&msg, sys::deadline(FOREVER), FOREVER)
            .and_then(|()| chan.recv(sys::deadline(FOREVER), FOREVER, "pool results"));
        let results = match outcome.map(|bytes| decode::<FromWorker>(&bytes)) {
            Ok(Ok(FromWorker::Results(results))) if results.len() == n => results,
            other => {
                let cause = match other {
                    Err(ProcessError::Closed) if !self.terminated() => {
                        worker.process.ended().to_string()
                    }
                    Err(e) => {
                        worker.process.kill();
                        e.to_string()
                    }
                    Ok(_) => {
                        worker.process.kill();
                        format!(
                            "worker {} sent an answer that is not the pool's results",
                            worker.pid
                        )
                    }
                };
                let job = Job {
                    batch,
                    first,
                    task,
                    args: vec![Vec::new(); n],
                };
                return Err((job, cause));
            }
        };
        let name = task.to_string();
        let who = format!("worker process {}", worker.pid);
        let items: Vec<Item> = results
            .into_iter()
            .enumerate()
            .map(|(k, r)| {
                r.map(Payload::Bytes)
                    .map_err(|f| task_error(&name, first + k, &who, f))
            })
            .collect();
        batch.complete(first, items);
        Ok(())
    }
}

/// Counts a manager out when it ends, however it ends.
struct LiveGuard {
    shared: Arc<Shared>,
    slot: usize,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.live -= 1;
        state.workers[self.slot] = None;
        drop(state);
        self.shared.changed.notify_all();
    }
}

/// A manager thread: starts the worker of `slot`, feeds it chunks, replaces it when it dies.
fn manage(shared: Arc<Shared>, slot: usize, ready: mpsc::Sender<Result<(), PoolError>>) {
    let _guard = LiveGuard {
        shared: Arc::clone(&shared),
        slot,
    };
    let mut worker = match shared.start(slot) {
        Ok(w) => Some(w),
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    drop(ready);
    let max_tasks = shared.opts.max_tasks_per_child;
    let mut chunks = 0usize;
    loop {
        let job = match shared.rx.recv_timeout(CHECK_EVERY) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                // Replace a worker that died while idle (no task was lost).
                if worker.as_mut().is_some_and(|w| !w.process.is_alive()) && !shared.terminated() {
                    worker = shared.start(slot).ok();
                    chunks = 0;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break, // closed, and every queued task taken
        };
        if shared.terminated() {
            job.fail(|index| PoolError::Terminated {
                index,
                task: job.task.to_string(),
            });
            continue;
        }
        if !worker.as_mut().is_some_and(|w| w.process.is_alive()) {
            worker = None; // kills and reaps a dead one
            chunks = 0;
            match shared.start(slot) {
                Ok(w) => worker = Some(w),
                Err(e) => {
                    let cause = e.to_string();
                    job.fail(|index| PoolError::Failed {
                        index,
                        task: job.task.to_string(),
                        message: format!("no worker to run it: {cause}"),
                    });
                    continue;
                }
            }
        }
        let Some(w) = worker.as_mut() else { continue };
        if let Err((job, cause)) = shared.run_chunk(w, job) {
            worker = None; // kills and reaps it
            chunks = 0;
            if shared.terminated() {
                job.fail(|index| PoolError::Terminated {
                    index,
                    task: job.task.to_string(),
                });
                continue;
            }
            worker = shared.start(slot).ok(); // the replacement, before the caller hears
            let n = job.args.len();
            let cause = if n == 1 {
                cause
            } else {
                format!(
                    "{cause}, running tasks {} to {} as one chunk",
                    job.first,
                    job.first + n - 1
                )
            };
            job.fail(|index| PoolError::WorkerDied {
                index,
                task: job.task.to_string(),
                cause: cause.clone(),
            });
            continue;
        }
        chunks += 1;
        if max_tasks.is_some_and(|m| chunks >= m) {
            worker = None;
            chunks = 0;
            if !shared.terminated() {
                worker = shared.start(slot).ok();
            }
        }
    }
}

impl ProcessPool {
    /// A pool of `workers` worker processes, with default options.
    ///
    /// Uses the worker binary at [`worker_path`](crate::process::worker_path) (set `PARLAB_WORKER`
    /// or [`PoolOptions::worker_binary`] to use another).
    ///
    /// # Errors
    /// [`PoolError::Invalid`] for 0 workers, [`PoolError::Start`] if a worker cannot start (the
    /// message says how to build the binary when it is missing).
    ///
    /// # Examples
    /// ```no_run
    /// let pool = parlab::pool::ProcessPool::new(2)?;
    /// assert_eq!(pool.pids().len(), 2);
    /// assert!(parlab::pool::ProcessPool::new(0).is_err());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        Self::with_options(&PoolOptions::new(workers))
    }

    /// A pool built with [`PoolOptions`]; returns once every worker is ready.
    ///
    /// # Errors
    /// As [`ProcessPool::new`]; [`PoolError::Start`] if the initializer fails.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::pool::{PoolOptions, ProcessPool};
    /// let opts = PoolOptions::new(2).initializer("print", &vec!["ready".to_string()]);
    /// let pool = ProcessPool::with_options(&opts)?; // prints "[pool-1] ready", "[pool-2] ready"
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn with_options(opts: &PoolOptions) -> Result<Self, PoolError> {
        let initializer = opts.check()?;
        let workers = opts.workers;
        let (tx, rx) = channel::unbounded();
        let shared = Arc::new(Shared {
            jobs: Mutex::new(Some(tx)),
            rx,
            state: Mutex::new(State {
                terminated: false,
                live: 0,
                workers: (0..workers).map(|_| None).collect(),
            }),
            changed: Condvar::new(),
            opts: opts.clone(),
            initializer,
            started: AtomicUsize::new(0),
        });
        let pool = ProcessPool {
            shared: Arc::clone(&shared),
            workers,
            timeout: opts.timeout,
        };
        // Workers are started by their manager threads, which live as long as the pool: a worker
        // dies with the thread that started it (PR_SET_PDEATHSIG), and a notebook cell's thread
        // may not live on.
        let (ready_tx, ready_rx) = mpsc::channel();
        for slot in 0..workers {
            shared.lock().live += 1;
            let (s, ready) = (Arc::clone(&shared), ready_tx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("parlab-pool-manager-{slot}"))
                .spawn(move || manage(s, slot, ready));
            if let Err(e) = spawned {
                shared.lock().live -= 1;
                return Err(PoolError::Start(format!(
                    "could not start a manager thread: {e}"
                )));
            }
        }
        drop(ready_tx);
        for _ in 0..workers {
            match ready_rx.recv_timeout(opts.timeout) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e), // dropping `pool` terminates the others
                Err(_) => {
                    return Err(PoolError::Timeout {
                        what: "starting the pool's workers".into(),
                        after: opts.timeout,
                    });
                }
            }
        }
        Ok(pool)
    }

    /// The process ids of the current workers (a replaced worker has a new one).
    ///
    /// # Examples
    /// ```no_run
    /// let pool = parlab::pool::ProcessPool::new(2)?;
    /// for pid in pool.pids() {
    ///     println!("worker {pid}: {:?} bytes resident", parlab::pool::resident_memory(pid));
    /// }
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn pids(&self) -> Vec<u32> {
        self.shared
            .lock()
            .workers
            .iter()
            .flatten()
            .map(|(pid, _)| *pid)
            .collect()
    }
}

impl sealed::Submit for ProcessPool {
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
                task,
                args,
            },
        )
    }
}

/// Queues `args` in chunks on `jobs` (shared by both pools).
pub(crate) fn submit<J>(
    jobs: &Mutex<Option<Sender<J>>>,
    task: Task,
    args: Vec<Vec<u8>>,
    chunksize: usize,
    job: impl Fn(Arc<Batch>, usize, Task, Vec<Vec<u8>>) -> J,
) -> Result<Arc<Batch>, PoolError> {
    let jobs = jobs.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(tx) = jobs.as_ref() else {
        return Err(PoolError::Closed);
    };
    let batch = Batch::new(task.to_string(), args.len());
    let mut items = args.into_iter();
    let mut first = 0;
    loop {
        let chunk: Vec<Vec<u8>> = items.by_ref().take(chunksize.max(1)).collect();
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        if tx
            .send(job(Arc::clone(&batch), first, task.clone(), chunk))
            .is_err()
        {
            return Err(PoolError::Closed);
        }
        first += n;
    }
    Ok(batch)
}

/// Waits for `live` to reach 0 (shared by both pools).
pub(crate) fn wait_idle(
    state: &Mutex<impl LiveCount>,
    changed: &Condvar,
    timeout: Duration,
) -> Result<(), PoolError> {
    let deadline = sys::deadline(timeout);
    let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let live = st.live();
        if live == 0 {
            return Ok(());
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return Err(PoolError::Timeout {
                what: format!("waiting for {live} pool workers to finish and exit"),
                after: timeout,
            });
        }
        st = changed
            .wait_timeout(st, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// A pool state that counts its running workers.
pub(crate) trait LiveCount {
    fn live(&self) -> usize;
}

impl LiveCount for State {
    fn live(&self) -> usize {
        self.live
    }
}

/// Closes a pool's job queue: no new tasks; workers finish what is queued, then exit (both pools).
pub(crate) fn close_jobs<J>(jobs: &Mutex<Option<Sender<J>>>) {
    jobs.lock().unwrap_or_else(PoisonError::into_inner).take();
}

/// `join` of both pools: an error on an open pool, else waits for every worker to exit.
pub(crate) fn join_closed<J>(
    jobs: &Mutex<Option<Sender<J>>>,
    state: &Mutex<impl LiveCount>,
    changed: &Condvar,
    timeout: Duration,
) -> Result<(), PoolError> {
    if jobs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_some()
    {
        return Err(PoolError::Invalid(
            "join() waits for a closed pool: call close() (or terminate()) first".into(),
        ));
    }
    wait_idle(state, changed, timeout)
}

impl Pool for ProcessPool {
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
        {
            let mut state = self.shared.lock();
            state.terminated = true;
            for (_, socket) in state.workers.iter().flatten() {
                let _ = socket.shutdown(std::net::Shutdown::Both);
            }
        }
        self.close();
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        self.terminate();
        let _ = wait_idle(&self.shared.state, &self.shared.changed, DROP_WAIT);
    }
}
