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

use std::fmt;
use std::ops::Range;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::display;

mod estimate_check;
pub use estimate_check::check_estimate_from;

/// The most threads [`calc_pi_threads`] starts (more is almost surely a typo).
pub const MAX_THREADS: usize = 1024;

/// Samples per rayon task in [`calc_pi_rayon`] (the last task may be shorter).
pub const BLOCK_SAMPLES: u64 = 1 << 20;

/// What went wrong with the arguments of a pi calculation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiError {
    /// Asked for zero samples: there is no estimate without a sample.
    #[error("cannot estimate pi from 0 samples")]
    ZeroSamples,
    /// Asked for zero threads (or parts).
    #[error("need at least 1 thread, got 0")]
    ZeroThreads,
    /// More threads (or parts) than samples: some would have nothing to do.
    #[error("{threads} threads for only {samples} samples: use at most one thread per sample")]
    MoreThreadsThanSamples {
        /// The threads asked for.
        threads: usize,
        /// The samples asked for.
        samples: u64,
    },
    /// More threads than [`MAX_THREADS`].
    #[error("{threads} threads is more than the limit of {max}")]
    TooManyThreads {
        /// The threads asked for.
        threads: usize,
        /// The limit, [`MAX_THREADS`].
        max: usize,
    },
    /// More hits than samples in [`PiEstimate::from_hits`].
    #[error("{hits} hits out of only {samples} samples")]
    MoreHitsThanSamples {
        /// The hits given.
        hits: u64,
        /// The samples given.
        samples: u64,
    },
    /// The operating system refused to start a thread.
    #[error("could not start a thread: {0}")]
    Spawn(String),
    /// A counting thread panicked; the message of its panic.
    #[error("a counting thread panicked: {0}")]
    Panicked(String),
}

/// An estimate of pi with the counts it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PiEstimate {
    /// The estimate, `4 * hits / samples`.
    pub estimate: f64,
    /// Points thrown.
    pub samples: u64,
    /// Points that landed inside the unit circle.
    pub hits: u64,
}

impl PiEstimate {
    /// One estimate from several: their hits and samples added up (the estimates of a split
    /// calc_pi, from threads, processes or a pool).
    ///
    /// # Errors
    /// [`PiError::ZeroSamples`] for no estimates.
    ///
    /// # Examples
    /// ```
    /// use parlab::pi::PiEstimate;
    /// let a = PiEstimate::from_hits(78, 100)?;
    /// let b = PiEstimate::from_hits(80, 100)?;
    /// assert_eq!(PiEstimate::combine(&[a, b])?.hits, 158);
    /// assert!(PiEstimate::combine(&[]).is_err());
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn combine(estimates: &[PiEstimate]) -> Result<PiEstimate, PiError> {
        let hits = estimates.iter().map(|e| e.hits).sum();
        let samples = estimates.iter().map(|e| e.samples).sum();
        PiEstimate::from_hits(hits, samples)
    }

    /// The estimate from `hits` inside the circle out of `samples` points.
    ///
    /// # Errors
    /// [`PiError::ZeroSamples`] for 0 samples, [`PiError::MoreHitsThanSamples`] if `hits > samples`.
    ///
    /// # Examples
    /// ```
    /// let e = parlab::pi::PiEstimate::from_hits(785, 1000)?;
    /// assert_eq!(e.estimate, 3.14);
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn from_hits(hits: u64, samples: u64) -> Result<Self, PiError> {
        crate::exercise::used_solution(crate::exercise::Solution::FromHits);
        if samples == 0 {
            return Err(PiError::ZeroSamples);
        }
        if hits > samples {
            return Err(PiError::MoreHitsThanSamples { hits, samples });
        }
        Ok(PiEstimate {
            estimate: 4.0 * hits as f64 / samples as f64,
            samples,
            hits,
        })
    }

    /// One standard error of the estimate, `4 * sqrt(p (1 - p) / n)` with `p = hits / samples`.
    ///
    /// About 95% of estimates fall within 2 standard errors of pi. Infinite for 0 samples.
    ///
    /// # Examples
    /// ```
    /// let e = parlab::pi::calc_pi(1_000_000, 1)?;
    /// assert!(e.std_error() > 0.001 && e.std_error() < 0.002);
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn std_error(&self) -> f64 {
        if self.samples == 0 {
            return f64::INFINITY;
        }
        let n = self.samples as f64;
        let p = self.hits as f64 / n;
        4.0 * (p * (1.0 - p) / n).sqrt()
    }

    /// How far the estimate is from the true pi, `|estimate - pi|`.
    ///
    /// # Examples
    /// ```
    /// let e = parlab::pi::calc_pi(1_000_000, 1)?;
    /// assert!(e.abs_error() < 0.01);
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn abs_error(&self) -> f64 {
        (self.estimate - std::f64::consts::PI).abs()
    }

    /// Shows the estimate as a small HTML line in evcxr (called by the kernel).
    ///
    /// # Examples
    /// ```
    /// parlab::pi::calc_pi(1000, 1)?.evcxr_display();
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn evcxr_display(&self) {
        let html = format!(
            "<p>π ≈ <b>{:.6}</b> ± {:.6} <small>(1 standard error; {} hits of {} samples; off by {:.6})</small></p>",
            self.estimate,
            self.std_error(),
            group_digits(self.hits),
            group_digits(self.samples),
            self.abs_error(),
        );
        display::show("text/html", &html);
    }
}

impl fmt::Display for PiEstimate {
    /// `pi ≈ 3.141593 ± 0.000052 (785398163 hits of 1000000000 samples)`, grouped digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pi ≈ {:.6} ± {:.6} ({} hits of {} samples)",
            self.estimate,
            self.std_error(),
            group_digits(self.hits),
            group_digits(self.samples)
        )
    }
}

/// `1234567` as `1_234_567`, as in Rust source.
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(ch);
    }
    out
}

fn check_samples(samples: u64) -> Result<(), PiError> {
    if samples == 0 {
        Err(PiError::ZeroSamples)
    } else {
        Ok(())
    }
}

/// Estimates pi the way a learner first writes it: `rand::rng()` and `f64` points in [-1, 1]².
///
/// Not seeded (every call gives a different estimate) and about 8x slower than [`calc_pi`]:
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

/// Which thread called [`count_hits`], for which samples, and when: what an exercise check sees.
///
/// While [`probe::watch`] runs, every call of [`count_hits`] in this process (on any thread) is
/// recorded; otherwise recording costs one relaxed atomic load per call (not per sample).
///
/// The record is a `static`, the one place this crate keeps state outside values. It is sound for
/// the checks because evcxr compiles a check cell together with the learner's earlier functions:
/// the learner's `pi::count_hits` and the check's probe are the same copy of this crate.
pub(crate) mod probe {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread::{self, ThreadId};
    use std::time::Instant;

    /// How many [`watch`] sections are running.
    pub(crate) static WATCHING: AtomicUsize = AtomicUsize::new(0);
    /// The calls recorded while watching.
    static CALLS: Mutex<Vec<Call>> = Mutex::new(Vec::new());
    /// Calls made while watching but not recorded, as [`MAX_CALLS`] were already.
    static DROPPED: AtomicUsize = AtomicUsize::new(0);
    /// When the check that watches gives up (its thread's deadline), as nanoseconds after
    /// [`EPOCH`]; 0 for none.
    static GIVE_UP_NS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    /// The origin of [`GIVE_UP_NS`].
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

    /// The most calls one [`watch`] records: about 6 MB of them. A learner's loop that never
    /// ends cannot grow the record beyond this; the calls after it are only counted.
    pub(crate) const MAX_CALLS: usize = 100_000;
    /// One watcher at a time (two checks at once would mix their calls).
    static ONE_WATCHER: Mutex<()> = Mutex::new(());

    /// One recorded call of [`super::count_hits`].
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Call {
        /// The seed it was given.
        pub seed: u64,
        /// The first sample it counted.
        pub first: u64,
        /// How many samples it counted.
        pub samples: u64,
        /// The thread it ran on.
        pub thread: ThreadId,
        /// When it started.
        pub start: Instant,
        /// When it returned.
        pub end: Instant,
    }

    /// Counts with `count`, recording the call.
    pub(super) fn counted(
        seed: u64,
        first: u64,
        samples: u64,
        count: fn(u64, u64, u64) -> u64,
    ) -> u64 {
        let start = Instant::now();
        let give_up = GIVE_UP_NS.load(Ordering::Relaxed);
        if give_up > 0 {
            let epoch = *EPOCH.get_or_init(Instant::now);
            if start.saturating_duration_since(epoch).as_nanos() as u64 > give_up {
                // The check gave up on this code, and it is still counting: stop it here.
                panic!("{}", crate::exercise::STOPPED);
            }
        }
        let hits = count(seed, first, samples);
        let call = Call {
            seed,
            first,
            samples,
            thread: thread::current().id(),
            start,
            end: Instant::now(),
        };
        let mut calls = CALLS.lock().unwrap_or_else(|e| e.into_inner());
        if calls.len() < MAX_CALLS {
            calls.push(call);
        } else {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
        hits
    }

    /// Runs `f` and returns what it returned with every [`super::count_hits`] call made meanwhile,
    /// or, when there were more than [`MAX_CALLS`], how many more.
    ///
    /// Run by a check with a deadline ([`crate::exercise::check_within`]), calls of
    /// `count_hits` after the deadline panic with [`crate::exercise::STOPPED`]: a learner's loop
    /// that never ends is stopped at its next call instead of keeping a core busy.
    pub(crate) fn watch<T>(f: impl FnOnce() -> T) -> (T, Result<Vec<Call>, usize>) {
        // A learner's code that never returns keeps its watch forever: wait for it only a while.
        let waited_since = Instant::now();
        let _one = loop {
            match ONE_WATCHER.try_lock() {
                Ok(guard) => break Some(guard),
                Err(std::sync::TryLockError::Poisoned(e)) => break Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock)
                    if waited_since.elapsed() < std::time::Duration::from_secs(2) =>
                {
                    thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(std::sync::TryLockError::WouldBlock) => break None,
            }
        };
        CALLS.lock().unwrap_or_else(|e| e.into_inner()).clear();
        DROPPED.store(0, Ordering::SeqCst);
        if let Some(deadline) = crate::exercise::deadline() {
            let epoch = *EPOCH.get_or_init(Instant::now);
            let ns = deadline.saturating_duration_since(epoch).as_nanos() as u64;
            GIVE_UP_NS.store(ns.max(1), Ordering::SeqCst);
        }
        WATCHING.fetch_add(1, Ordering::SeqCst);
        /// Stops watching even when `f` panics.
        struct Stop;
        impl Drop for Stop {
            fn drop(&mut self) {
                WATCHING.fetch_sub(1, Ordering::SeqCst);
                GIVE_UP_NS.store(0, Ordering::SeqCst);
            }
        }
        let stop = Stop;
        let out = f();
        drop(stop);
        let calls = std::mem::take(&mut *CALLS.lock().unwrap_or_else(|e| e.into_inner()));
        let dropped = DROPPED.swap(0, Ordering::SeqCst);
        (out, if dropped > 0 { Err(dropped) } else { Ok(calls) })
    }
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

/// Estimates pi on `threads` scoped threads, each counting its share of the samples.
///
/// The samples are split exactly ([`split`]), so the result equals [`calc_pi`]`(samples, seed)`
/// for every thread count.
///
/// # Errors
/// [`PiError::ZeroSamples`], [`PiError::ZeroThreads`], [`PiError::MoreThreadsThanSamples`],
/// [`PiError::TooManyThreads`] above [`MAX_THREADS`], [`PiError::Spawn`] if a thread cannot start.
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

/// Splits `samples` over `threads` ([`split`], at most [`MAX_THREADS`]), runs `work(i, range)`
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
                    .map_err(|e| PiError::Spawn(e.to_string()))
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

/// Estimates pi with rayon: tasks of [`BLOCK_SAMPLES`] samples on rayon's thread pool.
///
/// Equals [`calc_pi`]`(samples, seed)`. Uses the current rayon pool (all cores by default; in a
/// `rayon::ThreadPool::install` closure, that pool).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn close_to_pi(e: &PiEstimate) {
        assert!(
            e.abs_error() < 5.0 * e.std_error(),
            "{e} is more than 5 standard errors off"
        );
        assert!(!e.estimate.is_nan());
    }

    #[test]
    fn every_variant_estimates_pi() {
        close_to_pi(&calc_pi_learner(200_000).unwrap());
        close_to_pi(&calc_pi_small_rng(200_000, 3).unwrap());
        close_to_pi(&calc_pi(2_000_000, 3).unwrap());
        close_to_pi(&calc_pi_threads(2_000_000, 2, 3).unwrap());
        close_to_pi(&calc_pi_rayon(2_000_000, 3).unwrap());
    }

    #[test]
    fn many_seeds_stay_within_five_standard_errors() {
        for seed in 0..50 {
            close_to_pi(&calc_pi(100_000, seed).unwrap());
        }
    }

    #[test]
    fn seeded_results_equal_across_thread_counts() {
        let odd = 3 * BLOCK_SAMPLES + 12_345; // not a multiple of the block size
        for samples in [7, 1000, 999_983, odd] {
            let serial = calc_pi(samples, 11).unwrap();
            for threads in [1, 2, 3, 7] {
                assert_eq!(
                    calc_pi_threads(samples, threads, 11).unwrap(),
                    serial,
                    "{threads} threads"
                );
            }
            assert_eq!(calc_pi_rayon(samples, 11).unwrap(), serial);
        }
    }

    #[test]
    fn different_seeds_differ() {
        assert_ne!(
            calc_pi(100_000, 1).unwrap().hits,
            calc_pi(100_000, 2).unwrap().hits
        );
    }

    #[test]
    fn split_is_exact() {
        for (samples, parts) in [(10, 3), (7, 7), (1_000_003, 4), (u64::MAX, 5)] {
            let ranges = split(samples, parts).unwrap();
            assert_eq!(ranges.len(), parts);
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges.last().unwrap().end, samples);
            for w in ranges.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
            let lens: Vec<u64> = ranges.iter().map(|r| r.end - r.start).collect();
            assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(calc_pi_learner(0), Err(PiError::ZeroSamples));
        assert_eq!(calc_pi_small_rng(0, 1), Err(PiError::ZeroSamples));
        assert_eq!(calc_pi(0, 1), Err(PiError::ZeroSamples));
        assert_eq!(calc_pi_rayon(0, 1), Err(PiError::ZeroSamples));
        assert_eq!(calc_pi_threads(0, 2, 1), Err(PiError::ZeroSamples));
        assert_eq!(calc_pi_threads(10, 0, 1), Err(PiError::ZeroThreads));
        assert_eq!(
            calc_pi_threads(3, 4, 1),
            Err(PiError::MoreThreadsThanSamples {
                threads: 4,
                samples: 3
            })
        );
        assert!(matches!(
            calc_pi_threads(1_000_000, MAX_THREADS + 1, 1),
            Err(PiError::TooManyThreads { .. })
        ));
        assert_eq!(
            PiEstimate::from_hits(5, 4),
            Err(PiError::MoreHitsThanSamples {
                hits: 5,
                samples: 4
            })
        );
        let msg = PiError::ZeroSamples.to_string();
        assert!(msg.starts_with(char::is_lowercase), "{msg}");
    }

    #[test]
    fn std_error_and_display() {
        let e = PiEstimate::from_hits(785_000, 1_000_000).unwrap();
        let expected = 4.0 * (0.785f64 * (1.0 - 0.785) / 1e6).sqrt();
        assert!((e.std_error() - expected).abs() < 1e-12);
        assert_eq!(
            e.to_string(),
            "pi ≈ 3.140000 ± 0.001643 (785_000 hits of 1_000_000 samples)"
        );
        let zero = PiEstimate {
            estimate: 0.0,
            samples: 0,
            hits: 0,
        };
        assert!(zero.std_error().is_infinite());
        assert!((PiEstimate::from_hits(1, 1).unwrap().estimate - 4.0).abs() < 1e-12);
    }

    #[test]
    fn group_digits_groups() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1_000");
        assert_eq!(group_digits(1_234_567), "1_234_567");
    }
}
