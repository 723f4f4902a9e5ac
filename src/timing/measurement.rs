//! Measuring one piece of work: a warm-up, then timed repeats, and the statistics of their times.

use std::fmt;
use std::time::Duration;

use super::error::TimingError;
use super::outcome::{Outcome, TimedRun, timed};
use super::table::Table;
use crate::units::{format_duration, format_si};

/// The times of one piece of work: `repeats` runs after a warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// What was measured, shown in tables and charts.
    pub label: String,
    /// The time of each timed run, in run order (never empty when made by [`measure`]).
    pub times: Vec<Duration>,
    /// The units of work one run did (samples, items), for [`Measurement::throughput`].
    pub work: Option<u64>,
}

/// Times `f` `repeats` times after one untimed warm-up run.
///
/// The work per run comes from what `f` returns (see [`Outcome`]); an `Err` stops at once.
///
/// # Errors
/// [`TimingError::ZeroRepeats`] for 0 repeats, [`TimingError::Failed`] if `f` returns an error.
///
/// # Examples
/// ```
/// use parlab::{pi, timing};
/// let m = timing::measure("serial", 3, || pi::calc_pi(1_000_000, 1))?;
/// println!("{m}"); // serial: median 1.02 ms (min .., max .., 3 runs), 980 M/s
/// assert!(m.min() <= m.median() && m.median() <= m.max());
/// assert!(timing::measure("bad", 3, || pi::calc_pi(0, 1)).is_err());
/// # Ok::<(), timing::TimingError>(())
/// ```
pub fn measure<R: Outcome>(
    label: &str,
    repeats: usize,
    f: impl FnMut() -> R,
) -> Result<Measurement, TimingError> {
    measure_with(label, 1, repeats, f)
}

/// Times `f` `repeats` times after `warmup` untimed runs (0 to skip the warm-up for long work).
///
/// # Errors
/// [`TimingError::ZeroRepeats`] for 0 repeats, [`TimingError::Failed`] if `f` returns an error.
///
/// # Examples
/// ```
/// let m = parlab::timing::measure_with("cold", 0, 2, || parlab::pi::calc_pi(1000, 1))?;
/// assert_eq!(m.times.len(), 2);
/// # Ok::<(), parlab::timing::TimingError>(())
/// ```
pub fn measure_with<R: Outcome>(
    label: &str,
    warmup: usize,
    repeats: usize,
    f: impl FnMut() -> R,
) -> Result<Measurement, TimingError> {
    measure_runs(label, warmup, repeats, &mut timed(f))
}

/// [`measure_with`] of a [`TimedRun`]: non-generic, so that a notebook cell does not compile it
/// again for each closure it times.
#[inline(never)]
fn measure_runs(
    label: &str,
    warmup: usize,
    repeats: usize,
    run: &mut TimedRun<'_>,
) -> Result<Measurement, TimingError> {
    if repeats == 0 {
        return Err(TimingError::ZeroRepeats);
    }
    let failed = |message| TimingError::Failed {
        label: label.to_owned(),
        message,
    };
    for _ in 0..warmup {
        run().map_err(failed)?;
    }
    let mut times = Vec::with_capacity(repeats);
    let mut work = None;
    for _ in 0..repeats {
        let (took, done) = run().map_err(failed)?;
        times.push(took);
        work = done;
    }
    Ok(Measurement {
        label: label.to_owned(),
        times,
        work,
    })
}

impl Measurement {
    /// A measurement from times you took yourself.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = parlab::timing::Measurement::new("by hand", vec![Duration::from_millis(5)]);
    /// assert_eq!(m.median(), Duration::from_millis(5));
    /// ```
    pub fn new(label: impl Into<String>, times: Vec<Duration>) -> Self {
        Measurement {
            label: label.into(),
            times,
            work: None,
        }
    }

    /// The same measurement with the work per run set (for a throughput).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = parlab::timing::Measurement::new("sort", vec![Duration::from_secs(2)]).with_work(1000);
    /// assert_eq!(m.throughput(), Some(500.0));
    /// ```
    #[must_use]
    pub fn with_work(mut self, work: u64) -> Self {
        self.work = Some(work);
        self
    }

    /// The fastest run (zero if there are no times).
    ///
    /// # Examples
    /// ```
    /// let m = parlab::timing::measure("noop", 3, || ())?;
    /// assert!(m.min() <= m.max());
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn min(&self) -> Duration {
        self.times.iter().copied().min().unwrap_or_default()
    }

    /// The slowest run (zero if there are no times).
    ///
    /// # Examples
    /// ```
    /// let m = parlab::timing::measure("noop", 3, || ())?;
    /// assert!(m.max() >= m.median());
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn max(&self) -> Duration {
        self.times.iter().copied().max().unwrap_or_default()
    }

    /// The median run: the middle one, or the mean of the two middle ones (zero if no times).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let ms = |n: Vec<u64>| n.into_iter().map(Duration::from_millis).collect::<Vec<_>>();
    /// let m = parlab::timing::Measurement::new("x", ms(vec![9, 1, 5]));
    /// assert_eq!(m.median(), Duration::from_millis(5));
    /// ```
    pub fn median(&self) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort_unstable();
        match sorted.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => sorted[n / 2],
            // In nanoseconds, as u128: the sum of two long times (two Duration::MAX) would
            // overflow a Duration.
            n => {
                let mean = (sorted[n / 2 - 1].as_nanos() + sorted[n / 2].as_nanos()) / 2;
                let secs = u64::try_from(mean / 1_000_000_000).unwrap_or(u64::MAX);
                // The remainder is below 10^9: it fits.
                Duration::new(secs, (mean % 1_000_000_000) as u32)
            }
        }
    }

    /// The median in seconds.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = parlab::timing::Measurement::new("x", vec![Duration::from_millis(250)]);
    /// assert_eq!(m.seconds(), 0.25);
    /// ```
    pub fn seconds(&self) -> f64 {
        self.median().as_secs_f64()
    }

    /// Work per second of the median run, if the work is known (and the median is not zero).
    ///
    /// # Examples
    /// ```
    /// let m = parlab::timing::measure("serial", 3, || parlab::pi::calc_pi(1_000_000, 1))?;
    /// assert!(m.throughput().unwrap() > 1e6); // samples per second
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn throughput(&self) -> Option<f64> {
        let seconds = self.seconds();
        match self.work {
            Some(work) if seconds > 0.0 => Some(work as f64 / seconds),
            _ => None,
        }
    }

    /// This measurement as a one-row [`Table`].
    ///
    /// # Examples
    /// ```
    /// let m = parlab::timing::measure("noop", 1, || ())?;
    /// assert_eq!(m.table().rows.len(), 1);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn table(&self) -> Table {
        let mut table = Table::new(MEASUREMENT_HEADERS);
        table.push(measurement_row(self, None));
        table
    }

    /// Shows the measurement as an HTML table in evcxr (called by the kernel).
    ///
    /// # Examples
    /// ```
    /// parlab::timing::measure("noop", 1, || ())?.evcxr_display();
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn evcxr_display(&self) {
        self.table().evcxr_display();
    }
}

impl fmt::Display for Measurement {
    /// `serial: median 102 ms (min 101 ms, max 104 ms, 3 runs), 982 M/s`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: median {} (min {}, max {}, {} runs)",
            self.label,
            format_duration(self.median()),
            format_duration(self.min()),
            format_duration(self.max()),
            self.times.len()
        )?;
        if let Some(rate) = self.throughput() {
            write!(f, ", {}/s", format_si(rate))?;
        }
        Ok(())
    }
}

pub(super) const MEASUREMENT_HEADERS: [&str; 6] =
    ["case", "runs", "min", "median", "max", "per second"];

pub(super) fn measurement_row(m: &Measurement, speedup: Option<f64>) -> Vec<String> {
    let mut row = vec![
        m.label.clone(),
        m.times.len().to_string(),
        format_duration(m.min()),
        format_duration(m.median()),
        format_duration(m.max()),
        m.throughput().map_or_else(|| "-".to_owned(), format_si),
    ];
    if let Some(s) = speedup {
        row.push(format!("{s:.2}x"));
    }
    row
}

/// `base / m` as a speed-up, when both medians are non-zero.
pub(super) fn speedup_of(base: Duration, m: Duration) -> f64 {
    if m.is_zero() || base.is_zero() {
        f64::NAN
    } else {
        base.as_secs_f64() / m.as_secs_f64()
    }
}

pub(super) fn table_with_speedup<'a>(measurements: impl Iterator<Item = &'a Measurement>) -> Table {
    let mut headers = MEASUREMENT_HEADERS.to_vec();
    headers.push("speed-up");
    let mut table = Table::new(headers);
    let mut base = None;
    for m in measurements {
        let base = *base.get_or_insert(m.median());
        table.push(measurement_row(m, Some(speedup_of(base, m.median()))));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn statistics() {
        let m = Measurement::new("x", ms(&[30, 10, 20, 40])).with_work(100);
        assert_eq!(m.min(), Duration::from_millis(10));
        assert_eq!(m.max(), Duration::from_millis(40));
        assert_eq!(m.median(), Duration::from_millis(25));
        assert!((m.throughput().unwrap() - 4000.0).abs() < 1e-9);
        let empty = Measurement::new("empty", vec![]);
        assert_eq!(empty.median(), Duration::ZERO);
        assert_eq!(empty.with_work(5).throughput(), None);
    }

    #[test]
    fn measure_counts_runs_and_warmup() {
        let mut calls = 0;
        let m = measure("count", 3, || calls += 1).unwrap();
        assert_eq!((calls, m.times.len(), m.work), (4, 3, None));
        let mut calls = 0;
        measure_with("cold", 0, 2, || calls += 1).unwrap();
        assert_eq!(calls, 2);
    }
}
