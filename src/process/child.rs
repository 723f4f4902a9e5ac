//! A worker process and its handle ([`Process`]): started by spawn or fork, its output printed
//! or kept, its life drawn on a timeline; joining it and cleaning up are in `join.rs`.

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::os::fd::OwnedFd;
use std::process::Child;
use std::sync::Arc;
use std::sync::mpsc;

use nix::unistd::Pid;

use super::channel::Channel;
use super::output::{self, CapturedOutput};
use super::task::Types;
use super::{Output, ProcessError, StartMethod};
use crate::timeline::{Kind, Lane, Timeline, monotonic_ns};

mod fork;
mod join;
mod spawn;

pub use fork::{fork, fork_with};
pub(crate) use spawn::start_worker;
pub use spawn::{spawn, spawn_with};

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
#[must_use = "dropping a Process kills the worker; join it to get its result"]
pub struct Process<R> {
    /// All but the result's type. Non-generic (and dropped by non-generic code, hence
    /// `ManuallyDrop`), so that a notebook cell, which compiles every generic function and every
    /// drop it uses again, compiles only the few lines that know `R`.
    core: ManuallyDrop<Core>,
    _result: PhantomData<fn() -> R>,
}

/// A worker process, whatever its result's type: what [`Process`] holds and does.
pub(crate) struct Core {
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
}

impl<R> fmt::Debug for Process<R>
where
    R: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.debug_as_process(f, &self._result)
    }
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

impl Core {
    fn new(
        pid: u32,
        name: String,
        method: StartMethod,
        parent_threads: Option<usize>,
        handle: Handle,
        chan: Channel,
    ) -> Self {
        Core {
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
        }
    }

    /// Formats it as `#[derive(Debug)]` formatted a `Process` holding these fields and
    /// `_result`.
    #[inline(never)]
    fn debug_as_process(&self, f: &mut fmt::Formatter<'_>, result: &dyn fmt::Debug) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("caller_types", &self.caller_types)
            .field("name", &self.name)
            .field("method", &self.method)
            .field("parent_threads", &self.parent_threads)
            .field("handle", &self.handle)
            .field("chan", &self.chan)
            .field("exit", &self.exit)
            .field("joined", &self.joined)
            .field("captured", &self.captured)
            .field("forwarders_done", &self.forwarders_done)
            .field("work", &self.work)
            .field("called_ns", &self.called_ns)
            .field("ran_ns", &self.ran_ns)
            .field("joined_ns", &self.joined_ns)
            .field("failed", &self.failed)
            .field("_result", result)
            .finish()
    }

    /// Kills and reaps the worker if it still runs, then drops all it holds: [`Process`]'s drop.
    #[inline(never)]
    fn end(core: &mut ManuallyDrop<Core>) {
        core.kill();
        // Safety: called once, by `Process::drop`; the core is never touched again.
        unsafe { ManuallyDrop::drop(core) }
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

    /// [`Process::record`].
    #[inline(never)]
    fn record(&self, timeline: &Timeline, lane: Lane) -> Result<(), ProcessError> {
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
}

impl<R> Process<R> {
    /// A handle on `core`, whose result is an `R`.
    pub(super) fn from_core(core: Core) -> Self {
        Process {
            core: ManuallyDrop::new(core),
            _result: PhantomData,
        }
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
        self.core.pid
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
        &self.core.name
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
        self.core.method
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
        self.core.parent_threads
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
        self.core.captured.lines()
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
        self.core.called_ns
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
        self.core.ran_ns
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
        self.core.joined_ns
    }

    /// Names what it runs, for its span on a timeline (a fork's is `closure` until told).
    pub(crate) fn set_work(&mut self, work: impl Into<String>) {
        self.core.work = work.into();
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
        self.core.record(timeline, lane)
    }

    /// The channel to the worker (`parlab::pool` speaks its own messages on it).
    pub(crate) fn channel(&mut self) -> &mut Channel {
        &mut self.core.chan
    }
}

impl<R> Drop for Process<R> {
    fn drop(&mut self) {
        Core::end(&mut self.core);
    }
}

#[cfg(test)]
mod tests;
