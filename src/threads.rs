//! Helpers for the threads lesson: sorting two vectors on two threads, the cost of starting a
//! thread, and the checks for the lesson's exercises.
//!
//! - [`random_vec`]: a seeded vector of random numbers to sort.
//! - [`sort_pair_serial`], [`sort_pair_threads`], [`sort_pair_rayon`]: sort two vectors one after
//!   the other, on two scoped threads, with `rayon::join`.
//! - [`compare_sorts`]: time "one after the other" against any two-vector sort, equal work.
//! - [`spawn_cost`]: the time to start and join a thread that does nothing.
//! - [`check_sort_pair`], [`check_calc_pi_k`]: the checks behind the lesson's exercises.
//! - [`rayon`]: the `rayon` crate, re-exported so notebook cells need no extra `:dep`.
//!
//! # Examples
//! ```
//! use parlab::threads;
//!
//! let mut a = threads::random_vec(1000, 1)?;
//! let mut b = threads::random_vec(1000, 2)?;
//! threads::sort_pair_threads(&mut a, &mut b)?;
//! assert!(a.is_sorted() && b.is_sorted());
//! # Ok::<(), threads::ThreadsError>(())
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::pi::{self, PiError, PiEstimate};
use crate::timing::{Comparison, Measurement};

/// The `rayon` crate, re-exported: `use parlab::threads::rayon::prelude::*;` in a cell.
pub use rayon;

/// The longest vector [`random_vec`] makes (10⁹ numbers, 8 GB): more is surely a typo.
///
/// # Examples
/// ```
/// assert!(parlab::threads::random_vec(parlab::threads::MAX_LEN + 1, 1).is_err());
/// ```
pub const MAX_LEN: usize = 1_000_000_000;

/// What went wrong in a threads helper.
///
/// # Examples
/// ```
/// use parlab::threads::{random_vec, ThreadsError};
/// assert_eq!(random_vec(0, 1), Err(ThreadsError::Zero("the length")));
/// assert_eq!(ThreadsError::Zero("the length").to_string(), "the length must be at least 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThreadsError {
    /// Asked for an empty vector or no work at all.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// A vector longer than [`MAX_LEN`].
    #[error("{len} numbers is more than the limit of {max}")]
    TooLong {
        /// The length asked for.
        len: usize,
        /// The limit, [`MAX_LEN`].
        max: usize,
    },
    /// The operating system refused to start a thread.
    #[error("could not start a thread: {0}")]
    Spawn(String),
    /// A thread panicked; the message of its panic.
    #[error("a thread panicked: {0}")]
    Panicked(String),
    /// A sort left a vector unsorted or changed its numbers.
    #[error("{0}")]
    WrongResult(String),
}

/// A vector of `len` random `u64`s, the same for the same seed.
///
/// `u64` rather than `f64`: Rust's `sort` needs a total order (`Ord`), which `f64` lacks because
/// of NaN; floats sort with `v.sort_unstable_by(f64::total_cmp)` at about the same speed.
///
/// # Errors
/// [`ThreadsError::Zero`] for `len == 0`, [`ThreadsError::TooLong`] above [`MAX_LEN`].
///
/// # Examples
/// ```
/// let v = parlab::threads::random_vec(5, 42)?;
/// assert_eq!(v, parlab::threads::random_vec(5, 42)?);
/// # Ok::<(), parlab::threads::ThreadsError>(())
/// ```
pub fn random_vec(len: usize, seed: u64) -> Result<Vec<u64>, ThreadsError> {
    if len == 0 {
        return Err(ThreadsError::Zero("the length"));
    }
    if len > MAX_LEN {
        return Err(ThreadsError::TooLong { len, max: MAX_LEN });
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    Ok((0..len).map(|_| rng.random()).collect())
}

/// Sorts `a`, then `b`, on the calling thread.
///
/// # Examples
/// ```
/// let (mut a, mut b) = (vec![3, 1, 2], vec![9, 8]);
/// parlab::threads::sort_pair_serial(&mut a, &mut b);
/// assert_eq!((a, b), (vec![1, 2, 3], vec![8, 9]));
/// ```
pub fn sort_pair_serial<T: Ord>(a: &mut [T], b: &mut [T]) {
    a.sort_unstable();
    b.sort_unstable();
}

/// Sorts `a` and `b` at the same time on two scoped threads (they borrow the slices: no `Arc`).
///
/// # Errors
/// [`ThreadsError::Spawn`] if a thread cannot start, [`ThreadsError::Panicked`] if one panics.
///
/// # Examples
/// ```
/// let (mut a, mut b) = (vec![3, 1, 2], vec![9, 8]);
/// parlab::threads::sort_pair_threads(&mut a, &mut b)?;
/// assert_eq!((a, b), (vec![1, 2, 3], vec![8, 9]));
/// # Ok::<(), parlab::threads::ThreadsError>(())
/// ```
pub fn sort_pair_threads<T: Ord + Send>(a: &mut [T], b: &mut [T]) -> Result<(), ThreadsError> {
    thread::scope(|scope| {
        let first = thread::Builder::new()
            .name("sort a".into())
            .spawn_scoped(scope, || a.sort_unstable())
            .map_err(|e| ThreadsError::Spawn(e.to_string()))?;
        b.sort_unstable(); // this thread sorts b meanwhile
        first
            .join()
            .map_err(|p| ThreadsError::Panicked(crate::panics::message(p.as_ref())))
    })
}

/// Sorts `a` and `b` with `rayon::join`: the two sorts may run on two of rayon's threads.
///
/// # Examples
/// ```
/// let (mut a, mut b) = (vec![3, 1, 2], vec![9, 8]);
/// parlab::threads::sort_pair_rayon(&mut a, &mut b);
/// assert_eq!((a, b), (vec![1, 2, 3], vec![8, 9]));
/// ```
pub fn sort_pair_rayon<T: Ord + Send>(a: &mut [T], b: &mut [T]) {
    rayon::join(|| a.sort_unstable(), || b.sort_unstable());
}

/// Times sorting two random vectors of `len` numbers one after the other, and with `two_threads`.
///
/// Both sort the same two vectors (fresh copies each run, copied outside the timed part), so the
/// work is equal; each run is checked to leave both sorted. One warm-up run is not timed.
/// Whatever `two_threads` returns is ignored (a `Result` too: an unsorted vector is the error).
/// The work of a measurement is the `2 * len` numbers sorted.
///
/// # Errors
/// [`ThreadsError::Zero`] for `len == 0` or `repeats == 0`, [`ThreadsError::TooLong`],
/// [`ThreadsError::WrongResult`] if `two_threads` does not sort.
///
/// # Examples
/// ```
/// use parlab::threads;
/// let c = threads::compare_sorts(10_000, 2, 1, threads::sort_pair_threads)?;
/// assert_eq!(c.measurements.len(), 2);
/// assert_eq!(c.measurements[1].work, Some(20_000));
/// # Ok::<(), threads::ThreadsError>(())
/// ```
pub fn compare_sorts<R>(
    len: usize,
    repeats: usize,
    seed: u64,
    mut two_threads: impl FnMut(&mut [u64], &mut [u64]) -> R,
) -> Result<Comparison, ThreadsError> {
    if repeats == 0 {
        return Err(ThreadsError::Zero("the number of repeats"));
    }
    let a = random_vec(len, seed)?;
    let b = random_vec(len, seed.wrapping_add(1))?;
    let time = |label: &str, sort: &mut dyn FnMut(&mut [u64], &mut [u64])| {
        let mut times = Vec::with_capacity(repeats);
        for run in 0..=repeats {
            let (mut x, mut y) = (a.clone(), b.clone());
            let start = Instant::now();
            sort(&mut x, &mut y);
            let took = start.elapsed();
            if !x.is_sorted() || !y.is_sorted() {
                return Err(ThreadsError::WrongResult(format!(
                    "{label}: a vector is not sorted"
                )));
            }
            if run > 0 {
                times.push(took);
            }
        }
        Ok(Measurement::new(label, times).with_work(2 * len as u64))
    };
    let serial = time("one after the other", &mut |x, y| sort_pair_serial(x, y))?;
    let threads = time("two threads", &mut |x, y| {
        two_threads(x, y);
    })?;
    Ok(Comparison::from(vec![serial, threads]))
}

/// Times starting and joining a thread that does nothing, `repeats` times after one warm-up.
///
/// # Errors
/// [`ThreadsError::Zero`] for `repeats == 0`, [`ThreadsError::Spawn`] if a thread cannot start.
///
/// # Examples
/// ```
/// let m = parlab::threads::spawn_cost(20)?;
/// assert!(m.median() < std::time::Duration::from_millis(50));
/// # Ok::<(), parlab::threads::ThreadsError>(())
/// ```
pub fn spawn_cost(repeats: usize) -> Result<Measurement, ThreadsError> {
    if repeats == 0 {
        return Err(ThreadsError::Zero("the number of repeats"));
    }
    let mut times = Vec::with_capacity(repeats);
    for run in 0..=repeats {
        let start = Instant::now();
        let handle = thread::Builder::new()
            .spawn(|| {})
            .map_err(|e| ThreadsError::Spawn(e.to_string()))?;
        handle
            .join()
            .map_err(|p| ThreadsError::Panicked(crate::panics::message(p.as_ref())))?;
        if run > 0 {
            times.push(start.elapsed());
        }
    }
    Ok(Measurement::new("spawn + join an empty thread", times))
}

/// A number that remembers which threads compared it, and when: the spy of [`check_sort_pair`].
///
/// It sorts like its key; comparing it records the comparing thread in a log it shares.
///
/// # Examples
/// ```
/// // check_sort_pair builds these; a learner's sort only compares them.
/// let ok = parlab::threads::check_sort_pair(|a: &mut [parlab::threads::Spy], b: &mut [parlab::threads::Spy]| {
///     parlab::threads::sort_pair_rayon(a, b)
/// });
/// assert!(ok.is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Spy {
    key: u64,
    log: Arc<SpyLog>,
}

/// The threads that compared a vector's keys, and the first and last comparison.
type Seen = (HashSet<ThreadId>, Option<(Instant, Instant)>);

#[derive(Debug, Default)]
struct SpyLog {
    threads: Mutex<Seen>,
}

impl SpyLog {
    fn record(&self) {
        let now = Instant::now();
        let id = thread::current().id();
        let mut log = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        log.0.insert(id);
        log.1 = Some(match log.1 {
            None => (now, now),
            Some((first, _)) => (first, now),
        });
    }

    fn take(&self) -> Seen {
        std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl PartialEq for Spy {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Spy {}
impl PartialOrd for Spy {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Spy {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.log.record();
        self.key.cmp(&other.key)
    }
}

/// Checks a learner's "sort two vectors in two threads": both sorted, on different threads, at
/// the same time.
///
/// The vectors hold keys that record which thread compares them and when, so the check sees
/// whether the two sorts ran on two threads and overlapped in time (it tries three times before
/// saying they did not, as a busy machine can delay a thread).
///
/// # Errors
/// A message saying what is wrong, for [`crate::exercise::check`].
///
/// # Examples
/// ```
/// let ok = parlab::threads::check_sort_pair(|a, b| parlab::threads::sort_pair_rayon(a, b));
/// assert!(ok.is_ok());
/// let serial = parlab::threads::check_sort_pair(|a, b| parlab::threads::sort_pair_serial(a, b));
/// assert!(serial.unwrap_err().contains("same thread"));
/// ```
pub fn check_sort_pair<F>(mut sort_two: F) -> Result<String, String>
where
    F: FnMut(&mut [Spy], &mut [Spy]),
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_sort_pair_dyn(&mut sort_two)
}

fn check_sort_pair_dyn(sort_two: &mut dyn FnMut(&mut [Spy], &mut [Spy])) -> Result<String, String> {
    const LEN: usize = 40_000;
    let keys_a = random_vec(LEN, 11).map_err(|e| e.to_string())?;
    let keys_b = random_vec(LEN, 12).map_err(|e| e.to_string())?;
    let mut last_problem = String::new();
    for _attempt in 0..3 {
        let (log_a, log_b) = (Arc::new(SpyLog::default()), Arc::new(SpyLog::default()));
        let spies = |keys: &[u64], log: &Arc<SpyLog>| -> Vec<Spy> {
            keys.iter()
                .map(|&key| Spy {
                    key,
                    log: Arc::clone(log),
                })
                .collect()
        };
        let (mut a, mut b) = (spies(&keys_a, &log_a), spies(&keys_b, &log_b));
        sort_two(&mut a, &mut b);
        for (name, v, keys) in [("a", &a, &keys_a), ("b", &b, &keys_b)] {
            let mut want = keys.clone();
            want.sort_unstable();
            if !v.iter().map(|s| s.key).eq(want.iter().copied()) {
                return Err(format!(
                    "vector {name} is not sorted (or lost numbers): sort both vectors"
                ));
            }
        }
        let ((threads_a, span_a), (threads_b, span_b)) = (log_a.take(), log_b.take());
        if !threads_a.is_disjoint(&threads_b) {
            return Err(
                "both vectors were sorted on the same thread: sort one of them on a new thread"
                    .into(),
            );
        }
        let (Some((start_a, end_a)), Some((start_b, end_b))) = (span_a, span_b) else {
            return Err("a vector was never sorted".into());
        };
        if start_a < end_b && start_b < end_a {
            return Ok(format!(
                "both vectors of {LEN} sorted, on two threads, at the same time"
            ));
        }
        last_problem = "the two sorts ran on two threads but one after the other: start both \
                        before waiting for either (join the first thread after starting the second)"
            .into();
    }
    Err(last_problem)
}

/// Checks a learner's `calc_pi` on `k` threads: exact hits for awkward sample counts (so the
/// samples were split exactly), errors for bad input.
///
/// `calc_pi_k(samples, k, seed)` must count with [`pi::count_hits`] over ranges that cover
/// `0..samples` exactly once, so its result equals [`pi::calc_pi`]`(samples, seed)`.
///
/// # Errors
/// A message saying what is wrong, for [`crate::exercise::check`].
///
/// # Examples
/// ```
/// use parlab::{pi, threads};
/// assert!(threads::check_calc_pi_k(pi::calc_pi_threads).is_ok());
/// // Dropping the remainder of samples / k is caught:
/// let lossy = |samples: u64, k: usize, seed: u64| {
///     let per = samples / k.max(1) as u64;
///     pi::calc_pi(per * k as u64, seed)
/// };
/// assert!(threads::check_calc_pi_k(lossy).is_err());
/// ```
pub fn check_calc_pi_k<F>(calc_pi_k: F) -> Result<String, String>
where
    F: Fn(u64, usize, u64) -> Result<PiEstimate, PiError>,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_calc_pi_k_dyn(&calc_pi_k)
}

fn check_calc_pi_k_dyn(
    calc_pi_k: &dyn Fn(u64, usize, u64) -> Result<PiEstimate, PiError>,
) -> Result<String, String> {
    let seed = 2024;
    for (samples, k) in [
        (1_000_000, 1),
        (1_000_003, 2),
        (1_000_003, 3),
        (999_999, 4),
        (10, 7),
    ] {
        let want = pi::calc_pi(samples, seed).map_err(|e| e.to_string())?;
        let got = calc_pi_k(samples, k, seed)
            .map_err(|e| format!("calc_pi_k({samples}, {k}, {seed}) returned the error \"{e}\""))?;
        if got.samples != samples {
            return Err(format!(
                "calc_pi_k({samples}, {k}, ..) reports {} samples, expected {samples}",
                got.samples
            ));
        }
        if got.hits != want.hits {
            let k64 = k as u64;
            let hint = if got.hits == pi::count_hits(seed, 0, samples / k64 * k64) {
                "the remainder of samples / k was lost: pi::split gives ranges that cover every sample"
            } else if got.hits > want.hits {
                "more hits than there are: do some threads count the same samples?"
            } else {
                "some samples were not counted: do the ranges cover 0..samples?"
            };
            return Err(format!(
                "calc_pi_k({samples}, {k}, {seed}) counted {} hits, expected {}: {hint}",
                got.hits, want.hits
            ));
        }
    }
    for (samples, k, what) in [
        (1000, 0, "0 threads"),
        (0, 2, "0 samples"),
        (3, 4, "4 threads for 3 samples"),
    ] {
        if let Ok(e) = calc_pi_k(samples, k, seed) {
            return Err(format!("{what} should be an error, but gave {e}"));
        }
    }
    Ok("the same hits as pi::calc_pi for 1 to 7 threads and odd sample counts; bad input is an error".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_vec_is_seeded_and_checked() {
        assert_eq!(random_vec(100, 3).unwrap(), random_vec(100, 3).unwrap());
        assert_ne!(random_vec(100, 3).unwrap(), random_vec(100, 4).unwrap());
        assert_eq!(random_vec(0, 1), Err(ThreadsError::Zero("the length")));
        assert!(matches!(
            random_vec(MAX_LEN + 1, 1),
            Err(ThreadsError::TooLong { .. })
        ));
    }

    #[test]
    fn all_pair_sorts_sort() {
        let a = random_vec(10_001, 1).unwrap();
        let b = random_vec(999, 2).unwrap();
        let mut want = (a.clone(), b.clone());
        want.0.sort();
        want.1.sort();
        let (mut x, mut y) = (a.clone(), b.clone());
        sort_pair_serial(&mut x, &mut y);
        assert_eq!((&x, &y), (&want.0, &want.1));
        let (mut x, mut y) = (a.clone(), b.clone());
        sort_pair_threads(&mut x, &mut y).unwrap();
        assert_eq!((&x, &y), (&want.0, &want.1));
        let (mut x, mut y) = (a, b);
        sort_pair_rayon(&mut x, &mut y);
        assert_eq!((&x, &y), (&want.0, &want.1));
    }

    #[test]
    fn compare_sorts_checks_and_times() {
        let c = compare_sorts(20_000, 2, 5, sort_pair_threads).unwrap();
        assert_eq!(c.measurements.len(), 2);
        assert!(c.measurements.iter().all(|m| m.times.len() == 2));
        let wrong = compare_sorts(1000, 1, 5, |a, _b| a.sort());
        assert!(matches!(wrong, Err(ThreadsError::WrongResult(_))));
        assert!(compare_sorts(1000, 0, 5, |_, _| {}).is_err());
        assert!(compare_sorts(0, 1, 5, |_, _| {}).is_err());
    }

    #[test]
    fn spawn_cost_is_small() {
        let m = spawn_cost(10).unwrap();
        assert_eq!(m.times.len(), 10);
        assert!(spawn_cost(0).is_err());
    }

    #[test]
    fn sort_check_tells_cases_apart() {
        assert!(check_sort_pair(|a, b| sort_pair_threads(a, b).unwrap()).is_ok());
        let same = check_sort_pair(sort_pair_serial).unwrap_err();
        assert!(same.contains("same thread"), "{same}");
        let one_after = check_sort_pair(|a, b| {
            thread::scope(|s| s.spawn(|| a.sort()).join().unwrap());
            thread::scope(|s| s.spawn(|| b.sort()).join().unwrap());
        })
        .unwrap_err();
        assert!(one_after.contains("one after the other"), "{one_after}");
        let unsorted = check_sort_pair(|a, _b| a.sort()).unwrap_err();
        assert!(unsorted.contains("not sorted"), "{unsorted}");
    }

    #[test]
    fn pi_check_tells_cases_apart() {
        assert!(check_calc_pi_k(pi::calc_pi_threads).is_ok());
        let lossy = |samples: u64, k: usize, seed: u64| {
            let per = samples / k.max(1) as u64;
            pi::calc_pi(per * k as u64, seed).map(|e| PiEstimate { samples, ..e })
        };
        let msg = check_calc_pi_k(lossy).unwrap_err();
        assert!(msg.contains("remainder"), "{msg}");
        let twice = |samples: u64, _k: usize, seed: u64| {
            PiEstimate::from_hits(pi::count_hits(seed, 0, samples) * 2, samples * 2)
                .map(|e| PiEstimate { samples, ..e })
        };
        assert!(check_calc_pi_k(twice).unwrap_err().contains("more hits"));
        let no_errors = |samples: u64, _k: usize, seed: u64| pi::calc_pi(samples.max(1), seed);
        let msg = check_calc_pi_k(no_errors).unwrap_err();
        assert!(msg.contains("should be an error"), "{msg}");
    }
}
