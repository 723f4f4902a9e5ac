//! The tasks a spawned worker knows by name, and the worker's main loop.
//!
//! A spawned worker is a fresh process: it cannot run a closure from the parent, only code it was
//! built with. Each task here takes typed arguments and returns a typed result, both serialized
//! with postcard; [`TASKS`] lists them. A function written in a notebook cell runs too, as a
//! [`Task::Library`] made by [`cell_task!`](crate::cell_task): the worker loads the library evcxr
//! compiled for that cell (see [`cell`](super::cell)).
//!
//! # Examples
//! ```
//! use parlab::process::tasks;
//! assert!(tasks::names().contains(&"calc_pi"));
//! // A task runs in this process too, which is what the worker does with each request:
//! let args = postcard::to_stdvec(&vec![1.0f64, 2.5]).unwrap();
//! let out = tasks::run(&"sum".into(), &args).unwrap();
//! assert_eq!(postcard::from_bytes::<f64>(&out).unwrap(), 3.5);
//! ```

use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::channel::{Channel, decode, encode};
use super::sys;
use crate::pi::{self, PiEstimate};

/// The descriptor on which a spawned worker talks to its parent (stdout stays free for printing).
pub const PROTOCOL_FD: i32 = 3;

/// What a worker runs: a task known by name, or a notebook cell's function.
///
/// # Examples
/// ```
/// use parlab::process::Task;
/// assert_eq!(Task::from("sleep"), Task::Named("sleep".into()));
/// assert_eq!(Task::from("sleep").to_string(), "sleep");
/// let cell = Task::Library { path: "/tmp/libcode_3.so".into(), symbol: "parlab_task_square__1_9".into() };
/// assert_eq!(cell.to_string(), "square");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Task {
    /// A task in [`TASKS`], by name.
    Named(String),
    /// A notebook cell's function, made by [`cell_task!`](crate::cell_task): the entry point
    /// `symbol` (`parlab_task_NAME__LINE_COLUMN`) in the shared library at `path` (the one evcxr
    /// compiled for a cell).
    Library {
        /// The shared library that holds the entry point.
        path: std::path::PathBuf,
        /// The entry point's symbol.
        symbol: String,
    },
}

impl From<&str> for Task {
    fn from(name: &str) -> Self {
        Task::Named(name.to_string())
    }
}

impl From<String> for Task {
    fn from(name: String) -> Self {
        Task::Named(name)
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Task::Named(name) => f.write_str(name),
            Task::Library { symbol, .. } => f.write_str(super::cell::task_name(symbol)),
        }
    }
}

/// One request to a worker: the task and its serialized arguments.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) task: Task,
    pub(crate) args: Vec<u8>,
}

/// A worker's answer to a [`Request`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Response {
    /// The serialized result.
    Done(Vec<u8>),
    /// The task did not run to the end.
    Failed(TaskFailure),
}

/// Why a task gave no result.
///
/// # Examples
/// ```
/// use parlab::process::tasks::{self, TaskFailure};
/// let e = tasks::run(&"no_such_task".into(), &[]).unwrap_err();
/// assert!(matches!(e, TaskFailure::UnknownTask { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskFailure {
    /// No task of that name.
    UnknownTask {
        /// The name asked for.
        name: String,
        /// The known names.
        known: Vec<String>,
    },
    /// The arguments are not what the task takes.
    BadArgs {
        /// The task.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// The task exists but cannot be run here: a cell task whose library cannot be loaded, whose
    /// entry point is missing, whose ABI differs from the worker's, or that was made outside evcxr.
    Unavailable {
        /// The task.
        task: String,
        /// Why, and what to do about it.
        message: String,
    },
    /// The task panicked (message and place).
    Panicked(String),
    /// The result did not serialize.
    BadResult(String),
}

/// A task in the registry.
///
/// # Examples
/// ```
/// let t = parlab::process::tasks::TASKS.iter().find(|t| t.name == "echo").unwrap();
/// assert!(!t.about.is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TaskInfo {
    /// Its name.
    pub name: &'static str,
    /// Arguments -> result, as Rust types.
    pub signature: &'static str,
    /// What it does.
    pub about: &'static str,
    run: fn(&str, &[u8]) -> Result<Vec<u8>, TaskFailure>,
}

/// Every task a worker knows.
pub const TASKS: &[TaskInfo] = &[
    TaskInfo {
        name: "calc_pi",
        signature: "(samples: u64, seed: u64) -> PiEstimate",
        about: "pi::calc_pi, one thread",
        run: calc_pi,
    },
    TaskInfo {
        name: "echo",
        signature: "T -> T",
        about: "returns its arguments unchanged (any type)",
        run: echo,
    },
    TaskInfo {
        name: "sum",
        signature: "Vec<f64> -> f64",
        about: "adds the numbers",
        run: sum,
    },
    TaskInfo {
        name: "sleep",
        signature: "u64 -> ()",
        about: "sleeps that many milliseconds",
        run: sleep,
    },
    TaskInfo {
        name: "print",
        signature: "Vec<String> -> ()",
        about: "prints each line to stdout, then `done` to stderr",
        run: print,
    },
    TaskInfo {
        name: "panic",
        signature: "String -> ()",
        about: "panics with that message",
        run: panic_task,
    },
    TaskInfo {
        name: "abort",
        signature: "() -> ()",
        about: "aborts the process (SIGABRT)",
        run: abort,
    },
    TaskInfo {
        name: "exit",
        signature: "i32 -> ()",
        about: "exits with that code without answering",
        run: exit,
    },
    TaskInfo {
        name: "env",
        signature: "() -> Vec<(String, String)>",
        about: "the worker's environment variables",
        run: env,
    },
    TaskInfo {
        name: "stdin",
        signature: "() -> u64",
        about: "reads stdin to its end and returns the byte count",
        run: stdin,
    },
    TaskInfo {
        name: "pid",
        signature: "() -> u32",
        about: "the worker's process id",
        run: pid,
    },
];

/// The names of the known tasks.
///
/// # Examples
/// ```
/// assert!(parlab::process::tasks::names().contains(&"sleep"));
/// ```
pub fn names() -> Vec<&'static str> {
    TASKS.iter().map(|t| t.name).collect()
}

/// Runs a task in this process on serialized arguments and returns its serialized result.
///
/// # Errors
/// [`TaskFailure::UnknownTask`] (listing the known ones; for a [`Task::Library`] that cannot be
/// loaded, found or called, with why), [`TaskFailure::BadArgs`]; a panic of a named task is not
/// caught here (the worker catches it), a cell task's is ([`TaskFailure::Panicked`]).
///
/// # Examples
/// ```
/// use parlab::process::tasks::{self, TaskFailure};
/// let e = tasks::run(&"calc_pi".into(), &[1]).unwrap_err();
/// assert!(matches!(e, TaskFailure::BadArgs { .. }));
/// ```
pub fn run(task: &Task, args: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    match task {
        Task::Named(name) => match TASKS.iter().find(|t| t.name == name) {
            Some(t) => (t.run)(t.name, args),
            None => Err(TaskFailure::UnknownTask {
                name: name.clone(),
                known: names().into_iter().map(String::from).collect(),
            }),
        },
        Task::Library { path, symbol } => super::cell::run(path, symbol, args),
    }
}

/// Decodes the arguments (all of the bytes), runs `f`, encodes the result.
fn typed<A: DeserializeOwned, R: Serialize>(
    task: &str,
    bytes: &[u8],
    f: impl FnOnce(A) -> R,
) -> Result<Vec<u8>, TaskFailure> {
    let bad = |message: String| TaskFailure::BadArgs {
        task: task.to_string(),
        message,
    };
    let (args, rest) = postcard::take_from_bytes::<A>(bytes).map_err(|e| bad(e.to_string()))?;
    if !rest.is_empty() {
        return Err(bad(format!(
            "{} bytes left over after the arguments",
            rest.len()
        )));
    }
    postcard::to_stdvec(&f(args)).map_err(|e| TaskFailure::BadResult(e.to_string()))
}

fn calc_pi(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |(samples, seed): (u64, u64)| -> PiEstimate {
        match pi::calc_pi(samples, seed) {
            Ok(estimate) => estimate,
            Err(e) => panic!("calc_pi: {e}"),
        }
    })
}

fn echo(_: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    Ok(b.to_vec())
}

fn sum(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |v: Vec<f64>| v.iter().sum::<f64>())
}

fn sleep(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |ms: u64| {
        std::thread::sleep(Duration::from_millis(ms))
    })
}

fn print(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |lines: Vec<String>| {
        for line in lines {
            println!("{line}");
        }
        eprintln!("done");
    })
}

fn panic_task(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |message: String| -> () { panic!("{message}") })
}

fn abort(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |(): ()| -> () { std::process::abort() })
}

fn exit(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |code: i32| -> () { std::process::exit(code) })
}

fn env(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |(): ()| {
        std::env::vars().collect::<Vec<(String, String)>>()
    })
}

fn stdin(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |(): ()| {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_or(u64::MAX, |n| n as u64)
    })
}

fn pid(task: &str, b: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    typed(task, b, |(): ()| std::process::id())
}

/// The worker binary's `main`: answers requests on descriptor [`PROTOCOL_FD`] until the parent
/// closes it.
///
/// Returns exit code 2, with a message, when started by hand (no protocol descriptor).
///
/// # Examples
/// ```no_run
/// // src/bin/parlab-worker.rs
/// fn main() -> std::process::ExitCode {
///     parlab::process::tasks::worker_main()
/// }
/// ```
pub fn worker_main() -> ExitCode {
    // Safety: fstat only writes into `st`, a zeroed stat owned here.
    let is_socket = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(PROTOCOL_FD, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    };
    if !is_socket {
        eprintln!(
            "parlab-worker runs tasks for parlab::process::spawn and talks to it on descriptor {PROTOCOL_FD}; \
             it is not meant to be started by hand. Known tasks: {}",
            names().join(", ")
        );
        return ExitCode::from(2);
    }
    // Safety: descriptor 3 is a socket (checked above) that the parent set up for this process
    // alone; nothing else in this process owns it.
    let stream = unsafe { UnixStream::from_raw_fd(PROTOCOL_FD) };
    let Ok(mut chan) = Channel::new(stream) else {
        return ExitCode::from(3);
    };
    crate::panics::quiet_this_thread();
    let forever = Duration::from_secs(86_400 * 365);
    loop {
        let bytes = match chan.recv(sys::deadline(forever), forever, "request") {
            Ok(bytes) => bytes,
            Err(_) => return ExitCode::SUCCESS, // the parent closed the channel: done
        };
        let response = match decode::<Request>(&bytes) {
            Ok(req) => match crate::panics::catch_quietly(|| run(&req.task, &req.args)) {
                Ok(Ok(out)) => Response::Done(out),
                Ok(Err(failure)) => Response::Failed(failure),
                Err(caught) => Response::Failed(TaskFailure::Panicked(caught.to_string())),
            },
            Err(e) => Response::Failed(TaskFailure::BadArgs {
                task: "?".into(),
                message: e.to_string(),
            }),
        };
        let Ok(out) = encode(&response) else {
            return ExitCode::from(4);
        };
        if chan.send(&out, sys::deadline(forever), forever).is_err() {
            return ExitCode::SUCCESS;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc<T: Serialize>(v: &T) -> Vec<u8> {
        postcard::to_stdvec(v).unwrap()
    }

    #[test]
    fn registry_runs_typed_tasks() {
        let out = run(&"calc_pi".into(), &enc(&(10_000u64, 1u64))).unwrap();
        let est: PiEstimate = postcard::from_bytes(&out).unwrap();
        assert_eq!(est.samples, 10_000);
        assert_eq!(run(&"echo".into(), &[1, 2, 3]).unwrap(), [1, 2, 3]);
        match run(&"nope".into(), &[]).unwrap_err() {
            TaskFailure::UnknownTask { name, known } => {
                assert_eq!(name, "nope");
                assert!(known.iter().any(|k| k == "calc_pi"));
            }
            other => panic!("{other:?}"),
        }
        let e = run(&"calc_pi".into(), &enc(&"not numbers")).unwrap_err();
        assert!(matches!(e, TaskFailure::BadArgs { .. }), "{e:?}");
        let mut names = names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TASKS.len(), "task names are unique");
    }
}
