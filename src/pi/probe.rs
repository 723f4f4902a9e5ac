//! Which thread called [`count_hits`](super::count_hits), for which samples, and when: what an
//! exercise check sees.
//!
//! While [`watch`] runs, every call of [`count_hits`](super::count_hits) in this process (on any
//! thread) is recorded; otherwise recording costs one relaxed atomic load per call (not per
//! sample).
//!
//! The record is a `static`, the one place this crate keeps state outside values. It is sound for
//! the checks because evcxr compiles a check cell together with the learner's earlier functions:
//! the learner's `pi::count_hits` and the check's probe are the same copy of this crate.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, ThreadId};
use std::time::Instant;

/// How many [`watch`] sections are running.
pub(crate) static WATCHING: AtomicUsize = AtomicUsize::new(0);
/// The calls recorded while watching.
static CALLS: Mutex<Vec<Call>> = Mutex::new(Vec::new());
/// Calls made while watching but not recorded, as [`MAX_CALLS`] were already.
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// The most calls one [`watch`] records: about 6 MB of them. A learner's loop that never
/// ends cannot grow the record beyond this; the calls after it are only counted.
pub(crate) const MAX_CALLS: usize = 100_000;

/// One recorded call of [`super::count_hits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    /// The seed it was given.
    pub seed: u64,
    /// The first sample it counted.
    pub first: u64,
    /// How many samples it counted.
    pub samples: u64,
    /// The thread it ran on.
    pub thread: ThreadId,
    /// When it started.
    pub start: Instant,
    /// When it returned.
    pub end: Instant,
}

/// Counts with `count`, recording the call.
pub(super) fn counted(seed: u64, first: u64, samples: u64, count: fn(u64, u64, u64) -> u64) -> u64 {
    if crate::exercise::watched_overdue() {
        // The check gave up on this code, and it is still counting: stop it here.
        panic!("{}", crate::exercise::STOPPED);
    }
    let start = Instant::now();
    let hits = count(seed, first, samples);
    let call = Call {
        seed,
        first,
        samples,
        thread: thread::current().id(),
        start,
        end: Instant::now(),
    };
    let mut calls = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    if calls.len() < MAX_CALLS {
        calls.push(call);
    } else {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
    hits
}

/// Runs `f` and returns what it returned with every [`super::count_hits`] call made meanwhile,
/// or, when there were more than [`MAX_CALLS`], how many more.
///
/// Run by a check with a deadline ([`crate::exercise::check_within`]), calls of
/// `count_hits` after the deadline panic with [`crate::exercise::STOPPED`]: a learner's loop
/// that never ends is stopped at its next call instead of keeping a core busy.
pub(crate) fn watch<T>(f: impl FnOnce() -> T) -> (T, Result<Vec<Call>, usize>) {
    let _watch = crate::exercise::Watch::begin();
    CALLS.lock().unwrap_or_else(|e| e.into_inner()).clear();
    DROPPED.store(0, Ordering::SeqCst);
    WATCHING.fetch_add(1, Ordering::SeqCst);
    /// Stops watching even when `f` panics.
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            WATCHING.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let stop = Stop;
    let out = f();
    drop(stop);
    let calls = std::mem::take(&mut *CALLS.lock().unwrap_or_else(|e| e.into_inner()));
    let dropped = DROPPED.swap(0, Ordering::SeqCst);
    (out, if dropped > 0 { Err(dropped) } else { Ok(calls) })
}
