//! Shared state between threads: what the compiler refuses, and the ways to share that it accepts.
//!
//! - Counting: [`count_shared`] counts pi's hits four ways ([`Sharing`]): a `Mutex` taken per
//!   sample, an atomic per sample, a local count added once, a channel.
//! - False sharing: [`count_in_slots`] gives each thread its own counter, side by side or padded
//!   to a cache line each ([`Layout`], [`CachePadded`]).
//! - Many readers: [`read_mostly`] reads shared data under a `Mutex` or an `RwLock` ([`LockKind`]).
//! - Deadlock: [`Account`]s locked with a time-out ([`lock_within`]), [`deadlock_demo`] takes two
//!   locks in opposite orders and reports [`DeadlockOutcome::Deadlocked`] instead of hanging;
//!   [`check_transfer`] checks a learner's fix.
//! - A tiny GIL from a `Mutex`: [`with_gil`], [`python_thread`], [`calc_pi_tiny_gil`],
//!   [`check_tiny_gil`].
//!
//! Everything that can block has a time-out; bad input (0 threads, 0 samples) is an error.
//!
//! # The race Rust refuses
//!
//! Two threads adding to one counter is a data race. Rust does not compile it: a scoped thread may
//! borrow `hits` mutably only if no other thread borrows it at the same time (error E0499).
//!
//! ```compile_fail,E0499
//! let mut hits = 0u64;
//! std::thread::scope(|s| {
//!     s.spawn(|| hits += parlab::pi::count_hits(1, 0, 1000));
//!     s.spawn(|| hits += parlab::pi::count_hits(1, 1000, 1000));
//! });
//! ```
//!
//! A thread from `std::thread::spawn` may outlive the function, so it may not borrow a local at
//! all (E0373, "closure may outlive the current function"):
//!
//! ```compile_fail,E0373
//! fn count() -> std::thread::JoinHandle<()> {
//!     let mut hits = 0u64;
//!     std::thread::spawn(|| hits += 1)
//! }
//! ```
//!
//! And a value whose reference count is not atomic (`Rc`) may not be sent to another thread at all
//! (E0277, "`Rc<Cell<u64>>` cannot be sent between threads safely"):
//!
//! ```compile_fail,E0277
//! use std::{cell::Cell, rc::Rc};
//! let hits = Rc::new(Cell::new(0u64));
//! let h = Rc::clone(&hits);
//! std::thread::spawn(move || h.set(h.get() + 1));
//! ```
//!
//! What does compile: a `Mutex` (or an atomic) shared by reference between scoped threads.
//!
//! ```
//! use std::sync::Mutex;
//! let hits = Mutex::new(0u64);
//! std::thread::scope(|s| {
//!     s.spawn(|| *hits.lock().unwrap() += parlab::pi::count_hits(1, 0, 1000));
//!     s.spawn(|| *hits.lock().unwrap() += parlab::pi::count_hits(1, 1000, 1000));
//! });
//! assert_eq!(hits.into_inner().unwrap(), parlab::pi::count_hits(1, 0, 2000));
//! ```

mod counting;
mod deadlock;
mod rwlock;
mod tiny_gil;
mod transfer_check;

use std::sync::{Mutex, MutexGuard, TryLockError};
use std::thread;
use std::time::{Duration, Instant};

pub use counting::{Layout, Sharing, count_in_slots, count_shared, count_shared_recorded};
pub use crossbeam::utils::CachePadded;
pub use deadlock::{Account, DeadlockOutcome, LockOrder, deadlock_demo, deadlock_demo_recorded};
pub use rwlock::{LockKind, ReadRun, read_mostly};
pub use tiny_gil::{calc_pi_tiny_gil, check_tiny_gil, python_thread, with_gil};
pub use transfer_check::check_transfer;

use crate::pi::PiError;
use crate::spawn_error::SpawnError;

/// The default time-out for taking a lock in this module: 1 s.
///
/// # Examples
/// ```
/// assert_eq!(parlab::locks::Account::new(0, 0).timeout(), parlab::locks::DEFAULT_TIMEOUT);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// What went wrong in a locks helper.
///
/// # Examples
/// ```
/// use parlab::{locks::{self, LockError, Sharing}, pi::PiError};
/// let err = locks::count_shared(Sharing::Channel, 1000, 0, 1).unwrap_err();
/// assert_eq!(err, LockError::Pi(PiError::ZeroThreads));
/// assert_eq!(err.to_string(), "need at least 1 thread, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Bad samples or threads (0 samples, 0 threads, more threads than samples, too many).
    #[error(transparent)]
    Pi(#[from] PiError),
    /// A count that must be at least 1 was 0.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// The operating system refused to start a thread.
    #[error(transparent)]
    Spawn(#[from] crate::spawn_error::SpawnError),
    /// A thread panicked; the message of its panic.
    #[error("a thread panicked: {0}")]
    Panicked(String),
    /// Waited too long for a lock or a message.
    #[error(transparent)]
    Timeout(#[from] LockTimeout),
}

/// Gave up waiting for a lock (or a message) after a time-out.
///
/// # Examples
/// ```
/// use std::sync::Mutex;
/// use std::time::Duration;
/// let m = Mutex::new(0);
/// let _held = m.lock().unwrap();
/// let err = std::thread::scope(|s| {
///     s.spawn(|| parlab::locks::lock_within(&m, Duration::from_millis(10)).map(|_| ()))
///         .join()
///         .unwrap()
/// })
/// .unwrap_err();
/// assert_eq!(err.to_string(), "gave up waiting for the lock after 10ms");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gave up waiting for {what} after {waited:?}")]
pub struct LockTimeout {
    /// What was waited for ("the lock", "account 1").
    pub what: String,
    /// How long it waited.
    pub waited: Duration,
}

/// Takes `mutex`, waiting at most `timeout`: `Mutex::lock` with a time-out (std has none).
///
/// It tries the lock, and while another thread holds it sleeps a little (10 µs, doubling up to
/// 1 ms) and tries again. A poisoned lock (a holder panicked) is taken anyway: the data is the
/// caller's to judge.
///
/// # Errors
/// [`LockTimeout`] when the lock is still held after `timeout`.
///
/// # Examples
/// ```
/// use std::sync::Mutex;
/// use std::time::Duration;
/// let m = Mutex::new(5);
/// *parlab::locks::lock_within(&m, Duration::from_millis(100))? += 1;
/// assert_eq!(*m.lock().unwrap(), 6);
/// # Ok::<(), parlab::locks::LockTimeout>(())
/// ```
pub fn lock_within<T>(
    mutex: &Mutex<T>,
    timeout: Duration,
) -> Result<MutexGuard<'_, T>, LockTimeout> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(10);
    loop {
        match mutex.try_lock() {
            Ok(guard) => return Ok(guard),
            Err(TryLockError::Poisoned(e)) => return Ok(e.into_inner()),
            Err(TryLockError::WouldBlock) => {}
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(LockTimeout {
                what: "the lock".into(),
                waited: timeout,
            });
        }
        thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

/// Joins a scoped thread, turning a panic into [`LockError::Panicked`].
fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> Result<T, LockError> {
    handle
        .join()
        .map_err(|p| LockError::Panicked(crate::panics::message(p.as_ref())))
}

/// Starts a named scoped thread, turning a refusal into [`LockError::Spawn`].
fn spawn<'scope, T: Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    name: &str,
    f: impl FnOnce() -> T + Send + 'scope,
) -> Result<thread::ScopedJoinHandle<'scope, T>, LockError> {
    thread::Builder::new()
        .name(name.into())
        .spawn_scoped(scope, f)
        .map_err(|e| LockError::from(SpawnError::new(format!("thread `{name}`"), e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_within_takes_free_and_poisoned_locks() {
        let m = Mutex::new(1);
        assert_eq!(*lock_within(&m, Duration::from_millis(10)).unwrap(), 1);
        let _ = std::panic::catch_unwind(|| {
            let _g = m.lock().unwrap();
            panic!("poison it");
        });
        assert!(m.is_poisoned());
        assert_eq!(*lock_within(&m, Duration::from_millis(10)).unwrap(), 1);
    }

    #[test]
    fn lock_within_times_out_and_then_succeeds() {
        let m = Mutex::new(());
        let held = m.lock().unwrap();
        let start = Instant::now();
        let r = thread::scope(|s| {
            s.spawn(|| lock_within(&m, Duration::from_millis(30)).map(|_| ()))
                .join()
                .unwrap()
        });
        assert!(r.is_err());
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(held);
        assert!(lock_within(&m, Duration::from_millis(30)).is_ok());
    }
}
