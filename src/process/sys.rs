//! Small wrappers over the system calls the module needs: poll with a deadline, non-blocking and
//! close-on-exec flags, noticing a closed socket, signal names, pipes, thread counts and memory.
//!
//! This is the one home of platform code: Linux, macOS (and other Unix) differ here and nowhere
//! else in `process` and `pool`; on Windows only the items that need no Unix are compiled, and
//! [`unsupported`](super::error::unsupported) says why the rest is missing.

use std::io;
#[cfg(target_vendor = "apple")]
use std::os::fd::AsFd;
#[cfg(unix)]
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Waits until `fd` is readable (`write == false`) or writable, or `deadline` passes.
/// Returns `Ok(false)` on timeout. Hang-up and errors count as ready (the next read says what).
#[cfg(unix)]
pub(crate) fn wait_ready(fd: BorrowedFd<'_>, write: bool, deadline: Instant) -> io::Result<bool> {
    let events = if write { libc::POLLOUT } else { libc::POLLIN };
    wait_events(fd, events, deadline).map(|revents| revents != 0)
}

/// Waits until one of `events` (poll's `POLLIN`, `POLLOUT`) happens on `fd`, or `deadline`
/// passes; returns what happened (hang-up and errors too), 0 on timeout.
#[cfg(unix)]
pub(crate) fn wait_events(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    deadline: Instant,
) -> io::Result<libc::c_short> {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(0);
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
            return Ok(pfd.revents);
        }
    }
}

/// A descriptor that turns readable when the child `pid` (not yet reaped) exits: Linux's pidfd
/// (kernel 5.3 and later, close-on-exec); `None` where there is none (the caller polls instead).
#[cfg(target_os = "linux")]
pub(crate) fn pidfd(pid: u32) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // Safety: pidfd_open takes a pid and flags (none) and returns a new descriptor or -1; it
    // reads and writes no memory of this process.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = RawFd::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // Safety: `fd` was just returned by pidfd_open: it is open and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Where there is no pidfd: `None` (the caller polls instead).
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) fn pidfd(_pid: u32) -> Option<OwnedFd> {
    None
}

/// A duration in whole milliseconds, rounded up, as poll's timeout argument.
#[cfg(unix)]
fn millis_ceil(d: Duration) -> i32 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    ms.min(i32::MAX as u128) as i32
}

/// A pipe, both ends closed on exec: `(read end, write end)`. (`std::io::pipe` needs Rust 1.87.)
#[cfg(unix)]
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // Linux (and the BSDs) set close-on-exec atomically with the pipe.
    #[cfg(not(target_vendor = "apple"))]
    {
        // Safety: pipe2 writes two descriptors into `fds`, which has room for two.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // Safety: both descriptors were just created and are owned by nothing else.
        Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }
    // macOS has no pipe2: pipe, then FD_CLOEXEC on each end. A `Command` spawned by another
    // thread in between may inherit them, which only delays its end-of-file on the pipe.
    #[cfg(target_vendor = "apple")]
    {
        // Safety: pipe writes two descriptors into `fds`, which has room for two.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // Safety: both descriptors were just created and are owned by nothing else.
        let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        set_cloexec(ends.0.as_fd())?;
        set_cloexec(ends.1.as_fd())?;
        Ok(ends)
    }
}

#[cfg(target_os = "linux")]
pub(crate) fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

/// How many threads this process has now: `/proc/self/task` on Linux, `proc_pidinfo` on macOS,
/// `None` elsewhere.
#[cfg(target_vendor = "apple")]
pub(crate) fn thread_count() -> Option<usize> {
    task_info(std::process::id()).map(|t| t.pti_threadnum.max(0) as usize)
}

/// How many threads this process has now: `/proc/self/task` on Linux, `proc_pidinfo` on macOS,
/// `None` elsewhere.
#[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
pub(crate) fn thread_count() -> Option<usize> {
    None
}

/// The resident memory of process `pid` in bytes: `VmRSS` in `/proc/PID/status` on Linux,
/// `proc_pidinfo` on macOS (for processes of the same user), `None` elsewhere.
#[cfg(target_os = "linux")]
pub(crate) fn resident_memory(pid: u32) -> Option<u64> {
    status_bytes(&pid.to_string(), "VmRSS")
}

/// A memory figure of `/proc/PROCESS/status` (`VmRSS`, `VmPeak`, ...) in bytes; `process` is a
/// pid or `self`.
#[cfg(target_os = "linux")]
pub(crate) fn status_bytes(process: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The resident memory of process `pid` in bytes: `VmRSS` in `/proc/PID/status` on Linux,
/// `proc_pidinfo` on macOS (for processes of the same user), `None` elsewhere.
#[cfg(target_vendor = "apple")]
pub(crate) fn resident_memory(pid: u32) -> Option<u64> {
    task_info(pid).map(|t| t.pti_resident_size)
}

/// The resident memory of process `pid` in bytes: `VmRSS` in `/proc/PID/status` on Linux,
/// `proc_pidinfo` on macOS (for processes of the same user), `None` elsewhere.
#[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
pub(crate) fn resident_memory(_pid: u32) -> Option<u64> {
    None
}

/// macOS's task information about process `pid` (threads, resident memory).
#[cfg(target_vendor = "apple")]
fn task_info(pid: u32) -> Option<libc::proc_taskinfo> {
    let size = size_of::<libc::proc_taskinfo>() as libc::c_int;
    // Safety: proc_taskinfo is plain integers, so all zeroes is a valid value; proc_pidinfo
    // writes at most `size` bytes into it and returns how many it wrote.
    unsafe {
        let mut info: libc::proc_taskinfo = std::mem::zeroed();
        let n = libc::proc_pidinfo(
            pid as libc::c_int,
            libc::PROC_PIDTASKINFO,
            0,
            (&raw mut info).cast(),
            size,
        );
        (n == size).then_some(info)
    }
}

/// Sets `O_NONBLOCK` on `fd`.
#[cfg(unix)]
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    add_fcntl_flag(fd, libc::F_GETFL, libc::F_SETFL, libc::O_NONBLOCK)
}

/// Sets `FD_CLOEXEC` on `fd`, so that programs this process starts do not inherit it (macOS,
/// which has no `pipe2`).
#[cfg(target_vendor = "apple")]
fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    add_fcntl_flag(fd, libc::F_GETFD, libc::F_SETFD, libc::FD_CLOEXEC)
}

/// Adds `flag` to the flags that fcntl's `get`/`set` pair (F_GETFL/F_SETFL or F_GETFD/F_SETFD)
/// reads and writes for `fd`.
#[cfg(unix)]
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
#[cfg(unix)]
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
#[cfg(unix)]
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
#[cfg(unix)]
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
#[cfg(unix)]
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
#[cfg(unix)]
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
#[cfg(unix)]
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
    #[cfg(unix)]
    fn names_and_deadlines() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(999), "signal 999");
        assert!(deadline(Duration::MAX) > Instant::now());
        assert_eq!(millis_ceil(Duration::from_micros(1)), 1);
    }

    #[test]
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    fn threads_and_memory_are_known_here() {
        assert!(thread_count().expect("this platform reports threads") >= 1);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || rx.recv());
        // This thread and `t` at least (other tests may run threads of their own meanwhile).
        assert!(thread_count() >= Some(2));
        drop(tx);
        let _ = t.join();
        let rss = resident_memory(std::process::id()).expect("this platform reports memory");
        assert!(
            rss > 1 << 20,
            "a Rust test process holds more than 1 MiB, not {rss} bytes"
        );
        assert_eq!(resident_memory(u32::MAX), None);
    }

    #[test]
    #[cfg(unix)]
    fn pipes_are_closed_on_exec() {
        let cloexec = |fd: &OwnedFd| {
            // Safety: F_GETFD on a descriptor owned here.
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            flags >= 0 && flags & libc::FD_CLOEXEC != 0
        };
        let (r, w) = pipe().unwrap();
        assert!([&r, &w].into_iter().all(cloexec));
        let e = super::super::ProcessError::Unsupported {
            what: "fork".into(),
        };
        assert!(e.to_string().starts_with("fork needs Unix"), "{e}");
        assert!(e.to_string().contains("WSL"), "{e}");
    }
}
