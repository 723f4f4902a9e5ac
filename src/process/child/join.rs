//! Joining a worker: waiting (with a timeout) for its result and its exit, killing and reaping it.

use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use serde::de::DeserializeOwned;

use crate::process::items;
use crate::process::wire::{DecodeInto, Reply, TaskFailure, decode_outcomes_into};
use crate::process::{ProcessError, sys};
use crate::timeline::monotonic_ns;

use super::{Core, Exit, Handle, Process};

/// Decodes a one-shot worker's value from its bytes and keeps it (the caller's `R`, out of sight
/// of the non-generic code that calls it); the decoder's message if the bytes are not an `R`.
type DecodeValue<'a> = dyn FnMut(&[u8]) -> Result<(), String> + 'a;

/// How long the parent waits for a worker to finish exiting once its result arrived or its
/// channel closed, before killing it.
const EXIT_GRACE: Duration = Duration::from_secs(1);

impl Core {
    /// [`Process::kill`].
    #[inline(never)]
    pub(super) fn kill(&mut self) {
        if self.try_reap().is_some() {
            return;
        }
        let status = match &mut self.handle {
            Handle::Spawned(child) => {
                let _ = child.kill();
                child.wait().ok().map(exit_of)
            }
            Handle::Forked(pid) => {
                let _ = signal::kill(*pid, Signal::SIGKILL);
                loop {
                    match waitpid(*pid, None) {
                        Err(nix::errno::Errno::EINTR) => continue,
                        Ok(status) => break wait_exit(status),
                        Err(_) => break None,
                    }
                }
            }
        };
        self.exit = Some(status.unwrap_or(Exit::Signal(libc::SIGKILL)));
    }

    /// Reaps it if it has exited.
    fn try_reap(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            self.exit = match &mut self.handle {
                Handle::Spawned(child) => match child.try_wait() {
                    Ok(status) => status.map(exit_of),
                    Err(_) => Some(Exit::Code(-1)),
                },
                Handle::Forked(pid) => match waitpid(*pid, Some(WaitPidFlag::WNOHANG)) {
                    Ok(status) => wait_exit(status),
                    Err(_) => Some(Exit::Code(-1)),
                },
            };
        }
        self.exit
    }

    /// Waits until it exited or `deadline` passed.
    fn wait_until(&mut self, deadline: Instant) -> Option<Exit> {
        if let Some(exit) = self.try_reap() {
            return Some(exit);
        }
        // Where the system says when the child exits (Linux's pidfd), wait for just that: sleeps
        // overshoot the exit by up to their own length.
        if let Some(fd) = sys::pidfd(self.pid) {
            if let Ok(ready) = sys::wait_ready(fd.as_fd(), false, deadline) {
                if let Some(exit) = self.try_reap() {
                    return Some(exit);
                }
                if !ready {
                    return None;
                }
            }
        }
        let mut pause = Duration::from_micros(20);
        loop {
            if let Some(exit) = self.try_reap() {
                return Some(exit);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(2));
        }
    }

    /// Once its channel closed: how it ended (waiting up to the grace period, then killing it).
    #[inline(never)]
    pub(super) fn ended(&mut self) -> ProcessError {
        let exit = match self.wait_until(Instant::now() + EXIT_GRACE) {
            Some(exit) => exit,
            None => {
                self.kill();
                Exit::Signal(libc::SIGKILL)
            }
        };
        match exit {
            Exit::Signal(s) => ProcessError::Killed {
                pid: self.pid,
                signal: sys::signal_name(s),
            },
            Exit::Code(code) => ProcessError::Exited {
                pid: self.pid,
                code,
            },
        }
    }

    /// Waits (briefly) for the output threads, so that all output is printed before join returns.
    /// (A program the worker started may hold its output pipes open: that does not wait long.)
    fn finish_output(&mut self) {
        if let Some(done) = self.forwarders_done.take() {
            let _ = done.recv_timeout(Duration::from_millis(200));
        }
    }
}

impl Core {
    /// [`Process::join`], the value (of the type named `type_name`) decoded by `value` from its
    /// bytes: non-generic, so that a notebook cell compiles only the decoding of its `R`.
    #[inline(never)]
    fn join(
        &mut self,
        timeout: Duration,
        type_name: &'static str,
        value: &mut DecodeValue<'_>,
    ) -> Result<(), ProcessError> {
        if self.joined {
            return Err(ProcessError::AlreadyJoined { pid: self.pid });
        }
        self.joined = true;
        let result = self.receive(timeout, type_name, value);
        self.finish_output();
        self.joined_ns = Some(monotonic_ns());
        if let Err(e) = &result {
            self.failed = Some(e.to_string());
        }
        result
    }

    /// Waits for the reply (keeping the child's times from it) and reaps the child.
    fn receive(
        &mut self,
        timeout: Duration,
        type_name: &'static str,
        value: &mut DecodeValue<'_>,
    ) -> Result<(), ProcessError> {
        let deadline = sys::deadline(timeout);
        let what = format!(
            "worker {} ({}) gave no result; it was killed",
            self.pid, self.name
        );
        match self.chan.recv(deadline, timeout, &what) {
            Ok(bytes) => {
                if self.wait_until(Instant::now() + EXIT_GRACE).is_none() {
                    self.kill();
                }
                let reply = Reply::decode(&bytes, self.pid)?;
                self.ran_ns = Some((reply.started_ns, reply.ended_ns));
                let failure = match reply.response {
                    Ok(run) => {
                        let mut one = One {
                            value,
                            failure: None,
                        };
                        decode_outcomes_into(&run, 1, type_name, &mut one);
                        one.failure
                    }
                    Err(failure) => Some(failure),
                };
                match failure {
                    None => Ok(()),
                    Some(failure) => Err(self.task_error(failure)),
                }
            }
            Err(ProcessError::Closed) => Err(self.ended()),
            Err(e) => {
                self.kill();
                Err(e)
            }
        }
    }

    fn task_error(&self, failure: TaskFailure) -> ProcessError {
        match failure {
            TaskFailure::UnknownTask { name, known } => ProcessError::UnknownTask {
                name,
                known: known.join(", "),
            },
            TaskFailure::WrongSignature {
                task,
                worker,
                shapes,
            } => ProcessError::WrongSignature {
                task,
                caller: self.caller_types.map_or_else(|| "?".into(), |t| t.text()),
                worker,
                differences: self
                    .caller_types
                    .map(|t| t.differences_clause(shapes.as_deref()))
                    .unwrap_or_default(),
            },
            TaskFailure::BadArgs { task, message } => ProcessError::BadArgs { task, message },
            TaskFailure::Unavailable { task, message } => {
                ProcessError::TaskUnavailable { task, message }
            }
            TaskFailure::Panicked(message) => ProcessError::Panicked {
                pid: self.pid,
                message,
            },
            TaskFailure::BadResult(message) => ProcessError::corrupt("serialize", message),
        }
    }
}

impl<R> Process<R> {
    /// Whether it is still running (it may have exited without being joined).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut child = parlab::process::fork_with(|| std::thread::sleep(Duration::from_secs(5)), &opts)?;
    /// assert!(child.is_alive());
    /// child.kill();
    /// assert!(!child.is_alive());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn is_alive(&mut self) -> bool {
        self.core.try_reap().is_none()
    }

    /// Kills it (SIGKILL) if it still runs, and reaps it.
    ///
    /// # Examples
    /// ```
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut child = parlab::process::fork_with(|| -> u8 { loop { std::hint::spin_loop() } }, &opts)?;
    /// child.kill();
    /// assert!(child.join(std::time::Duration::from_secs(1)).is_err());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn kill(&mut self) {
        self.core.kill();
    }

    /// Once its channel closed: how it ended (waiting up to the grace period, then killing it).
    pub(crate) fn ended(&mut self) -> ProcessError {
        self.core.ended()
    }
}

impl<R: DeserializeOwned> Process<R> {
    /// Waits at most `timeout` for the result; on timeout the worker is killed.
    ///
    /// # Errors
    /// [`ProcessError::Timeout`] (the worker was killed), [`ProcessError::Panicked`] with the panic
    /// message and pid, [`ProcessError::Killed`] naming the signal, [`ProcessError::Exited`],
    /// [`ProcessError::UnknownTask`], [`ProcessError::BadArgs`], [`ProcessError::Serde`] when the
    /// result is not an `R`, [`ProcessError::AlreadyJoined`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let opts = parlab::process::Options { warn: false, ..Default::default() };
    /// let mut slow = parlab::process::fork_with(|| std::thread::sleep(Duration::from_secs(10)), &opts)?;
    /// let e = slow.join(Duration::from_millis(100)).unwrap_err();
    /// assert!(e.to_string().contains("it was killed"));
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn join(&mut self, timeout: Duration) -> Result<R, ProcessError> {
        let mut decoded = None;
        self.core
            .join(timeout, std::any::type_name::<R>(), &mut |bytes| {
                decoded = Some(items::decode_exact::<R>(bytes)?);
                Ok(())
            })?;
        decoded.ok_or_else(no_value)
    }
}

/// The one outcome of a one-shot worker's run: its value handed to `value`, or its failure.
struct One<'a> {
    value: &'a mut DecodeValue<'a>,
    failure: Option<TaskFailure>,
}

impl DecodeInto for One<'_> {
    fn value(&mut self, bytes: &[u8]) -> Result<(), String> {
        (self.value)(bytes)
    }

    fn failure(&mut self, failure: TaskFailure) {
        self.failure = Some(failure);
    }
}

/// What `join` gives if a reply decoded without a value (it never does: an outcome is a value
/// or a failure).
#[inline(never)]
fn no_value() -> ProcessError {
    ProcessError::corrupt("deserialize", "the answer holds no result".into())
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    }
}

fn wait_exit(status: WaitStatus) -> Option<Exit> {
    match status {
        WaitStatus::Exited(_, code) => Some(Exit::Code(code)),
        WaitStatus::Signaled(_, signal, _) => Some(Exit::Signal(signal as i32)),
        _ => None,
    }
}
