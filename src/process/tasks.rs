//! The tasks a spawned worker knows by name, typed; how a worker runs them; its main loop.
//!
//! A spawned worker is a fresh process: it cannot run a closure from the parent, only code it was
//! built with. Each task here is a typed constant ([`CALC_PI`] is a `Task<(u64, u64), PiEstimate>`),
//! so a call with arguments of another type does not compile; [`TASKS`] lists them. A function
//! written in a notebook cell runs too, through [`cell_task!`](crate::cell_task): the worker loads
//! the library evcxr compiled for that cell (see [`cell`](super::cell)).
//!
//! On the wire a request is a task id, the handle's [`Signature`] and a run of arguments, each
//! length-prefixed and encoded with postcard; the answer starts with a magic number and the
//! worker's own clock readings of when the task started and ended, then one encoded
//! `Result<R, TaskFailure>` per argument. A worker checks the signature before it decodes a byte,
//! and decodes each value strictly (bytes left over are an error); the caller refuses an answer
//! without the magic (a worker built from older sources) with an error that says to rebuild it.
//!
//! # Examples
//! ```
//! use parlab::process::tasks;
//! assert!(tasks::names().contains(&"calc_pi"));
//! // A task runs in this process too, which is what the worker does with each request:
//! assert_eq!(tasks::run_here(&tasks::SUM, &vec![1.0, 2.5]), Ok(3.5));
//! ```

use std::io::Read;
#[cfg(unix)]
use std::os::fd::FromRawFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[cfg(unix)]
use super::channel::Channel;
use super::channel::{decode, encode};
use super::shape::{TaskShapes, UNTRACED};
use super::task::{Signature, Task, TaskId, Types};
use super::{items, sys};
use crate::pi::{self, PiEstimate};
#[cfg(unix)]
use crate::timeline::monotonic_ns;

/// The descriptor on which a spawned worker talks to its parent (stdout stays free for printing).
pub const PROTOCOL_FD: i32 = 3;

/// One request to a spawned worker: the task, its handle's signature and the encoded arguments.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) task: TaskId,
    pub(crate) signature: Signature,
    pub(crate) args: Vec<u8>,
}

/// The outcome a worker sends back in its [`Reply`]: the encoded outcome of the task (see
/// [`run_chunk`]), or why it could not run at all.
pub(crate) type Response = Result<Vec<u8>, TaskFailure>;

/// The first bytes of every [`Reply`]. A worker built before replies carried their times sends a
/// bare [`Response`], whose first byte is 0 or 1 (its variant): never these.
/// `rpl3`: a refusal carries the worker's traced types.
pub(crate) const REPLY_MAGIC: [u8; 4] = *b"rpl3";

/// A one-shot worker's answer (a spawned `parlab-worker`, or a forked child): [`REPLY_MAGIC`],
/// when the task started and ended on the machine's monotonic clock as the worker read it
/// ([`monotonic_ns`](crate::timeline::monotonic_ns)), and its outcome.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reply {
    /// [`REPLY_MAGIC`].
    pub(crate) magic: [u8; 4],
    /// The worker's clock just before the task ran.
    pub(crate) started_ns: u64,
    /// The worker's clock just after the task returned (or panicked).
    pub(crate) ended_ns: u64,
    /// What the task gave.
    pub(crate) response: Response,
}

impl Reply {
    /// A reply for `response`, of a task that ran from `started_ns` to `ended_ns`.
    pub(crate) fn new(started_ns: u64, ended_ns: u64, response: Response) -> Self {
        Reply {
            magic: REPLY_MAGIC,
            started_ns,
            ended_ns,
            response,
        }
    }

    /// Decodes a reply; the answer of a worker built from older sources (a bare [`Response`],
    /// without the magic) is [`ProcessError::StaleWorker`](super::ProcessError::StaleWorker),
    /// never a value.
    pub(crate) fn decode(bytes: &[u8], pid: u32) -> Result<Reply, super::ProcessError> {
        if !bytes.starts_with(&REPLY_MAGIC) {
            return Err(super::ProcessError::StaleWorker { pid });
        }
        decode::<Reply>(bytes)
    }
}

/// Why a task gave no result.
///
/// # Examples
/// ```
/// use parlab::process::{Task, tasks::{self, TaskFailure}};
/// let e = tasks::run_here(&Task::<(), ()>::named("no_such_task"), &()).unwrap_err();
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
    /// The handle's argument or result type is not the task's: the worker refused the request
    /// before decoding anything.
    WrongSignature {
        /// The task.
        task: String,
        /// The task's signature in the worker, e.g. `(u64, u64) -> PiEstimate`.
        worker: String,
        /// The worker's traced types, for the caller to name what differs (none for `echo`).
        shapes: Option<Box<TaskShapes>>,
    },
}

/// A task in the registry: its name, its signature and what it does.
///
/// # Examples
/// ```
/// let t = parlab::process::tasks::TASKS.iter().find(|t| t.name == "calc_pi").unwrap();
/// assert_eq!(t.signature(), "(u64, u64) -> PiEstimate");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TaskInfo {
    /// Its name.
    pub name: &'static str,
    /// What it does.
    pub about: &'static str,
    signature: fn() -> String,
}

impl TaskInfo {
    /// Arguments -> result, as Rust types (`T -> T` for [`echo`]).
    pub fn signature(&self) -> String {
        (self.signature)()
    }
}

/// Declares the registry: a typed constant per task, [`TASKS`], and the worker's dispatch.
macro_rules! registry {
    ($($(#[$doc:meta])* $konst:ident = $name:literal: $A:ty => $R:ty, $about:literal, $f:expr;)*) => {
        $($(#[$doc])* pub const $konst: Task<$A, $R> = Task::named($name);)*

        /// Every task a worker knows by name.
        pub const TASKS: &[TaskInfo] = &[
            $(TaskInfo { name: $name, about: $about, signature: Signature::text::<$A, $R> },)*
            TaskInfo { name: "echo", about: "returns its argument unchanged (any type)", signature: || "T -> T".into() },
        ];

        /// Runs the named task `name` on a chunk; `None` if there is no such task.
        fn run_named(name: &str, signature: Signature, args: &[u8], count: usize) -> Option<Result<Vec<u8>, TaskFailure>> {
            Some(match name {
                $($name => serve_typed::<$A, $R>($name, signature, args, count, $f),)*
                "echo" => echo_chunk(signature, args, count),
                _ => return None,
            })
        }
    };
}

registry! {
    /// `pi::calc_pi(samples, seed)` on one thread.
    ///
    /// ```no_run
    /// let mut w = parlab::process::spawn(parlab::process::tasks::CALC_PI, &(1_000_000, 1))?;
    /// assert_eq!(w.join(std::time::Duration::from_secs(5))?.samples, 1_000_000);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    CALC_PI = "calc_pi": (u64, u64) => PiEstimate, "pi::calc_pi(samples, seed), one thread",
        |(samples, seed): (u64, u64)| match pi::calc_pi(samples, seed) {
            Ok(estimate) => estimate,
            Err(e) => panic!("calc_pi: {e}"),
        };
    /// Adds the numbers.
    SUM = "sum": Vec<f64> => f64, "adds the numbers", |v: Vec<f64>| v.iter().sum::<f64>();
    /// Sleeps that many milliseconds.
    SLEEP = "sleep": u64 => (), "sleeps that many milliseconds",
        |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    /// Prints each line to stdout, then `done` to stderr.
    PRINT = "print": Vec<String> => (), "prints each line to stdout, then `done` to stderr",
        |lines: Vec<String>| {
            for line in lines {
                println!("{line}");
            }
            eprintln!("done");
        };
    /// Panics with that message.
    PANIC = "panic": String => (), "panics with that message", |message: String| -> () { panic!("{message}") };
    /// Aborts the process (SIGABRT).
    ABORT = "abort": () => (), "aborts the process (SIGABRT)", |(): ()| -> () { std::process::abort() };
    /// Exits with that code without answering.
    EXIT = "exit": i32 => (), "exits with that code without answering", |code: i32| -> () { std::process::exit(code) };
    /// The worker's environment variables.
    ENV = "env": () => Vec<(String, String)>, "the worker's environment variables",
        |(): ()| std::env::vars().collect::<Vec<(String, String)>>();
    /// Reads stdin to its end (at most 1 MiB) and returns the byte count.
    STDIN = "stdin": () => u64, "reads stdin to its end and returns the byte count",
        |(): ()| {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .take(1 << 20)
                .read_to_end(&mut buf)
                .map_or(u64::MAX, |n| n as u64)
        };
    /// Runs `sleep` for that many milliseconds as a child process (which inherits the worker's
    /// stdout and stderr) and waits for it: a task that starts a long-lived program.
    RUN_CHILD = "run_child": u64 => (), "runs `sleep` for that many milliseconds as a child process and waits for it",
        |ms: u64| {
            let secs = format!("{}.{:03}", ms / 1000, ms % 1000);
            match std::process::Command::new("sleep").arg(secs).stdin(std::process::Stdio::null()).status() {
                Ok(_) => {}
                Err(e) => panic!("run_child: could not start `sleep`: {e}"),
            }
        };
    /// The worker's process id.
    PID = "pid": () => u32, "the worker's process id", |(): ()| std::process::id();
}

/// The task that returns its argument unchanged, for any type `T`.
///
/// # Examples
/// ```
/// use parlab::process::tasks;
/// assert_eq!(tasks::run_here(&tasks::echo::<(u8, String)>(), &(7, "x".into())), Ok((7, "x".to_string())));
/// ```
pub const fn echo<T>() -> Task<T, T> {
    Task::named("echo")
}

/// The names of the known tasks.
///
/// # Examples
/// ```
/// assert!(parlab::process::tasks::names().contains(&"sleep"));
/// ```
pub fn names() -> Vec<&'static str> {
    TASKS.iter().map(|t| t.name).collect()
}

/// Runs `task` on `args` in this process, through the same encoding a worker uses.
///
/// # Errors
/// Why the task gave no result: [`TaskFailure::UnknownTask`], [`TaskFailure::WrongSignature`],
/// [`TaskFailure::Panicked`] (caught quietly), ...
///
/// # Examples
/// ```
/// use parlab::process::tasks::{self, TaskFailure};
/// assert!(matches!(tasks::run_here(&tasks::PANIC, &"no".into()), Err(TaskFailure::Panicked(m)) if m.starts_with("no")));
/// ```
pub fn run_here<A, R>(task: &Task<A, R>, args: &A) -> Result<R, TaskFailure>
where
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
{
    let mut bytes = Vec::new();
    items::push_encoded(&mut bytes, args, &mut Vec::new()).map_err(|e| TaskFailure::BadArgs {
        task: task.name(),
        message: format!("the arguments do not serialize: {e}"),
    })?;
    let out = run_chunk_here(task.id(), task.signature(), &bytes, 1)?;
    let mut outcomes = decode_outcomes::<R>(&out, 1);
    outcomes.remove(0)
}

/// The tasks that end the process that runs them: a thread pool (and [`run_here`]) refuses them,
/// since they would end the caller's own process (in a notebook, the kernel) without a word.
///
/// # Examples
/// ```
/// use parlab::process::tasks;
/// assert!(tasks::ENDS_THE_PROCESS.contains(&tasks::EXIT.name().as_str()));
/// ```
pub const ENDS_THE_PROCESS: [&str; 2] = ["exit", "abort"];

/// [`run_chunk`] in this process (a thread pool, [`run_here`]): a task that would end this
/// process is refused with why.
///
/// # Errors
/// As [`run_chunk`]; [`TaskFailure::Unavailable`] for a task in [`ENDS_THE_PROCESS`].
pub(crate) fn run_chunk_here(
    task: &TaskId,
    signature: Signature,
    args: &[u8],
    count: usize,
) -> Result<Vec<u8>, TaskFailure> {
    if let TaskId::Named(name) = task {
        if ENDS_THE_PROCESS.contains(&name.as_ref()) {
            return Err(TaskFailure::Unavailable {
                task: name.to_string(),
                message: format!(
                    "`{name}` ends the process that runs it, and this runs tasks in this very \
                     process (in a notebook, the kernel), which would end without a word; a \
                     ProcessPool (or process::spawn) runs it safely: its worker process ends, \
                     the call gets an error, and the pool starts a new worker"
                ),
            });
        }
    }
    run_chunk(task, signature, args, count)
}

/// Runs `count` calls of a task on arguments sent as a run of items (see `items`); returns their
/// outcomes as a run of items, each a postcard `Result<R, TaskFailure>`.
///
/// # Errors
/// Why no call could run: an unknown task, a wrong signature, a cell task that cannot be loaded.
pub(crate) fn run_chunk(
    task: &TaskId,
    signature: Signature,
    args: &[u8],
    count: usize,
) -> Result<Vec<u8>, TaskFailure> {
    match task {
        TaskId::Named(name) => run_named(name, signature, args, count).unwrap_or_else(|| {
            Err(TaskFailure::UnknownTask {
                name: name.to_string(),
                known: names().into_iter().map(String::from).collect(),
            })
        }),
        TaskId::Library { path, symbol } => super::cell::run(path, symbol, signature, args, count),
    }
}

/// Checks the request's signature against the task's `A -> R` (a request is refused when they
/// differ, and when either type could not be traced), then serves the chunk.
fn serve_typed<A: DeserializeOwned + 'static, R: Serialize + DeserializeOwned + 'static>(
    name: &str,
    signature: Signature,
    args: &[u8],
    count: usize,
    f: impl Fn(A) -> R,
) -> Result<Vec<u8>, TaskFailure> {
    check_signature(name, signature, Types::of::<A, R>())?;
    serve_items(name, args, count, f)
}

/// Refuses a request whose signature is not `own`'s, or whose types (either side's) could not be
/// traced: the refusal carries `own`'s shapes, for the caller to name what differs.
///
/// # Errors
/// [`TaskFailure::WrongSignature`].
pub(crate) fn check_signature(
    name: &str,
    signature: Signature,
    own: Types,
) -> Result<(), TaskFailure> {
    let mine = own.signature();
    if signature == mine && mine.args != UNTRACED && mine.result != UNTRACED {
        return Ok(());
    }
    Err(TaskFailure::WrongSignature {
        task: name.to_string(),
        worker: own.text(),
        shapes: Some(Box::new(own.shapes())),
    })
}

/// `echo` takes any `T` to the same `T`: each argument goes back as it came, once the signature
/// says that the argument and result types are one type.
fn echo_chunk(signature: Signature, args: &[u8], count: usize) -> Result<Vec<u8>, TaskFailure> {
    if signature.args != signature.result || signature.args == UNTRACED {
        return Err(TaskFailure::WrongSignature {
            task: "echo".into(),
            worker: "T -> T (the argument and result types must be the same, and traceable)".into(),
            shapes: None,
        });
    }
    let mut out = Vec::with_capacity(args.len() + 2 * count);
    let mut outcome = Vec::new();
    let mut n = 0;
    for item in items::split(args) {
        let item = item.map_err(|e| corrupt("echo", &e))?;
        outcome.clear();
        outcome.push(0); // Ok
        outcome.extend_from_slice(item);
        items::push(&mut out, &outcome);
        n += 1;
    }
    check_count("echo", n, count)?;
    Ok(out)
}

/// Decodes each argument as an `A`, runs `f` on it (a panic is that call's outcome, caught
/// quietly) and encodes each outcome, a `Result<R, TaskFailure>`, as one item.
///
/// # Errors
/// A chunk whose framing is corrupt, or that holds another number of arguments than `count`.
pub(crate) fn serve_items<A: DeserializeOwned, R: Serialize>(
    name: &str,
    args: &[u8],
    count: usize,
    f: impl Fn(A) -> R,
) -> Result<Vec<u8>, TaskFailure> {
    let mut out = Vec::with_capacity(count * 10);
    let mut scratch = Vec::new();
    let mut n = 0;
    for item in items::split(args) {
        let item = item.map_err(|e| corrupt(name, &e))?;
        n += 1;
        let outcome = match items::decode_exact::<A>(item) {
            Ok(arg) => crate::panics::catch_quietly(|| f(arg))
                .map_err(|caught| TaskFailure::Panicked(caught.to_string())),
            Err(message) => Err(TaskFailure::BadArgs {
                task: name.to_string(),
                message,
            }),
        };
        push_outcome(&mut out, outcome.as_ref(), &mut scratch);
    }
    check_count(name, n, count)?;
    Ok(out)
}

/// Appends one outcome; a value that does not serialize becomes [`TaskFailure::BadResult`].
fn push_outcome<R: Serialize>(
    out: &mut Vec<u8>,
    outcome: Result<&R, &TaskFailure>,
    scratch: &mut Vec<u8>,
) {
    if let Err(e) = items::push_encoded(out, &outcome, scratch) {
        let failure: Result<(), TaskFailure> = Err(TaskFailure::BadResult(e.to_string()));
        // A TaskFailure is strings and vectors of strings: it always serializes.
        let _ = items::push_encoded(out, &failure, scratch);
    }
}

fn corrupt(task: &str, why: &str) -> TaskFailure {
    TaskFailure::BadArgs {
        task: task.to_string(),
        message: format!("the request is corrupt: {why}"),
    }
}

fn check_count(task: &str, found: usize, count: usize) -> Result<(), TaskFailure> {
    if found == count {
        Ok(())
    } else {
        Err(corrupt(
            task,
            &format!("it holds {found} arguments where it says {count}"),
        ))
    }
}

/// The failure of the first outcome in a run, if it failed, whatever its value's type: an
/// initializer's, whose value is thrown away.
pub(crate) fn first_failure(run: &[u8]) -> Option<TaskFailure> {
    match items::split(run).next() {
        Some(Ok([0, ..])) => None,
        Some(Ok([1, failure @ ..])) => Some(
            items::decode_exact::<TaskFailure>(failure)
                .unwrap_or_else(|e| TaskFailure::BadResult(format!("the failure is corrupt: {e}"))),
        ),
        Some(Ok(_)) => Some(TaskFailure::BadResult("the outcome is corrupt".into())),
        Some(Err(e)) => Some(TaskFailure::BadResult(format!(
            "the outcome is corrupt: {e}"
        ))),
        None => Some(TaskFailure::BadResult("no outcome came back".into())),
    }
}

/// Decodes `count` outcomes, each a `Result<R, TaskFailure>`, sent by a worker.
///
/// An outcome that does not decode strictly as one fails that call; a run with another number of
/// outcomes (or broken framing) fails the calls it does not answer.
pub(crate) fn decode_outcomes<R: DeserializeOwned>(
    bytes: &[u8],
    count: usize,
) -> Vec<Result<R, TaskFailure>> {
    let type_name = || super::task::short_type_name(std::any::type_name::<R>());
    let mut outcomes: Vec<Result<R, TaskFailure>> = Vec::with_capacity(count);
    for item in items::split(bytes).take(count) {
        outcomes.push(match item {
            Ok(item) => items::decode_exact::<Result<R, TaskFailure>>(item).unwrap_or_else(|e| {
                Err(TaskFailure::BadResult(format!(
                    "the answer does not decode as a {}: {e}",
                    type_name()
                )))
            }),
            Err(e) => Err(TaskFailure::BadResult(format!(
                "the answer is corrupt: {e}"
            ))),
        });
    }
    while outcomes.len() < count {
        outcomes.push(Err(TaskFailure::BadResult(
            "the worker's answer holds fewer results than tasks".into(),
        )));
    }
    outcomes
}

/// What a worker does first with its protocol socket: closes it on exec, so that a program a task
/// starts does not inherit it (and keep it open after this worker dies, hiding the death from the
/// parent), and exits when the parent's end closes (the parent died, whichever thread started
/// this worker).
///
/// # Errors
/// When the descriptor's flags cannot be set or no thread can be started.
#[cfg(unix)]
pub(crate) fn hold_protocol_socket(stream: &UnixStream) -> std::io::Result<()> {
    use std::os::fd::{AsFd, AsRawFd};
    sys::set_cloexec(stream.as_fd())?;
    sys::exit_on_hangup(stream.as_raw_fd(), PARENT_GONE)
}

/// The exit code of a worker whose parent closed its socket (died) while a task ran.
#[cfg(unix)]
const PARENT_GONE: i32 = 0;

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
#[cfg(unix)]
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
    if hold_protocol_socket(&stream).is_err() {
        return ExitCode::from(3);
    }
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
        let request = decode::<Request>(&bytes);
        let started_ns = monotonic_ns();
        let response: Response = match request {
            Ok(req) => run_chunk(&req.task, req.signature, &req.args, 1),
            Err(e) => Err(TaskFailure::BadArgs {
                task: "?".into(),
                message: format!("the request is corrupt: {e}"),
            }),
        };
        let reply = Reply::new(started_ns, monotonic_ns(), response);
        let Ok(out) = encode(&reply) else {
            return ExitCode::from(4);
        };
        if chan.send(&out, sys::deadline(forever), forever).is_err() {
            return ExitCode::SUCCESS;
        }
    }
}

/// The worker binary's `main` where there is no Unix (Windows): says that spawn needs Unix (WSL)
/// and exits with code 2.
///
/// # Examples
/// ```no_run
/// // src/bin/parlab-worker.rs
/// fn main() -> std::process::ExitCode {
///     parlab::process::tasks::worker_main()
/// }
/// ```
#[cfg(not(unix))]
pub fn worker_main() -> ExitCode {
    eprintln!("parlab-worker {}", super::sys::UNSUPPORTED);
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_runs_typed_tasks() {
        let est = run_here(&CALC_PI, &(10_000, 1)).unwrap();
        assert_eq!(est.samples, 10_000);
        assert_eq!(
            run_here(&echo::<Vec<u8>>(), &vec![1, 2, 3]).unwrap(),
            [1, 2, 3]
        );
        match run_here(&Task::<(), ()>::named("nope"), &()).unwrap_err() {
            TaskFailure::UnknownTask { name, known } => {
                assert_eq!(name, "nope");
                assert!(known.iter().any(|k| k == "calc_pi"));
            }
            other => panic!("{other:?}"),
        }
        let mut sorted = names();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), TASKS.len(), "task names are unique");
    }

    #[test]
    fn a_handle_with_other_types_is_refused_before_decoding() {
        // i32 literals where calc_pi takes u64: postcard would read zig-zag 1_000_000 as 2_000_000.
        let wrong: Task<(i32, i32), PiEstimate> = Task::named("calc_pi");
        match run_here(&wrong, &(1_000_000, 1)).unwrap_err() {
            TaskFailure::WrongSignature {
                task,
                worker,
                shapes,
            } => {
                assert_eq!(task, "calc_pi");
                assert_eq!(worker, "(u64, u64) -> PiEstimate");
                let here = Types::of::<(i32, i32), PiEstimate>();
                assert_eq!(
                    here.differences(shapes.as_deref()),
                    [
                        "field 0: u64 in the worker, i32 here",
                        "field 1: u64 in the worker, i32 here"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        let pid_as_i64: Task<(), i64> = Task::named("pid");
        assert!(matches!(
            run_here(&pid_as_i64, &()),
            Err(TaskFailure::WrongSignature { .. })
        ));
        let echo_changing_type: Task<u64, i64> = Task::named("echo");
        assert!(matches!(
            run_here(&echo_changing_type, &1),
            Err(TaskFailure::WrongSignature { .. })
        ));
    }

    #[test]
    fn an_old_reply_is_a_stale_worker_never_a_value() {
        // What a worker built before replies carried times sends: a bare Response.
        let mut run = Vec::new();
        items::push_encoded(&mut run, &Ok::<u32, TaskFailure>(42), &mut Vec::new()).unwrap();
        let old: [Response; 2] = [Ok(run), Err(TaskFailure::Panicked("x".into()))];
        for old in old {
            let bytes = encode(&old).unwrap();
            match Reply::decode(&bytes, 7) {
                Err(e @ super::super::ProcessError::StaleWorker { pid: 7 }) => {
                    assert!(e.to_string().contains(super::super::BUILD_WORKER), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
        let bytes = encode(&Reply::new(1, 2, Ok(vec![3]))).unwrap();
        let back = Reply::decode(&bytes, 7).unwrap();
        assert_eq!(
            (back.started_ns, back.ended_ns, back.response),
            (1, 2, Ok(vec![3]))
        );
        // A new reply cut short is corrupt, not stale.
        assert!(matches!(
            Reply::decode(&bytes[..bytes.len() - 1], 7),
            Err(super::super::ProcessError::Serde { .. })
        ));
        // And a new reply does not pass for an old one (an old caller refuses it).
        assert!(decode::<Response>(&bytes).is_err());
    }

    #[test]
    fn chunks_give_one_outcome_per_argument() {
        let mut args = Vec::new();
        for ms in ["a", "b"] {
            items::push_encoded(&mut args, ms, &mut Vec::new()).unwrap();
        }
        let out = run_chunk(PANIC.id(), PANIC.signature(), &args, 2).unwrap();
        let outcomes = decode_outcomes::<()>(&out, 2);
        assert!(matches!(&outcomes[1], Err(TaskFailure::Panicked(m)) if m.starts_with("b (at ")));
        // A count that does not match, and a corrupt frame, fail the chunk.
        assert!(run_chunk(PANIC.id(), PANIC.signature(), &args, 3).is_err());
        assert!(run_chunk(PANIC.id(), PANIC.signature(), &[0x05, 1], 1).is_err());
        // Results that are not the type asked for are an error, never a value.
        let out = run_chunk(
            SUM.id(),
            SUM.signature(),
            &{
                let mut a = Vec::new();
                items::push_encoded(&mut a, &vec![1.0f64], &mut Vec::new()).unwrap();
                a
            },
            1,
        )
        .unwrap();
        assert!(matches!(
            decode_outcomes::<u8>(&out, 1)[0],
            Err(TaskFailure::BadResult(_))
        ));
        assert!(matches!(
            decode_outcomes::<f64>(&out, 2)[1],
            Err(TaskFailure::BadResult(_))
        ));
    }
}
