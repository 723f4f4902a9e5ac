//! Timing: measure a closure with a warm-up run and repeats, sweep a parameter, compare variants.
//!
//! - [`measure`]: time one piece of work, `repeats` times after one warm-up run → [`Measurement`].
//! - [`sweep`]: measure at each value of a parameter (threads, samples) → [`Sweep`], with
//!   speed-ups and [`Series`] for charts.
//! - [`Comparison`]: several measurements in one table, and bars for a chart.
//! - [`Table`]: the table they all show, HTML in evcxr and plain text elsewhere.
//! - [`Budget`]: how long a sweep or a comparison may measure (a few seconds by default): it
//!   measures what fits, says what it skipped, and prints progress while it runs long.
//! - [`Reading`]: a sentence that reads the figures just measured ("RwLock was 1.4x faster than
//!   Mutex here"), and says why when an expected effect did not show.
//!
//! The measured closure may return a [`PiEstimate`] (its samples are the work, for a throughput),
//! a `Result` (an `Err` stops the measurement with [`TimingError::Failed`]), `()`, or a plain value.
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

use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::chart::Series;
use crate::display;
use crate::pi::PiEstimate;

mod budget;
mod reading;

pub use crate::cores::{Parallelism, available_parallelism, available_parallelism_with};
pub use crate::units::{format_duration, format_seconds, format_si};
pub use budget::{Budget, DEFAULT_BUDGET, Skipped};
pub use reading::{Claim, Reading, Relation, SAME_WITHIN, power_of_ten};

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

/// What a measured closure returned: the work it did (for a throughput) or an error.
///
/// Implemented for [`PiEstimate`] (work = samples), `Result`, `Option` (`None` is an error),
/// `()`, and plain values (no work counted). Wrap a value in [`Work`] to count work yourself.
pub trait Outcome {
    /// The units of work done (samples, items), if known; `Err` with a message if the code failed.
    ///
    /// # Errors
    /// The message of the error the code returned.
    ///
    /// # Examples
    /// ```
    /// use parlab::timing::Outcome;
    /// assert_eq!(().work(), Ok(None));
    /// let failed: Result<(), String> = Err("boom".into());
    /// assert_eq!(failed.work(), Err("boom".to_string()));
    /// ```
    fn work(&self) -> Result<Option<u64>, String>;
}

/// A closure's result carrying how much work it did, e.g. `Work(v.len() as u64)` after a sort.
///
/// # Examples
/// ```
/// use parlab::timing::{measure, Work};
/// let m = measure("sum", 3, || Work(1000))?;
/// assert_eq!(m.work, Some(1000));
/// # Ok::<(), parlab::timing::TimingError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work(pub u64);

impl Outcome for Work {
    fn work(&self) -> Result<Option<u64>, String> {
        Ok(Some(self.0))
    }
}

impl Outcome for PiEstimate {
    fn work(&self) -> Result<Option<u64>, String> {
        Ok(Some(self.samples))
    }
}

impl<T: Outcome, E: fmt::Display> Outcome for Result<T, E> {
    fn work(&self) -> Result<Option<u64>, String> {
        match self {
            Ok(value) => value.work(),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl<T: Outcome> Outcome for Option<T> {
    fn work(&self) -> Result<Option<u64>, String> {
        match self {
            Some(value) => value.work(),
            None => Err("returned None".into()),
        }
    }
}

macro_rules! no_work {
    ($($t:ty),*) => {$(
        impl Outcome for $t {
            fn work(&self) -> Result<Option<u64>, String> { Ok(None) }
        }
    )*};
}
no_work!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String
);

impl<T> Outcome for Vec<T> {
    fn work(&self) -> Result<Option<u64>, String> {
        Ok(None)
    }
}

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
    mut f: impl FnMut() -> R,
) -> Result<Measurement, TimingError> {
    if repeats == 0 {
        return Err(TimingError::ZeroRepeats);
    }
    let failed = |message| TimingError::Failed {
        label: label.to_owned(),
        message,
    };
    for _ in 0..warmup {
        black_box(f()).work().map_err(failed)?;
    }
    let mut times = Vec::with_capacity(repeats);
    let mut work = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let result = black_box(f());
        times.push(start.elapsed());
        work = result.work().map_err(failed)?;
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

const MEASUREMENT_HEADERS: [&str; 6] = ["case", "runs", "min", "median", "max", "per second"];

fn measurement_row(m: &Measurement, speedup: Option<f64>) -> Vec<String> {
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
fn speedup_of(base: Duration, m: Duration) -> f64 {
    if m.is_zero() || base.is_zero() {
        f64::NAN
    } else {
        base.as_secs_f64() / m.as_secs_f64()
    }
}

/// A number that can be a sweep parameter (a thread count, a sample count).
pub trait Param: Copy + fmt::Display {
    /// The value as `f64`, for charts.
    ///
    /// # Examples
    /// ```
    /// use parlab::timing::Param;
    /// assert_eq!(4usize.as_f64(), 4.0);
    /// ```
    fn as_f64(self) -> f64;
}

macro_rules! param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn as_f64(self) -> f64 { self as f64 }
        }
    )*};
}
param!(u8, u16, u32, u64, usize, i32, i64, f32, f64);

/// Measurements at each value of a parameter, e.g. the time of `calc_pi` for 1, 2, 4 threads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sweep {
    /// The name of the series in charts (the parameter name until [`Sweep::named`]).
    pub name: String,
    /// The parameter swept, e.g. `"threads"`.
    pub param: String,
    /// The parameter values with their measurements, in sweep order.
    pub points: Vec<(f64, Measurement)>,
    /// The values not measured because they did not fit in the time budget.
    pub skipped: Vec<Skipped>,
    /// The time budget the sweep had (`None`: no limit).
    pub budget: Option<Duration>,
}

/// Measures `f(value)` for each value (one warm-up and `repeats` timed runs each), within the
/// default [`Budget`]: values that would not fit are skipped and named ([`Sweep::skipped_note`]),
/// and a sweep that runs long prints a line per point as it goes.
///
/// # Errors
/// [`TimingError::EmptySweep`] for no values, [`TimingError::ZeroRepeats`], and
/// [`TimingError::Failed`] if `f` returns an error at some value (the label says which).
///
/// # Examples
/// ```
/// use parlab::{pi, timing};
/// let s = timing::sweep("threads", &[1, 2], 3, |t| pi::calc_pi_threads(2_000_000, t, 1))?;
/// println!("{s}");
/// assert_eq!(s.points[1].0, 2.0);
/// # Ok::<(), timing::TimingError>(())
/// ```
pub fn sweep<V: Param, R: Outcome>(
    param: &str,
    values: &[V],
    repeats: usize,
    f: impl FnMut(V) -> R,
) -> Result<Sweep, TimingError> {
    Budget::default().sweep(param, values, repeats, f)
}

/// What a [`Series`] from a sweep shows on its y axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The median time in seconds.
    Seconds,
    /// The speed-up relative to the first point: `time(first) / time`.
    Speedup,
    /// Work per second of the median (points without known work are left out).
    Throughput,
}

impl Sweep {
    /// The same sweep with the series name set (the legend entry in charts).
    ///
    /// # Examples
    /// ```
    /// let s = parlab::timing::sweep("threads", &[1], 1, |_| ())?.named("rayon");
    /// assert_eq!(s.name, "rayon");
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// `(value, speed-up)` for each point, relative to the first point's median.
    ///
    /// # Examples
    /// ```
    /// use parlab::{pi, timing};
    /// let s = timing::sweep("threads", &[1, 2], 3, |t| pi::calc_pi_threads(1_000_000, t, 1))?;
    /// assert_eq!(s.speedup()[0], (1.0, 1.0));
    /// # Ok::<(), timing::TimingError>(())
    /// ```
    pub fn speedup(&self) -> Vec<(f64, f64)> {
        let base = self
            .points
            .first()
            .map(|(_, m)| m.median())
            .unwrap_or_default();
        self.points
            .iter()
            .map(|(v, m)| (*v, speedup_of(base, m.median())))
            .collect()
    }

    /// `(value, median seconds)` for each point.
    ///
    /// # Examples
    /// ```
    /// let s = parlab::timing::sweep("n", &[10, 100], 1, |n| parlab::pi::calc_pi(n, 1))?;
    /// assert_eq!(s.seconds().len(), 2);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn seconds(&self) -> Vec<(f64, f64)> {
        self.points.iter().map(|(v, m)| (*v, m.seconds())).collect()
    }

    /// One chart series of this sweep: `metric` against the parameter, named [`Sweep::name`].
    ///
    /// # Examples
    /// ```
    /// use parlab::timing::{sweep, Metric};
    /// let s = sweep("threads", &[1, 2], 1, |t| parlab::pi::calc_pi_threads(100_000, t, 1))?;
    /// let series = s.to_series(Metric::Speedup);
    /// assert_eq!(series.name, "threads");
    /// assert_eq!(series.points.len(), 2);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn to_series(&self, metric: Metric) -> Series {
        let points = match metric {
            Metric::Seconds => self.seconds(),
            Metric::Speedup => self.speedup(),
            Metric::Throughput => self
                .points
                .iter()
                .filter_map(|(v, m)| Some((*v, m.throughput()?)))
                .collect(),
        };
        Series::new(self.name.clone(), points)
    }

    /// True when every point did the same known work, or the work is unknown everywhere: then a
    /// speed-up means something. A sweep over work sizes (samples, items) does not compare equal work.
    ///
    /// # Examples
    /// ```
    /// use parlab::{pi, timing};
    /// let threads = timing::sweep("threads", &[1, 2], 1, |k| pi::calc_pi_threads(10_000, k, 1))?;
    /// assert!(threads.equal_work());
    /// let sizes = timing::sweep("samples", &[10_000u64, 100_000], 1, |n| pi::calc_pi(n, 1))?;
    /// assert!(!sizes.equal_work());
    /// # Ok::<(), timing::TimingError>(())
    /// ```
    pub fn equal_work(&self) -> bool {
        let mut works = self.points.iter().map(|(_, m)| m.work);
        let first = works.next().flatten();
        works.all(|w| w == first)
    }

    /// The sweep as a [`Table`]: with a speed-up column relative to the first point when every
    /// point did the same work, else with the time per unit of work (per sample, say), as a
    /// speed-up between different amounts of work means nothing.
    ///
    /// # Examples
    /// ```
    /// use parlab::{pi, timing};
    /// let s = timing::sweep("samples", &[10u64, 100], 1, |n| pi::calc_pi(n, 1))?;
    /// assert_eq!(s.table().rows.len(), 2);
    /// assert_eq!(s.table().headers.last().unwrap(), "time per sample");
    /// let t = timing::sweep("threads", &[1, 2], 1, |k| pi::calc_pi_threads(1000, k, 1))?;
    /// assert_eq!(t.table().headers.last().unwrap(), "speed-up");
    /// # Ok::<(), timing::TimingError>(())
    /// ```
    pub fn table(&self) -> Table {
        if self.equal_work() {
            return table_with_speedup(self.points.iter().map(|(_, m)| m));
        }
        let unit = self.param.strip_suffix('s').unwrap_or("unit of work");
        let mut headers = MEASUREMENT_HEADERS.to_vec();
        let per = format!("time per {unit}");
        headers.push(&per);
        let mut table = Table::new(headers);
        for (_, m) in &self.points {
            let mut row = measurement_row(m, None);
            row.push(match m.work {
                Some(w) if w > 0 => format_seconds(m.seconds() / w as f64),
                _ => "-".to_owned(),
            });
            table.push(row);
        }
        table
    }

    /// Shows the sweep as an HTML table in evcxr (called by the kernel), with a note naming
    /// what did not fit in its time budget.
    ///
    /// # Examples
    /// ```
    /// parlab::timing::sweep("n", &[10], 1, |n| parlab::pi::calc_pi(n, 1))?.evcxr_display();
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn evcxr_display(&self) {
        display::show(
            "text/html",
            &(self.table().to_html() + &note_html(self.skipped_note())),
        );
    }
}

impl fmt::Display for Sweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.table().fmt(f)?;
        match self.skipped_note() {
            Some(note) => writeln!(f, "{note}"),
            None => Ok(()),
        }
    }
}

/// A note under a table, as HTML (nothing for `None`).
fn note_html(note: Option<String>) -> String {
    note.map_or_else(String::new, |n| {
        format!(
            "<p data-parlab-note=\"skipped\"><small>{}</small></p>",
            display::escape_html(&n)
        )
    })
}

fn table_with_speedup<'a>(measurements: impl Iterator<Item = &'a Measurement>) -> Table {
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

/// Several measurements shown together: one table row and one bar each.
///
/// # Examples
/// ```
/// use parlab::{pi, timing};
/// let mut c = timing::Comparison::new();
/// c.push(timing::measure("serial", 3, || pi::calc_pi(1_000_000, 1))?);
/// c.push(timing::measure("rayon", 3, || pi::calc_pi_rayon(1_000_000, 1))?);
/// println!("{c}");
/// assert_eq!(c.bars().len(), 2);
/// # Ok::<(), timing::TimingError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// The measurements, in table order; speed-ups are relative to the first.
    pub measurements: Vec<Measurement>,
    /// The rows [`Comparison::measure`] did not measure, as the budget was spent.
    pub skipped: Vec<Skipped>,
    budget: Option<Budget>,
    started: Option<Instant>,
}

impl Comparison {
    /// An empty comparison.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::timing::Comparison::new().measurements.is_empty());
    /// ```
    pub fn new() -> Self {
        Comparison::default()
    }

    /// Adds a measurement as the next row.
    ///
    /// # Examples
    /// ```
    /// let mut c = parlab::timing::Comparison::new();
    /// c.push(parlab::timing::measure("noop", 1, || ())?);
    /// assert_eq!(c.measurements.len(), 1);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn push(&mut self, m: Measurement) -> &mut Self {
        self.measurements.push(m);
        self
    }

    /// `(label, median seconds)` for each measurement: bars for a chart.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::timing::Comparison::from(vec![parlab::timing::measure("noop", 1, || ())?]);
    /// assert_eq!(c.bars()[0].0, "noop");
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn bars(&self) -> Vec<(String, f64)> {
        self.measurements
            .iter()
            .map(|m| (m.label.clone(), m.seconds()))
            .collect()
    }

    /// `(label, work per second)` for each measurement whose work is known.
    ///
    /// # Examples
    /// ```
    /// let m = parlab::timing::measure("serial", 1, || parlab::pi::calc_pi(1000, 1))?;
    /// let c = parlab::timing::Comparison::from(vec![m]);
    /// assert_eq!(c.throughput_bars().len(), 1);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn throughput_bars(&self) -> Vec<(String, f64)> {
        self.measurements
            .iter()
            .filter_map(|m| Some((m.label.clone(), m.throughput()?)))
            .collect()
    }

    /// `(label, speed-up)` relative to the first measurement.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::timing::Comparison::from(vec![parlab::timing::measure("a", 1, || 1)?]);
    /// assert_eq!(c.speedup_bars()[0].1, 1.0);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn speedup_bars(&self) -> Vec<(String, f64)> {
        let base = self
            .measurements
            .first()
            .map(Measurement::median)
            .unwrap_or_default();
        self.measurements
            .iter()
            .map(|m| (m.label.clone(), speedup_of(base, m.median())))
            .collect()
    }

    /// The comparison as a [`Table`], with a speed-up column relative to the first row.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::timing::Comparison::from(vec![parlab::timing::measure("a", 1, || ())?]);
    /// assert_eq!(c.table().headers.last().unwrap(), "speed-up");
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn table(&self) -> Table {
        table_with_speedup(self.measurements.iter())
    }

    /// Shows the comparison as an HTML table in evcxr (called by the kernel), with a note
    /// naming the rows that did not fit in its time budget.
    ///
    /// # Examples
    /// ```
    /// parlab::timing::Comparison::new().evcxr_display();
    /// ```
    pub fn evcxr_display(&self) {
        display::show(
            "text/html",
            &(self.table().to_html() + &note_html(self.skipped_note())),
        );
    }
}

impl From<Vec<Measurement>> for Comparison {
    fn from(measurements: Vec<Measurement>) -> Self {
        Comparison {
            measurements,
            ..Comparison::default()
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.table().fmt(f)?;
        match self.skipped_note() {
            Some(note) => writeln!(f, "{note}"),
            None => Ok(()),
        }
    }
}

/// A table of text cells: an HTML table in evcxr, aligned plain text with `Display`.
///
/// # Examples
/// ```
/// let mut t = parlab::timing::Table::new(["case", "time"]);
/// t.push(["serial", "1.0 s"]);
/// assert_eq!(t.to_string(), "case    time\n------  -----\nserial  1.0 s\n");
/// assert!(t.to_html().contains("<td>serial</td>"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// The column headers.
    pub headers: Vec<String>,
    /// The rows; a row may be shorter than the headers.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers and no rows.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::timing::Table::new(["a", "b"]).headers.len(), 2);
    /// ```
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    ///
    /// # Examples
    /// ```
    /// let mut t = parlab::timing::Table::new(["a"]);
    /// t.push(["1"]).push(["2"]);
    /// assert_eq!(t.rows.len(), 2);
    /// ```
    pub fn push<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(row.into_iter().map(Into::into).collect());
        self
    }

    /// The table as HTML (cells escaped).
    ///
    /// # Examples
    /// ```
    /// let mut t = parlab::timing::Table::new(["a<b"]);
    /// assert!(t.to_html().contains("<th>a&lt;b</th>"));
    /// ```
    pub fn to_html(&self) -> String {
        let cells = |row: &[String], tag: &str| {
            row.iter()
                .map(|c| format!("<{tag}>{}</{tag}>", display::escape_html(c)))
                .collect::<String>()
        };
        let mut html = String::from("<table>\n<thead><tr>");
        html += &cells(&self.headers, "th");
        html += "</tr></thead>\n<tbody>\n";
        for row in &self.rows {
            html += "<tr>";
            html += &cells(row, "td");
            html += "</tr>\n";
        }
        html += "</tbody>\n</table>";
        html
    }

    /// Shows the table as HTML in evcxr (called by the kernel).
    ///
    /// # Examples
    /// ```
    /// parlab::timing::Table::new(["a"]).evcxr_display();
    /// ```
    pub fn evcxr_display(&self) {
        display::show("text/html", &self.to_html());
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, row: &[String]| {
            let cells: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| format!("{:<w$}", row.get(i).map_or("", String::as_str)))
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())
        };
        line(f, &self.headers)?;
        line(
            f,
            &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
        )?;
        for row in &self.rows {
            line(f, row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi;

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

    #[test]
    fn sweep_speedup_and_series() {
        let s = sweep("samples", &[10_000u64, 1_000_000], 2, |n| pi::calc_pi(n, 1)).unwrap();
        let speed = s.speedup();
        assert_eq!(speed[0], (10_000.0, 1.0));
        assert!(
            speed[1].1 < 1.0,
            "100x the work should be slower: {speed:?}"
        );
        let t = s.clone().named("fast").to_series(Metric::Throughput);
        assert_eq!(t.name, "fast");
        assert_eq!(t.points.len(), 2);
        assert_eq!(s.to_series(Metric::Seconds).points[1].0, 1_000_000.0);
        let text = s.to_string();
        assert!(
            text.contains("samples = 1000000") && text.contains("time per sample"),
            "{text}"
        );
        assert!(
            !text.contains("speed-up"),
            "a size sweep has no speed-up: {text}"
        );
    }

    #[test]
    fn comparison_table() {
        let c = Comparison::from(vec![
            Measurement::new("slow", ms(&[20])).with_work(10),
            Measurement::new("fast", ms(&[5])),
        ]);
        assert_eq!(c.speedup_bars()[1], ("fast".to_owned(), 4.0));
        assert_eq!(c.throughput_bars().len(), 1);
        let text = c.to_string();
        assert!(text.contains("4.00x"), "{text}");
        let html = c.table().to_html();
        assert!(
            html.contains("<td>4.00x</td>") && html.contains("<td>500</td>"),
            "{html}"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(format_duration(Duration::from_nanos(812)), "812 ns");
        assert_eq!(format_duration(Duration::from_millis(12_345)), "12.3 s");
        assert_eq!(format_si(2.1e9), "2.10 G");
        assert_eq!(format_si(45_000.0), "45.0 k");
        assert_eq!(format_si(7.0), "7.00");
    }
}
