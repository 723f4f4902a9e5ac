//! Timing: measure a closure with a warm-up run and repeats, sweep a parameter, compare variants.
//!
//! - [`measure`]: time one piece of work, `repeats` times after one warm-up run → [`Measurement`].
//! - [`sweep`]: measure at each value of a parameter (threads, samples) → [`Sweep`], with
//!   speed-ups and [`Series`](crate::chart::Series) for charts.
//! - [`Comparison`]: several measurements in one table, and bars for a chart.
//! - [`Table`]: the table they all show, HTML in evcxr and plain text elsewhere.
//! - [`Budget`]: how long a sweep or a comparison may measure (a few seconds by default): it
//!   measures what fits, says what it skipped, and prints progress while it runs long.
//! - [`Reading`]: a sentence that reads the figures just measured ("RwLock was 1.4x faster than
//!   Mutex here"), and says why when an expected effect did not show.
//!
//! The measured closure may return a [`PiEstimate`](crate::pi::PiEstimate) (its samples are the
//! work, for a throughput), a `Result` (an `Err` stops the measurement with
//! [`TimingError::Failed`]), `()`, or a plain value.
//!
//! # Examples
//! ```
//! use parlab::{pi, timing};
//!
//! let m = timing::measure("serial", 3, || pi::calc_pi(1_000_000, 1))?;
//! assert_eq!(m.times.len(), 3);
//! assert_eq!(m.work, Some(1_000_000));
//! let s = timing::sweep("threads", &[1, 2], 3, |t| pi::calc_pi_threads(1_000_000, t, 1))?;
//! assert_eq!(s.speedup().len(), 2);
//! # Ok::<(), timing::TimingError>(())
//! ```

mod budget;
mod comparison;
mod error;
mod measurement;
mod outcome;
mod reading;
mod sweep;
mod table;

pub use crate::cores::{Parallelism, available_parallelism, available_parallelism_with};
pub use crate::units::{format_duration, format_seconds, format_si};
pub use budget::{Budget, DEFAULT_BUDGET, Skipped};
pub use comparison::Comparison;
pub use error::TimingError;
pub use measurement::{Measurement, measure, measure_with};
pub use outcome::{Outcome, Work};
pub use reading::{Claim, Reading, Relation, SAME_WITHIN, power_of_ten};
pub use sweep::{Metric, Param, Sweep, sweep};
pub use table::Table;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats() {
        assert_eq!(format_duration(Duration::from_nanos(812)), "812 ns");
        assert_eq!(format_duration(Duration::from_millis(12_345)), "12.3 s");
        assert_eq!(format_si(2.1e9), "2.10 G");
        assert_eq!(format_si(45_000.0), "45.0 k");
        assert_eq!(format_si(7.0), "7.00");
    }
}
