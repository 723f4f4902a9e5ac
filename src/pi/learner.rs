//! pi as a learner first writes it: `f64` points from `rand`'s generators ([`calc_pi_learner`],
//! [`calc_pi_small_rng`]).

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::error::{PiError, check_samples};
use super::estimate::PiEstimate;

/// Estimates pi the way a learner first writes it: `rand::rng()` and `f64` points in [-1, 1]².
///
/// Not seeded (every call gives a different estimate) and about 8x slower than
/// [`calc_pi`](super::calc_pi):
/// the thread-local generator is cryptographically strong, which Monte Carlo does not need.
/// The code is the Python lesson's `calc_pi`, line for line:
///
/// ```
/// use rand::RngExt;
///
/// fn calc_pi(n: u64) -> f64 {
///     let mut rng = rand::rng();
///     let mut m = 0;
///     for _ in 0..n {
///         let x: f64 = rng.random_range(-1.0..1.0);
///         let y: f64 = rng.random_range(-1.0..1.0);
///         if x * x + y * y < 1.0 {
///             m += 1;
///         }
///     }
///     4.0 * m as f64 / n as f64
/// }
/// # assert!((calc_pi(10_000) - 3.14).abs() < 0.1);
/// ```
///
/// It is `#[inline]`, so it is compiled into the cell that calls it, as the learner's own
/// `calc_pi` is. evcxr builds a path dependency such as `parlab` incrementally, in many small
/// codegen units; without `#[inline]` rand's `random_range` landed in another unit and was called,
/// twice per sample, instead of inlined: 0.62-0.72x the speed of the same code in a cell (with
/// it, 0.85-1.0x measured in the kernel on a busy machine, 0.92-1.03x in a crate built as evcxr does).
///
/// # Errors
/// [`PiError::ZeroSamples`] for 0 samples.
///
/// # Examples
/// ```
/// let e = parlab::pi::calc_pi_learner(100_000)?;
/// assert!((e.estimate - std::f64::consts::PI).abs() < 5.0 * e.std_error());
/// # Ok::<(), parlab::pi::PiError>(())
/// ```
#[inline] // compiled where it is called, like the learner's own cell: see the note above
pub fn calc_pi_learner(samples: u64) -> Result<PiEstimate, PiError> {
    check_samples(samples)?;
    PiEstimate::from_hits(f64_hits(&mut rand::rng(), samples), samples)
}

/// Estimates pi like [`calc_pi_learner`] but with a small seeded generator (`SmallRng`).
///
/// The same seed gives the same estimate; about twice as fast as `rand::rng()`.
///
/// # Errors
/// [`PiError::ZeroSamples`] for 0 samples.
///
/// # Examples
/// ```
/// use parlab::pi::calc_pi_small_rng;
/// assert_eq!(calc_pi_small_rng(10_000, 7)?, calc_pi_small_rng(10_000, 7)?);
/// # Ok::<(), parlab::pi::PiError>(())
/// ```
#[inline] // compiled in the calling cell, as calc_pi_learner is
pub fn calc_pi_small_rng(samples: u64, seed: u64) -> Result<PiEstimate, PiError> {
    check_samples(samples)?;
    PiEstimate::from_hits(
        f64_hits(&mut SmallRng::seed_from_u64(seed), samples),
        samples,
    )
}

/// The learner's loop: `samples` points with f64 coordinates in [-1, 1), counting those inside the
/// unit circle. Shared by [`calc_pi_learner`] and [`calc_pi_small_rng`], which differ only in `rng`.
#[inline]
fn f64_hits<R: rand::Rng + ?Sized>(rng: &mut R, samples: u64) -> u64 {
    let mut hits = 0;
    for _ in 0..samples {
        let x: f64 = rng.random_range(-1.0..1.0);
        let y: f64 = rng.random_range(-1.0..1.0);
        if x * x + y * y < 1.0 {
            hits += 1;
        }
    }
    hits
}
