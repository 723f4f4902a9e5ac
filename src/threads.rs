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
    crate::exercise::used_solution(crate::exercise::Solution::SortPairThreads);
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
    crate::exercise::used_solution(crate::exercise::Solution::SortPairRayon);
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
///     rayon::join(|| a.sort_unstable(), || b.sort_unstable());
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
    /// The deadline of the check that made the spies: a sort still comparing after it is stopped.
    give_up: Option<Instant>,
}

impl SpyLog {
    fn record(&self) {
        let now = Instant::now();
        if self.give_up.is_some_and(|at| now > at) {
            panic!("{}", crate::exercise::STOPPED);
        }
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
/// let ok = parlab::threads::check_sort_pair(|a, b| {
///     std::thread::scope(|s| {
///         s.spawn(|| a.sort_unstable());
///         b.sort_unstable();
///     })
/// });
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
    let caller = thread::current().id();
    for _attempt in 0..3 {
        let log = || {
            Arc::new(SpyLog {
                give_up: crate::exercise::deadline(),
                ..SpyLog::default()
            })
        };
        let (log_a, log_b) = (log(), log());
        let spies = |keys: &[u64], log: &Arc<SpyLog>| -> Vec<Spy> {
            keys.iter()
                .map(|&key| Spy {
                    key,
                    log: Arc::clone(log),
                })
                .collect()
        };
        let (mut a, mut b) = (spies(&keys_a, &log_a), spies(&keys_b, &log_b));
        let _ = crate::exercise::take_solution(&[]);
        sort_two(&mut a, &mut b);
        if let Some(name) = crate::exercise::take_solution(&[
            crate::exercise::Solution::SortPairThreads,
            crate::exercise::Solution::SortPairRayon,
        ]) {
            return Err(crate::exercise::solution_message(name));
        }
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
        let (Some((start_a, end_a)), Some((start_b, end_b))) = (span_a, span_b) else {
            return Err("a vector was never sorted".into());
        };
        let at_once = start_a < end_b && start_b < end_a;
        let single_same = threads_a.len() == 1 && threads_a == threads_b;
        if at_once && !single_same {
            return Ok(format!(
                "both vectors of {LEN} sorted, on {} threads, at the same time",
                threads_a.union(&threads_b).count()
            ));
        }
        if single_same && threads_a.contains(&caller) {
            return Err(
                "both vectors were sorted on the same thread, one after the other: sort one of \
                 them on a new thread while this thread sorts the other"
                    .into(),
            );
        }
        if single_same {
            last_problem = "both vectors were sorted on one other thread, one after the other \
                 (a single new thread that sorts both, or a parallel sort that got only one \
                 thread): sort one of them on a new thread while this thread sorts the other"
                .into();
            continue; // a busy machine may have given a parallel sort one thread: try again
        }
        let (na, nb) = (threads_a.len(), threads_b.len());
        last_problem = if na > 1 || nb > 1 {
            format!(
                "the two sorts ran one after the other: vector a was sorted on {na} thread{} and \
                 vector b on {nb} (a parallel sort such as par_sort_unstable uses several), but b's \
                 sort started only after a's had finished. Run the two sorts at the same time: \
                 start one on a new thread (or with rayon::join) before doing the other",
                if na == 1 { "" } else { "s" }
            )
        } else {
            "the two sorts ran on two threads but one after the other: start both before waiting \
             for either (join the first thread after starting the second)"
                .into()
        };
    }
    Err(last_problem)
}

/// Checks a learner's `calc_pi` on `k` threads: the samples split exactly, every range counted
/// once with the seed given, on `k` different threads that count at the same time.
///
/// `calc_pi_k(samples, k, seed)` must count with [`pi::count_hits`] over ranges that cover
/// `0..samples` exactly once, so its result equals [`pi::calc_pi`]`(samples, seed)`. The check
/// records every call of `pi::count_hits` (which thread, which samples, which seed, when), so it
/// can say what happened: samples counted twice or never, another seed, no threads at all, or
/// threads that ran one after the other. A busy machine can delay a thread, so the "at the same
/// time" part is tried three times before it fails.
///
/// # Errors
/// A message saying what is wrong, for [`crate::exercise::check_within`].
///
/// # Examples
/// ```
/// use parlab::{pi, threads};
/// let own = |samples: u64, k: usize, seed: u64| {
///     let ranges = pi::split(samples, k)?;
///     let hits = std::thread::scope(|s| {
///         let handles: Vec<_> = ranges.into_iter()
///             .map(|r| s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start)))
///             .collect();
///         handles.into_iter().map(|h| h.join().unwrap()).sum()
///     });
///     pi::PiEstimate::from_hits(hits, samples)
/// };
/// assert!(threads::check_calc_pi_k(own).is_ok());
/// // The library's own version is recognised: the exercise asks for yours.
/// assert!(threads::check_calc_pi_k(pi::calc_pi_threads).unwrap_err().contains("library's own"));
/// // Ignoring k is caught: one call of pi::count_hits on the calling thread.
/// let serial = |samples: u64, k: usize, seed: u64| {
///     pi::split(samples, k)?;
///     pi::calc_pi(samples, seed)
/// };
/// assert!(threads::check_calc_pi_k(serial).unwrap_err().contains("no thread"));
/// ```
pub fn check_calc_pi_k<F>(calc_pi_k: F) -> Result<String, String>
where
    F: Fn(u64, usize, u64) -> Result<PiEstimate, PiError>,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_calc_pi_k_dyn(&calc_pi_k)
}

/// The seed the calc_pi_k check passes.
const CHECK_SEED: u64 = 2024;

fn check_calc_pi_k_dyn(
    calc_pi_k: &dyn Fn(u64, usize, u64) -> Result<PiEstimate, PiError>,
) -> Result<String, String> {
    let seed = CHECK_SEED;
    // Awkward counts (remainders), then one big enough that threads surely overlap in time.
    const BIG: (u64, usize) = (90_000_001, 3);
    for (samples, k) in [
        (1_000_000, 1),
        (1_000_003, 2),
        (1_000_003, 3),
        (999_999, 4),
        (10, 7),
        BIG,
    ] {
        // Counted unwatched: the check's own counting is not the learner's.
        let want_hits = pi::count_hits_unwatched(seed, 0, samples);
        let mut attempts_left = if (samples, k) == BIG { 3 } else { 1 };
        loop {
            attempts_left -= 1;
            let caller = thread::current().id();
            let _ = crate::exercise::take_solution(&[]);
            let (got, calls) = pi::probe::watch(|| calc_pi_k(samples, k, seed));
            let call = format!("calc_pi_k({samples}, {k}, {seed})");
            if let Some(name) = crate::exercise::take_solution(&[
                crate::exercise::Solution::CalcPiThreads,
                crate::exercise::Solution::CalcPiRayon,
            ]) {
                return Err(crate::exercise::solution_message(name));
            }
            let calls = calls.map_err(|dropped| {
                format!(
                    "{call} called pi::count_hits more than {} times (at least {dropped} more \
                     calls were not recorded): k = {k} needs {k} calls, one per range. Is there \
                     a loop that never ends, or one call per sample?",
                    pi::probe::MAX_CALLS
                )
            })?;
            let got = got.map_err(|e| format!("{call} returned the error \"{e}\""))?;
            let run = Run {
                samples,
                k,
                seed,
                caller,
                calls,
            };
            run.coverage(&call)?;
            if got.samples != samples {
                return Err(format!(
                    "{call} reports {} samples, expected {samples}",
                    got.samples
                ));
            }
            if got.hits != want_hits {
                return Err(format!(
                    "{call} counted {} hits, expected {want_hits}, although every sample was \
                     counted once: add up the hits that the threads' join() hands back, and pass \
                     their sum to pi::PiEstimate::from_hits",
                    got.hits
                ));
            }
            run.threads(&call)?;
            if (samples, k) != BIG {
                break; // ranges this small take less time than starting a thread
            }
            match run.overlap(&call) {
                Ok(()) => break,
                Err(e) if attempts_left == 0 => return Err(e),
                Err(_) => {} // a busy machine may have delayed a thread: try again
            }
        }
    }
    for (samples, k, what) in [
        (1000, 0, "0 threads"),
        (0, 2, "0 samples"),
        (3, 4, "4 threads for 3 samples"),
    ] {
        // Watched, though the calls are not looked at: they are the learner's, not other code's.
        if let (Ok(e), _) = pi::probe::watch(|| calc_pi_k(samples, k, seed)) {
            return Err(format!(
                "{what} should be an error (pi::split gives one), but calc_pi_k gave {e}"
            ));
        }
    }
    Ok(format!(
        "the same hits as pi::calc_pi for 1 to 7 threads and odd sample counts, every range \
         counted once on its own thread, {} threads counting at the same time; bad input is an error",
        BIG.1
    ))
}

/// One call of a learner's calc_pi_k, with the calls of `pi::count_hits` it made.
struct Run {
    samples: u64,
    k: usize,
    seed: u64,
    caller: ThreadId,
    calls: Vec<pi::probe::Call>,
}

impl Run {
    /// The calls with the seed given (others may come from unrelated code running meanwhile).
    fn seeded(&self) -> impl Iterator<Item = &pi::probe::Call> {
        self.calls.iter().filter(move |c| c.seed == self.seed)
    }

    /// Every sample of `0..samples` counted exactly once, with the seed given.
    fn coverage(&self, call: &str) -> Result<(), String> {
        let seeded: Vec<(u64, u64)> = self
            .seeded()
            .map(|c| (c.first, c.first.saturating_add(c.samples)))
            .collect();
        let (twice, never) = coverage_gaps(&seeded, self.samples);
        if seeded.is_empty() {
            return Err(format!(
                "{call} never called pi::count_hits with the seed it was given ({}): count each \
                 range with pi::count_hits(seed, range.start, range.end - range.start)",
                self.seed
            ));
        }
        if let Some((lo, hi)) = never {
            let other: Vec<u64> = self
                .calls
                .iter()
                .filter(|c| c.seed != self.seed && c.first >= lo && c.first + c.samples <= hi)
                .map(|c| c.seed)
                .collect();
            if !other.is_empty() {
                return Err(format!(
                    "{call}: samples {lo}..{hi} were counted with seed {} instead of {}: give every \
                     thread the same seed. Sample i of a seed's stream is the same point whichever \
                     thread counts it, so the threads' hits add up to calc_pi's only for one seed",
                    list(&other),
                    self.seed
                ));
            }
        }
        if let Some((lo, hi, times)) = twice {
            let same_range = seeded.len() > 1 && seeded.iter().all(|r| *r == seeded[0]);
            let what = if same_range {
                format!(
                    "every thread counted the same samples {lo}..{hi}, so they were counted {times} times"
                )
            } else {
                format!("samples {lo}..{hi} were counted {times} times")
            };
            let missing = never.map_or(String::new(), |(a, b)| {
                format!(", and samples {a}..{b} never")
            });
            return Err(format!(
                "{call}: {what}{missing}: give each thread its own range, from pi::split(samples, k)"
            ));
        }
        if let Some((lo, hi)) = never {
            let hint = if hi == self.samples {
                "the last samples were dropped (the remainder of samples / k?): pi::split gives ranges that cover every sample"
            } else {
                "the ranges from pi::split(samples, k) cover every sample once: count each of them"
            };
            return Err(format!(
                "{call}: samples {lo}..{hi} were never counted: {hint}"
            ));
        }
        Ok(())
    }

    /// The ranges were counted on `k` different threads.
    fn threads(&self, call: &str) -> Result<(), String> {
        let mut threads: Vec<ThreadId> = self.seeded().map(|c| c.thread).collect();
        threads.sort_by_key(|t| format!("{t:?}"));
        threads.dedup();
        if self.k < 2 || threads.len() >= self.k {
            return Ok(());
        }
        let pieces = self.seeded().count();
        if threads == [self.caller] {
            return Err(if pieces == 1 {
                format!(
                    "{call}: all {} samples were counted in one piece on the thread that called \
                     calc_pi_k, so k = {} was ignored and no thread was started: count each range \
                     of pi::split(samples, k) on its own thread",
                    self.samples, self.k
                )
            } else {
                format!(
                    "{call}: the {pieces} ranges were counted one after the other on the thread \
                     that called calc_pi_k: no thread was started. Count each range on its own \
                     thread (std::thread::scope, then s.spawn for each range)"
                )
            });
        }
        Err(format!(
            "{call}: the samples were counted on {} thread{} for k = {}: start one thread per range",
            threads.len(),
            if threads.len() == 1 { "" } else { "s" },
            self.k
        ))
    }

    /// The `k` threads were all counting at one moment.
    fn overlap(&self, call: &str) -> Result<(), String> {
        if self.k < 2 {
            return Ok(());
        }
        let latest_start = self.seeded().map(|c| c.start).max();
        let earliest_end = self.seeded().map(|c| c.end).min();
        match (latest_start, earliest_end) {
            (Some(start), Some(end)) if start < end => Ok(()),
            _ => Err(format!(
                "{call}: the {} ranges were counted on {} threads, but one after the other: no \
                 moment had them all counting (tried 3 times). Each thread was joined before the \
                 next one started; a lazy iterator does that: in `.map(spawn).map(join)` each \
                 item is spawned and joined before the next. Collect the handles into a Vec \
                 first, then join them",
                self.seeded().count(),
                self.k
            )),
        }
    }
}

/// Samples `lo..hi` counted `times` times: `(lo, hi, times)`.
type Repeated = (u64, u64, usize);

/// Where ranges `[lo, hi)` miss or repeat samples of `0..samples`: the first stretch counted more
/// than once (with how often), and the first stretch never counted.
fn coverage_gaps(ranges: &[(u64, u64)], samples: u64) -> (Option<Repeated>, Option<(u64, u64)>) {
    let mut edges: Vec<u64> = ranges
        .iter()
        .flat_map(|&(a, b)| [a.min(samples), b.min(samples)])
        .chain([0, samples])
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let (mut twice, mut never) = (None, None);
    for w in edges.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let times = ranges.iter().filter(|&&(a, b)| a <= lo && hi <= b).count();
        if times == 0 {
            never = never.or(Some((lo, hi)));
            if let Some((a, b)) = never {
                if b == lo {
                    never = Some((a, hi));
                }
            }
        } else if times > 1 {
            twice = twice.or(Some((lo, hi, times)));
            if let Some((a, b, t)) = twice {
                if b == lo && t == times {
                    twice = Some((a, hi, t));
                }
            }
        }
    }
    (twice, never)
}

/// `1, 2 and 3`, without repeats.
fn list(values: &[u64]) -> String {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    let words: Vec<String> = v.iter().map(u64::to_string).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => words.join(""),
    }
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
        assert!(
            check_sort_pair(|a, b| {
                rayon::join(|| a.sort_unstable(), || b.sort_unstable());
            })
            .is_ok()
        );
        let library = check_sort_pair(sort_pair_rayon).unwrap_err();
        assert!(library.contains("`threads::sort_pair_rayon`"), "{library}");
        let own = |a: &mut [Spy], b: &mut [Spy]| {
            thread::scope(|s| {
                s.spawn(|| a.sort_unstable());
                b.sort_unstable();
            })
        };
        assert!(check_sort_pair(own).is_ok());
        let library = check_sort_pair(|a, b| sort_pair_threads(a, b).unwrap()).unwrap_err();
        assert!(
            library.contains("`threads::sort_pair_threads`"),
            "{library}"
        );
        let same = check_sort_pair(sort_pair_serial).unwrap_err();
        assert!(same.contains("same thread"), "{same}");
        // Two parallel sorts, one after the other: several threads, but not at the same time.
        let par_one_after = check_sort_pair(|a, b| {
            use rayon::slice::ParallelSliceMut;
            a.par_sort_unstable();
            b.par_sort_unstable();
        });
        if rayon::current_num_threads() > 1 {
            let msg = par_one_after.unwrap_err();
            assert!(msg.contains("one after the other"), "{msg}");
        }
        let one_after = check_sort_pair(|a, b| {
            thread::scope(|s| s.spawn(|| a.sort()).join().unwrap());
            thread::scope(|s| s.spawn(|| b.sort()).join().unwrap());
        })
        .unwrap_err();
        assert!(one_after.contains("one after the other"), "{one_after}");
        let unsorted = check_sort_pair(|a, _b| a.sort()).unwrap_err();
        assert!(unsorted.contains("not sorted"), "{unsorted}");
        // One new thread that sorts both, one after the other.
        let one_other = check_sort_pair(|a, b| {
            thread::scope(|s| {
                s.spawn(|| {
                    a.sort();
                    b.sort();
                });
            })
        })
        .unwrap_err();
        assert!(
            one_other.contains("sorted on one other thread, one after the other"),
            "{one_other}"
        );
        // Sorted the wrong way round.
        let descending = check_sort_pair(|a, b| {
            thread::scope(|s| {
                s.spawn(|| a.sort_by(|x, y| y.cmp(x)));
                b.sort_by(|x, y| y.cmp(x));
            })
        })
        .unwrap_err();
        assert!(
            descending.contains("vector a is not sorted"),
            "{descending}"
        );
    }

    /// The exercise's solution, as the lesson shows it.
    fn solution(samples: u64, k: usize, seed: u64) -> Result<PiEstimate, PiError> {
        let ranges = pi::split(samples, k)?;
        let hits = thread::scope(|s| {
            let handles: Vec<_> = ranges
                .into_iter()
                .map(|r| s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        PiEstimate::from_hits(hits, samples)
    }

    fn wrong(answer: impl Fn(u64, usize, u64) -> Result<PiEstimate, PiError>, says: &str) {
        let msg = check_calc_pi_k(answer).unwrap_err();
        assert!(msg.contains(says), "expected {says:?} in: {msg}");
    }

    #[test]
    fn pi_check_passes_real_threads() {
        check_calc_pi_k(solution).unwrap();
        let library = check_calc_pi_k(pi::calc_pi_threads).unwrap_err();
        assert!(library.contains("`pi::calc_pi_threads`"), "{library}");
        let rayon =
            check_calc_pi_k(|samples, _k, seed| pi::calc_pi_rayon(samples, seed)).unwrap_err();
        assert!(
            rayon.contains("the library's own solution, `pi::calc_pi_rayon`"),
            "{rayon}"
        );
    }

    #[test]
    fn pi_check_catches_answers_without_threads() {
        // A serial loop over the ranges.
        wrong(
            |samples, k, seed| {
                let hits = pi::split(samples, k)?
                    .into_iter()
                    .map(|r| pi::count_hits(seed, r.start, r.end - r.start))
                    .sum();
                PiEstimate::from_hits(hits, samples)
            },
            "one after the other on the thread that called calc_pi_k: no thread was started",
        );
        // Ignoring k after checking it.
        wrong(
            |samples, k, seed| {
                pi::split(samples, k)?;
                pi::calc_pi(samples, seed)
            },
            "in one piece on the thread that called calc_pi_k, so k = 2 was ignored",
        );
        // A lazy iterator: each thread is joined before the next starts.
        wrong(
            |samples, k, seed| {
                let ranges = pi::split(samples, k)?;
                let hits = thread::scope(|s| {
                    ranges
                        .into_iter()
                        .map(|r| s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start)))
                        .map(|h| h.join().unwrap())
                        .sum()
                });
                PiEstimate::from_hits(hits, samples)
            },
            "but one after the other",
        );
        // Fewer threads than ranges.
        wrong(
            |samples, k, seed| {
                let ranges = pi::split(samples, k)?;
                let (first, rest) = ranges.split_at(1);
                let hits = thread::scope(|s| {
                    let other = s.spawn(|| {
                        rest.iter()
                            .map(|r| pi::count_hits(seed, r.start, r.end - r.start))
                            .sum::<u64>()
                    });
                    pi::count_hits(seed, first[0].start, first[0].end - first[0].start)
                        + other.join().unwrap()
                });
                PiEstimate::from_hits(hits, samples)
            },
            "counted on 2 threads for k = 3",
        );
    }

    #[test]
    fn pi_check_says_what_went_wrong_with_the_samples() {
        // The same range on every thread: counted twice, not "not counted".
        wrong(
            |samples, k, seed| {
                let ranges = pi::split(samples, k)?;
                let first = ranges[0].clone();
                let hits: u64 = thread::scope(|s| {
                    let handles: Vec<_> = ranges
                        .iter()
                        .map(|_| {
                            let r = first.clone();
                            s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start))
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).sum()
                });
                PiEstimate::from_hits(hits.min(samples), samples)
            },
            "every thread counted the same samples 0..500002, so they were counted 2 times, and samples 500002..1000003 never",
        );
        // A different seed per thread: say so, not "more hits than there are".
        wrong(
            |samples, k, seed| {
                let ranges = pi::split(samples, k)?;
                let hits = thread::scope(|s| {
                    let handles: Vec<_> = ranges
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            s.spawn(move || {
                                pi::count_hits(seed + i as u64, r.start, r.end - r.start)
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).sum()
                });
                PiEstimate::from_hits(hits, samples)
            },
            "were counted with seed 2025 instead of 2024",
        );
        // The remainder of samples / k dropped.
        wrong(
            |samples: u64, k: usize, seed: u64| {
                let per = samples / k.max(1) as u64;
                pi::calc_pi(per * k as u64, seed).map(|e| PiEstimate { samples, ..e })
            },
            "the last samples were dropped",
        );
        // Hits added up wrongly although every sample was counted once.
        wrong(
            |samples, k, seed| {
                solution(samples, k, seed).map(|e| PiEstimate {
                    hits: e.hits / 2,
                    ..e
                })
            },
            "although every sample was counted once",
        );
        // No errors for bad input.
        wrong(
            |samples: u64, k: usize, seed: u64| solution(samples.max(8), k.clamp(1, 8), seed),
            "should be an error",
        );
        // Its own kernel, not pi::count_hits.
        wrong(
            |samples, _k, _seed| PiEstimate::from_hits(samples * 3 / 4, samples),
            "never called pi::count_hits",
        );
    }

    #[test]
    fn coverage_gaps_finds_repeats_and_holes() {
        assert_eq!(coverage_gaps(&[(0, 5), (5, 10)], 10), (None, None));
        assert_eq!(
            coverage_gaps(&[(0, 5), (0, 5)], 10),
            (Some((0, 5, 2)), Some((5, 10)))
        );
        assert_eq!(
            coverage_gaps(&[(0, 6), (4, 10)], 10),
            (Some((4, 6, 2)), None)
        );
        assert_eq!(coverage_gaps(&[(0, 3), (7, 10)], 10), (None, Some((3, 7))));
        assert_eq!(coverage_gaps(&[], 10), (None, Some((0, 10))));
        assert_eq!(list(&[3, 1, 3, 2]), "1, 2 and 3");
        assert_eq!(list(&[7]), "7");
    }
}
