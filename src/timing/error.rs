//! What goes wrong while measuring.

use std::time::Duration;

use crate::units::format_duration;

/// What went wrong while measuring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimingError {
    /// Asked for 0 timed runs.
    #[error("need at least 1 repeat, got 0")]
    ZeroRepeats,
    /// A sweep over no values.
    #[error("nothing to sweep: the list of {0} values is empty")]
    EmptySweep(String),
    /// The measured code returned an error (its message).
    #[error("{label}: {message}")]
    Failed {
        /// The label of the measurement.
        label: String,
        /// The error the code returned.
        message: String,
    },
    /// Even one run was predicted to take longer than the time budget: nothing was measured.
    #[error(
        "{label}would take about {} a run ({runs} runs with the warm-up: about {}), more than this \
         cell's time budget of {}: nothing was measured. To measure it anyway, allow the time with \
         `timing::Budget::new(Duration::from_secs({}))` in place of the default, or use a smaller size.",
        format_duration(*estimate),
        format_duration(estimate.mul_f64(*runs as f64)),
        format_duration(*budget),
        (estimate.as_secs_f64() * *runs as f64 * 1.2).ceil().max(1.0) as u64
    )]
    OverBudget {
        /// What was to be measured, and its size.
        label: String,
        /// The predicted time of one run.
        estimate: Duration,
        /// The runs asked for, the warm-up included.
        runs: usize,
        /// The budget it did not fit in.
        budget: Duration,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi;
    use crate::timing::{measure, sweep};

    #[test]
    fn errors() {
        assert_eq!(measure("x", 0, || ()), Err(TimingError::ZeroRepeats));
        let none: &[usize] = &[];
        assert!(matches!(
            sweep("threads", none, 3, |_| ()),
            Err(TimingError::EmptySweep(_))
        ));
        let e = sweep("threads", &[1, 0], 1, |t| pi::calc_pi_threads(100, t, 1)).unwrap_err();
        assert_eq!(e.to_string(), "threads = 0: need at least 1 thread, got 0");
        assert!(measure("opt", 1, || None::<()>).is_err());
    }
}
