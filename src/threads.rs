//! Helpers for the threads lesson: sorting two vectors on two threads, the cost of starting a
//! thread, and the checks for the lesson's exercises.
//!
//! - [`random_vec`]: a seeded vector of random numbers to sort.
//! - [`sort_pair_serial`], [`sort_pair_threads`], [`sort_pair_rayon`]: sort two vectors one after
//!   the other, on two scoped threads, with `rayon::join`.
//! - [`compare_sorts`]: time "one after the other" against any two-vector sort, equal work.
//! - [`spawn_cost`]: the time to start and join a thread that does nothing.
//! - [`check_sort_pair`], [`check_calc_pi_k`]: the checks behind the lesson's exercises.
//! - [`rayon`]: the `rayon` crate, re-exported so notebook cells need no extra `:dep`.
//!
//! # Examples
//! ```
//! use parlab::threads;
//!
//! let mut a = threads::random_vec(1000, 1)?;
//! let mut b = threads::random_vec(1000, 2)?;
//! threads::sort_pair_threads(&mut a, &mut b)?;
//! assert!(a.is_sorted() && b.is_sorted());
//! # Ok::<(), threads::ThreadsError>(())
//! ```

mod error;
mod pi_check;
mod random_vec;
mod sort_check;
mod sort_pair;
mod spawn_cost;

/// The `rayon` crate, re-exported: `use parlab::threads::rayon::prelude::*;` in a cell.
pub use rayon;

pub use error::ThreadsError;
pub use pi_check::check_calc_pi_k;
pub use random_vec::{MAX_LEN, random_vec};
pub use sort_check::{Spy, check_sort_pair};
pub use sort_pair::{compare_sorts, sort_pair_rayon, sort_pair_serial, sort_pair_threads};
pub use spawn_cost::spawn_cost;

#[cfg(test)]
mod tests;
