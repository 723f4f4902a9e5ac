//! Estimate pi by Monte Carlo: throw random points into the square [-1, 1]², count the hits
//! inside the unit circle; the fraction of hits approaches pi / 4.
//!
//! - [`calc_pi_learner`]: the lesson's `calc_pi` as a learner writes it, with `rand::rng()`.
//! - [`calc_pi_small_rng`]: the same with a small, seeded generator per call.
//! - [`calc_pi`]: the fast serial kernel, seeded (an integer wyrand-style generator).
//! - [`calc_pi_threads`]: the fast kernel on `k` scoped threads, samples split exactly.
//! - [`calc_pi_rayon`]: the fast kernel on rayon's pool.
//! - [`count_hits`]: the kernel itself, for any range of a seed's sample stream.
//! - [`split`]: split a sample count into near-equal ranges (for threads, processes, pools).
//!
//! The seeded variants are reproducible: sample number `i` of a seed's stream is always the same
//! point, whichever thread, process or chunk computes it, so the same seed and sample count give
//! the same hit count for any number of threads.
//!
//! # Examples
//! ```
//! use parlab::pi;
//!
//! let serial = pi::calc_pi(1_000_000, 42)?;
//! let threads = pi::calc_pi_threads(1_000_000, 3, 42)?;
//! assert_eq!(serial, threads);
//! assert!((serial.estimate - std::f64::consts::PI).abs() < 5.0 * serial.std_error());
//! # Ok::<(), pi::PiError>(())
//! ```

mod error;
mod estimate;
mod estimate_check;
mod kernel;
mod learner;
mod on_rayon;
mod on_threads;
pub(crate) mod probe;
mod split;

pub use error::PiError;
pub use estimate::PiEstimate;
pub use estimate_check::check_estimate_from;
pub(crate) use kernel::count_hits_unwatched;
pub use kernel::{calc_pi, count_hits};
pub use learner::{calc_pi_learner, calc_pi_small_rng};
pub use on_rayon::{BLOCK_SAMPLES, calc_pi_rayon};
pub use on_threads::calc_pi_threads;
pub(crate) use on_threads::{count_on_threads, on_split_threads};
pub use split::{MAX_THREADS, split, task_args};

#[cfg(test)]
mod tests;
