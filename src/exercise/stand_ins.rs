//! Stand-ins for the names an exercise cell defines, so that a check cell always compiles and
//! gives a verdict, even when its exercise cell has never compiled in this kernel.
//!
//! A check cell names the learner's function and the exercise cell's `NAME_defined` variable.
//! When the exercise cell has not compiled (or not run) since the kernel started, neither exists,
//! and the check cell would fail with two `cannot find value` errors instead of a verdict. Each
//! lesson's first `use` cell imports this module with a glob (`use parlab::exercise::stand_ins::*;`):
//! a name that a cell defines (the learner's `fn`, a `let` variable) always wins over a glob
//! import, so these are used only while the real ones do not exist. Then `NAME_defined` is a
//! function, whose [`NotRunYet::check_within`] says: run the exercise cell, and fix its compile
//! error first if it shows one. It tries the check once to tell that case from another: when the
//! check never reaches a stand-in, the learner's function exists and only the cell's last line,
//! `let NAME_defined = ...`, is missing; the verdict then says to put that line back.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use parlab::exercise::stand_ins::*;
//! // The exercise cell never compiled: these names are the stand-ins.
//! let v = estimate_from_defined.check_within(Duration::from_secs(1), || {
//!     parlab::pi::check_estimate_from(estimate_from)
//! });
//! assert!(!v.is_solved());
//! assert!(v.message().contains("has not run"), "{}", v.message());
//! ```

use std::ops::Range;
use std::sync::Mutex;
use std::time::Duration;

use super::{Outcome, Verdict};
use crate::locks::{Account, LockTimeout};
use crate::pi::{PiError, PiEstimate};
use crate::pool::{Pool, PoolError};
use crate::process::{ProcessError, Queue};

/// What a stand-in `NAME_defined` returns: the exercise's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotRun(pub &'static str);

/// The check of an exercise whose cell has not run: gives the "run the exercise cell" verdict.
pub trait NotRunYet {
    /// The verdict that the exercise cell has not run to its end in this kernel: either its
    /// function is still the stand-in (the attempt reached it), or the function exists and the
    /// cell's last line `let NAME_defined = ...` is missing.
    ///
    /// # Examples
    /// ```
    /// use parlab::exercise::stand_ins::*;
    /// let v = my_share_defined.check_within(std::time::Duration::from_secs(1), || Ok("x".into()));
    /// assert_eq!(v.outcome(), parlab::exercise::Outcome::NotRun);
    /// ```
    fn check_within<F>(&self, limit: Duration, attempt: F) -> Verdict
    where
        F: FnOnce() -> Result<String, String> + Send + 'static;
}

impl<D: Fn() -> NotRun> NotRunYet for D {
    fn check_within<F>(&self, limit: Duration, attempt: F) -> Verdict
    where
        F: FnOnce() -> Result<String, String> + Send + 'static,
    {
        let NotRun(name) = self();
        let tried = super::check_within(name, limit, attempt);
        if !tried.message().contains(STAND_IN_CALLED) {
            return Verdict::not_yet_because(
                name,
                Outcome::NotRun,
                format!(
                    "your `{name}` is defined, so the exercise cell compiled and ran, but its last \
                     line `let {name}_defined = parlab::exercise::defined(\"{name}\");` is \
                     missing: it tells this check which `{name}` to test. Put it back at the end \
                     of the exercise cell, run the cell, then this check. (Tried anyway, the \
                     check said: {})",
                    tried.message().trim_end_matches('.')
                ),
            )
            .headed("Not checked");
        }
        Verdict::not_yet_because(
            name,
            Outcome::NotRun,
            format!(
                "the exercise cell above has not run to its end in this kernel (there is no \
                 `{name}_defined` yet), so there is nothing to check. Run it (Shift+Enter); if it \
                 shows a compile error, fix that first and run it again, then run this check. \
                 (After a restart or an interrupt of the kernel, run it again too.)"
            ),
        )
        .headed("Not checked")
    }
}

/// What a stand-in's panic says after the name: the mark that a check reached a stand-in.
const STAND_IN_CALLED: &str = "is not defined yet: run its exercise cell first";

/// A stand-in's body: reached when a check runs before its exercise cell has compiled.
fn not_defined(name: &str) -> ! {
    panic!("`{name}` {STAND_IN_CALLED}")
}

macro_rules! stand_in_defined {
    ($($name:ident => $exercise:literal),* $(,)?) => {$(
        #[doc = concat!("Stands in for the `", $exercise, "_defined` of the exercise cell until it has run.")]
        pub fn $name() -> NotRun {
            NotRun($exercise)
        }
    )*};
}

stand_in_defined! {
    estimate_from_defined => "estimate_from",
    sort_in_two_threads_defined => "sort_in_two_threads",
    calc_pi_k_defined => "calc_pi_k",
    transfer_defined => "transfer",
    with_gil_defined => "with_gil",
    pi_with_queue_defined => "pi_with_queue",
    arrival_order_defined => "arrival_order",
    my_share_defined => "my_share",
}

/// Stands in for lesson 00's `estimate_from` until its exercise cell compiles.
pub fn estimate_from(_hits: u64, _samples: u64) -> Option<f64> {
    not_defined("estimate_from")
}

/// Stands in for lesson 01's `sort_in_two_threads` until its exercise cell compiles.
pub fn sort_in_two_threads<T: Ord + Send>(_a: &mut [T], _b: &mut [T]) {
    not_defined("sort_in_two_threads")
}

/// Stands in for lesson 01's `calc_pi_k` until its exercise cell compiles.
///
/// # Errors
/// Never returns.
pub fn calc_pi_k(_samples: u64, _k: usize, _seed: u64) -> Result<PiEstimate, PiError> {
    not_defined("calc_pi_k")
}

/// Stands in for lesson 02's `transfer` until its exercise cell compiles.
///
/// # Errors
/// Never returns.
pub fn transfer(_from: &Account, _to: &Account, _amount: i64) -> Result<(), LockTimeout> {
    not_defined("transfer")
}

/// Stands in for lesson 02's `with_gil` until its exercise cell compiles.
pub fn with_gil<R>(_gil: &Mutex<()>, _slice: impl FnOnce() -> R) -> R {
    not_defined("with_gil")
}

/// Stands in for lesson 03's `pi_with_queue` until its exercise cell compiles.
///
/// # Errors
/// Never returns.
pub fn pi_with_queue(
    _queue: &Queue<(f64, u64)>,
    _sizes: [u64; 2],
) -> Result<Vec<(f64, u64)>, ProcessError> {
    not_defined("pi_with_queue")
}

/// Stands in for lesson 04's `arrival_order` until its exercise cell compiles.
///
/// # Errors
/// Never returns.
pub fn arrival_order(_any_pool: &impl Pool, _sizes: &[u64]) -> Result<Vec<u64>, PoolError> {
    not_defined("arrival_order")
}

/// Stands in for lesson 05's `my_share` until its exercise cell compiles.
pub fn my_share(_samples: u64, _rank: usize, _size: usize) -> Range<u64> {
    not_defined("my_share")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_that_reaches_a_stand_in_asks_to_run_the_exercise_cell() {
        let v = estimate_from_defined.check_within(Duration::from_secs(5), || {
            crate::pi::check_estimate_from(estimate_from)
        });
        assert_eq!(v.outcome(), Outcome::NotRun);
        assert!(
            v.message().contains("has not run to its end"),
            "{}",
            v.message()
        );
    }

    #[test]
    fn a_defined_function_without_its_last_line_is_told_to_put_the_line_back() {
        // The learner's function: a name defined here wins over the glob-imported stand-in.
        fn estimate_from(hits: u64, samples: u64) -> Option<f64> {
            (samples > 0).then(|| 4.0 * hits as f64 / samples as f64)
        }
        let v = estimate_from_defined.check_within(Duration::from_secs(5), || {
            crate::pi::check_estimate_from(estimate_from)
        });
        assert_eq!(v.outcome(), Outcome::NotRun);
        let said = v.message();
        assert!(said.contains("your `estimate_from` is defined"), "{said}");
        assert!(
            said.contains("let estimate_from_defined = parlab::exercise::defined"),
            "{said}"
        );
        assert!(!said.contains("compile error"), "{said}");
        assert!(said.contains("Tried anyway"), "{said}");
    }
}
