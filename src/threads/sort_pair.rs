//! Sorting two vectors: one after the other, on two scoped threads, with `rayon::join`, and
//! timing one against another ([`compare_sorts`]).

use std::thread;
use std::time::Instant;

use super::error::ThreadsError;
use super::random_vec::random_vec;
use crate::spawn_error::SpawnError;
use crate::timing::{Comparison, Measurement};

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
            .map_err(|e| ThreadsError::from(SpawnError::new("thread `sort a`", e)))?;
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
