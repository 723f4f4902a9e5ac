//! Starting workers (spawn and fork), their output, joining them, and cleaning up.

use std::fs::File;
use std::io::BufReader;
use std::marker::PhantomData;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::channel::{Channel, encode};
use super::output::{self, CapturedOutput};
use super::task::{AsTask, Types};
use super::wire::{PROTOCOL_FD, Reply, Request, Response, TaskFailure, decode_outcomes};
use super::{
    ENV_ALLOW_LIST, Options, Output, ProcessError, StartMethod, check_worker, items, sys,
    thread_count, worker_path,
};
use crate::timeline::{Kind, Lane, Timeline, monotonic_ns};

/// How long the parent waits for a worker to finish exiting once its result arrived or its
/// channel closed, before killing it.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// A worker process with a result of type `R` to come: started by [`spawn`] or [`fork`].
///
/// [`join`](Process::join) waits (with a timeout) for the result. Dropping the handle kills the
/// worker if it still runs and reaps it: no orphans, no zombies.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let mut child = parlab::process::fork(|| std::process::id())?;
/// let pid_seen_by_child = child.join(Duration::from_secs(5))?;
/// assert_eq!(pid_seen_by_child, child.pid());
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping a Process kills the worker; join it to get its result"]
pub struct Process<R> {
    pid: u32,
    /// For spawn: the task handle's types, for errors that name them.
    caller_types: Option<Types>,
    name: String,
    method: StartMethod,
    parent_threads: Option<usize>,
    handle: Handle,
    chan: Channel,
    exit: Option<Exit>,
    joined: bool,
    captured: Arc<CapturedOutput>,
    forwarders_done: Option<mpsc::Receiver<()>>,
    /// What it runs, for its span on a timeline: the task's name (spawn) or `closure` (fork).
    work: String,
    /// The caller's monotonic clock when `spawn_with` / `fork_with` was called.
    called_ns: u64,
    /// The child's own monotonic clock when its task started and ended (from its reply).
    ran_ns: Option<(u64, u64)>,
    /// The caller's monotonic clock when `join` returned.
    joined_ns: Option<u64>,
    /// What went wrong, when `join` gave an error.
    failed: Option<String>,
    _result: PhantomData<fn() -> R>,
}

#[derive(Debug)]
enum Handle {
    Spawned(Child),
    Forked(Pid),
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Code(i32),
    Signal(i32),
}

/// Starts a worker process running `task` on `args`; its result is an `R`.
///
/// `task` is a typed handle ([`tasks::CALC_PI`](super::tasks::CALC_PI),
/// [`cell_task!(f)`](crate::cell_task)), so `args` must be what the task takes, and
/// [`Process::join`] gives what it returns. The worker is the binary `parlab-worker` (see
/// [`worker_path`](super::worker_path)): a fresh process, so it is safe whatever threads this
/// process has. It gets `/dev/null` as stdin, only
/// the variables in [`ENV_ALLOW_LIST`](super::ENV_ALLOW_LIST), and its output is printed here with
/// a `[spawn-PID]` prefix. It dies with its handle and with this process (it exits when its
/// socket to this process closes), whichever thread started it.
///
/// # Errors
/// [`ProcessError::WorkerMissing`] when the binary is not built, [`ProcessError::Start`] when the
/// system refuses, [`ProcessError::Serde`] when `args` does not serialize. Errors of the task
/// itself come from [`Process::join`].
///
/// # Examples
/// ```no_run
/// use std::time::Duration;
/// use parlab::process::{self, tasks};
/// let mut w = process::spawn(tasks::CALC_PI, &(1_000_000, 7))?;
/// let estimate = w.join(Duration::from_secs(5))?; // a PiEstimate
/// assert_eq!(estimate.samples, 1_000_000);
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
pub fn spawn<A, R>(task: impl AsTask<A, R>, args: &A) -> Result<Process<R>, ProcessError>
where
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
{
    spawn_with(task, args, &Options::default())
}

/// [`spawn`] with [`Options`]: a name for the output prefix, where output goes, which binary.
///
/// # Errors
/// As [`spawn`].
///
/// # Examples
/// ```no_run
/// use std::time::Duration;
/// use parlab::process::{self, Options, tasks};
/// let mut w = process::spawn_with(tasks::PRINT, &vec!["hi".to_string()], &Options::named("greeter"))?;
/// w.join(Duration::from_secs(5))?; // the notebook shows "[greeter] hi"
/// # Ok::<(), process::ProcessError>(())
/// ```
pub fn spawn_with<A, R>(
    task: impl AsTask<A, R>,
    args: &A,
    opts: &Options,
) -> Result<Process<R>, ProcessError>
where
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
{
    let called_ns = monotonic_ns();
    let task = task.as_task();
    let mut run = Vec::new();
    items::push_encoded(&mut run, args, &mut Vec::new())
        .map_err(|e| ProcessError::serde("serialize", e))?;
    let request = encode(&Request {
        task: task.id().clone(),
        signature: task.signature(),
        args: run,
    })?;
    let mut process = start_worker(&[], opts, Arc::default())?;
    process.caller_types = Some(task.types());
    process.called_ns = called_ns;
    process.work = task.name();
    let timeout = Duration::from_secs(30);
    match process.chan.send(&request, sys::deadline(timeout), timeout) {
        // A worker that died at once is reported by `join`.
        Ok(()) | Err(ProcessError::Closed) => {}
        Err(e) => return Err(e), // dropping `process` kills the worker
    }
    let _ = process.chan.stream().shutdown(Shutdown::Write); // one task: the worker exits after it
    Ok(process)
}

/// Starts the worker binary with `worker_args` (none: it answers requests until its channel
/// closes; `parlab::pool` passes `--pool`), its output forwarded (or, with [`Output::Capture`],
/// kept in `captured`); nothing is sent to it yet.
pub(crate) fn start_worker<R>(
    worker_args: &[&str],
    opts: &Options,
    captured: Arc<CapturedOutput>,
) -> Result<Process<R>, ProcessError> {
    // A check that gave up on the code calling this: stop it before it starts another process.
    crate::exercise::stop_if_overdue();
    let worker = match &opts.worker {
        Some(path) => check_worker(path.clone())?,
        None => worker_path()?,
    };
    // The socket pair first: it takes the lowest free descriptors, so the pipe `Command` uses to
    // report exec errors can never be descriptor 3, which the child overwrites.
    let (parent_end, child_end) = UnixStream::pair().map_err(|e| ProcessError::Start {
        what: "a socket for a worker".into(),
        source: e,
    })?;
    let child_fd = child_end.as_raw_fd();
    let mut cmd = Command::new(&worker);
    cmd.args(worker_args);
    cmd.env_clear();
    for key in ENV_ALLOW_LIST {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd.stdin(Stdio::null());
    if opts.output == Output::Discard {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    // Safety: the closure runs in the child between fork and exec and only makes async-signal-safe
    // system calls (dup2, fcntl); it allocates nothing and takes no locks. The worker notices its
    // parent's death by the socket closing (see `sys::exit_on_hangup`), not by a parent-death
    // signal, which Linux sends when the *thread* that started it ends.
    unsafe {
        cmd.pre_exec(move || {
            if child_fd == PROTOCOL_FD {
                if libc::fcntl(child_fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(child_fd, PROTOCOL_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| ProcessError::Start {
        what: format!("the worker {}", worker.display()),
        source: e,
    })?;
    drop(child_end);
    let pid = child.id();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let chan =
        Channel::new(parent_end).map_err(|e| ProcessError::io("setting up a worker's socket", e));
    let name = opts.name.clone().unwrap_or_else(|| format!("spawn-{pid}"));
    let mut process = Process::new(
        pid,
        name,
        StartMethod::Spawn,
        None,
        Handle::Spawned(child),
        chan?,
    );
    process.captured = captured;
    process.forward(
        stdout.map(OwnedFd::from),
        stderr.map(OwnedFd::from),
        opts.output,
    );
    Ok(process)
}

/// Forks this process; the child runs `f` and sends its result back. Unix only.
///
/// The child is a copy of this process: `f` may be any closure, even one defined in a notebook
/// cell, and it sees copies of everything (variables, open pipes and [`Queue`](super::Queue)s).
/// But only the thread that called `fork` exists in the child. A lock that another thread held at
/// that moment stays locked there forever, and anything that takes it (that thread's Mutex,
/// `println!` while another thread printed, the allocator of some systems) waits forever. So
/// `fork` warns on stderr when this process has other threads ([`Process::parent_threads`] has
/// the count), and `join` takes a timeout. The child's stdin is `/dev/null`; its output is printed
/// here with a `[fork-PID]` prefix (end lines with a newline: it exits without flushing).
///
/// # Errors
/// [`ProcessError::Start`] when the system refuses to fork or to make pipes.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let data = vec![1, 2, 3]; // copied into the child with the rest of memory
/// let opts = parlab::process::Options { warn: false, ..Default::default() };
/// let mut child = parlab::process::fork_with(move || data.iter().sum::<i32>(), &opts)?;
/// assert_eq!(child.join(Duration::from_secs(5))?, 6);
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
pub fn fork<R, F>(f: F) -> Result<Process<R>, ProcessError>
where
    R: Serialize + DeserializeOwned,
    F: FnOnce() -> R,
{
    fork_with(f, &Options::default())
}

/// [`fork`] with [`Options`]: a name for the output prefix, where output goes, the warning.
///
/// # Errors
/// As [`fork`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::process::{self, Options, Output};
/// let opts = Options { output: Output::Capture, warn: false, ..Options::named("kid") };
/// let mut child = process::fork_with(|| println!("hello"), &opts)?;
/// # let mut child = process::fork_with(|| { use std::io::Write; writeln!(std::io::stdout(), "hello").unwrap() }, &opts)?;
/// child.join(Duration::from_secs(5))?;
/// assert_eq!(child.output(), ["[kid] hello"]);
/// # Ok::<(), process::ProcessError>(())
/// ```
pub fn fork_with<R, F>(f: F, opts: &Options) -> Result<Process<R>, ProcessError>
where
    R: Serialize + DeserializeOwned,
    F: FnOnce() -> R,
{
    // A check that gave up on the code calling this: stop it before it forks another process.
    crate::exercise::stop_if_overdue();
    let called_ns = monotonic_ns();
    let threads = thread_count();
    if opts.warn {
        if let Some(n) = super::other_busy_threads().filter(|&n| n > 0) {
            eprintln!(
                "warning: fork: this process has {n} other thread(s); the child gets only the calling one, \
                 and a lock another thread holds now stays locked in the child forever (join with a timeout)"
            );
        }
    }
    let start = |what: &str| {
        let what = what.to_string();
        move |e| ProcessError::Start { what, source: e }
    };
    let (parent_end, child_end) =
        UnixStream::pair().map_err(start("a socket for a forked child"))?;
    let devnull = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(start("/dev/null"))?;
    let pipes = if opts.output == Output::Discard {
        None
    } else {
        let out = sys::pipe().map_err(start("a pipe for a child's stdout"))?;
        let err = sys::pipe().map_err(start("a pipe for a child's stderr"))?;
        Some((out, err))
    };
    // Safety: the child may run any code, which is unsound if another thread held a lock that code
    // needs; that is the hazard this function documents, warns about and bounds with join's timeout.
    // The child never returns from this block: it ends in `_exit`.
    match unsafe { nix::unistd::fork() } {
        Err(e) => Err(ProcessError::Start {
            what: "a forked child".into(),
            source: e.into(),
        }),
        Ok(ForkResult::Child) => {
            drop(parent_end);
            // The child ends when the parent's end of the socket closes, i.e. when the parent
            // process dies (whichever of its threads forked). Without a watch thread it still runs.
            let _ = sys::exit_on_hangup(child_end.as_raw_fd(), 1);
            // Safety: plain system calls on descriptors this process owns.
            unsafe {
                libc::dup2(devnull.as_raw_fd(), 0);
                match &pipes {
                    Some(((_, out_w), (_, err_w))) => {
                        libc::dup2(out_w.as_raw_fd(), 1);
                        libc::dup2(err_w.as_raw_fd(), 2);
                    }
                    None => {
                        libc::dup2(devnull.as_raw_fd(), 1);
                        libc::dup2(devnull.as_raw_fd(), 2);
                    }
                }
            }
            drop(pipes);
            let started_ns = monotonic_ns();
            let outcome =
                crate::panics::catch_quietly(f).map_err(|c| TaskFailure::Panicked(c.to_string()));
            let ended_ns = monotonic_ns();
            let mut run = Vec::new();
            let response: Response = match items::push_encoded(&mut run, &outcome, &mut Vec::new())
            {
                Ok(()) => Ok(run),
                Err(e) => Err(TaskFailure::BadResult(e.to_string())),
            };
            let reply = Reply::new(started_ns, ended_ns, response);
            if let (Ok(bytes), Ok(mut chan)) = (encode(&reply), Channel::new(child_end)) {
                let forever = Duration::from_secs(86_400);
                let _ = chan.send(&bytes, sys::deadline(forever), forever);
            }
            // Safety: ends the child at once, as a forked child should.
            unsafe { libc::_exit(0) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(child_end);
            let pid = child.as_raw() as u32;
            let chan = Channel::new(parent_end)
                .map_err(|e| ProcessError::io("setting up a child's socket", e));
            let name = opts.name.clone().unwrap_or_else(|| format!("fork-{pid}"));
            let mut process = Process::new(
                pid,
                name,
                StartMethod::Fork,
                threads,
                Handle::Forked(child),
                chan?,
            );
            process.called_ns = called_ns;
            process.work = "closure".into();
            let (out, err) = match pipes {
                Some(((out_r, _), (err_r, _))) => (Some(out_r), Some(err_r)),
                None => (None, None),
            };
            process.forward(out, err, opts.output);
            Ok(process)
        }
    }
}

impl<R> Process<R> {
    fn new(
        pid: u32,
        name: String,
        method: StartMethod,
        parent_threads: Option<usize>,
        handle: Handle,
        chan: Channel,
    ) -> Self {
        Process {
            pid,
            caller_types: None,
            name,
            method,
            parent_threads,
            handle,
            chan,
            exit: None,
            joined: false,
            captured: Arc::default(),
            forwarders_done: None,
            work: String::from("task"),
            called_ns: monotonic_ns(),
            ran_ns: None,
            joined_ns: None,
            failed: None,
            _result: PhantomData,
        }
    }

    /// Starts the threads that print (or capture) the child's output, line by line, prefixed.
    fn forward(&mut self, out: Option<OwnedFd>, err: Option<OwnedFd>, output: Output) {
        let (done_tx, done_rx) = mpsc::channel::<()>();
        for (fd, is_err) in [(out, false), (err, true)] {
            let Some(fd) = fd else { continue };
            let prefix = format!("[{}] ", self.name);
            let captured = Arc::clone(&self.captured);
            let done = done_tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{} output", self.name))
                .spawn(move || {
                    let _done = done;
                    output::for_each_line(BufReader::new(File::from(fd)), |line, cut| {
                        match (output, is_err) {
                            (Output::Discard, _) => {}
                            (Output::Capture, _) => {
                                captured.push(format!("{prefix}{}", output::line_text(line, cut)))
                            }
                            (Output::Forward, to_stderr) => output::print_line(
                                &format!("{prefix}{}", output::line_text(line, cut)),
                                to_stderr,
                            ),
                        }
                    });
                });
            // Without a thread the output is lost, and the child may block on a full pipe; the
            // result still arrives, so this is not an error.
            let _ = spawned;
        }
        self.forwarders_done = Some(done_rx);
    }

    /// The worker's process id.
    ///
    /// # Examples
    /// ```
    /// let child = parlab::process::fork_with(|| (), &parlab::process::Options { warn: false, ..Default::default() })?;
    /// assert!(child.pid() > 0);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The name in its output prefix.
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::process::Options { warn: false, ..parlab::process::Options::named("w1") };
    /// assert_eq!(parlab::process::fork_with(|| (), &opts)?.name(), "w1");
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it was started.
    ///
    /// # Examples
    /// ```
    /// use parlab::process::{self, StartMethod};
    /// let child = process::fork_with(|| (), &process::Options { warn: false, ..Default::default() })?;
    /// assert_eq!(child.method(), StartMethod::Fork);
    /// # Ok::<(), process::ProcessError>(())
    /// ```
    pub fn method(&self) -> StartMethod {
        self.method
    }

    /// For a forked child: how many threads the parent had when it forked (`None` for spawn, or
    /// where the system does not say). More than 1 means the fork hazard applied.
    ///
    /// # Examples
    /// ```
    /// let child = parlab::process::fork_with(|| (), &parlab::process::Options { warn: false, ..Default::default() })?;
    /// if let Some(n) = child.parent_threads() { assert!(n >= 1) }
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn parent_threads(&self) -> Option<usize> {
        self.parent_threads
    }

    /// The output lines captured with [`Output::Capture`], each prefixed with `[name] `; complete
    /// once [`join`](Process::join) returned. At most [`output::MAX_CAPTURED`] bytes of the newest
    /// lines are kept, a first line saying how many earlier ones were let go.
    ///
    /// # Examples
    /// ```
    /// let child = parlab::process::fork_with(|| (), &parlab::process::Options { warn: false, ..Default::default() })?;
    /// assert!(child.output().is_empty()); // forwarded, not captured
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn output(&self) -> Vec<String> {
        self.captured.lines()
    }

    /// When [`spawn_with`] or [`fork_with`] was called, on the machine's monotonic clock
    /// ([`monotonic_ns`]).
    ///
    /// # Examples
    /// ```
    /// let before = parlab::timeline::monotonic_ns();
    /// let child = parlab::process::fork_with(|| (), &parlab::process::Options { warn: false, ..Default::default() })?;
    /// assert!(child.called_ns() >= before);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn called_ns(&self) -> u64 {
        self.called_ns
    }

    /// When its task started and ended, as the child read the machine's monotonic clock
    /// ([`monotonic_ns`]); `None` until [`join`](Process::join) got its reply, and for a child
    /// that died, timed out or answered in an older protocol.
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut child = parlab::process::fork_with(|| parlab::pi::count_hits(1, 0, 100_000), &opts)?;
    /// assert_eq!(child.ran_ns(), None);
    /// child.join(std::time::Duration::from_secs(5))?;
    /// let (start, end) = child.ran_ns().unwrap();
    /// assert!(child.called_ns() <= start && start <= end && end <= child.joined_ns().unwrap());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn ran_ns(&self) -> Option<(u64, u64)> {
        self.ran_ns
    }

    /// When [`join`](Process::join) returned (with a result or an error), on the machine's
    /// monotonic clock; `None` before.
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut child = parlab::process::fork_with(|| 1u8, &opts)?;
    /// assert_eq!(child.joined_ns(), None);
    /// child.join(std::time::Duration::from_secs(5))?;
    /// assert!(child.joined_ns().unwrap() > child.called_ns());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn joined_ns(&self) -> Option<u64> {
        self.joined_ns
    }

    /// Names what it runs, for its span on a timeline (a fork's is `closure` until told).
    pub(crate) fn set_work(&mut self, work: impl Into<String>) {
        self.work = work.into();
    }

    /// Records its life on `lane`, once joined: `Starting` from the call to the child's task
    /// start, `Running` for the task as the child timed it, `Sending` from the task's end to
    /// `join` returning (the result coming back, the child reaped). A task that failed after it
    /// started is `Unfinished` instead of `Running`, labelled with the error; a child that gave no
    /// times (killed, timed out) is one `Unfinished` span from the call to `join`'s end.
    ///
    /// # Errors
    /// [`ProcessError::NotJoined`] before [`join`](Process::join) (nothing is recorded).
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut child = parlab::process::fork_with(|| parlab::pi::count_hits(1, 0, 100_000), &opts)?;
    /// assert!(child.record(&tl, tl.lane("fork")).is_err()); // not joined yet
    /// child.join(std::time::Duration::from_secs(5))?;
    /// child.record(&tl, tl.lane("fork"))?;
    /// let kinds: Vec<Kind> = tl.spans().iter().map(|s| s.kind).collect();
    /// assert_eq!(kinds, [Kind::Starting, Kind::Running, Kind::Sending]);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn record(&self, timeline: &Timeline, lane: Lane) -> Result<(), ProcessError> {
        let Some(joined_ns) = self.joined_ns else {
            return Err(ProcessError::NotJoined { pid: self.pid });
        };
        let at = |ns: u64| timeline.from_monotonic(ns);
        let (called, joined) = (at(self.called_ns), at(joined_ns));
        match self.ran_ns {
            Some((started, ended)) => {
                let (started, ended) = (at(started), at(ended));
                let start_up = format!("{} start-up", self.method);
                timeline.record_ns(lane, Kind::Starting, start_up, called, started);
                match &self.failed {
                    None => timeline.record_ns(lane, Kind::Running, &self.work, started, ended),
                    Some(e) => timeline.record_ns(lane, Kind::Unfinished, e, started, ended),
                }
                timeline.record_ns(lane, Kind::Sending, "result back, reaped", ended, joined);
            }
            None => {
                let what = self.failed.as_deref().unwrap_or("no result");
                timeline.record_ns(lane, Kind::Unfinished, what, called, joined);
            }
        }
        Ok(())
    }

    /// Whether it is still running (it may have exited without being joined).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut child = parlab::process::fork_with(|| std::thread::sleep(Duration::from_secs(5)), &opts)?;
    /// assert!(child.is_alive());
    /// child.kill();
    /// assert!(!child.is_alive());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn is_alive(&mut self) -> bool {
        self.try_reap().is_none()
    }

    /// Kills it (SIGKILL) if it still runs, and reaps it.
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut child = parlab::process::fork_with(|| -> u8 { loop { std::hint::spin_loop() } }, &opts)?;
    /// child.kill();
    /// assert!(child.join(std::time::Duration::from_secs(1)).is_err());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn kill(&mut self) {
        if self.try_reap().is_some() {
            return;
        }
        let status = match &mut self.handle {
            Handle::Spawned(child) => {
                let _ = child.kill();
                child.wait().ok().map(exit_of)
            }
            Handle::Forked(pid) => {
                let _ = signal::kill(*pid, Signal::SIGKILL);
                loop {
                    match waitpid(*pid, None) {
                        Err(nix::errno::Errno::EINTR) => continue,
                        Ok(status) => break wait_exit(status),
                        Err(_) => break None,
                    }
                }
            }
        };
        self.exit = Some(status.unwrap_or(Exit::Signal(libc::SIGKILL)));
    }

    /// Reaps it if it has exited.
    fn try_reap(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            self.exit = match &mut self.handle {
                Handle::Spawned(child) => match child.try_wait() {
                    Ok(status) => status.map(exit_of),
                    Err(_) => Some(Exit::Code(-1)),
                },
                Handle::Forked(pid) => match waitpid(*pid, Some(WaitPidFlag::WNOHANG)) {
                    Ok(status) => wait_exit(status),
                    Err(_) => Some(Exit::Code(-1)),
                },
            };
        }
        self.exit
    }

    /// Waits until it exited or `deadline` passed.
    fn wait_until(&mut self, deadline: Instant) -> Option<Exit> {
        if let Some(exit) = self.try_reap() {
            return Some(exit);
        }
        // Where the system says when the child exits (Linux's pidfd), wait for just that: sleeps
        // overshoot the exit by up to their own length.
        if let Some(fd) = sys::pidfd(self.pid) {
            if let Ok(ready) = sys::wait_ready(fd.as_fd(), false, deadline) {
                if let Some(exit) = self.try_reap() {
                    return Some(exit);
                }
                if !ready {
                    return None;
                }
            }
        }
        let mut pause = Duration::from_micros(20);
        loop {
            if let Some(exit) = self.try_reap() {
                return Some(exit);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(2));
        }
    }

    /// Once its channel closed: how it ended (waiting up to the grace period, then killing it).
    pub(crate) fn ended(&mut self) -> ProcessError {
        let exit = match self.wait_until(Instant::now() + EXIT_GRACE) {
            Some(exit) => exit,
            None => {
                self.kill();
                Exit::Signal(libc::SIGKILL)
            }
        };
        match exit {
            Exit::Signal(s) => ProcessError::Killed {
                pid: self.pid,
                signal: sys::signal_name(s),
            },
            Exit::Code(code) => ProcessError::Exited {
                pid: self.pid,
                code,
            },
        }
    }

    /// The channel to the worker (`parlab::pool` speaks its own messages on it).
    pub(crate) fn channel(&mut self) -> &mut Channel {
        &mut self.chan
    }

    /// Waits (briefly) for the output threads, so that all output is printed before join returns.
    /// (A program the worker started may hold its output pipes open: that does not wait long.)
    fn finish_output(&mut self) {
        if let Some(done) = self.forwarders_done.take() {
            let _ = done.recv_timeout(Duration::from_millis(200));
        }
    }
}

impl<R: DeserializeOwned> Process<R> {
    /// Waits at most `timeout` for the result; on timeout the worker is killed.
    ///
    /// # Errors
    /// [`ProcessError::Timeout`] (the worker was killed), [`ProcessError::Panicked`] with the panic
    /// message and pid, [`ProcessError::Killed`] naming the signal, [`ProcessError::Exited`],
    /// [`ProcessError::UnknownTask`], [`ProcessError::BadArgs`], [`ProcessError::Serde`] when the
    /// result is not an `R`, [`ProcessError::AlreadyJoined`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut slow = parlab::process::fork_with(|| std::thread::sleep(Duration::from_secs(10)), &opts)?;
    /// let e = slow.join(Duration::from_millis(100)).unwrap_err();
    /// assert!(e.to_string().contains("it was killed"));
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn join(&mut self, timeout: Duration) -> Result<R, ProcessError> {
        if self.joined {
            return Err(ProcessError::AlreadyJoined { pid: self.pid });
        }
        self.joined = true;
        let result = self.receive(timeout);
        self.finish_output();
        self.joined_ns = Some(monotonic_ns());
        if let Err(e) = &result {
            self.failed = Some(e.to_string());
        }
        result
    }

    /// Waits for the reply (keeping the child's times from it) and reaps the child.
    fn receive(&mut self, timeout: Duration) -> Result<R, ProcessError> {
        let deadline = sys::deadline(timeout);
        let what = format!(
            "worker {} ({}) gave no result; it was killed",
            self.pid, self.name
        );
        match self.chan.recv(deadline, timeout, &what) {
            Ok(bytes) => {
                if self.wait_until(Instant::now() + EXIT_GRACE).is_none() {
                    self.kill();
                }
                let reply = Reply::decode(&bytes, self.pid)?;
                self.ran_ns = Some((reply.started_ns, reply.ended_ns));
                let outcome = match reply.response {
                    Ok(run) => decode_outcomes::<R>(&run, 1).remove(0),
                    Err(failure) => Err(failure),
                };
                outcome.map_err(|failure| self.task_error(failure))
            }
            Err(ProcessError::Closed) => Err(self.ended()),
            Err(e) => {
                self.kill();
                Err(e)
            }
        }
    }

    fn task_error(&self, failure: TaskFailure) -> ProcessError {
        match failure {
            TaskFailure::UnknownTask { name, known } => ProcessError::UnknownTask {
                name,
                known: known.join(", "),
            },
            TaskFailure::WrongSignature {
                task,
                worker,
                shapes,
            } => ProcessError::WrongSignature {
                task,
                caller: self.caller_types.map_or_else(|| "?".into(), |t| t.text()),
                worker,
                differences: self
                    .caller_types
                    .map(|t| t.differences_clause(shapes.as_deref()))
                    .unwrap_or_default(),
            },
            TaskFailure::BadArgs { task, message } => ProcessError::BadArgs { task, message },
            TaskFailure::Unavailable { task, message } => {
                ProcessError::TaskUnavailable { task, message }
            }
            TaskFailure::Panicked(message) => ProcessError::Panicked {
                pid: self.pid,
                message,
            },
            TaskFailure::BadResult(message) => ProcessError::corrupt("serialize", message),
        }
    }
}

impl<R> Drop for Process<R> {
    fn drop(&mut self) {
        self.kill();
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    }
}

fn wait_exit(status: WaitStatus) -> Option<Exit> {
    match status {
        WaitStatus::Exited(_, code) => Some(Exit::Code(code)),
        WaitStatus::Signaled(_, signal, _) => Some(Exit::Signal(signal as i32)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::pipe;
    use std::io::Write;
    use std::sync::Mutex;

    const SEC: Duration = Duration::from_secs(5);

    fn quiet() -> Options {
        Options {
            output: Output::Capture,
            warn: false,
            ..Options::named("t")
        }
    }

    #[test]
    fn fork_returns_the_closure_result_and_output() {
        let words = ["a".to_string(), "b".to_string()];
        let mut child = fork_with(
            move || {
                // (The test harness captures `println!` per thread; write to the descriptors.)
                writeln!(std::io::stdout(), "child says hi").unwrap();
                writeln!(std::io::stderr(), "child complains").unwrap();
                words.join("+")
            },
            &quiet(),
        )
        .unwrap();
        assert_eq!(child.method(), StartMethod::Fork);
        assert_eq!(child.join(SEC).unwrap(), "a+b");
        let mut out = child.output();
        out.sort();
        assert_eq!(out, ["[t] child complains", "[t] child says hi"]);
        assert!(matches!(
            child.join(SEC),
            Err(ProcessError::AlreadyJoined { .. })
        ));
        assert!(!child.is_alive());
    }

    #[test]
    fn fork_panic_and_kill_and_timeout() {
        let mut child = fork_with(
            || -> u8 { panic!("child broke") },
            &Options {
                output: Output::Discard,
                ..quiet()
            },
        )
        .unwrap();
        match child.join(SEC).unwrap_err() {
            ProcessError::Panicked { pid, message } => {
                assert_eq!(pid, child.pid());
                assert!(message.starts_with("child broke (at "), "{message}");
            }
            other => panic!("{other}"),
        }
        let mut sleeper =
            fork_with(|| std::thread::sleep(Duration::from_secs(30)), &quiet()).unwrap();
        signal::kill(Pid::from_raw(sleeper.pid() as i32), Signal::SIGKILL).unwrap();
        let start = Instant::now();
        let e = sleeper.join(SEC).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(e.to_string().contains("SIGKILL"), "{e}");
        let mut slow = fork_with(|| std::thread::sleep(Duration::from_secs(30)), &quiet()).unwrap();
        let pid = slow.pid();
        let e = slow.join(Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "killed and reaped"
        );
    }

    #[test]
    fn fork_with_a_held_lock_deadlocks_and_is_detected() {
        let lock = Arc::new(Mutex::new(0u32));
        let (held_tx, held_rx) = mpsc::channel();
        let holder = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || {
                let _guard = lock.lock().unwrap();
                held_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(600));
            })
        };
        held_rx.recv().unwrap();
        let mut child = fork_with(move || *lock.lock().unwrap(), &quiet()).unwrap();
        assert!(
            child.parent_threads().unwrap() >= 2,
            "the parent had the holder thread"
        );
        let e = child.join(Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
        holder.join().unwrap();
    }

    #[test]
    fn pipe_both_ways_with_a_forked_child() {
        let (mut parent, mut child_end) = pipe::<String, usize>().unwrap();
        let mut child = fork_with(
            move || {
                // The child has a copy of `parent` too, so it never sees the pipe close:
                // an explicit "stop" message ends the loop.
                let mut total = 0;
                loop {
                    let word = child_end.recv(SEC).unwrap();
                    if word == "stop" {
                        return total;
                    }
                    total += word.len();
                    child_end.send(&word.len(), SEC).unwrap();
                }
            },
            &quiet(),
        )
        .unwrap();
        for word in ["one", "three", ""] {
            parent.send(&word.to_string(), SEC).unwrap();
            assert_eq!(parent.recv(SEC).unwrap(), word.len());
        }
        parent.send(&"stop".to_string(), SEC).unwrap();
        assert_eq!(child.join(SEC).unwrap(), 8);
    }

    #[test]
    fn threads_that_only_wait_do_not_count_as_a_fork_hazard() {
        // In a forked child (one thread, whatever the test harness runs alongside).
        let mut child = fork_with(
            || {
                let before = crate::process::other_busy_threads();
                // Each thread says when it is in place, so a slow start under load is not
                // mistaken for a busy thread.
                let (in_place_tx, in_place) = mpsc::channel::<()>();
                let (tx, rx) = mpsc::channel::<()>();
                let waiter_in_place = in_place_tx.clone();
                let waiter = std::thread::spawn(move || {
                    crate::process::idle_wait(|| {
                        let _ = waiter_in_place.send(());
                        rx.recv_timeout(Duration::from_secs(20))
                    })
                });
                let _ = in_place.recv_timeout(Duration::from_secs(20));
                let with_waiter = crate::process::other_busy_threads();
                let (busy_tx, busy_rx) = mpsc::channel::<()>();
                let busy = std::thread::spawn(move || {
                    let _ = in_place_tx.send(());
                    busy_rx.recv_timeout(Duration::from_secs(20))
                });
                let _ = in_place.recv_timeout(Duration::from_secs(20));
                let with_busy = crate::process::other_busy_threads();
                let _ = (tx.send(()), busy_tx.send(()));
                let _ = (waiter.join(), busy.join());
                (before, with_waiter, with_busy)
            },
            &quiet(),
        )
        .unwrap();
        assert_eq!(
            child.join(Duration::from_secs(30)).unwrap(),
            (Some(0), Some(0), Some(1))
        );
    }

    #[test]
    fn dropping_a_handle_kills_and_reaps() {
        let child = fork_with(|| std::thread::sleep(Duration::from_secs(30)), &quiet()).unwrap();
        let pid = child.pid();
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        drop(child);
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "no zombie left"
        );
    }

    #[test]
    fn missing_worker_names_the_build_command() {
        let opts = Options {
            worker: Some("/nonexistent/parlab-worker".into()),
            ..quiet()
        };
        let e = spawn_with(crate::process::tasks::SLEEP, &1, &opts).unwrap_err();
        assert!(
            e.to_string().contains("cargo build --release --bins"),
            "{e}"
        );
    }
}
