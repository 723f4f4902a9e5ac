//! Small wrappers over the system calls the module needs: poll with a deadline, non-blocking
//! flags, signal names, pipes and packet sockets, thread counts and memory.
//!
//! This is the one home of platform code: Linux, macOS (and other Unix) differ here and nowhere
//! else in `process` and `pool`; on Windows only the items that need no Unix are compiled, and
//! [`unsupported`] says why the rest is missing.

use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Why fork, spawn, pipes, queues and the process pool are missing on this platform (Windows):
/// the message of [`ProcessError::Unsupported`](super::ProcessError::Unsupported).
pub(crate) const UNSUPPORTED: &str = "needs Unix (fork, Unix sockets, descriptor 3 for the \
     worker): on Windows run lessons 03 and 04 in WSL (Windows Subsystem for Linux: `wsl --install`, \
     then the README's two commands inside it); lessons 00-02 run natively";

/// The error for `what` on a platform without Unix processes.
#[cfg(not(unix))]
pub(crate) fn unsupported(what: &str) -> super::ProcessError {
    super::ProcessError::Unsupported {
        what: what.to_string(),
    }
}

/// Waits until `fd` is readable (`write == false`) or writable, or `deadline` passes.
/// Returns `Ok(false)` on timeout. Hang-up and errors count as ready (the next read says what).
#[cfg(unix)]
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

/// A connected pair of Unix packet sockets, both closed on exec: each `send` arrives as one
/// message. `SOCK_SEQPACKET` where the system has it for Unix sockets (Linux); macOS has not, and
/// gets `SOCK_DGRAM`, which keeps message boundaries and is reliable and ordered between two
/// Unix sockets (its buffers are raised to `buffer` bytes, the largest message sent).
#[cfg(unix)]
pub(crate) fn packet_pair(buffer: usize) -> io::Result<(OwnedFd, OwnedFd)> {
    #[cfg(target_vendor = "apple")]
    let kind = libc::SOCK_DGRAM;
    #[cfg(not(target_vendor = "apple"))]
    let kind = libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC;
    let mut fds = [0; 2];
    // Safety: socketpair writes two descriptors into `fds`, which has room for two.
    if unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Safety: both descriptors were just created and are owned by nothing else.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(target_vendor = "apple")]
    for fd in [&a, &b] {
        set_cloexec(fd.as_fd())?;
        // No SIGPIPE from a send whose peer is gone, also where the kernel ignores MSG_NOSIGNAL.
        set_int_option(fd.as_fd(), libc::SO_NOSIGPIPE, 1);
        set_int_option(fd.as_fd(), libc::SO_RCVBUF, buffer);
    }
    for fd in [&a, &b] {
        set_int_option(fd.as_fd(), libc::SO_SNDBUF, buffer);
    }
    Ok((a, b))
}

/// Sets a `SOL_SOCKET` option of type int; a refusal is ignored (the defaults still work, only
/// with smaller limits).
#[cfg(unix)]
fn set_int_option(fd: BorrowedFd<'_>, option: libc::c_int, value: usize) {
    let value = value.min(libc::c_int::MAX as usize) as libc::c_int;
    // Safety: setsockopt reads `value` (a c_int) for the length given.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Sets `FD_CLOEXEC` on `fd` (where the descriptor could not be made with it).
#[cfg(target_vendor = "apple")]
fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // Safety: fcntl on a valid, borrowed descriptor; F_GETFD/F_SETFD do not touch memory.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFD);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Is this send error "no room now, try again" (`EAGAIN`; macOS says `ENOBUFS` for a full
/// datagram socket)?
#[cfg(unix)]
pub(crate) fn no_room(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS)
}

/// How many threads this process has now: `/proc/self/task` on Linux, `proc_pidinfo` on macOS,
/// `None` elsewhere.
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
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
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
    // Safety: fcntl on a valid, borrowed descriptor; F_GETFL/F_SETFL do not touch memory.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
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
    fn pipes_and_packet_sockets_are_closed_on_exec() {
        let cloexec = |fd: &OwnedFd| {
            // Safety: F_GETFD on a descriptor owned here.
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            flags >= 0 && flags & libc::FD_CLOEXEC != 0
        };
        let (r, w) = pipe().unwrap();
        let (a, b) = packet_pair(1 << 16).unwrap();
        assert!([&r, &w, &a, &b].into_iter().all(cloexec));
        let e = super::super::ProcessError::Unsupported {
            what: "fork".into(),
        };
        assert!(e.to_string().starts_with("fork needs Unix"), "{e}");
        assert!(e.to_string().contains("WSL"), "{e}");
    }
}
