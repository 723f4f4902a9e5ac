//! A pool worker process: its messages and its loop ([`serve_pool`]).
//!
//! The parent ([`ProcessPool`](super::ProcessPool)) starts `parlab-worker --pool` with a socket as
//! its stdin (the worker moves it off at once). It sends [`ToWorker::Start`] (with the initializer,
//! if any); the worker runs it and answers [`Hello`]. Then each [`ToWorker::Chunk`], a header
//! followed by the chunk's arguments as a run of items, gets a [`FromWorker`] header followed by
//! the run of outcomes, until the parent closes the socket.

use std::process::ExitCode;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[cfg(unix)]
use crate::process::sys;
use crate::process::tasks::{self, TaskFailure};
use crate::process::{Signature, TaskId, Types, encode, frame_header, unframe};

// Wire protocol internals, public for parlab's own binaries: hidden from the docs.
#[doc(hidden)]
/// The argument that makes `parlab-worker` a pool worker.
pub const POOL_ARG: &str = "--pool";

/// The first bytes of a [`Hello`]: a worker built before pools existed does not send them.
/// `poo3`: chunk answers carry the worker's own times; `poo4`: a refusal carries the worker's
/// traced types.
pub(crate) const MAGIC: [u8; 4] = *b"poo4";

/// A task to run and the run of its arguments (one item each).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Call {
    pub(crate) task: TaskId,
    pub(crate) signature: Signature,
    /// Sent as one block of bytes, not byte by byte (postcard writes both alike on the wire).
    #[serde(with = "serde_bytes")]
    pub(crate) args: Vec<u8>,
    /// The handle's types, for errors that name them (the caller's side only).
    #[serde(skip)]
    pub(crate) types: Option<Types>,
}

/// What the parent sends to a pool worker (a `Chunk`'s arguments follow the header).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// The first message: run the initializer (if any), then say hello.
    Start {
        /// The initializer's call, with one argument.
        initializer: Option<Call>,
    },
    /// Run `task` on each of the `count` arguments that follow, in order.
    Chunk {
        /// The task.
        task: TaskId,
        /// The caller's handle's signature.
        signature: Signature,
        /// How many arguments follow.
        count: usize,
    },
}

/// A worker's answer to [`ToWorker::Start`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Hello {
    /// [`MAGIC`].
    pub(crate) magic: [u8; 4],
    /// The worker's process id.
    pub(crate) pid: u32,
    /// Why the initializer failed, if it did (the worker then exits).
    pub(crate) init_failed: Option<TaskFailure>,
}

/// When a worker ran a chunk, on the machine's monotonic clock
/// ([`monotonic_ns`](crate::timeline::monotonic_ns)), which the caller shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ran {
    /// Nanoseconds when the worker started the chunk's first task.
    pub(crate) start_ns: u64,
    /// Nanoseconds when it had the last task's outcome.
    pub(crate) end_ns: u64,
}

/// A worker's answer to a [`ToWorker::Chunk`] (the outcomes follow `Results`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// One outcome per argument follows, as a run of items.
    Results(Ran),
    /// No task of the chunk could run (an unknown task, a wrong signature, ...).
    Failed(TaskFailure, Ran),
}

/// Runs a call with one argument and returns why it failed, if it did: an initializer.
pub(crate) fn run_initializer(call: &Call) -> Option<TaskFailure> {
    match tasks::run_chunk(&call.task, call.signature, &call.args, 1) {
        Ok(run) => tasks::first_failure(&run),
        Err(failure) => Some(failure),
    }
}

/// [`run_initializer`] in this process (a thread pool): a task that would end it is refused.
pub(crate) fn run_initializer_here(call: &Call) -> Option<TaskFailure> {
    match tasks::run_chunk_here(&call.task, call.signature, &call.args, 1) {
        Ok(run) => tasks::first_failure(&run),
        Err(failure) => Some(failure),
    }
}

/// The pool worker's `main`: answers the pool's messages on the socket the pool gives it as stdin
/// until the pool closes it. `parlab-worker --pool` runs it.
///
/// Returns exit code 2, with a message, when started by hand (stdin is not a socket).
///
/// # Examples
/// ```no_run
/// // src/bin/parlab-worker.rs
/// fn main() -> std::process::ExitCode {
///     if std::env::args().nth(1).as_deref() == Some(parlab::pool::POOL_ARG) {
///         return parlab::pool::serve_pool();
///     }
///     parlab::process::tasks::worker_main()
/// }
/// ```
#[cfg(unix)]
pub fn serve_pool() -> ExitCode {
    let usage = format!(
        "parlab-worker {POOL_ARG} runs tasks for parlab::pool::ProcessPool and talks to it over a \
         socket it gets as stdin; it is not meant to be started by hand"
    );
    let mut chan = match tasks::open_protocol_channel(&usage) {
        Ok(chan) => chan,
        Err(code) => return code,
    };
    // Every wait here is forever: blocking reads and writes take fewer system calls.
    if let Err(e) = chan.block() {
        eprintln!("parlab-worker: cannot make its socket blocking: {e}");
        return ExitCode::from(3);
    }
    let forever = Duration::from_secs(86_400 * 365);
    loop {
        let Ok(bytes) = chan.recv(sys::deadline(forever), forever, "pool request") else {
            return ExitCode::SUCCESS; // the pool closed the socket: done
        };
        let sent = match unframe::<ToWorker>(&bytes) {
            Ok((ToWorker::Start { initializer }, _)) => {
                let init_failed = initializer.as_ref().and_then(run_initializer);
                let failed = init_failed.is_some();
                let hello = Hello {
                    magic: MAGIC,
                    pid: std::process::id(),
                    init_failed,
                };
                let Ok(out) = encode(&hello) else {
                    return ExitCode::from(4);
                };
                if failed {
                    let _ = chan.send(&out, sys::deadline(forever), forever);
                    return ExitCode::from(5);
                }
                chan.send(&out, sys::deadline(forever), forever)
            }
            Ok((
                ToWorker::Chunk {
                    task,
                    signature,
                    count,
                },
                args,
            )) => {
                let start_ns = crate::timeline::monotonic_ns();
                let outcome = tasks::run_chunk(&task, signature, args, count);
                let ran = Ran {
                    start_ns,
                    end_ns: crate::timeline::monotonic_ns(),
                };
                let (header, run) = match outcome {
                    Ok(run) => (FromWorker::Results(ran), run),
                    Err(failure) => (FromWorker::Failed(failure, ran), Vec::new()),
                };
                let Ok(header) = frame_header(&header) else {
                    return ExitCode::from(4);
                };
                chan.send_parts(&[&header, &run], sys::deadline(forever), forever)
            }
            Err(_) => return ExitCode::from(6), // not a pool message: not our parent
        };
        if sent.is_err() {
            return ExitCode::SUCCESS;
        }
    }
}

/// The pool worker's `main` where there is no Unix (Windows): says that the process pool needs
/// Unix (WSL) and exits with code 2.
///
/// # Examples
/// ```no_run
/// std::process::exit(if parlab::pool::serve_pool() == std::process::ExitCode::SUCCESS { 0 } else { 2 });
/// ```
#[cfg(not(unix))]
pub fn serve_pool() -> ExitCode {
    eprintln!(
        "parlab-worker {POOL_ARG}: the process pool {}",
        crate::process::UNSUPPORTED
    );
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{decode, items};

    #[test]
    fn messages_round_trip_and_hello_is_not_a_response() {
        let header = frame_header(&ToWorker::Chunk {
            task: TaskId::Named("echo".into()),
            signature: Signature::of::<u8, u8>(),
            count: 2,
        })
        .unwrap();
        let mut frame = header.clone();
        frame.extend_from_slice(&[1, 7, 1, 8]);
        let (back, args) = unframe::<ToWorker>(&frame).unwrap();
        assert!(matches!(back, ToWorker::Chunk { count: 2, .. }));
        assert_eq!(args, [1, 7, 1, 8]);
        // What an older worker answers must not pass for a Hello.
        let old = encode(&Err::<Vec<u8>, _>(TaskFailure::Panicked("x".into()))).unwrap();
        assert!(decode::<Hello>(&old).map_or(true, |h| h.magic != MAGIC));
    }

    #[test]
    fn initializers_report_panics() {
        let mut args = Vec::new();
        items::push_encoded(&mut args, "boom").unwrap();
        let call = Call {
            task: tasks::PANIC.id().clone(),
            signature: tasks::PANIC.signature(),
            args,
            types: None,
        };
        match run_initializer(&call) {
            Some(TaskFailure::Panicked(m)) => assert!(m.starts_with("boom"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
