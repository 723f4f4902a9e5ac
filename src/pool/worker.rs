//! A pool worker process: its messages and its loop ([`serve_pool`]).
//!
//! The parent ([`ProcessPool`](super::ProcessPool)) starts `parlab-worker --pool` with a socket on
//! descriptor [`PROTOCOL_FD`]. It sends [`ToWorker::Start`] (with the initializer, if any); the
//! worker runs it and answers [`Hello`]. Then each [`ToWorker::Chunk`] (a task and one serialized
//! argument per item) gets one [`FromWorker::Results`], an outcome per item, until the parent
//! closes the socket.

use std::os::fd::{BorrowedFd, FromRawFd};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::process::tasks::{self, PROTOCOL_FD, TaskFailure};
use crate::process::{Channel, Task, decode, encode, sys};

/// The argument that makes `parlab-worker` a pool worker.
///
/// # Examples
/// ```
/// assert_eq!(parlab::pool::POOL_ARG, "--pool");
/// ```
pub const POOL_ARG: &str = "--pool";

/// The first bytes of a [`Hello`]: a worker built before pools existed does not send them.
pub(crate) const MAGIC: [u8; 4] = *b"pool";

/// What the parent sends to a pool worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// The first message: run the initializer (if any), then say hello.
    Start {
        /// The initializer's task and serialized arguments.
        initializer: Option<(Task, Vec<u8>)>,
    },
    /// Run `task` on each argument, in order.
    Chunk {
        /// The task.
        task: Task,
        /// One serialized argument per item.
        args: Vec<Vec<u8>>,
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

/// A worker's answer to a [`ToWorker::Chunk`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// One outcome per item: the serialized result, or why there is none.
    Results(Vec<Result<Vec<u8>, TaskFailure>>),
}

/// Runs a task, catching a panic (with where it happened).
pub(crate) fn run_caught(task: &Task, args: &[u8]) -> Result<Vec<u8>, TaskFailure> {
    match crate::panics::catch_quietly(|| tasks::run(task, args)) {
        Ok(outcome) => outcome,
        Err(caught) => Err(TaskFailure::Panicked(caught.to_string())),
    }
}

/// The pool worker's `main`: answers the pool's messages on descriptor [`PROTOCOL_FD`] until the
/// pool closes it. `parlab-worker --pool` runs it.
///
/// Returns exit code 2, with a message, when started by hand (no socket on the descriptor).
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
pub fn serve_pool() -> ExitCode {
    let Some(stream) = protocol_socket() else {
        eprintln!(
            "parlab-worker {POOL_ARG} runs tasks for parlab::pool::ProcessPool and talks to it on \
             descriptor {PROTOCOL_FD}; it is not meant to be started by hand"
        );
        return ExitCode::from(2);
    };
    let Ok(mut chan) = Channel::new(stream) else {
        return ExitCode::from(3);
    };
    crate::panics::quiet_this_thread();
    let forever = Duration::from_secs(86_400 * 365);
    let send = |chan: &mut Channel, bytes: Vec<u8>| {
        chan.send(&bytes, sys::deadline(forever), forever).is_ok()
    };
    loop {
        let Ok(bytes) = chan.recv(sys::deadline(forever), forever, "pool request") else {
            return ExitCode::SUCCESS; // the pool closed the socket: done
        };
        let answer = match decode::<ToWorker>(&bytes) {
            Ok(ToWorker::Start { initializer }) => {
                let init_failed =
                    initializer.and_then(|(task, args)| run_caught(&task, &args).err());
                let failed = init_failed.is_some();
                let hello = Hello {
                    magic: MAGIC,
                    pid: std::process::id(),
                    init_failed,
                };
                let Ok(out) = encode(&hello) else {
                    return ExitCode::from(4);
                };
                if !send(&mut chan, out) || failed {
                    return ExitCode::from(if failed { 5 } else { 0 });
                }
                continue;
            }
            Ok(ToWorker::Chunk { task, args }) => {
                FromWorker::Results(args.iter().map(|a| run_caught(&task, a)).collect())
            }
            Err(_) => return ExitCode::from(6), // not a pool message: not our parent
        };
        let Ok(out) = encode(&answer) else {
            return ExitCode::from(4);
        };
        if !send(&mut chan, out) {
            return ExitCode::SUCCESS;
        }
    }
}

/// The socket on descriptor [`PROTOCOL_FD`], if there is one.
fn protocol_socket() -> Option<UnixStream> {
    // Safety: F_GETFD only asks whether the descriptor is open; it touches no memory.
    if unsafe { libc::fcntl(PROTOCOL_FD, libc::F_GETFD) } < 0 {
        return None;
    }
    // Safety: the descriptor is open (checked above) and stays open while it is borrowed here.
    let borrowed = unsafe { BorrowedFd::borrow_raw(PROTOCOL_FD) };
    let probe = UnixStream::from(borrowed.try_clone_to_owned().ok()?);
    probe.local_addr().ok()?; // fails with ENOTSOCK for anything but a Unix socket
    drop(probe);
    // Safety: descriptor 3 is a Unix socket (checked above) that the pool set up for this process
    // alone; nothing else in this process owns it.
    Some(unsafe { UnixStream::from_raw_fd(PROTOCOL_FD) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_hello_is_not_a_response() {
        let msg = ToWorker::Chunk {
            task: "echo".into(),
            args: vec![vec![1], vec![2, 3]],
        };
        let back: ToWorker = decode(&encode(&msg).unwrap()).unwrap();
        assert!(matches!(back, ToWorker::Chunk { args, .. } if args.len() == 2));
        // What a worker without pool support answers must not pass for a Hello.
        let old = encode(&Err::<Vec<u8>, _>(TaskFailure::Panicked("x".into()))).unwrap();
        assert!(decode::<Hello>(&old).map_or(true, |h| h.magic != MAGIC));
    }

    #[test]
    fn run_caught_reports_panics() {
        // (The panic hook is global: installing the quiet one here would change other tests'.)
        let e = run_caught(&"panic".into(), &encode(&"boom").unwrap()).unwrap_err();
        match e {
            TaskFailure::Panicked(m) => assert!(m.starts_with("boom"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
