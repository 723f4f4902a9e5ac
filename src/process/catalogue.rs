//! The catalogue of tasks a spawned worker knows by name: a typed constant per task, [`TASKS`],
//! and how the worker runs a task of the catalogue on a chunk of arguments.
//!
//! A spawned worker is a fresh process: it cannot run a closure from the parent, only code it was
//! built with. Each task here is a typed constant ([`CALC_PI`] is a `Task<(u64, u64), PiEstimate>`),
//! so a call with arguments of another type does not compile.

use std::io::Read;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::items;
use super::shape::UNTRACED;
use super::task::{Signature, Task, Types};
use super::wire::{TaskFailure, check_count, check_signature, corrupt, serve_items};
use crate::pi::{self, PiEstimate};

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
        pub(crate) fn run_named(name: &str, signature: Signature, args: &[u8], count: usize) -> Option<Result<Vec<u8>, TaskFailure>> {
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

/// The tasks that end the process that runs them: a thread pool (and [`run_here`](super::run::run_here)) refuses them,
/// since they would end the caller's own process (in a notebook, the kernel) without a word.
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, ThreadPool};
/// use parlab::process::tasks;
/// let threads = ThreadPool::new(1)?;
/// let refused = threads.apply(tasks::EXIT, &3).unwrap_err();
/// assert!(refused.to_string().contains("exit"), "{refused}");
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub const ENDS_THE_PROCESS: [&str; 2] = ["exit", "abort"];

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
    let mut n = 0;
    for item in items::split(args) {
        let item = item.map_err(|e| corrupt("echo", &e))?;
        // The outcome `Ok(item)`: the Ok tag, then the item's bytes as they came.
        items::push_len(&mut out, 1 + item.len());
        out.push(0);
        out.extend_from_slice(item);
        n += 1;
    }
    check_count("echo", n, count)?;
    Ok(out)
}
