//! What goes wrong with a process, a pipe or a queue, and what the messages tell a user to do.

use std::path::PathBuf;
use std::time::Duration;

/// The environment variable that overrides where the worker binary is.
pub const WORKER_ENV: &str = "PARLAB_WORKER";

/// What to do about a [`ProcessError::WrongSignature`].
pub const WRONG_SIGNATURE_HINT: &str = "a task handle made before a type was edited still runs \
     the function compiled with the old type: make it again with `cell_task!` after the edit (or \
     run the notebook again from the top); use the typed constants in parlab::process::tasks \
     rather than handles named by hand, and rebuild the worker (`cargo build --release --bins`) \
     if it is older than the library";

/// The command that builds the worker binary.
pub const BUILD_WORKER: &str = "cargo build --release --bins";

/// Why fork, spawn, pipes, queues and the process pool are missing on this platform (Windows):
/// the message of [`ProcessError::Unsupported`].
pub(crate) const UNSUPPORTED: &str = "needs Unix (fork, Unix sockets, a socket as the \
     worker's stdin): on Windows run lessons 03 and 04 in WSL (Windows Subsystem for Linux: `wsl --install`, \
     then the README's two commands inside it); lessons 00-02 run natively";

/// The error for `what` on a platform without Unix processes.
#[cfg(not(unix))]
pub(crate) fn unsupported(what: &str) -> ProcessError {
    ProcessError::Unsupported {
        what: what.to_string(),
    }
}

/// What went wrong with a process, a pipe or a queue.
///
/// # Examples
/// ```
/// use parlab::process::ProcessError;
/// let e = ProcessError::Killed { pid: 42, signal: "SIGKILL".into() };
/// assert_eq!(e.to_string(), "worker 42 was killed by SIGKILL");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The worker binary is not where it should be.
    #[error(
        "the worker binary is missing at {path}: build it with `cargo build --release --bins` \
         (or `cargo run --release -- setup`), or point {WORKER_ENV} at it"
    )]
    WorkerMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The operating system refused to start a process, thread, pipe or socket.
    #[error("could not start {what}: {source}")]
    Start {
        /// What could not be started.
        what: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The worker does not know a task of that name.
    #[error("unknown task `{name}`; known tasks: {known}")]
    UnknownTask {
        /// The name asked for.
        name: String,
        /// The names the worker knows, comma separated.
        known: String,
    },
    /// The task cannot run in this worker (a cell task whose library or entry point cannot be
    /// loaded, or whose ABI differs from the worker's).
    #[error("task `{task}` cannot run: {message}")]
    TaskUnavailable {
        /// The task.
        task: String,
        /// Why, and what to do about it.
        message: String,
    },
    /// The task's argument or result type in the worker is not the handle's: the worker refused
    /// the request without decoding it (a stale worker binary, or a handle named by hand).
    #[error(
        "task `{task}` takes {worker} in the worker, but the handle used here says \
         {caller}{differences}: {WRONG_SIGNATURE_HINT}"
    )]
    WrongSignature {
        /// The task.
        task: String,
        /// The handle's signature.
        caller: String,
        /// The worker's signature for the task.
        worker: String,
        /// What differs, in parentheses (` (field n: u64 in the worker, i64 here)`), or empty.
        differences: String,
    },
    /// The arguments did not deserialize into the type the task takes.
    #[error("the arguments of task `{task}` do not deserialize: {message}")]
    BadArgs {
        /// The task.
        task: String,
        /// The deserializer's message.
        message: String,
    },
    /// The task panicked.
    #[error("worker {pid} panicked: {message}")]
    Panicked {
        /// The worker's process id.
        pid: u32,
        /// The panic message (and where it happened, when known).
        message: String,
    },
    /// The worker died from a signal before sending its result.
    #[error("worker {pid} was killed by {signal}")]
    Killed {
        /// The worker's process id.
        pid: u32,
        /// The signal's name, e.g. `SIGKILL`.
        signal: String,
    },
    /// The worker exited before sending its result.
    #[error("worker {pid} exited with code {code} without sending a result")]
    Exited {
        /// The worker's process id.
        pid: u32,
        /// Its exit code.
        code: i32,
    },
    /// Nothing arrived in time (for a worker: it was killed).
    #[error("{what}: nothing within {:.3} s", after.as_secs_f64())]
    Timeout {
        /// What timed out, e.g. `worker 42 gave no result (it was killed)` or `queue get`.
        what: String,
        /// The timeout.
        after: Duration,
    },
    /// The other end of a pipe or the worker's channel was closed.
    #[error("the other end closed the connection")]
    Closed,
    /// A message did not serialize or deserialize.
    #[error("a message does not {direction}: {message}")]
    Serde {
        /// `serialize` or `deserialize`.
        direction: &'static str,
        /// The serializer's message.
        message: String,
        /// The serializer's error, if one said it (not for a corrupt frame found here).
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A message is too large for the queue.
    #[error(
        "a message of {size} bytes is too large for a queue (at most {max}): send it through a pipe"
    )]
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The largest size allowed.
        max: usize,
    },
    /// The process was already joined.
    #[error("worker {pid} was already joined")]
    AlreadyJoined {
        /// The worker's process id.
        pid: u32,
    },
    /// The worker answered in an older protocol: a `parlab-worker` built from older sources.
    #[error(
        "worker {pid} answered in an older protocol (a parlab-worker built from older sources?): \
         rebuild it with `{BUILD_WORKER}`"
    )]
    StaleWorker {
        /// The worker's process id.
        pid: u32,
    },
    /// The process has not been joined yet: what needs its end (its timeline) is not known.
    #[error("worker {pid} has not been joined yet: join it first")]
    NotJoined {
        /// The worker's process id.
        pid: u32,
    },
    /// A bad argument, e.g. a queue of capacity 0.
    #[error("{0}")]
    Invalid(String),
    /// This platform cannot do it (fork, spawn, pipes, queues and the process pool need Unix).
    #[error("{what} {}", UNSUPPORTED)]
    Unsupported {
        /// What was asked for, e.g. `fork`.
        what: String,
    },
    /// Reading or writing a pipe, socket or process status failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl ProcessError {
    /// A [`ProcessError::Serde`] for the serializer's error `source` while trying to `direction`.
    pub(crate) fn serde(
        direction: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ProcessError::Serde {
            direction,
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// A [`ProcessError::Serde`] with no serializer's error under it: a corrupt frame found here,
    /// or what a worker said about a result.
    pub(crate) fn corrupt(direction: &'static str, message: String) -> Self {
        ProcessError::Serde {
            direction,
            message,
            source: None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ProcessError::Io {
            context: context.into(),
            source,
        }
    }
}
