//! Spawn: a fresh process runs the worker binary `parlab-worker` and a typed task ([`spawn`]).

use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::process::channel::{Channel, encode};
use crate::process::output::CapturedOutput;
use crate::process::task::{AsTask, TaskId, Types};
use crate::process::wire::Request;
use crate::process::{
    ENV_ALLOW_LIST, Options, Output, ProcessError, StartMethod, check_worker, items, sys,
    worker_path,
};
use crate::timeline::monotonic_ns;

use super::{Core, Handle, Process};

/// Starts a worker process running `task` on `args`; its result is an `R`.
///
/// `task` is a typed handle ([`tasks::CALC_PI`](crate::process::tasks::CALC_PI),
/// [`cell_task!(f)`](crate::cell_task)), so `args` must be what the task takes, and
/// [`Process::join`] gives what it returns. The worker is the binary `parlab-worker` (see
/// [`worker_path`](crate::process::worker_path)): a fresh process, so it is safe whatever threads
/// this process has. Its stdin is `/dev/null` (the socket to this process arrives there and is
/// moved off at once), it gets only the variables in
/// [`ENV_ALLOW_LIST`](crate::process::ENV_ALLOW_LIST), and its output is printed here with a
/// `[spawn-PID]` prefix. It dies with its handle and with this process (it exits when its
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
    let encoded = items::push_encoded(&mut run, args).map(|()| run);
    let core = spawn_request(task.id(), task.types(), encoded, opts, called_ns)?;
    Ok(Process::from_core(core))
}

/// The part of [`spawn_with`] that does not know the task's types: sends the request (`args`,
/// encoded) to a new worker. Non-generic, so that a notebook cell does not compile it again for
/// each task.
#[inline(never)]
fn spawn_request(
    task: &TaskId,
    types: Types,
    args: Result<Vec<u8>, postcard::Error>,
    opts: &Options,
    called_ns: u64,
) -> Result<Core, ProcessError> {
    let args = args.map_err(|e| ProcessError::serde("serialize", e))?;
    let request = encode(&Request {
        task: task.clone(),
        signature: types.signature(),
        args,
    })?;
    let mut process = start_core(&[], opts, Arc::default())?;
    process.caller_types = Some(types);
    process.called_ns = called_ns;
    process.work = task.to_string();
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
    start_core(worker_args, opts, captured).map(Process::from_core)
}

/// [`start_worker`], whatever the result's type.
#[inline(never)]
fn start_core(
    worker_args: &[&str],
    opts: &Options,
    captured: Arc<CapturedOutput>,
) -> Result<Core, ProcessError> {
    // A check that gave up on the code calling this: stop it before it starts another process.
    crate::exercise::stop_if_overdue();
    let worker = match &opts.worker {
        Some(path) => check_worker(path.clone())?,
        None => worker_path()?,
    };
    let (parent_end, child_end) = UnixStream::pair().map_err(|e| ProcessError::Start {
        what: "a socket for a worker".into(),
        source: e,
    })?;
    let mut cmd = Command::new(&worker);
    cmd.args(worker_args);
    cmd.env_clear();
    for key in ENV_ALLOW_LIST {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    // The socket goes in as the worker's stdin, which `worker_main` moves off descriptor 0 at
    // once (putting `/dev/null` there). std places stdio itself, so no code runs between fork and
    // exec and std can use posix_spawn (a vfork-like clone) instead of copying this process's page
    // tables with fork: that is most of a start's cost in a big process such as a notebook kernel.
    // The worker notices its parent's death by this socket closing (see `sys::exit_on_hangup`),
    // not by a parent-death signal, which Linux sends when the *thread* that started it ends.
    cmd.stdin(Stdio::from(OwnedFd::from(child_end)));
    if opts.output == Output::Discard {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let spawned = cmd.spawn();
    drop(cmd); // closes this process's copy of the worker's end
    let mut child = spawned.map_err(|e| ProcessError::Start {
        what: format!("the worker {}", worker.display()),
        source: e,
    })?;
    let pid = child.id();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let chan =
        Channel::new(parent_end).map_err(|e| ProcessError::io("setting up a worker's socket", e));
    let name = opts.name.clone().unwrap_or_else(|| format!("spawn-{pid}"));
    let mut process = Core::new(
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
