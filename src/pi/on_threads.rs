//! pi on scoped threads: [`calc_pi_threads`], and the one skeleton of every threaded calc_pi in
//! the lessons ([`on_split_threads`]).

use std::ops::Range;

use super::error::PiError;
use super::estimate::PiEstimate;
use super::kernel::count_hits;
use super::split::split_for_threads;

use crate::spawn_error::SpawnError;

/// Estimates pi on `threads` scoped threads, each counting its share of the samples.
///
/// The samples are split exactly ([`split`](super::split)), so the result equals
/// [`calc_pi`](super::calc_pi)`(samples, seed)` for every thread count.
///
/// # Errors
/// [`PiError::ZeroSamples`], [`PiError::ZeroThreads`], [`PiError::MoreThreadsThanSamples`],
/// [`PiError::TooManyThreads`] above [`MAX_THREADS`](super::MAX_THREADS), [`PiError::Spawn`] if a
/// thread cannot start.
///
/// # Examples
/// ```
/// use parlab::pi;
/// let e = pi::calc_pi_threads(1_000_001, 2, 9)?;
/// assert_eq!(e, pi::calc_pi(1_000_001, 9)?);
/// assert!(pi::calc_pi_threads(1_000, 0, 9).is_err());
/// # Ok::<(), pi::PiError>(())
/// ```
pub fn calc_pi_threads(samples: u64, threads: usize, seed: u64) -> Result<PiEstimate, PiError> {
    crate::exercise::used_solution(crate::exercise::Solution::CalcPiThreads);
    count_on_threads(samples, threads, "calc_pi", |range| {
        Ok(count_hits(seed, range.start, range.end - range.start))
    })
}

/// Splits `samples` over `threads` ([`split`](super::split), at most
/// [`MAX_THREADS`](super::MAX_THREADS)), runs `work(i, range)`
/// for the `i`-th range on its own named scoped thread, and returns what each thread returned, in
/// range order: the one skeleton of every threaded calc_pi in the lessons.
///
/// A thread that panics becomes [`PiError::Panicked`], one the system refuses [`PiError::Spawn`].
pub(crate) fn on_split_threads<T, E>(
    samples: u64,
    threads: usize,
    name: &str,
    work: impl Fn(usize, Range<u64>) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E>
where
    T: Send,
    E: From<PiError> + Send,
{
    let ranges = split_for_threads(samples, threads)?;
    let work = &work;
    std::thread::scope(|scope| {
        let handles = ranges
            .into_iter()
            .enumerate()
            .map(|(i, range)| {
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn_scoped(scope, move || work(i, range))
                    .map_err(|e| PiError::from(SpawnError::new(format!("thread `{name}`"), e)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|p| PiError::Panicked(crate::panics::message(p.as_ref())))?
            })
            .collect()
    })
}

/// [`on_split_threads`] where each thread counts hits: adds them into the estimate.
pub(crate) fn count_on_threads<E>(
    samples: u64,
    threads: usize,
    name: &str,
    count: impl Fn(Range<u64>) -> Result<u64, E> + Sync,
) -> Result<PiEstimate, E>
where
    E: From<PiError> + Send,
{
    let hits = on_split_threads(samples, threads, name, |_, range| count(range))?;
    Ok(PiEstimate::from_hits(hits.into_iter().sum(), samples)?)
}
