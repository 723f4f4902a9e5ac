//! The worker binary's `main`: the loop that answers requests on the protocol socket.

#[cfg(unix)]
use std::fs::File;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
#[cfg(unix)]
use std::os::unix::fs::FileTypeExt;
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
use super::wire::{Reply, Request, Response, TaskFailure};
#[cfg(unix)]
use crate::timeline::monotonic_ns;

/// The exit code of a worker whose parent closed its socket (died) while a task ran.
#[cfg(unix)]
const PARENT_GONE: i32 = 0;

/// The channel to the parent, set up as every worker needs it: the socket taken off stdin
/// ([`take_protocol_socket`]), the worker exiting when the parent's end closes (the parent died,
/// whichever thread started this worker), and a task's panic kept quiet (it is an outcome, not a
/// message). `Err` is the exit code: 2, after printing `usage`, when stdin is not a socket
/// (started by hand); 3 when the channel cannot be set up.
#[cfg(unix)]
pub(crate) fn open_protocol_channel(usage: &str) -> Result<Channel, ExitCode> {
    let stream = match take_protocol_socket() {
        Ok(Some(stream)) => stream,
        Ok(None) => {
            eprintln!("{usage}");
            return Err(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("parlab-worker: cannot take its socket off stdin: {e}");
            return Err(ExitCode::from(3));
        }
    };
    if let Err(e) = sys::exit_on_hangup(stream.as_raw_fd(), PARENT_GONE) {
        eprintln!("parlab-worker: cannot watch its socket for the parent's death: {e}");
        return Err(ExitCode::from(3));
    }
    let chan = Channel::new(stream).map_err(|_| ExitCode::from(3))?;
    crate::panics::quiet_this_thread();
    Ok(chan)
}

/// The socket to the parent, which hands it to this worker as stdin (so that it can start the
/// worker with posix_spawn: see `start_worker`): moved to a descriptor of its own, closed on exec
/// (a program a task starts must not inherit it and keep it open after this worker dies, hiding
/// the death from the parent), with `/dev/null` put on stdin in its place, so a task that reads
/// stdin reads nothing, never the protocol's bytes. `None`, with stdin untouched, when stdin is
/// not a socket (started by hand, from a terminal or a pipe).
///
/// # Errors
/// When the descriptors cannot be duplicated or `/dev/null` cannot be opened.
#[cfg(unix)]
fn take_protocol_socket() -> std::io::Result<Option<UnixStream>> {
    // F_DUPFD_CLOEXEC: a new descriptor (3 or above), closed on exec.
    let socket = File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    if !socket.metadata()?.file_type().is_socket() {
        return Ok(None);
    }
    let null = File::open("/dev/null")?;
    // Safety: dup2 only replaces descriptor 0, which std's `Stdin` refers to by number and has not
    // read from (its buffer is empty); `null` is a valid descriptor for the call.
    if unsafe { libc::dup2(null.as_raw_fd(), libc::STDIN_FILENO) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Some(UnixStream::from(OwnedFd::from(socket))))
}

/// The worker binary's `main`: answers requests on the socket its parent gives it as stdin until
/// the parent closes it.
///
/// Returns exit code 2, with a message, when started by hand (stdin is not a socket).
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
        "parlab-worker runs tasks for parlab::process::spawn and talks to it over a socket it gets \
         as stdin; it is not meant to be started by hand. Known tasks: {}",
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
