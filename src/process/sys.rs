//! Small wrappers over the system calls the module needs: poll with a deadline, non-blocking and
//! close-on-exec flags, noticing a closed socket, signal names.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Waits until `fd` is readable (`write == false`) or writable, or `deadline` passes.
/// Returns `Ok(false)` on timeout. Hang-up and errors count as ready (the next read says what).
pub(crate) fn wait_ready(fd: BorrowedFd<'_>, write: bool, deadline: Instant) -> io::Result<bool> {
    let events = if write { libc::POLLOUT } else { libc::POLLIN };
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let ms = millis_ceil(deadline - now);
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // Safety: `pfd` is a valid pollfd for the duration of the call and nfds is 1.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n > 0 {
            return Ok(true);
        }
    }
}

/// A duration in whole milliseconds, rounded up, as poll's timeout argument.
fn millis_ceil(d: Duration) -> libc::c_int {
    let ms = d.as_nanos().div_ceil(1_000_000);
    ms.min(libc::c_int::MAX as u128) as libc::c_int
}

/// A pipe, both ends closed on exec: `(read end, write end)`. (`std::io::pipe` needs Rust 1.87.)
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // Safety: pipe2 writes two descriptors into `fds`, which has room for two.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Safety: both descriptors were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sets `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    add_fcntl_flag(fd, libc::F_GETFL, libc::F_SETFL, libc::O_NONBLOCK)
}

/// Sets `FD_CLOEXEC` on `fd`, so that programs this process starts do not inherit it.
pub(crate) fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    add_fcntl_flag(fd, libc::F_GETFD, libc::F_SETFD, libc::FD_CLOEXEC)
}

/// Adds `flag` to the flags that fcntl's `get`/`set` pair (F_GETFL/F_SETFL or F_GETFD/F_SETFD)
/// reads and writes for `fd`.
fn add_fcntl_flag(fd: BorrowedFd<'_>, get: i32, set: i32, flag: i32) -> io::Result<()> {
    // Safety: fcntl on a valid, borrowed descriptor; the get/set commands take and return an int
    // and do not touch memory.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), get);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), set, flags | flag) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Starts a thread that ends this process at once (`_exit(code)`) when the other end of the
/// socket `fd` is closed: how a worker notices that its parent died.
///
/// This ties the worker's life to its parent *process* (the parent's descriptors close when it
/// dies, however it dies), not to the thread that started it as Linux's `PR_SET_PDEATHSIG` does,
/// and it works on every Unix. A half-close (`shutdown(Write)`, "no more requests") is not a
/// hang-up: the worker finishes its task and exits by itself. If `fd` is closed here first, the
/// thread just stops watching. Returns once the thread runs under its idle name.
///
/// # Errors
/// When no thread can be started.
pub(crate) fn exit_on_hangup(fd: RawFd, code: i32) -> io::Result<()> {
    let (named_tx, named) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        // The name marks it as a thread that holds no lock (see `process::idle_wait`), so a fork
        // made in this process does not warn about it. The new thread sets it on itself before
        // it runs this closure.
        .name("parlab-idle".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let _ = named_tx.send(()); // named by now: the caller may count this thread as idle
            drop(named_tx);
            loop {
                // No events asked for: poll reports only POLLHUP (both directions shut, as when
                // the peer's last descriptor closes), POLLERR and POLLNVAL.
                let mut pfd = libc::pollfd {
                    fd,
                    events: 0,
                    revents: 0,
                };
                // Safety: `pfd` is a valid pollfd for the duration of the call and nfds is 1.
                let n = unsafe { libc::poll(&mut pfd, 1, -1) };
                if n < 0 {
                    if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return;
                }
                if pfd.revents & libc::POLLNVAL != 0 {
                    return; // closed by this process: it is ending by itself
                }
                if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                    // Safety: ends the process without running destructors or atexit handlers,
                    // which is what a worker whose parent is gone should do.
                    unsafe { libc::_exit(code) }
                }
            }
        })?;
    // Return once the thread has its name, so that a fork or a count of busy threads right after
    // sees it idle (a thread that never starts in 1 s is left to start later).
    let _ = named.recv_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

/// Whether the other end of socket `fd` is closed (poll says `POLLHUP` at once).
pub(crate) fn hung_up(fd: BorrowedFd<'_>) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // Safety: `pfd` is a valid pollfd for the duration of the call and nfds is 1.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0
}

/// Reads what is there (non-blocking descriptors return `WouldBlock` when nothing is).
pub(crate) fn read_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // Safety: read writes at most `buf.len()` bytes into a live buffer.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Writes what fits (non-blocking descriptors return `WouldBlock` when nothing does).
pub(crate) fn write_fd(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // Safety: write reads `buf.len()` bytes from a live buffer.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Whether process `pid` has ended: it does not exist, or (Linux) it is a zombie not yet reaped.
pub(crate) fn process_gone(pid: u32) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // Safety: signal 0 only checks that the process exists and may be signalled.
    if unsafe { libc::kill(raw, 0) } != 0 {
        return io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    if cfg!(target_os = "linux") {
        // Its state is the first field after the command name in parentheses.
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            return stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'));
        }
    }
    false
}

/// The name of a signal number, e.g. `SIGKILL`.
pub(crate) fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string())
}

/// A deadline `timeout` from now (far in the future if that overflows).
pub(crate) fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or(now + Duration::from_secs(86_400 * 365))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_deadlines() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(999), "signal 999");
        assert!(deadline(Duration::MAX) > Instant::now());
        assert_eq!(millis_ceil(Duration::from_micros(1)), 1);
    }
}
