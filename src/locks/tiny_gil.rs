//! The GIL is a lock: a tiny GIL built from a `Mutex<()>`, and the check for the exercise.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::LockError;
use crate::gil::SLICE_SAMPLES;
use crate::pi::{self, PiEstimate};

/// Runs `slice` holding the tiny GIL `gil`, and returns what it returns: a GIL from a `Mutex`.
///
/// The lock is released when the slice ends. A poisoned lock (a slice panicked) is taken anyway.
///
/// # Examples
/// ```
/// let gil = std::sync::Mutex::new(());
/// assert_eq!(parlab::locks::with_gil(&gil, || 6 * 7), 42);
/// ```
pub fn with_gil<R>(gil: &Mutex<()>, slice: impl FnOnce() -> R) -> R {
    crate::exercise::used_solution(crate::exercise::Solution::WithGil);
    let _held = gil.lock().unwrap_or_else(|e| e.into_inner());
    slice()
} // `_held` drops here: the GIL is released

/// Counts the hits of `range` of `seed`'s stream like a Python thread: in slices of
/// [`SLICE_SAMPLES`], each run [`with_gil`].
///
/// Between slices it lets go of the lock, so another thread *may* take it. A `Mutex` is not fair,
/// though: the thread that just unlocked often takes it straight back. (Python's GIL forces the
/// hand-over after its switch interval; [`crate::gil::Gil`] does the same.)
///
/// # Examples
/// ```
/// use std::sync::Mutex;
/// use parlab::{locks, pi};
/// let gil = Mutex::new(());
/// assert_eq!(locks::python_thread(&gil, 1, 0..100_000), pi::count_hits(1, 0, 100_000));
/// ```
pub fn python_thread(gil: &Mutex<()>, seed: u64, range: Range<u64>) -> u64 {
    let mut hits = 0;
    let mut first = range.start;
    while first < range.end {
        let n = SLICE_SAMPLES.min(range.end - first);
        hits += with_gil(gil, || pi::count_hits(seed, first, n));
        first += n;
    }
    hits
}

/// Estimates pi on `threads` threads that each run [`python_thread`] with one shared tiny GIL.
///
/// The threads take turns: the time is about that of one thread doing all the work.
/// The result equals [`pi::calc_pi`]`(samples, seed)`.
///
/// # Errors
/// [`LockError::Pi`] for 0 samples, 0 threads, more threads than samples or than
/// [`pi::MAX_THREADS`]; [`LockError::Spawn`], [`LockError::Panicked`].
///
/// # Examples
/// ```
/// use parlab::{locks, pi};
/// assert_eq!(locks::calc_pi_tiny_gil(1_000_000, 2, 4)?, pi::calc_pi(1_000_000, 4)?);
/// # Ok::<(), locks::LockError>(())
/// ```
pub fn calc_pi_tiny_gil(samples: u64, threads: usize, seed: u64) -> Result<PiEstimate, LockError> {
    let gil = Mutex::new(());
    pi::count_on_threads(samples, threads, "python thread", |range| {
        Ok::<u64, LockError>(python_thread(&gil, seed, range))
    })
}

/// Checks a learner's `with_gil(gil, slice)`: it returns the slice's result, waits while
/// another thread holds the GIL, and never lets two threads run a slice at once.
///
/// Three threads then run 200 slices each through it and the check counts the most threads seen
/// inside a slice at once (it must be 1). Run it with [`crate::exercise::check_within`]: a
/// `with_gil` that never returns then fails the check instead of hanging the cell.
///
/// # Errors
/// A message saying what is wrong, for [`crate::exercise::check`].
///
/// # Examples
/// ```
/// use parlab::locks;
/// let own = |gil: &std::sync::Mutex<()>, slice: &mut dyn FnMut() -> u64| {
///     let _held = gil.lock().unwrap_or_else(|e| e.into_inner());
///     slice()
/// };
/// assert!(locks::check_tiny_gil(own).is_ok());
/// // Not taking the lock lets a slice run while another thread holds the GIL:
/// let no_lock = |_gil: &std::sync::Mutex<()>, slice: &mut dyn FnMut() -> u64| slice();
/// assert!(locks::check_tiny_gil(no_lock).unwrap_err().contains("held the GIL"));
/// ```
pub fn check_tiny_gil<F>(with_gil: F) -> Result<String, String>
where
    F: Fn(&Mutex<()>, &mut dyn FnMut() -> u64) -> u64 + Sync,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_tiny_gil_dyn(&with_gil)
}

/// A learner's `with_gil`: runs a slice of work while holding the GIL, returns its value.
type WithGil<'a> = &'a (dyn Fn(&Mutex<()>, &mut dyn FnMut() -> u64) -> u64 + Sync);

fn check_tiny_gil_dyn(with_gil: WithGil<'_>) -> Result<String, String> {
    let gil = Mutex::new(());
    // 1. It runs the slice and returns its value.
    let mut ran = 0;
    let _ = crate::exercise::take_solution(&[]);
    let got = with_gil(&gil, &mut || {
        ran += 1;
        42
    });
    if let Some(name) = crate::exercise::take_solution(&[crate::exercise::Solution::WithGil]) {
        return Err(crate::exercise::solution_message(name));
    }
    if ran != 1 || got != 42 {
        return Err(format!(
            "with_gil(gil, || 42) ran the slice {ran} times and returned {got}: run it once and return its value"
        ));
    }
    if gil.try_lock().is_err() {
        return Err(
            "the GIL is still locked after with_gil returned: release it when the slice ends"
                .into(),
        );
    }

    // 2. It waits while another thread holds the GIL.
    let started = AtomicBool::new(false);
    let waited = thread::scope(|s| {
        let held = gil.lock().unwrap_or_else(|e| e.into_inner());
        let (gil, started, with_gil) = (&gil, &started, &with_gil);
        let other = s.spawn(move || {
            with_gil(gil, &mut || {
                started.store(true, Ordering::SeqCst);
                1
            })
        });
        thread::sleep(Duration::from_millis(50));
        let ran_while_held = started.load(Ordering::SeqCst);
        drop(held);
        let _ = other.join();
        !ran_while_held
    });
    if !waited {
        return Err(
            "a slice ran while another thread held the GIL: lock the GIL before running the slice"
                .into(),
        );
    }

    // 3. Three threads, 200 slices each: never two inside at once.
    let inside = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let start = Instant::now();
    let hits: u64 = thread::scope(|s| {
        let handles: Vec<_> = (0..3u64)
            .map(|t| {
                let (gil, inside, most, with_gil) = (&gil, &inside, &most, &with_gil);
                s.spawn(move || {
                    (0..200u64)
                        .map(|k| {
                            with_gil(gil, &mut || {
                                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(now, Ordering::SeqCst);
                                let first = (t * 200 + k) * SLICE_SAMPLES;
                                let h = pi::count_hits(9, first, SLICE_SAMPLES);
                                inside.fetch_sub(1, Ordering::SeqCst);
                                h
                            })
                        })
                        .sum::<u64>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let took = start.elapsed();
    let most = most.load(Ordering::SeqCst);
    if most > 1 {
        return Err(format!(
            "{most} threads ran a slice at once: hold the GIL for the whole slice"
        ));
    }
    if hits != pi::count_hits(9, 0, 600 * SLICE_SAMPLES) {
        return Err("the slices' results were not all returned".into());
    }
    Ok(format!(
        "3 threads ran 600 slices in {took:.0?}, never two at once: the GIL serialises them"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_gil_counts_right() {
        for threads in [1, 2, 3] {
            assert_eq!(
                calc_pi_tiny_gil(1_000_003, threads, 2).unwrap(),
                pi::calc_pi(1_000_003, 2).unwrap()
            );
        }
        assert!(calc_pi_tiny_gil(0, 2, 1).is_err());
        assert!(calc_pi_tiny_gil(10, 0, 1).is_err());
    }

    #[test]
    fn check_tells_cases_apart() {
        let own = |gil: &Mutex<()>, slice: &mut dyn FnMut() -> u64| {
            let _held = gil.lock().unwrap_or_else(|e| e.into_inner());
            slice()
        };
        assert!(check_tiny_gil(own).is_ok());
        let library = check_tiny_gil(|gil, slice| with_gil(gil, slice)).unwrap_err();
        assert!(
            library.contains("the library's own solution, `locks::with_gil`"),
            "{library}"
        );
        // The guard dropped at once (`let _ = ...`): the slice runs unlocked.
        let dropped_at_once = |gil: &Mutex<()>, slice: &mut dyn FnMut() -> u64| {
            drop(gil.lock());
            slice()
        };
        let msg = check_tiny_gil(dropped_at_once).unwrap_err();
        assert!(msg.contains("threads ran a slice at once"), "{msg}");
        let no_lock = |_: &Mutex<()>, slice: &mut dyn FnMut() -> u64| slice();
        assert!(
            check_tiny_gil(no_lock)
                .unwrap_err()
                .contains("held the GIL")
        );
        let twice = |gil: &Mutex<()>, slice: &mut dyn FnMut() -> u64| {
            own(gil, &mut *slice);
            own(gil, slice)
        };
        assert!(check_tiny_gil(twice).unwrap_err().contains("2 times"));
        let leaky = |gil: &Mutex<()>, slice: &mut dyn FnMut() -> u64| {
            std::mem::forget(gil.lock());
            slice()
        };
        assert!(check_tiny_gil(leaky).unwrap_err().contains("still locked"));
    }
}
