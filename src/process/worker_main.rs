//! The worker binary's `main`: the loop that answers requests on the protocol socket.

#[cfg(unix)]
use std::os::fd::{BorrowedFd, FromRawFd};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
#[cfg(unix)]
use std::time::Duration;

#[cfg(unix)]
use super::catalogue::names;
#[cfg(unix)]
use super::channel::{Channel, decode, encode};
#[cfg(unix)]
use super::run::run_chunk;
#[cfg(unix)]
use super::sys;
#[cfg(unix)]
use super::wire::{PROTOCOL_FD, Reply, Request, Response, TaskFailure};
#[cfg(unix)]
use crate::timeline::monotonic_ns;

/// What a worker does first with its protocol socket: closes it on exec, so that a program a task
/// starts does not inherit it (and keep it open after this worker dies, hiding the death from the
/// parent), and exits when the parent's end closes (the parent died, whichever thread started
/// this worker).
///
/// # Errors
/// When the descriptor's flags cannot be set or no thread can be started.
#[cfg(unix)]
fn hold_protocol_socket(stream: &UnixStream) -> std::io::Result<()> {
    use std::os::fd::{AsFd, AsRawFd};
    sys::set_cloexec(stream.as_fd())?;
    sys::exit_on_hangup(stream.as_raw_fd(), PARENT_GONE)
}

/// The exit code of a worker whose parent closed its socket (died) while a task ran.
#[cfg(unix)]
const PARENT_GONE: i32 = 0;

/// The channel to the parent on descriptor [`PROTOCOL_FD`], set up as every worker needs it
/// ([`hold_protocol_socket`], and a task's panic kept quiet: it is an outcome, not a message).
/// `Err` is the exit code: 2, after printing `usage`, when no socket is there (started by hand);
/// 3 when it cannot be set up.
#[cfg(unix)]
pub(crate) fn open_protocol_channel(usage: &str) -> Result<Channel, ExitCode> {
    let Some(stream) = protocol_socket() else {
        eprintln!("{usage}");
        return Err(ExitCode::from(2));
    };
    if hold_protocol_socket(&stream).is_err() {
        return Err(ExitCode::from(3));
    }
    let chan = Channel::new(stream).map_err(|_| ExitCode::from(3))?;
    crate::panics::quiet_this_thread();
    Ok(chan)
}

/// The socket on descriptor [`PROTOCOL_FD`], if there is one.
#[cfg(unix)]
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
    // Safety: descriptor 3 is a Unix socket (checked above) that the parent set up for this
    // process alone; nothing else in this process owns it.
    Some(unsafe { UnixStream::from_raw_fd(PROTOCOL_FD) })
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
#[cfg(unix)]
pub fn worker_main() -> ExitCode {
    let usage = format!(
        "parlab-worker runs tasks for parlab::process::spawn and talks to it on descriptor \
         {PROTOCOL_FD}; it is not meant to be started by hand. Known tasks: {}",
        names().join(", ")
    );
    let mut chan = match open_protocol_channel(&usage) {
        Ok(chan) => chan,
        Err(code) => return code,
    };
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
    eprintln!("parlab-worker {}", super::UNSUPPORTED);
    ExitCode::from(2)
}
