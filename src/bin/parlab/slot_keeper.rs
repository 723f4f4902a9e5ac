//! The slot keeper: a small process that remakes a kernel's slot folder when it is deleted while
//! the kernel runs (evcxr remakes its `Cargo.toml` but not `src/`, so every later cell would fail
//! with "Failed to write …/src/lib.rs").
//!
//! It is started twice removed (fork, fork again, the middle process exits at once), so it is
//! never a child of evcxr_jupyter: a direct child confused evcxr's handling of its own child
//! processes (the cell after a panic lost its `?` error report). It watches the kernel by its
//! pid file descriptor on Linux (readable when the kernel has exited, whatever the pid becomes
//! later), and elsewhere by probing the pid. It stays in the kernel's process group, so Jupyter's
//! shutdown (a signal to the group) ends it too, but it ignores the interrupt Jupyter sends there.

use std::fs::{self, File};
use std::os::fd::RawFd;
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};

/// How often the keeper looks at the slot.
const EVERY: Duration = Duration::from_millis(250);

/// Starts the keeper of slot `dir` for this process (about to exec evcxr), leaving `lock` (the
/// slot's lock descriptor) with the kernel alone. Without a keeper the kernel still works: a note
/// on stderr says what is lost.
pub fn start(dir: &Path, lock: RawFd) {
    let kernel = nix::unistd::getpid();
    let watch = KernelWatch::open(kernel);
    // Safety: the kernel has started no thread yet, so the child is a complete copy of a
    // single-threaded process: no lock or allocator state is held by a thread that does not exist.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // Safety: as above, this process is still single-threaded.
            match unsafe { fork() } {
                Ok(ForkResult::Child) => keep(dir, watch, lock),
                // The middle process: its only job was to make the keeper an orphan.
                // Safety: ends it without running the parent's destructors or atexit handlers.
                _ => unsafe { libc::_exit(0) },
            }
        }
        Ok(ForkResult::Parent { child }) => {
            // Reap the middle process (it exits at once), so evcxr never sees a child it did
            // not start.
            let _ = waitpid(child, None);
        }
        Err(e) => eprintln!(
            "parlab kernel: no slot keeper ({e}): do not delete the slot while the kernel runs"
        ),
    }
}

/// The keeper's loop: every [`EVERY`], remake `src/` if the slot is gone; exit with the kernel.
fn keep(dir: &Path, watch: KernelWatch, lock: RawFd) -> ! {
    // Safety: `lock` is this process's copy of the kernel's lock descriptor, which nothing here
    // uses; closing it leaves the lock with the kernel (closing a copy does not unlock).
    unsafe { libc::close(lock) };
    // Jupyter interrupts a cell by sending SIGINT to the kernel's process group: not to us.
    // Safety: SIG_IGN installs no handler code.
    let _ = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) };
    if let Ok(null) = File::open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
    }
    let src = dir.join("src");
    // evcxr makes `src/` as it starts; from then on, a missing `src/` means the slot was deleted.
    let mut seen = false;
    while watch.wait_alive(EVERY) {
        let there = src.is_dir();
        seen |= there;
        if seen && !there && fs::create_dir_all(&src).is_ok() {
            eprintln!(
                "parlab kernel: {} was deleted under this kernel: made it again, the next cell compiles from scratch",
                dir.display()
            );
        }
    }
    // Safety: ends the keeper without running destructors it inherited from the kernel.
    unsafe { libc::_exit(0) }
}

/// How the keeper knows the kernel still runs.
enum KernelWatch {
    /// A pid file descriptor (Linux 5.3+): readable once the process has exited.
    #[cfg(target_os = "linux")]
    PidFd(OwnedFd),
    /// The pid, probed with signal 0 (a pid reused within one probe interval would fool it).
    Pid(Pid),
}

impl KernelWatch {
    /// Watches `kernel`, by a pid file descriptor where the system has them.
    fn open(kernel: Pid) -> Self {
        #[cfg(target_os = "linux")]
        {
            // Safety: pidfd_open takes a pid and flags and returns a new descriptor or -1.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, kernel.as_raw(), 0) };
            if let Ok(fd) = RawFd::try_from(fd)
                && fd >= 0
            {
                // Safety: the descriptor was just made and is owned by nothing else.
                return Self::PidFd(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
        Self::Pid(kernel)
    }

    /// Waits up to `interval`; true while the kernel runs.
    fn wait_alive(&self, interval: Duration) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Self::PidFd(fd) => {
                let mut pfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // Safety: `pfd` is a valid pollfd for the duration of the call and nfds is 1.
                let n = unsafe { libc::poll(&mut pfd, 1, interval.as_millis() as libc::c_int) };
                match n {
                    0 => true,           // no change within the interval
                    n if n > 0 => false, // readable: the kernel has exited
                    // Interrupted: look again; any other failure: stop keeping, never spin.
                    _ => std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted,
                }
            }
            Self::Pid(pid) => {
                std::thread::sleep(interval);
                nix::sys::signal::kill(*pid, None).is_ok()
            }
        }
    }
}
