//! Sweeping a parameter: a measurement at each value (threads, samples), speed-ups, chart series.

use std::fmt;
use std::time::Duration;

use super::budget::{Budget, Skipped, scaled, skipped_note};
use super::error::TimingError;
use super::measurement::{
    MEASUREMENT_HEADERS, Measurement, measurement_row, speedup_of, table_with_speedup,
};
use super::outcome::Outcome;
use super::table::{Table, note_html};
use crate::chart::Series;
use crate::display;
use crate::units::{format_duration, format_seconds};

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

impl Budget {
    /// [`sweep`](super::sweep) within this budget: values predicted not to fit are skipped
    /// ([`Sweep::skipped`]), and long sweeps print a line per point as they go.
    ///
    /// # Errors
    /// As [`sweep`](super::sweep).
    ///
    /// # Examples
    /// ```
    /// use parlab::{pi, timing::Budget};
    /// let s = Budget::default().sweep("threads", &[1, 2], 3, |k| pi::calc_pi_threads(1_000_000, k, 1))?;
    /// assert!(s.skipped.is_empty());
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn sweep<V: Param, R: Outcome>(
        &self,
        param: &str,
        values: &[V],
        repeats: usize,
        mut f: impl FnMut(V) -> R,
    ) -> Result<Sweep, TimingError> {
        if values.is_empty() {
            return Err(TimingError::EmptySweep(param.to_owned()));
        }
        if repeats == 0 {
            return Err(TimingError::ZeroRepeats);
        }
        let mut spend = self.start();
        let mut points: Vec<(f64, Measurement)> = Vec::with_capacity(values.len());
        let mut skipped = Vec::new();
        for &value in values {
            let label = format!("{param} = {value}");
            let x = value.as_f64();
            let predicted = points.last().map(|(last, m)| scaled(m.min(), *last, x));
            if let Some(p) = predicted
                && !spend.fits(p)
            {
                spend.progress(&format!(
                    "{label}: skipped, one run would take about {} ({} of the budget left)",
                    format_duration(p),
                    spend.left_text()
                ));
                skipped.push(Skipped {
                    value: x,
                    label,
                    estimate: Some(p),
                });
                continue;
            }
            let m = spend.measure(&label, repeats, predicted, || f(value))?;
            points.push((x, m));
        }
        Ok(Sweep {
            name: param.to_owned(),
            param: param.to_owned(),
            points,
            skipped,
            budget: self.limit,
        })
    }
}

impl Sweep {
    /// A note naming the values not measured, with how to measure them; `None` when all were.
    ///
    /// # Examples
    /// ```
    /// let s = parlab::timing::sweep("threads", &[1], 1, |_| ())?;
    /// assert_eq!(s.skipped_note(), None);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn skipped_note(&self) -> Option<String> {
        skipped_note(&self.skipped, self.budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi;

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
    fn a_sweep_skips_what_does_not_fit_and_says_how_to_run_it() {
        let s = Budget::new(Duration::from_millis(200))
            .quiet()
            .sweep(
                "samples",
                &[10_000u64, 100_000, 10_000_000_000_000],
                2,
                |n| pi::calc_pi(n, 1),
            )
            .unwrap();
        assert_eq!(s.points.len(), 2);
        assert_eq!(s.skipped.len(), 1);
        let e = s.skipped[0].estimate.unwrap();
        assert!(
            e > Duration::from_secs(60),
            "10^13 samples predicted at {e:?}"
        );
        let note = s.skipped_note().unwrap();
        assert!(note.contains("samples = 10000000000000"), "{note}");
        assert!(note.contains("parlab bench"), "{note}");
    }
}
