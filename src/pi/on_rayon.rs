//! pi on rayon's thread pool: [`calc_pi_rayon`].

use rayon::prelude::*;

use super::error::{PiError, check_samples};
use super::estimate::PiEstimate;
use super::kernel::count_hits;

/// Samples per rayon task in [`calc_pi_rayon`] (the last task may be shorter).
pub const BLOCK_SAMPLES: u64 = 1 << 20;

/// Estimates pi with rayon: tasks of [`BLOCK_SAMPLES`] samples on rayon's thread pool.
///
/// Equals [`calc_pi`](super::calc_pi)`(samples, seed)`. Uses the current rayon pool (all cores by
/// default; in a `rayon::ThreadPool::install` closure, that pool).
///
/// # Errors
/// [`PiError::ZeroSamples`] for 0 samples.
///
/// # Examples
/// ```
/// use parlab::pi;
/// assert_eq!(pi::calc_pi_rayon(3_000_000, 5)?, pi::calc_pi(3_000_000, 5)?);
/// # Ok::<(), pi::PiError>(())
/// ```
pub fn calc_pi_rayon(samples: u64, seed: u64) -> Result<PiEstimate, PiError> {
    crate::exercise::used_solution(crate::exercise::Solution::CalcPiRayon);
    check_samples(samples)?;
    let blocks = samples.div_ceil(BLOCK_SAMPLES);
    let hits = (0..blocks)
        .into_par_iter()
        .map(|block| {
            let first = block * BLOCK_SAMPLES;
            count_hits(seed, first, BLOCK_SAMPLES.min(samples - first))
        })
        .sum();
    PiEstimate::from_hits(hits, samples)
}
