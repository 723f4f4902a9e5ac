//! Splitting a sample count into near-equal ranges ([`split`]), for threads, processes and pools.

use std::ops::Range;

use super::error::{PiError, check_samples};

/// The most threads [`calc_pi_threads`](super::calc_pi_threads) starts (more is almost surely a
/// typo).
pub const MAX_THREADS: usize = 1024;

/// Splits `samples` into `parts` consecutive ranges whose lengths differ by at most one.
///
/// The first `samples % parts` ranges get one sample more; together they cover `0..samples`.
///
/// # Errors
/// [`PiError::ZeroSamples`], [`PiError::ZeroThreads`] for 0 parts,
/// [`PiError::MoreThreadsThanSamples`] when `parts > samples`.
///
/// # Examples
/// ```
/// assert_eq!(parlab::pi::split(10, 3)?, vec![0..4, 4..7, 7..10]);
/// # Ok::<(), parlab::pi::PiError>(())
/// ```
pub fn split(samples: u64, parts: usize) -> Result<Vec<Range<u64>>, PiError> {
    crate::exercise::used_solution(crate::exercise::Solution::Split);
    check_samples(samples)?;
    if parts == 0 {
        return Err(PiError::ZeroThreads);
    }
    if parts as u64 > samples {
        return Err(PiError::MoreThreadsThanSamples {
            threads: parts,
            samples,
        });
    }
    let base = samples / parts as u64;
    let extra = samples % parts as u64;
    let mut start = 0;
    let ranges = (0..parts as u64)
        .map(|i| {
            let len = base + u64::from(i < extra);
            let range = start..start + len;
            start += len;
            range
        })
        .collect();
    Ok(ranges)
}

/// The arguments of `tasks` calc_pi tasks of `samples` each, `(samples, seed)` with seeds 1, 2,
/// ...: what `pool.starmap(tasks::CALC_PI, ..)` takes, as the source's `repeat((N,), 4)`.
///
/// # Examples
/// ```
/// let args: Vec<(u64, u64)> = parlab::pi::task_args(1000, 2).collect();
/// assert_eq!(args, [(1000, 1), (1000, 2)]);
/// ```
pub fn task_args(samples: u64, tasks: usize) -> impl Iterator<Item = (u64, u64)> {
    (1..=tasks as u64).map(move |seed| (samples, seed))
}

/// Checks a thread count against the samples and [`MAX_THREADS`], then splits the samples.
pub(crate) fn split_for_threads(samples: u64, threads: usize) -> Result<Vec<Range<u64>>, PiError> {
    if threads > MAX_THREADS {
        return Err(PiError::TooManyThreads {
            threads,
            max: MAX_THREADS,
        });
    }
    split(samples, threads)
}
