//! Fork: the child is a copy of this process and runs a closure ([`fork`]).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::unistd::ForkResult;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::panics::Caught;
use crate::process::channel::{Channel, encode};
use crate::process::wire::{self, Reply};
use crate::process::{Options, Output, ProcessError, StartMethod, sys, thread_count};
use crate::timeline::monotonic_ns;

use super::{Core, Handle, Process};

/// Forks this process; the child runs `f` and sends its result back. Unix only.
///
/// The child is a copy of this process: `f` may be any closure, even one defined in a notebook
/// cell, and it sees copies of everything (variables, open pipes and
/// [`Queue`](crate::process::Queue)s).
/// But only the thread that called `fork` exists in the child. A lock that another thread held at
/// that moment stays locked there forever, and anything that takes it (that thread's Mutex,
/// `println!` while another thread printed, the allocator of some systems) waits forever. So
/// `fork` warns on stderr when this process has other threads ([`Process::parent_threads`] has
/// the count), and `join` takes a timeout. The child's stdin is `/dev/null`; its output is printed
/// here with a `[fork-PID]` prefix (end lines with a newline: it exits without flushing).
///
/// # Errors
/// [`ProcessError::Start`] when the system refuses to fork or to make pipes.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let data = vec![1, 2, 3]; // copied into the child with the rest of memory
/// let opts = parlab::process::Options { warn: false, ..Default::default() };
/// let mut child = parlab::process::fork_with(move || data.iter().sum::<i32>(), &opts)?;
/// assert_eq!(child.join(Duration::from_secs(5))?, 6);
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
pub fn fork<R, F>(f: F) -> Result<Process<R>, ProcessError>
where
    R: Serialize + DeserializeOwned,
    F: FnOnce() -> R,
{
    fork_with(f, &Options::default())
}

/// [`fork`] with [`Options`]: a name for the output prefix, where output goes, the warning.
///
/// # Errors
/// As [`fork`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::process::{self, Options, Output};
/// let opts = Options { output: Output::Capture, warn: false, ..Options::named("kid") };
/// let mut child = process::fork_with(|| println!("hello"), &opts)?;
/// # let mut child = process::fork_with(|| { use std::io::Write; writeln!(std::io::stdout(), "hello").unwrap() }, &opts)?;
/// child.join(Duration::from_secs(5))?;
/// assert_eq!(child.output(), ["[kid] hello"]);
/// # Ok::<(), process::ProcessError>(())
/// ```
pub fn fork_with<R, F>(f: F, opts: &Options) -> Result<Process<R>, ProcessError>
where
    R: Serialize + DeserializeOwned,
    F: FnOnce() -> R,
{
    let mut f = Some(f);
    let core = fork_core(opts, &mut || {
        let started_ns = monotonic_ns();
        let outcome = f.take().map(crate::panics::catch_quietly);
        let ended_ns = monotonic_ns();
        let ran = outcome.map(|outcome| {
            outcome.map(|value| {
                let run = wire::value_run(&value);
                std::mem::forget(value); // the child ends at once, as it did before
                run
            })
        });
        (started_ns, ended_ns, ran)
    })?;
    Ok(Process::from_core(core))
}

/// What a forked child's closure did: when it started and ended, and its value encoded as a
/// run of one outcome (or why not); `None` if it was called twice (it never is).
type ChildRun = (
    u64,
    u64,
    Option<Result<Result<Vec<u8>, postcard::Error>, Caught>>,
);

/// The part of [`fork_with`] that does not know the closure's type: forks, and in the child
/// runs `child` and sends back what it gives. Non-generic, so that a notebook cell does not
/// compile it again for each closure.
#[inline(never)]
fn fork_core(opts: &Options, child: &mut dyn FnMut() -> ChildRun) -> Result<Core, ProcessError> {
    // A check that gave up on the code calling this: stop it before it forks another process.
    crate::exercise::stop_if_overdue();
    let called_ns = monotonic_ns();
    let threads = thread_count();
    if opts.warn {
        if let Some(n) = crate::process::other_busy_threads().filter(|&n| n > 0) {
            eprintln!(
                "warning: fork: this process has {n} other thread(s); the child gets only the calling one, \
                 and a lock another thread holds now stays locked in the child forever (join with a timeout)"
            );
        }
    }
    let start = |what: &str| {
        let what = what.to_string();
        move |e| ProcessError::Start { what, source: e }
    };
    let (parent_end, child_end) =
        UnixStream::pair().map_err(start("a socket for a forked child"))?;
    let devnull = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(start("/dev/null"))?;
    let pipes = if opts.output == Output::Discard {
        None
    } else {
        let out = sys::pipe().map_err(start("a pipe for a child's stdout"))?;
        let err = sys::pipe().map_err(start("a pipe for a child's stderr"))?;
        Some((out, err))
    };
    // Safety: the child may run any code, which is unsound if another thread held a lock that code
    // needs; that is the hazard this function documents, warns about and bounds with join's timeout.
    // The child never returns from this block: it ends in `_exit`.
    match unsafe { nix::unistd::fork() } {
        Err(e) => Err(ProcessError::Start {
            what: "a forked child".into(),
            source: e.into(),
        }),
        Ok(ForkResult::Child) => {
            drop(parent_end);
            // The child ends when the parent's end of the socket closes, i.e. when the parent
            // process dies (whichever of its threads forked). Without a watch thread it still runs.
            let _ = sys::exit_on_hangup(child_end.as_raw_fd(), 1);
            // Safety: plain system calls on descriptors this process owns.
            unsafe {
                libc::dup2(devnull.as_raw_fd(), 0);
                match &pipes {
                    Some(((_, out_w), (_, err_w))) => {
                        libc::dup2(out_w.as_raw_fd(), 1);
                        libc::dup2(err_w.as_raw_fd(), 2);
                    }
                    None => {
                        libc::dup2(devnull.as_raw_fd(), 1);
                        libc::dup2(devnull.as_raw_fd(), 2);
                    }
                }
            }
            drop(pipes);
            let (started_ns, ended_ns, ran) = child();
            let reply = Reply::new(started_ns, ended_ns, wire::one_response(ran));
            if let (Ok(bytes), Ok(mut chan)) = (encode(&reply), Channel::new(child_end)) {
                let forever = Duration::from_secs(86_400);
                let _ = chan.send(&bytes, sys::deadline(forever), forever);
            }
            // Safety: ends the child at once, as a forked child should.
            unsafe { libc::_exit(0) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(child_end);
            let pid = child.as_raw() as u32;
            let chan = Channel::new(parent_end)
                .map_err(|e| ProcessError::io("setting up a child's socket", e));
            let name = opts.name.clone().unwrap_or_else(|| format!("fork-{pid}"));
            let mut process = Core::new(
                pid,
                name,
                StartMethod::Fork,
                threads,
                Handle::Forked(child),
                chan?,
            );
            process.called_ns = called_ns;
            process.work = "closure".into();
            let (out, err) = match pipes {
                Some(((out_r, _), (err_r, _))) => (Some(out_r), Some(err_r)),
                None => (None, None),
            };
            process.forward(out, err, opts.output);
            Ok(process)
        }
    }
}
