//! Processes: start a worker (spawn or fork), get its typed result back, and pass messages
//! through pipes and queues.
//!
//! Two start methods, chosen explicitly like Python's `multiprocessing.get_context`:
//!
//! - [`spawn`]: a fresh process runs the crate's worker binary `parlab-worker`, which runs a typed
//!   [`Task`] (see [`tasks`], and [`cell_task!`](crate::cell_task) for a cell's function). Safe
//!   whatever threads the parent has; costs an `exec`. The compiler checks the arguments against
//!   the task's types, and the worker checks the handle's [`Signature`] again.
//! - [`fork`] (Unix): the child is a copy of the parent and runs a closure, even one defined in a
//!   notebook cell. Cheap, but a copy of a process with other threads may inherit a lock that one
//!   of those threads held, and then wait for it forever: [`Process::parent_threads`] says how many
//!   threads the parent had, and `fork` warns on stderr when there were others.
//!
//! Messages between processes: [`pipe`] gives two [`Connection`] ends carrying typed messages both
//! ways; a [`Queue`] is bounded, first in first out, and shared by any number of forked processes.
//! Messages are serialized with `serde` and `postcard`.
//!
//! Start-up against work: a joined [`Process`] knows when it was started, when its task ran (as
//! the child read the machine's monotonic clock) and when `join` returned, and
//! [`Process::record`] draws that on a [`Timeline`](crate::timeline::Timeline) lane;
//! [`record_start_methods`] does it for a thread, a fork and a spawn side by side.
//!
//! Every call that can block takes a timeout, and every failure is a [`ProcessError`] value: a
//! panicking task, a killed worker, a timeout (the worker is then killed), a missing worker binary.
//! Workers never read the parent's stdin, get a minimal environment (spawn), print through the
//! parent with a `[name]` prefix, and die with their [`Process`] handle and with their parent.
//!
//! # Examples
//! ```no_run
//! use std::time::Duration;
//! use parlab::process;
//! // spawn: a task known to the worker by name, with typed arguments and result
//! let mut worker = process::spawn(process::tasks::CALC_PI, &(1_000_000, 1))?;
//! let pi = worker.join(Duration::from_secs(5))?;
//! // fork: any closure
//! let mut child = process::fork(|| 6 * 7)?;
//! assert_eq!(child.join(Duration::from_secs(5))?, 42);
//! # Ok::<(), process::ProcessError>(())
//! ```

// Without Unix (Windows) the wire format, requests and thread checks are built but only Unix
// starts a process that uses them: no warnings for that.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

mod catalogue;
pub mod cell;
mod channel;
#[cfg(unix)]
mod child;
mod error;
pub(crate) mod items;
mod output;
#[cfg(unix)]
mod queue;
#[cfg(unix)]
mod queue_check;
#[cfg(unix)]
mod record;
mod run;
pub mod shape;
pub(crate) mod sys;
mod task;
pub mod tasks;
mod type_names;
// Windows: the same names, each start returning `ProcessError::Unsupported` (use WSL).
#[cfg(not(unix))]
mod unsupported;
mod wire;
mod worker_main;

use std::path::PathBuf;

#[cfg(unix)]
pub use channel::{Connection, pipe};
pub(crate) use channel::{decode, encode, frame_header, unframe};
#[cfg(unix)]
pub(crate) use child::start_worker;
#[cfg(unix)]
pub use child::{Process, fork, fork_with, spawn, spawn_with};
pub use error::{BUILD_WORKER, ProcessError, WORKER_ENV, WRONG_SIGNATURE_HINT};
#[cfg(not(unix))]
pub(crate) use error::{UNSUPPORTED, unsupported};
pub use output::{CapturedOutput, MAX_CAPTURED, MAX_LINE};
#[cfg(unix)]
pub use queue::Queue;
#[cfg(unix)]
pub use queue_check::check_pi_with_queue;
#[cfg(unix)]
pub use record::{
    START_METHODS_SEED, StartMethodRuns, record_start_methods, record_start_methods_with,
};
pub use task::{AsTask, Signature, Task, TaskId, Types};
#[cfg(not(unix))]
pub use unsupported::{Connection, Process, Queue, fork, fork_with, pipe, spawn, spawn_with};

/// Environment variables a spawned worker keeps; every other one is dropped.
pub const ENV_ALLOW_LIST: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "RUST_BACKTRACE"];

/// Where setup builds the worker binary: `target/release/parlab-worker` in this crate.
pub const DEFAULT_WORKER: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/parlab-worker");

/// How a process was started.
///
/// # Examples
/// ```
/// assert_eq!(parlab::process::StartMethod::Spawn.to_string(), "spawn");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartMethod {
    /// A fresh process running the worker binary.
    Spawn,
    /// A copy of the parent running a closure.
    Fork,
}

impl std::fmt::Display for StartMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StartMethod::Spawn => "spawn",
            StartMethod::Fork => "fork",
        })
    }
}

/// Where a worker's stdout and stderr go.
///
/// # Examples
/// ```
/// let opts = parlab::process::Options { output: parlab::process::Output::Capture, ..Default::default() };
/// assert_eq!(opts.output, parlab::process::Output::Capture);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// Printed by the parent, each line prefixed with `[name] ` (the default).
    #[default]
    Forward,
    /// Kept, prefixed, for [`Process::output`]; nothing printed.
    Capture,
    /// Thrown away.
    Discard,
}

/// How to start a worker: its name, where its output goes, which binary (spawn), warnings (fork).
///
/// # Examples
/// ```
/// let opts = parlab::process::Options::named("pi-1");
/// assert_eq!(opts.name.as_deref(), Some("pi-1"));
/// assert!(opts.warn);
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// The name in the output prefix; `spawn-PID` or `fork-PID` when `None`.
    pub name: Option<String>,
    /// Where the worker's stdout and stderr go.
    pub output: Output,
    /// The worker binary for spawn; [`worker_path`] when `None`.
    pub worker: Option<PathBuf>,
    /// Fork: warn on stderr when the parent has other threads.
    pub warn: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: None,
            output: Output::Forward,
            worker: None,
            warn: true,
        }
    }
}

impl Options {
    /// Default options with a name for the output prefix.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::process::Options::named("w").name.unwrap(), "w");
    /// ```
    pub fn named(name: impl Into<String>) -> Self {
        Options {
            name: Some(name.into()),
            ..Options::default()
        }
    }
}

/// The worker binary: `$PARLAB_WORKER` if set, else where setup builds it ([`DEFAULT_WORKER`]).
///
/// # Errors
/// [`ProcessError::WorkerMissing`] (naming the command that builds it) when there is no file there.
///
/// # Examples
/// ```
/// match parlab::process::worker_path() {
///     Ok(path) => assert!(path.ends_with("parlab-worker")),
///     Err(e) => assert!(e.to_string().contains("cargo build --release --bins")),
/// }
/// ```
pub fn worker_path() -> Result<PathBuf, ProcessError> {
    let path =
        std::env::var_os(WORKER_ENV).map_or_else(|| PathBuf::from(DEFAULT_WORKER), PathBuf::from);
    check_worker(path)
}

fn check_worker(path: PathBuf) -> Result<PathBuf, ProcessError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(ProcessError::WorkerMissing { path })
    }
}

/// How many threads this process has now (Linux: from `/proc/self/task`; macOS: from
/// `proc_pidinfo`; elsewhere `None`).
///
/// # Examples
/// ```
/// if let Some(n) = parlab::process::thread_count() {
///     assert!(n >= 1);
/// }
/// ```
pub fn thread_count() -> Option<usize> {
    sys::thread_count()
}

/// The name a thread takes while it only waits for another one ([`idle_wait`]).
#[cfg(target_os = "linux")]
const IDLE_NAME: &[u8] = b"parlab-idle\0";

/// Runs `wait` (a blocking wait that holds no lock, such as a channel's `recv_timeout`) with this
/// thread marked idle, so that a [`fork`] made meanwhile by another thread does not warn about it:
/// the thread of an exercise check that waits for the learner's code.
///
/// The mark is the thread's name as the system keeps it, so it is seen by every copy of this
/// crate (evcxr links one per cell); the old name is put back after. Only Linux lets a process
/// read its threads' names, so elsewhere this only runs `wait` (and fork's check says "unknown").
///
/// # Examples
/// ```
/// let n = parlab::process::idle_wait(|| 6 * 7);
/// assert_eq!(n, 42);
/// ```
#[cfg(not(target_os = "linux"))]
pub fn idle_wait<T>(wait: impl FnOnce() -> T) -> T {
    wait()
}

/// Runs `wait` with this thread marked idle (see the other platforms' `idle_wait`).
///
/// # Examples
/// ```
/// let n = parlab::process::idle_wait(|| 6 * 7);
/// assert_eq!(n, 42);
/// ```
#[cfg(target_os = "linux")]
pub fn idle_wait<T>(wait: impl FnOnce() -> T) -> T {
    let mut old = [0u8; 16];
    // Safety: PR_GET_NAME writes at most 16 bytes (the name and its NUL) into `old`;
    // PR_SET_NAME reads a NUL-terminated string of at most 16 bytes; both act on this thread.
    let renamed = unsafe {
        libc::prctl(libc::PR_GET_NAME, old.as_mut_ptr()) == 0
            && libc::prctl(libc::PR_SET_NAME, IDLE_NAME.as_ptr()) == 0
    };
    let out = wait();
    if renamed {
        // Safety: as above; `old` holds the NUL-terminated name PR_GET_NAME gave.
        unsafe { libc::prctl(libc::PR_SET_NAME, old.as_ptr()) };
    }
    out
}

/// The threads of this process other than the calling one that may hold a lock: all of them but
/// those marked by [`idle_wait`] (`None` where the system does not say: off Linux).
#[cfg(not(target_os = "linux"))]
pub(crate) fn other_busy_threads() -> Option<usize> {
    None
}

/// The threads of this process other than the calling one that may hold a lock: all of them but
/// those marked by [`idle_wait`] (read from `/proc/self/task/*/comm`).
#[cfg(target_os = "linux")]
pub(crate) fn other_busy_threads() -> Option<usize> {
    let me = nix::unistd::gettid().as_raw().to_string();
    let idle = &IDLE_NAME[..IDLE_NAME.len() - 1];
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .flatten()
            .filter(|t| t.file_name() != me.as_str())
            .filter(|t| {
                std::fs::read(t.path().join("comm")).map_or(true, |c| c.trim_ascii_end() != idle)
            })
            .count(),
    )
}
