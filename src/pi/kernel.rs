//! The fast kernel: [`count_hits`] counts the hits of any range of a seed's sample stream (integer
//! wyrand, no floating point), and [`calc_pi`] runs it on one thread.

use super::error::{PiError, check_samples};
use super::estimate::PiEstimate;
use super::probe;

/// The wyrand increment (a Weyl sequence: state `k` is `start + k * WEYL`).
const WEYL: u64 = 0xa076_1d64_78bd_642f;
/// The wyrand mixing constant.
const MIX: u64 = 0xe703_7ed1_a0b4_28db;

/// The start of a seed's stream (splitmix64 of the seed, so nearby seeds are far apart).
fn stream_start(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Counts the hits among samples `first .. first + samples` of `seed`'s stream: the fast kernel.
///
/// Sample `i` is one 64-bit wyrand output made from the state `start(seed) + (i + 1) * C`, so any
/// range can be computed on its own (by a thread, a process, a rayon task) and the counts of
/// disjoint ranges add up to the count of their union. Its two 32-bit halves are the signed
/// coordinates `x, y` in `[-2³¹, 2³¹)`, a hit is `x² + y² < 2⁶²`: the unit circle in integers,
/// no floating point. About 1 G samples per second per core.
///
/// # Examples
/// ```
/// use parlab::pi::count_hits;
/// // Two halves count the same hits as the whole.
/// assert_eq!(count_hits(1, 0, 600) + count_hits(1, 600, 400), count_hits(1, 0, 1000));
/// ```
#[inline(never)] // one copy of the machine code, so every caller runs at the same speed
pub fn count_hits(seed: u64, first: u64, samples: u64) -> u64 {
    if probe::WATCHING.load(std::sync::atomic::Ordering::Relaxed) > 0 {
        return probe::counted(seed, first, samples, count_hits_unwatched);
    }
    count_hits_unwatched(seed, first, samples)
}

/// [`count_hits`] itself, never recorded by a [`probe`] (for a check's own counting).
pub(crate) fn count_hits_unwatched(seed: u64, first: u64, samples: u64) -> u64 {
    // State k of the stream; four at a time so the CPU works on four samples at once.
    let mut state = stream_start(seed).wrapping_add(first.wrapping_mul(WEYL));
    let mut hits = 0;
    for _ in 0..samples / 4 {
        let s1 = state.wrapping_add(WEYL);
        let s2 = state.wrapping_add(WEYL.wrapping_mul(2));
        let s3 = state.wrapping_add(WEYL.wrapping_mul(3));
        let s4 = state.wrapping_add(WEYL.wrapping_mul(4));
        hits += is_hit(s1) + is_hit(s2) + is_hit(s3) + is_hit(s4);
        state = s4;
    }
    for _ in 0..samples % 4 {
        state = state.wrapping_add(WEYL);
        hits += is_hit(state);
    }
    hits
}

/// 1 if the point made from wyrand state `state` lies inside the circle, else 0.
#[inline(always)]
fn is_hit(state: u64) -> u64 {
    const RADIUS_SQUARED: u64 = 1 << 62;
    let t = u128::from(state) * u128::from(state ^ MIX);
    let r = ((t >> 64) as u64) ^ (t as u64);
    let x = i64::from(r as i32); // the low 32 bits, signed
    let y = (r as i64) >> 32; // the high 32 bits, signed
    // x² + y² ≤ 2⁶³ fits in a u64 (not in an i64).
    u64::from(((x * x) as u64).wrapping_add((y * y) as u64) < RADIUS_SQUARED)
}

/// Estimates pi on one thread with the fast kernel [`count_hits`]; the same seed, the same result.
///
/// # Errors
/// [`PiError::ZeroSamples`] for 0 samples.
///
/// # Examples
/// ```
/// let e = parlab::pi::calc_pi(10_000_000, 1)?;
/// println!("{e}"); // pi ≈ 3.14... ± 0.0005 (..)
/// assert!(e.abs_error() < 5.0 * e.std_error());
/// # Ok::<(), parlab::pi::PiError>(())
/// ```
pub fn calc_pi(samples: u64, seed: u64) -> Result<PiEstimate, PiError> {
    check_samples(samples)?;
    PiEstimate::from_hits(count_hits(seed, 0, samples), samples)
}
