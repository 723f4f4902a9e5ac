//! A time budget for measuring: a sweep or a comparison measures what fits in it, says what it
//! skipped and how to measure that too, and prints progress while a long measurement runs.
//!
//! A room should never wait long for a cell: [`sweep`](super::sweep) and a
//! [`Comparison`](super::Comparison) built with [`Comparison::measure`](super::Comparison::measure)
//! get [`DEFAULT_BUDGET`]. A value predicted to need more than what is left is skipped (a sweep
//! predicts from its last point: a parameter of 100 or more is taken as an amount of work, its time
//! grows in proportion), and a measurement whose first run shows that all its repeats would not fit
//! gets fewer repeats. [`Budget::measure_size`] probes small sizes first, so a learner who asks for
//! 10^10 samples is told how long that takes before it starts.

use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

use super::error::TimingError;
use super::measurement::Measurement;
use super::outcome::{Outcome, TimedRun, timed};
use crate::units::{format_duration, format_si};

/// How long a sweep or a comparison may measure by default: a few seconds, so that no cell keeps
/// a room waiting.
///
/// # Examples
/// ```
/// assert_eq!(parlab::timing::Budget::default().limit(), Some(parlab::timing::DEFAULT_BUDGET));
/// ```
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(3);

/// A measurement that has run this long prints a progress line for each step, so a learner sees
/// the cell is alive.
const PROGRESS_AFTER: Duration = Duration::from_millis(1500);

/// Before a measurement predicted to take longer than this, a line says how long.
const ANNOUNCE_OVER: Duration = Duration::from_secs(2);

/// How long measuring may take: `Budget::new(Duration::from_secs(60))` to measure more,
/// [`Budget::unlimited`] to measure everything (the CLI benchmarks).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::{pi, timing::Budget};
/// // 10^5, 10^6, then 10^12 samples: the last would take minutes, so it is skipped, and said so.
/// let s = Budget::new(Duration::from_millis(300)).quiet()
///     .sweep("samples", &[100_000u64, 1_000_000, 1_000_000_000_000], 3, |n| pi::calc_pi(n, 1))?;
/// assert_eq!(s.points.len(), 2);
/// assert_eq!(s.skipped[0].value, 1e12);
/// assert!(s.skipped_note().unwrap().contains("Budget::new(Duration::from_secs("));
/// # Ok::<(), parlab::timing::TimingError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub(super) limit: Option<Duration>,
    progress: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(DEFAULT_BUDGET)
    }
}

/// A value a sweep or a comparison did not measure, and how long it was predicted to take.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The parameter value (for a comparison: the row's number, from 0).
    pub value: f64,
    /// What was skipped, as the table would have labelled it.
    pub label: String,
    /// The predicted time of one run, when there was something to predict from.
    pub estimate: Option<Duration>,
}

impl Budget {
    /// A budget of `limit`, with progress lines for long measurements.
    ///
    /// # Examples
    /// ```
    /// let b = parlab::timing::Budget::new(std::time::Duration::from_secs(60));
    /// assert_eq!(b.limit(), Some(std::time::Duration::from_secs(60)));
    /// ```
    pub fn new(limit: Duration) -> Self {
        Budget {
            limit: Some(limit),
            progress: true,
        }
    }

    /// No limit and no progress lines: everything is measured (for benchmarks run from a terminal).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::timing::Budget::unlimited().limit(), None);
    /// ```
    pub fn unlimited() -> Self {
        Budget {
            limit: None,
            progress: false,
        }
    }

    /// The same budget without progress lines.
    ///
    /// # Examples
    /// ```
    /// let b = parlab::timing::Budget::default().quiet();
    /// assert_eq!(b.limit(), Some(parlab::timing::DEFAULT_BUDGET));
    /// ```
    #[must_use]
    pub fn quiet(mut self) -> Self {
        self.progress = false;
        self
    }

    /// The time allowed, `None` for no limit.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::timing::Budget::default().limit().is_some());
    /// ```
    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// Starts spending this budget now.
    pub(crate) fn start(&self) -> Spending {
        Spending {
            budget: *self,
            started: Instant::now(),
        }
    }

    /// Times `f(n)`, whose work grows in proportion to `n` (samples, items), `repeats` times after
    /// a warm-up, within this budget (the work is `n` unless `f` says otherwise). It first probes `f` at small sizes (10^4, 10^5, ...) to
    /// predict one run at `n`; when that is over 2 s it says so before it starts, and it runs as
    /// many repeats as fit (at least one).
    ///
    /// # Errors
    /// [`TimingError::OverBudget`] when even one run at `n` is predicted not to fit (nothing is
    /// measured: the message says how long it would take and how to allow it), as
    /// [`measure`](super::measure) otherwise.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::{pi, timing::{Budget, TimingError}};
    /// let m = Budget::default().measure_size("serial", 1_000_000, 3, |n| pi::calc_pi(n, 1))?;
    /// assert_eq!(m.work, Some(1_000_000));
    /// let e = Budget::new(Duration::from_millis(200)).measure_size("huge", 10_000_000_000_000, 3, |n| pi::calc_pi(n, 1));
    /// assert!(matches!(e, Err(TimingError::OverBudget { .. })));
    /// # Ok::<(), TimingError>(())
    /// ```
    pub fn measure_size<R: Outcome>(
        &self,
        label: &str,
        n: u64,
        repeats: usize,
        mut f: impl FnMut(u64) -> R,
    ) -> Result<Measurement, TimingError> {
        if repeats == 0 {
            return Err(TimingError::ZeroRepeats);
        }
        let mut spend = self.start();
        let failed = |message| TimingError::Failed {
            label: label.to_owned(),
            message,
        };
        // Probe at growing sizes until a run takes long enough to predict from.
        let mut probe = n.min(10_000);
        let mut predicted = None;
        while probe < n {
            let start = Instant::now();
            std::hint::black_box(f(probe)).work().map_err(failed)?;
            let took = start.elapsed();
            if took >= Duration::from_millis(20) || probe >= n / 10 {
                predicted = Some(scaled(took, probe as f64, n as f64));
                break;
            }
            probe = probe.saturating_mul(10).min(n);
        }
        if let Some(p) = predicted {
            let all = p * (repeats as u32 + 1);
            if !spend.fits(p) {
                return Err(TimingError::OverBudget {
                    label: format!("{label}, {} ", format_si(n as f64).trim_end()),
                    estimate: p,
                    runs: repeats + 1,
                    budget: self.limit.unwrap_or_default(),
                });
            }
            if all > ANNOUNCE_OVER && self.progress {
                say(&format!(
                    "{label}: one run of {} takes about {} (from a probe of {}); measuring what fits in {}…",
                    format_si(n as f64).trim_end(),
                    format_duration(p),
                    format_si(probe as f64).trim_end(),
                    spend.left_text()
                ));
            }
        }
        let mut m = spend.measure(label, repeats, None, || f(n))?;
        m.work = m.work.or(Some(n));
        Ok(m)
    }
}

/// `time` at parameter `from`, predicted at parameter `to`: in proportion for amounts of work
/// (parameters of 100 or more, e.g. samples), unchanged for small ones (thread counts).
pub(super) fn scaled(time: Duration, from: f64, to: f64) -> Duration {
    if from >= 100.0 && to > from {
        time.mul_f64(to / from)
    } else {
        time
    }
}

/// A budget being spent: how much is left, and the progress lines.
#[derive(Debug)]
pub(crate) struct Spending {
    pub(super) budget: Budget,
    pub(super) started: Instant,
}

impl Spending {
    /// What is left, `None` for no limit.
    pub(crate) fn left(&self) -> Option<Duration> {
        self.budget
            .limit
            .map(|l| l.saturating_sub(self.started.elapsed()))
    }

    pub(super) fn left_text(&self) -> String {
        self.left()
            .map_or_else(|| "no limit".into(), format_duration)
    }

    /// True when one run predicted to take `run` fits in what is left.
    pub(crate) fn fits(&self, run: Duration) -> bool {
        self.left().is_none_or(|left| run <= left)
    }

    /// How long this budget has been spent.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Prints a progress line when this budget prints them and the measuring has gone on a while.
    pub(crate) fn progress(&self, line: &str) {
        if self.budget.progress && self.started.elapsed() >= PROGRESS_AFTER {
            say(line);
        }
    }

    /// Says how long `runs` runs of `run` each will take, before they start, when that is long.
    pub(crate) fn announce(&self, label: &str, run: Duration, runs: usize) {
        if self.budget.progress && run.mul_f64(runs as f64) > ANNOUNCE_OVER {
            say(&format!(
                "{label}: about {} a run; measuring what fits in {}…",
                format_duration(run),
                self.left_text()
            ));
        }
    }

    /// Times `f`: a warm-up, then as many of `repeats` timed runs as fit (at least one; when not
    /// even that fits after the warm-up, the warm-up is the one timed run, and the label says
    /// "cold").
    pub(crate) fn measure<R: Outcome>(
        &mut self,
        label: &str,
        repeats: usize,
        predicted: Option<Duration>,
        f: impl FnMut() -> R,
    ) -> Result<Measurement, TimingError> {
        self.measure_runs(label, repeats, predicted, &mut timed(f))
    }

    /// [`measure`](Spending::measure) of a [`TimedRun`]: non-generic, so that a notebook cell
    /// does not compile it again for each closure it times.
    #[inline(never)]
    fn measure_runs(
        &mut self,
        label: &str,
        repeats: usize,
        predicted: Option<Duration>,
        run: &mut TimedRun<'_>,
    ) -> Result<Measurement, TimingError> {
        let failed = |message| TimingError::Failed {
            label: label.to_owned(),
            message,
        };
        if let Some(p) = predicted {
            self.announce(label, p, repeats + 1);
        }
        let (warm_time, mut work) = run().map_err(failed)?;
        let runs = match self.left() {
            None => repeats,
            Some(left) if warm_time.is_zero() => {
                if left.is_zero() {
                    1
                } else {
                    repeats
                }
            }
            Some(left) => {
                let fit = (left.as_secs_f64() / warm_time.as_secs_f64()).floor() as usize;
                fit.min(repeats)
            }
        };
        let mut times = Vec::with_capacity(runs.max(1));
        if runs == 0 {
            times.push(warm_time);
        }
        for i in 0..runs {
            let (took, done) = run().map_err(failed)?;
            times.push(took);
            work = done;
            if i + 1 < runs {
                self.progress(&format!(
                    "{label}: run {} of {runs} took {}",
                    i + 1,
                    format_duration(times[i])
                ));
            }
        }
        let m = Measurement {
            label: label.to_owned(),
            times,
            work,
        };
        let fewer = if runs == 0 {
            format!(
                " (of the first run alone, cold, instead of {repeats} after it, to stay within the budget)"
            )
        } else if runs < repeats {
            format!(" ({runs} runs instead of {repeats}, to stay within the budget)")
        } else {
            String::new()
        };
        self.progress(&format!(
            "{label}: median {}{fewer}; {} so far",
            format_duration(m.median()),
            format_duration(self.started.elapsed())
        ));
        Ok(m)
    }
}

/// Prints one progress line now (evcxr shows stdout as it comes, line by line).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A progress line that cannot be written is not worth failing a measurement for.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The note under a table that skipped values: which, how long they would take, and how to measure
/// them (a bigger budget, or the CLI benchmark).
pub(crate) fn skipped_note(skipped: &[Skipped], budget: Option<Duration>) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let which: Vec<String> = skipped
        .iter()
        .map(|s| match s.estimate {
            Some(e) => format!("{} (about {} a run)", s.label, format_duration(e)),
            None => s.label.clone(),
        })
        .collect();
    let longest = skipped
        .iter()
        .filter_map(|s| s.estimate)
        .max()
        .unwrap_or_default();
    // Enough for a warm-up and three runs of the longest, rounded up to a whole minute.
    let enough = ((longest.as_secs_f64() * 4.0 / 60.0).ceil() as u64).max(1) * 60;
    Some(format!(
        "Not measured: {}, as it did not fit in this cell's time budget of {}. To measure it too, \
         give the cell more time with `timing::Budget::new(Duration::from_secs({enough}))` in place \
         of the default (`.sweep(..)`, `.measure_size(..)`, or `Comparison::new().budget(..)`), or \
         run the benchmark from a terminal (`parlab bench`), where nothing is skipped.",
        which.join(", "),
        budget.map_or_else(|| "none".into(), format_duration)
    ))
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.estimate {
            Some(e) => write!(f, "{} (about {} a run)", self.label, format_duration(e)),
            None => write!(f, "{}", self.label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi;

    #[test]
    fn measure_size_refuses_what_would_not_fit_before_it_starts() {
        let started = Instant::now();
        let e = Budget::new(Duration::from_secs(1))
            .quiet()
            .measure_size("huge", 10_000_000_000_000, 3, |n| pi::calc_pi(n, 1))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "it probed only");
        let text = e.to_string();
        assert!(
            text.contains("would take about") && text.contains("Budget::new"),
            "{text}"
        );
        let m = Budget::default()
            .quiet()
            .measure_size("small", 100_000, 3, |n| pi::calc_pi(n, 1))
            .unwrap();
        assert_eq!((m.times.len(), m.work), (3, Some(100_000)));
    }

    #[test]
    fn scaling_is_proportional_only_for_amounts_of_work() {
        let ms = Duration::from_millis;
        assert_eq!(scaled(ms(10), 1000.0, 10_000.0), ms(100));
        assert_eq!(scaled(ms(10), 2.0, 4.0), ms(10));
    }
}
