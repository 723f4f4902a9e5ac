//! Comparing variants: several measurements in one table, and bars for a chart.

use std::fmt;
use std::time::{Duration, Instant};

use super::budget::{Budget, DEFAULT_BUDGET, Skipped, Spending, skipped_note};
use super::error::TimingError;
use super::measurement::{Measurement, speedup_of, table_with_speedup};
use super::outcome::Outcome;
use super::table::{Table, note_html};
use crate::display;

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

impl Comparison {
    /// The same comparison, measuring within `limit` from its first [`Comparison::measure`]
    /// (the default is [`DEFAULT_BUDGET`]).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let mut c = parlab::timing::Comparison::new().budget(Duration::from_secs(60));
    /// c.measure("noop", 3, || ())?;
    /// assert_eq!(c.measurements.len(), 1);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    #[must_use]
    pub fn budget(mut self, limit: Duration) -> Self {
        self.budget = Some(Budget::new(limit));
        self
    }

    /// Measures `f` as the next row, within the comparison's budget: with fewer repeats when they
    /// would not all fit, and not at all (a row in [`Comparison::skipped`]) once the budget is
    /// spent.
    ///
    /// # Errors
    /// As [`measure`](super::measure).
    ///
    /// # Examples
    /// ```
    /// let mut c = parlab::timing::Comparison::new();
    /// c.measure("serial", 3, || parlab::pi::calc_pi(1_000_000, 1))?;
    /// c.measure("rayon", 3, || parlab::pi::calc_pi_rayon(1_000_000, 1))?;
    /// assert_eq!(c.bars().len(), 2);
    /// # Ok::<(), parlab::timing::TimingError>(())
    /// ```
    pub fn measure<R: Outcome>(
        &mut self,
        label: &str,
        repeats: usize,
        f: impl FnMut() -> R,
    ) -> Result<&mut Self, TimingError> {
        if repeats == 0 {
            return Err(TimingError::ZeroRepeats);
        }
        let budget = self.budget.unwrap_or_default();
        let started = *self.started.get_or_insert_with(Instant::now);
        let mut spend = Spending { budget, started };
        let row = (self.measurements.len() + self.skipped.len()) as f64;
        if spend.left().is_some_and(|l| l.is_zero()) {
            spend.progress(&format!("{label}: skipped, the budget is spent"));
            self.skipped.push(Skipped {
                value: row,
                label: label.to_owned(),
                estimate: None,
            });
            return Ok(self);
        }
        let m = spend.measure(label, repeats, None, f)?;
        self.measurements.push(m);
        Ok(self)
    }

    /// A note naming the rows not measured, with how to measure them; `None` when all were.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::timing::Comparison::new().skipped_note(), None);
    /// ```
    pub fn skipped_note(&self) -> Option<String> {
        skipped_note(
            &self.skipped,
            self.budget
                .unwrap_or_default()
                .limit()
                .or(Some(DEFAULT_BUDGET)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().copied().map(Duration::from_millis).collect()
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
    fn repeats_shrink_to_fit_and_a_spent_comparison_skips_rows() {
        let mut c = Comparison::new().budget(Duration::from_millis(50));
        c.measure("slow", 10, || std::thread::sleep(Duration::from_millis(20)))
            .unwrap();
        assert!(
            c.measurements[0].times.len() < 10,
            "10 runs of 20 ms do not fit in 50 ms: {:?}",
            c.measurements[0].times
        );
        c.measure("slow again", 3, || {
            std::thread::sleep(Duration::from_millis(20))
        })
        .unwrap();
        assert_eq!(c.measurements[1].times.len(), 1, "only its warm-up fitted");
        c.measure("late", 3, || ()).unwrap();
        assert_eq!(c.skipped.len(), 1, "nothing is left for a third row");
        assert!(c.skipped_note().unwrap().contains("late"));
        assert!(
            Budget::unlimited()
                .start()
                .fits(Duration::from_secs(1_000_000))
        );
    }
}
