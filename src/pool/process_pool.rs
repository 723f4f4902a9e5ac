//! The process pool: long-lived `parlab-worker --pool` processes, one manager thread each.

use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam::channel::{RecvTimeoutError, Select};

use super::api::sealed;
use super::batch::{Batch, ChunkOutcome};
use super::desk::{Desk, News, Trouble};
use super::error::task_error;
use super::in_flight::{InFlight, LastRun, may_queue_behind};
use super::jobs::{Chunk, JobQueue, Work};
use super::worker::{Call, FromWorker, Hello, MAGIC, POOL_ARG, Ran, ToWorker};
use super::{Pool, PoolError, PoolOptions};
use crate::process::{
    self, CapturedOutput, Options, Process, ProcessError, decode, encode, frame_header, sys,
    unframe,
};

/// How often an idle manager checks that its worker is still alive.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// How long a manager waits for a worker's answer: forever, in practice (a worker that dies closes
/// the socket, and `terminate` shuts it down, so the wait always ends).
const FOREVER: Duration = Duration::from_secs(86_400 * 365);

/// How long dropping a pool waits for its workers to be killed and reaped.
const DROP_WAIT: Duration = Duration::from_secs(5);

/// A pool of worker processes with Python's `Pool` API (see [`Pool`]).
///
/// Each worker is the `parlab-worker` binary started once (with `--pool`) and running many typed
/// tasks ([`tasks`](crate::process::tasks), [`cell_task!`](crate::cell_task)). A task that panics
/// fails alone; a worker that dies (abort, `SIGKILL`) is replaced and the call waiting for it gets
/// [`PoolError::WorkerDied`]. Dropping the pool terminates it: no worker outlives it.
///
/// # Examples
/// ```no_run
/// use parlab::pool::{Pool, ProcessPool};
/// use parlab::process::tasks;
/// let workers = ProcessPool::new(2)?;
/// assert_eq!(workers.map(tasks::echo(), [1u64, 2, 3], None)?, [1, 2, 3]);
/// println!("workers: {:?}", workers.pids());
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping a pool terminates its workers"]
pub struct ProcessPool {
    shared: Arc<Shared>,
    workers: usize,
    timeout: Duration,
}

#[derive(Debug)]
struct Shared {
    jobs: Arc<JobQueue>,
    /// Per slot: the worker's pid and a handle on the socket to it, to shut it down on terminate.
    slots: Mutex<Vec<Option<(u32, UnixStream)>>>,
    opts: PoolOptions,
    initializer: Option<Call>,
    /// Workers started so far, for their names (`pool-1`, `pool-2`, ...).
    started: AtomicUsize,
    /// Every worker's output, with [`Output::Capture`](crate::process::Output::Capture): one
    /// bounded capture for the pool, kept when a worker is replaced.
    captured: Arc<CapturedOutput>,
    /// Per slot: where its idle worker waits, to be lent to an `apply` run from its own thread.
    desks: Vec<Desk<Worker>>,
}

/// What a manager's wait with its worker idle ([`Shared::idle_wait`]) ended with.
enum Idle {
    /// A chunk to run.
    Chunk(Chunk),
    /// Nothing came in time.
    Timeout,
    /// The queue is closed and empty.
    Disconnected,
    /// Calls run on the worker while it was lent, and what the manager must act on.
    News(News),
}

/// A running worker process.
struct Worker {
    process: Process<()>,
    pid: u32,
    /// `worker process PID`, as errors and outcomes name it.
    who: Arc<str>,
}

impl Shared {
    fn slots(&self) -> MutexGuard<'_, Vec<Option<(u32, UnixStream)>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Kills and reaps the worker of `slot`, if any, and takes its pid out of `pids()`.
    fn forget(&self, slot: usize, worker: &mut Option<Worker>) {
        self.slots()[slot] = None;
        *worker = None; // dropping the process kills and reaps it
    }

    /// How many slots have a worker that is alive (its socket not closed).
    fn healthy(&self) -> usize {
        self.slots()
            .iter()
            .flatten()
            .filter(|(_, socket)| !sys::hung_up(socket.as_fd()))
            .count()
    }

    /// Starts a worker for `slot`: the process, then the handshake (and the initializer); a
    /// timeline records it.
    fn start(&self, slot: usize) -> Result<Worker, PoolError> {
        let began = Instant::now();
        let started = self.start_process(slot);
        if let Some(rec) = self.jobs.recorder() {
            let init = if self.initializer.is_some() {
                ", initializer"
            } else {
                ""
            };
            match &started {
                Ok(w) => rec.started(slot, format!("start pid {}{init}", w.pid), began, true),
                Err(e) => rec.started(slot, format!("start failed: {e}"), began, false),
            }
        }
        started
    }

    /// [`start`](Shared::start), unrecorded.
    fn start_process(&self, slot: usize) -> Result<Worker, PoolError> {
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let opts = Options {
            name: Some(format!("pool-{n}")),
            output: self.opts.output,
            worker: self.opts.worker_binary.clone(),
            warn: false,
        };
        let mut process =
            process::start_worker::<()>(&[POOL_ARG], &opts, Arc::clone(&self.captured))?;
        let pid = process.pid();
        let t = self.opts.start_wait();
        let hello = encode(&ToWorker::Start {
            initializer: self.initializer.clone(),
        })?;
        let chan = process.channel();
        let answer = chan
            .send(&hello, sys::deadline(t), t)
            .and_then(|()| chan.recv(sys::deadline(t), t, "a new pool worker's hello"));
        let bytes = match answer {
            Ok(bytes) => bytes,
            Err(ProcessError::Closed) => {
                let ended = process.ended();
                return Err(PoolError::Start {
                    what: format!("{ended} as it started"),
                    source: Some(Box::new(ended)),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let hello = decode::<Hello>(&bytes)
            .ok()
            .filter(|h| h.magic == MAGIC)
            .ok_or_else(|| {
                PoolError::start(format!(
                    "the worker binary speaks another version of the pool protocol (built from \
                     older sources?): rebuild it with `{}`",
                    process::BUILD_WORKER
                ))
            })?;
        if let Some(failure) = hello.init_failed {
            let (task, types) = self
                .initializer
                .as_ref()
                .map_or_else(|| (String::new(), None), |i| (i.task.to_string(), i.types));
            let e = task_error(&task, types, 0, &format!("worker process {pid}"), failure);
            return Err(PoolError::start_from("the initializer failed", e));
        }
        let socket = chan.stream().try_clone().map_err(|e| {
            PoolError::start_from("could not keep a handle on a worker's socket", e)
        })?;
        let mut slots = self.slots();
        if self.jobs.terminated() {
            return Err(PoolError::start("the pool was terminated"));
        }
        slots[slot] = Some((pid, socket));
        let who = Arc::from(format!("worker process {pid}"));
        Ok(Worker { process, pid, who })
    }

    /// Waits at most `timeout` for a chunk, `worker` parked on its desk meanwhile and lent to calls
    /// for at most `room` chunks; gives it back (`None` if it went missing from the desk) with
    /// what ended the wait. It takes no chunk after calls ran on the worker: their news comes
    /// first (a quota may have run out). `answer`, the worker's last answer, is delivered once
    /// the worker is parked: the caller it wakes finds the worker free for its next call.
    fn idle_wait(
        &self,
        slot: usize,
        worker: Worker,
        room: usize,
        timeout: Duration,
        answer: Option<Answer>,
    ) -> (Option<Worker>, Idle) {
        let desk = &self.desks[slot];
        desk.park(worker, room);
        drop(answer);
        let deadline = sys::deadline(timeout);
        loop {
            let mut select = Select::new();
            let queue = select.recv(self.jobs.receiver());
            select.recv(desk.wake());
            let ready = select.ready_deadline(deadline);
            // The worker back in hand (waiting while a call has it) before anything else, so a
            // chunk queued meanwhile stays for the other workers.
            let Some((worker, news)) = desk.reclaim() else {
                return (None, Idle::Timeout);
            };
            if !news.is_empty() {
                return (Some(worker), Idle::News(news));
            }
            match ready {
                Err(_) => return (Some(worker), Idle::Timeout),
                Ok(i) if i == queue => match self.jobs.next(Duration::ZERO) {
                    Ok(chunk) => return (Some(worker), Idle::Chunk(chunk)),
                    Err(RecvTimeoutError::Disconnected) => {
                        return (Some(worker), Idle::Disconnected);
                    }
                    Err(RecvTimeoutError::Timeout) => {} // another worker's manager took it
                },
                Ok(_) => {} // a token of news taken already
            }
            desk.park(worker, room);
        }
    }

    /// Runs `chunk`, a call's only one, on an idle worker from the calling thread, waiting for its
    /// answer until `deadline`: no hand-off to the worker's manager and back. The worker is busy
    /// for its manager meanwhile, and what the manager must act on goes to it: a worker gone or
    /// lost (it then fails the chunk as for its own), a chunk still running at the deadline (it
    /// reads the answer). Gives the chunk back to be queued when no worker is idle, or chunks
    /// wait in the queue (they go first), or the pool was terminated.
    fn run_here(&self, chunk: Chunk, deadline: Instant) -> Result<(), Chunk> {
        if self.jobs.terminated() || self.jobs.queued() > 0 {
            return Err(chunk);
        }
        let lent = self
            .desks
            .iter()
            .enumerate()
            .find_map(|(slot, desk)| desk.lend().map(|loan| (slot, loan)));
        let Some((slot, mut loan)) = lent else {
            return Err(chunk);
        };
        let worker = loan.worker();
        let news = match self.send_chunk(worker, chunk) {
            Err(chunk) => News {
                trouble: Some(Trouble::Unsent(chunk)),
                ..News::default()
            },
            Ok(None) => News {
                trouble: Some(Trouble::Check),
                ..News::default()
            },
            Ok(Some(sent)) => {
                // A failed wait counts as ready: the read that follows says what went wrong.
                let ready = worker.process.channel().wait_readable(deadline);
                let (last_run, trouble) = if ready.unwrap_or(true) {
                    let task = sent.chunk.batch.task().to_string();
                    match self.finish_chunk(slot, worker, sent) {
                        Ok((took, _delivered_now)) => (Some(LastRun { task, took }), None),
                        Err(lost) => (None, Some(Trouble::Lost(lost))),
                    }
                } else {
                    (None, Some(Trouble::Pending(sent)))
                };
                News {
                    sent: 1,
                    last_run,
                    trouble,
                }
            }
        };
        loan.bring_back(news);
        Ok(())
    }

    /// Sends `chunk` to `worker`: `Ok(Some)` on its way, `Ok(None)` finished already (it cannot
    /// run on a worker process, or cannot be sent); `Err` gives it back when the worker is gone
    /// (it never had the chunk whole, so never started it: it may run on another).
    fn send_chunk(&self, worker: &mut Worker, chunk: Chunk) -> Result<Option<InFlight>, Chunk> {
        let Work::Task {
            task,
            signature,
            args,
        } = &chunk.work
        else {
            chunk.fail(|index| PoolError::Invalid(format!(
                "task {index}: a process pool runs tasks, not closures (use a ThreadPool's map_fn)"
            )));
            return Ok(None);
        };
        let header = frame_header(&ToWorker::Chunk {
            task: task.clone(),
            signature: *signature,
            count: chunk.range().1,
        });
        // Reading while it waits for room: the worker may be sending the answer to the chunk
        // before, and wait for this side to read it.
        let sent = header.and_then(|header| {
            worker.process.channel().send_parts_reading(
                &[&header, args],
                sys::deadline(FOREVER),
                FOREVER,
            )
        });
        let e = match sent {
            Ok(()) => {
                let since = Instant::now();
                return Ok(Some(InFlight { chunk, since }));
            }
            Err(ProcessError::Closed) => return Err(chunk),
            Err(e) => e,
        };
        // Nothing was sent (an encoding error, a frame over the limit): the chunk fails alone.
        // Or the socket broke midway: the worker's stream is lost with it.
        if !matches!(e, ProcessError::Serde { .. } | ProcessError::Invalid(_)) {
            worker.process.kill();
        }
        let (name, message) = (task.to_string(), e.to_string());
        chunk.fail(|index| PoolError::Failed {
            index,
            task: name.clone(),
            message: message.clone(),
        });
        Ok(None)
    }

    /// Waits for `worker`'s answer to the chunk `sent` (the oldest in flight); the time the
    /// worker took to run it, and its results, recorded on the chunk's batch when the [`Answer`]
    /// is dropped (a failure is recorded at once). `Err` says how the worker ended (it is then
    /// dead or killed), with the chunk. A timeline records the chunk as the worker timed it, or as
    /// cut off.
    fn finish_chunk(&self, slot: usize, worker: &mut Worker, sent: InFlight) -> Finished {
        let InFlight { chunk, since } = sent;
        let outcome =
            worker
                .process
                .channel()
                .recv(sys::deadline(FOREVER), FOREVER, "pool results");
        let who = Arc::clone(&worker.who);
        let cause = match outcome {
            Ok(bytes) => match unframe::<FromWorker>(&bytes) {
                Ok((FromWorker::Results(times), run)) => {
                    let took = self.ran(slot, &chunk, times);
                    let start = bytes.len() - run.len();
                    let bytes = Arc::new(bytes);
                    let answer = Answer {
                        batch: Arc::clone(&chunk.batch),
                        index: chunk.index,
                        outcome: Some(ChunkOutcome::Encoded { who, bytes, start }),
                    };
                    return Ok((took, Some(answer)));
                }
                Ok((FromWorker::Failed(failure, times), _)) => {
                    let took = self.ran(slot, &chunk, times);
                    let batch = Arc::clone(&chunk.batch);
                    chunk.fail(|index| {
                        task_error(batch.task(), batch.types(), index, &who, failure.clone())
                    });
                    return Ok((took, None));
                }
                Err(_) => {
                    worker.process.kill();
                    format!(
                        "worker {} sent an answer that is not the pool's results",
                        worker.pid
                    )
                }
            },
            // terminate() shut the worker's socket: not a death, whatever the error says.
            Err(_) if self.jobs.terminated() => "the pool was terminated".to_string(),
            Err(ProcessError::Closed) => worker.process.ended().to_string(),
            Err(e) => {
                worker.process.kill();
                e.to_string()
            }
        };
        if let Some(rec) = self.jobs.recorder() {
            let (first, count) = chunk.range();
            let name = chunk.batch.task();
            rec.cut_off(slot, &(first..first + count), name, &cause, since);
        }
        Err(Box::new((chunk, cause)))
    }

    /// A chunk that `slot`'s worker ran `times`: recorded on a timeline (the task's name goes on
    /// it, as in the errors: "task 0 (sleep)"); how long it took.
    fn ran(&self, slot: usize, chunk: &Chunk, times: Ran) -> Duration {
        if let Some(rec) = self.jobs.recorder() {
            let (first, count) = chunk.range();
            let name = chunk.batch.task();
            rec.ran_mono(
                slot,
                first..first + count,
                name,
                times.start_ns,
                times.end_ns,
            );
        }
        Duration::from_nanos(times.end_ns.saturating_sub(times.start_ns))
    }

    /// Gives back to the queue a chunk that a dead worker never started, for the other workers,
    /// when no worker of this slot can take it; on a closed or terminated pool, it fails.
    fn give_back(&self, chunk: Chunk, why: &str) {
        if self.jobs.terminated() {
            return chunk.terminated();
        }
        if let Err(chunk) = self.jobs.requeue(chunk) {
            fail_for_want_of_a_worker(chunk, why);
        }
    }
}

/// Fails every task of `chunk`: its worker died and could not be restarted (`why`).
fn fail_for_want_of_a_worker(chunk: Chunk, why: &str) {
    let task = chunk.batch.task().to_string();
    chunk.fail(|index| PoolError::Failed {
        index,
        task: task.clone(),
        message: format!("no worker to run it: its worker died and could not be restarted ({why})"),
    });
}

/// Forgets the worker of a slot when its manager ends, however it ends.
struct SlotGuard {
    shared: Arc<Shared>,
    slot: usize,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.shared.slots()[self.slot] = None;
    }
}

/// How a chunk sent to a worker finished: how long the worker took and its results to record
/// (none when the chunk failed: recorded already), or how the worker ended, with the chunk.
type Finished = Result<(Duration, Option<Answer>), Box<(Chunk, String)>>;

/// A worker's results for a chunk, recorded on the chunk's batch (waking its caller) when
/// dropped. A manager whose worker is left with nothing to do holds it until it has parked the
/// worker on its desk, so that a caller that calls again at once (a loop of `apply`) borrows
/// the worker there, instead of finding it away and queueing the call for the manager.
struct Answer {
    batch: Arc<Batch>,
    index: usize,
    outcome: Option<ChunkOutcome>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        if let Some(outcome) = self.outcome.take() {
            self.batch.complete(self.index, outcome);
        }
    }
}

/// When a manager tries again to start a worker that could not be started, and why it failed.
struct Restart {
    at: Instant,
    pause: Duration,
    why: String,
}

impl Restart {
    const FIRST_PAUSE: Duration = Duration::from_millis(100);
    const MAX_PAUSE: Duration = Duration::from_secs(2);

    /// Records a failed start; the next try waits twice as long as the last (up to 2 s).
    fn failed(last: Option<Restart>, why: String) -> Restart {
        let pause = last.map_or(Self::FIRST_PAUSE, |r| (r.pause * 2).min(Self::MAX_PAUSE));
        Restart {
            at: Instant::now() + pause,
            pause,
            why,
        }
    }

    /// How long until the next try (at most `CHECK_EVERY`, so that the manager stays responsive).
    fn wait(&self) -> Duration {
        self.at
            .saturating_duration_since(Instant::now())
            .min(CHECK_EVERY)
    }
}

/// A manager thread: starts the worker of `slot`, feeds it chunks, replaces it when it dies.
///
/// It keeps up to [`IN_FLIGHT`](super::in_flight::IN_FLIGHT) short chunks sent to its worker. When the worker dies, the chunk
/// it was running fails with [`PoolError::WorkerDied`]; the chunks queued behind it never started,
/// and go to its replacement.
///
/// While its worker is idle, the manager lends it to calls that run their one chunk from their own
/// thread (see [`Shared::run_here`]), and acts on what they bring back as on its own chunks.
///
/// A manager whose worker cannot be replaced (the binary was deleted, the system refuses) takes
/// no chunks while other workers are healthy, so that they run them, and tries again now and then;
/// when no worker is healthy, it fails the queued chunks with the reason.
fn manage(shared: Arc<Shared>, slot: usize, ready: mpsc::Sender<Result<(), PoolError>>) {
    let _live = shared.jobs.enter();
    let _slot = SlotGuard {
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
    let (max_tasks, workers) = (shared.opts.max_tasks_per_child, shared.opts.workers);
    // The chunks sent to the current worker, those of them not answered yet (oldest first; the
    // worker is never forgotten while there are some), and how long it ran the last one.
    let mut chunks = 0usize;
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut last_run: Option<LastRun> = None;
    // Chunks that a dead worker never started: they go before the queue's.
    let mut requeued: VecDeque<Chunk> = VecDeque::new();
    let mut restart: Option<Restart> = None;
    // The worker's last answer, held until the loop's next turn: delivered once the worker is
    // parked if it is left idle (see `Answer`), else as soon as the turn knows it will not be.
    let mut answered: Option<Answer> = None;
    loop {
        // A chunk that a worker lent to a call was lost running.
        let mut handed: Option<Box<(Chunk, String)>> = None;
        if in_flight.is_empty() {
            // A worker that died while idle is forgotten at once (its pid leaves `pids()`), and
            // one that ran its quota of chunks is retired.
            // (A worker that has just answered is alive: no need to ask.)
            let quota_run = max_tasks.is_some_and(|m| chunks >= m);
            let dead = answered.is_none() && worker.as_mut().is_some_and(|w| !w.process.is_alive());
            if quota_run || dead {
                drop(answered.take());
                shared.forget(slot, &mut worker);
            }
            if worker.is_none()
                && !shared.jobs.terminated()
                && restart.as_ref().is_none_or(|r| Instant::now() >= r.at)
            {
                (chunks, last_run) = (0, None);
                match shared.start(slot) {
                    Ok(w) => {
                        worker = Some(w);
                        restart = None;
                    }
                    Err(e) => restart = Some(Restart::failed(restart.take(), e.to_string())),
                }
            }
        }
        if worker.is_none() {
            let why = restart.as_ref().map_or_else(String::new, |r| r.why.clone());
            for chunk in requeued.drain(..) {
                shared.give_back(chunk, &why);
            }
            if shared.jobs.terminated() || shared.jobs.drained() {
                break;
            }
            let pause = restart.as_ref().map_or(CHECK_EVERY, Restart::wait);
            if shared.healthy() > 0 {
                std::thread::sleep(pause); // the healthy workers take the chunks
                continue;
            }
            match shared.jobs.next(pause) {
                Ok(chunk) if shared.jobs.terminated() => chunk.terminated(),
                Ok(chunk) => {
                    let why = restart
                        .as_ref()
                        .map_or_else(|| "the pool was terminated".to_string(), |r| r.why.clone());
                    let task = chunk.batch.task().to_string();
                    chunk.fail(|index| PoolError::Failed {
                        index,
                        task: task.clone(),
                        message: format!(
                            "no worker to run it: the pool's workers died and could not be \
                             restarted ({why})"
                        ),
                    });
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            continue;
        }
        let room = max_tasks.is_none_or(|m| chunks < m)
            && (in_flight.is_empty()
                || may_queue_behind(&in_flight, last_run.as_ref(), workers, shared.jobs.queued()));
        let next = if !room {
            None
        } else if let Some(chunk) = requeued.pop_front() {
            // A dropped imap's chunk is skipped, as the queue skips it.
            (!chunk.batch.abandoned()).then_some(chunk)
        } else if in_flight.is_empty() {
            let Some(idle) = worker.take() else {
                continue;
            };
            let room = max_tasks.map_or(usize::MAX, |m| m.saturating_sub(chunks));
            let (back, waited) = shared.idle_wait(slot, idle, room, CHECK_EVERY, answered.take());
            worker = back;
            match waited {
                Idle::Chunk(chunk) => Some(chunk),
                Idle::Timeout => continue, // the loop's top checks the worker
                Idle::Disconnected => break, // closed, and every queued task taken
                Idle::News(news) => {
                    chunks += news.sent;
                    if news.last_run.is_some() {
                        last_run = news.last_run;
                    }
                    match news.trouble {
                        // The loop's top checks the worker, and its quota.
                        None | Some(Trouble::Check) => continue,
                        Some(Trouble::Pending(sent)) => {
                            in_flight.push_back(sent);
                            continue;
                        }
                        // The worker is gone, or its stream in an unknown state.
                        Some(Trouble::Unsent(chunk)) => {
                            requeued.push_front(chunk);
                            shared.forget(slot, &mut worker);
                            continue;
                        }
                        Some(Trouble::Broken) => {
                            shared.forget(slot, &mut worker);
                            continue;
                        }
                        Some(Trouble::Lost(lost)) => {
                            handed = Some(lost);
                            None
                        }
                    }
                }
            }
        } else {
            shared.jobs.next(Duration::ZERO).ok()
        };
        drop(answered.take()); // when the worker was not parked: delivered now
        if let Some(chunk) = next {
            if shared.jobs.terminated() {
                chunk.terminated();
                continue;
            }
            // A worker that died since the loop's top is replaced before it is given the chunk.
            if in_flight.is_empty() && worker.as_mut().is_some_and(|w| !w.process.is_alive()) {
                shared.forget(slot, &mut worker);
                (chunks, last_run) = (0, None);
                match shared.start(slot) {
                    Ok(w) => worker = Some(w),
                    Err(e) => restart = Some(Restart::failed(restart.take(), e.to_string())),
                }
            }
            let Some(w) = worker.as_mut() else {
                let why = restart.as_ref().map_or("", |r| r.why.as_str());
                fail_for_want_of_a_worker(chunk, why);
                continue;
            };
            match shared.send_chunk(w, chunk) {
                Ok(sent) => {
                    if let Some(sent) = sent {
                        in_flight.push_back(sent);
                        chunks += 1;
                    }
                    continue; // more room, perhaps
                }
                // The worker is gone: the chunk goes to the next one. With chunks in flight,
                // waiting for their answers finds how it ended.
                Err(chunk) => {
                    requeued.push_front(chunk);
                    if in_flight.is_empty() {
                        shared.forget(slot, &mut worker);
                        continue;
                    }
                }
            }
        }
        let finished = match handed {
            Some(lost) => Err(lost),
            None => {
                let (Some(w), Some(oldest)) = (worker.as_mut(), in_flight.pop_front()) else {
                    continue;
                };
                let task = oldest.chunk.batch.task().to_string();
                match shared.finish_chunk(slot, w, oldest) {
                    Ok((took, answer)) => {
                        answered = answer;
                        Ok(LastRun { task, took })
                    }
                    Err(lost) => Err(lost),
                }
            }
        };
        match finished {
            Ok(run) => {
                last_run = Some(run);
                if let Some(next) = in_flight.front_mut() {
                    next.since = Instant::now(); // its worker starts it now
                }
            }
            Err(lost) => {
                let (chunk, cause) = *lost;
                shared.forget(slot, &mut worker);
                (chunks, last_run) = (0, None);
                // The chunks queued behind the lost one never started.
                for queued in in_flight.drain(..).rev() {
                    requeued.push_front(queued.chunk);
                }
                if shared.jobs.terminated() {
                    chunk.terminated();
                    requeued.drain(..).for_each(Chunk::terminated);
                    continue;
                }
                // The replacement, before the caller hears (so that `pids()` shows it).
                let replaced = match shared.start(slot) {
                    Ok(w) => {
                        worker = Some(w);
                        restart = None;
                        "a new worker took its place".to_string()
                    }
                    Err(e) => {
                        let why = e.to_string();
                        restart = Some(Restart::failed(restart.take(), why.clone()));
                        format!("it could not be replaced ({why}); the other workers run on")
                    }
                };
                worker_died(chunk, &cause, &replaced);
            }
        }
    }
}

/// Fails every task of `chunk`, whose worker ended as `cause` says, and was `replaced`.
fn worker_died(chunk: Chunk, cause: &str, replaced: &str) {
    let (first, n) = chunk.range();
    let cause = if n == 1 {
        format!("{cause}; {replaced}")
    } else {
        format!(
            "{cause}, running tasks {first} to {} as one chunk; {replaced}",
            first + n - 1
        )
    };
    let task = chunk.batch.task().to_string();
    chunk.fail(|index| PoolError::WorkerDied {
        index,
        task: task.clone(),
        cause: cause.clone(),
    });
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
    /// let opts = PoolOptions::new(2).initializer(parlab::process::tasks::PRINT, &vec!["ready".to_string()]);
    /// let pool = ProcessPool::with_options(&opts)?; // prints "[pool-1] ready", "[pool-2] ready"
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn with_options(opts: &PoolOptions) -> Result<Self, PoolError> {
        let initializer = opts.check()?;
        let workers = opts.workers;
        let shared = Arc::new(Shared {
            jobs: Arc::new(JobQueue::new(opts.recorder("worker"))),
            slots: Mutex::new((0..workers).map(|_| None).collect()),
            opts: opts.clone(),
            initializer,
            started: AtomicUsize::new(0),
            captured: Arc::default(),
            desks: (0..workers).map(|_| Desk::default()).collect(),
        });
        let pool = ProcessPool {
            shared: Arc::clone(&shared),
            workers,
            timeout: opts.timeout,
        };
        // Workers are started by their manager threads, which live as long as the pool; a worker
        // exits when its socket to this process closes (when the pool ends, or this process dies).
        let (ready_tx, ready_rx) = mpsc::channel();
        for slot in 0..workers {
            let (s, ready) = (Arc::clone(&shared), ready_tx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("parlab-pool-manager-{slot}"))
                .spawn(move || manage(s, slot, ready));
            if let Err(e) = spawned {
                return Err(PoolError::start_from("could not start a manager thread", e));
            }
        }
        drop(ready_tx);
        opts.wait_started(&ready_rx, "starting the pool's workers")?; // dropping `pool` terminates the others
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
        // A worker that died has closed its end of the socket, even before its manager noticed.
        self.shared
            .slots()
            .iter()
            .flatten()
            .filter(|(_, socket)| !sys::hung_up(socket.as_fd()))
            .map(|(pid, _)| *pid)
            .collect()
    }

    /// The lines the workers printed, with [`Output::Capture`](crate::process::Output::Capture),
    /// oldest first, each prefixed with its worker's name (`[pool-1] `); the pool keeps the
    /// newest [`MAX_CAPTURED`](crate::process::MAX_CAPTURED) bytes of them. Empty with other
    /// outputs.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::pool::{Pool, PoolOptions, ProcessPool};
    /// use parlab::process::{Output, tasks};
    /// let pool = ProcessPool::with_options(&PoolOptions::new(1).output(Output::Capture))?;
    /// pool.apply(tasks::PRINT, &vec!["hi".to_string()])?;
    /// std::thread::sleep(std::time::Duration::from_millis(100)); // the line is read as it comes
    /// assert_eq!(pool.output(), ["[pool-1] hi"]);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn output(&self) -> Vec<String> {
        self.shared.captured.lines()
    }

    /// The captured lines, as [`output`](ProcessPool::output), and forgets them: call it as you
    /// go to read a long run's output in parts.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::pool::{Pool, PoolOptions, ProcessPool};
    /// use parlab::process::{Output, tasks};
    /// let pool = ProcessPool::with_options(&PoolOptions::new(1).output(Output::Capture))?;
    /// pool.apply(tasks::PRINT, &vec!["hi".to_string()])?;
    /// std::thread::sleep(std::time::Duration::from_millis(100));
    /// assert_eq!(pool.take_output().len(), 1);
    /// assert!(pool.output().is_empty());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn take_output(&self) -> Vec<String> {
        self.shared.captured.take()
    }
}

impl sealed::Submit for ProcessPool {
    #[allow(private_interfaces)]
    fn jobs(&self) -> &Arc<JobQueue> {
        &self.shared.jobs
    }

    #[allow(private_interfaces)]
    fn run_here(&self, chunk: Chunk, timeout: Duration) -> Result<(), Chunk> {
        self.shared.run_here(chunk, sys::deadline(timeout))
    }
}

impl Pool for ProcessPool {
    fn workers(&self) -> usize {
        self.workers
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn terminate(&self) {
        if !self.shared.jobs.is_owner() {
            return; // a forked child's copy: the workers and their sockets are the parent's
        }
        self.shared.jobs.terminate();
        for (_, socket) in self.shared.slots().iter().flatten() {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        if !self.shared.jobs.is_owner() {
            return; // a forked child's copy has no workers to wait for
        }
        self.terminate();
        let _ = self.shared.jobs.wait_idle(DROP_WAIT);
    }
}
