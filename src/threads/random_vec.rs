//! Seeded vectors of random numbers to sort ([`random_vec`]).

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::error::ThreadsError;

/// The longest vector [`random_vec`] makes (10⁹ numbers, 8 GB): more is surely a typo.
///
/// # Examples
/// ```
/// assert!(parlab::threads::random_vec(parlab::threads::MAX_LEN + 1, 1).is_err());
/// ```
pub const MAX_LEN: usize = 1_000_000_000;

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
