//! Charts: plotters charts as inline SVG in evcxr, and the same charts as SVG files.
//!
//! - [`bars`]: one bar per variant (seconds per variant, say).
//! - [`speedup`]: speed-up against threads, with the ideal line y = x;
//!   [`speedup_available`] adds what the machine offered when measured.
//! - [`loglog`]: log-log axes (time against samples, a series per method).
//! - [`lines`]: lines on linear axes.
//! - [`timeline`]: who ran when: a row per thread or worker, a bar per span.
//!
//! Each returns a [`Chart`]: SVG text plus a text description (alt text). In evcxr a `Chart` shows
//! inline, as an image whose alt text is the description; elsewhere it prints its description,
//! and [`Chart::save`] writes an SVG file.
//! Text stays as SVG `<text>` (drawn by the viewer's sans-serif font); the bundled DejaVu Sans is
//! registered inside every call, because plotters has no system font here and a `static` does not
//! carry over from one evcxr cell to the next.
//!
//! ```
//! use parlab::chart::{self, Series};
//! let free = Series::new("threads", vec![(1.0, 1.0), (2.0, 1.96)]);
//! let gil = Series::new("threads + GIL", vec![(1.0, 1.0), (2.0, 0.98)]);
//! let c = chart::speedup("calc_pi on threads", &[free, gil])?;
//! assert!(c.svg().contains("calc_pi on threads"));
//! # Ok::<(), parlab::chart::ChartError>(())
//! ```

mod canvas;
mod draw;
mod error;
mod figure;
mod range;
mod series;
mod timeline;

pub use canvas::MAX_LANES;
pub use error::ChartError;
pub use figure::Chart;
pub use series::Series;
pub use timeline::timeline;

/// A bar chart: one bar per `(label, value)`, its value written above it.
///
/// The labels name the bars on the x axis (they are the legend).
///
/// # Errors
/// [`ChartError::NoBars`] for an empty list, [`ChartError::BarNotFinite`] for a NaN or infinite
/// value.
///
/// # Examples
/// ```
/// let c = parlab::chart::bars(
///     "calc_pi, 10^7 samples",
///     "time (s)",
///     &[("serial", 0.090), ("threads", 0.046), ("rayon", 0.047)],
/// )?;
/// assert!(c.svg().contains("rayon"));
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
pub fn bars<L: AsRef<str>>(
    title: &str,
    y_label: &str,
    bars: &[(L, f64)],
) -> Result<Chart, ChartError> {
    if bars.is_empty() {
        return Err(ChartError::NoBars);
    }
    let bars: Vec<(&str, f64)> = bars.iter().map(|(l, v)| (l.as_ref(), *v)).collect();
    if let Some(&(label, value)) = bars.iter().find(|(_, v)| !v.is_finite()) {
        return Err(ChartError::BarNotFinite {
            label: label.to_string(),
            value,
        });
    }
    let svg = draw::bars(title, y_label, &bars)?;
    let list: Vec<String> = bars
        .iter()
        .map(|(l, v)| format!("{l} {}", draw::fmt_num(*v)))
        .collect();
    let description = format!(
        "Bar chart \"{title}\": {y_label} per variant: {}.",
        list.join(", ")
    );
    Ok(Chart::new(title, svg, description))
}

/// A speed-up chart: speed-up (y) against threads (x), a line per series, and the ideal y = x.
///
/// The ideal line is dashed grey over the x range of the data.
///
/// # Errors
/// [`ChartError::NoSeries`], [`ChartError::EmptySeries`], [`ChartError::NotFinite`].
///
/// # Examples
/// ```
/// use parlab::chart::{self, Series};
/// let free = Series::new("threads", vec![(1.0, 1.0), (2.0, 1.96)]);
/// let gil = Series::new("threads + GIL", vec![(1.0, 1.0), (2.0, 0.98)]);
/// let c = chart::speedup("calc_pi on threads", &[free, gil])?;
/// assert!(c.svg().contains("ideal"));
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
pub fn speedup(title: &str, series: &[Series]) -> Result<Chart, ChartError> {
    speedup_chart(title, series, None)
}

/// A speed-up chart as [`speedup`], with a dotted line for what the machine offered when
/// measured: `min(threads, available)` from [`crate::cores::available_parallelism`]. When the
/// machine was busy, the chart carries the note of [`crate::cores::Parallelism::busy_note`].
///
/// # Errors
/// As [`speedup`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::{chart::{self, Series}, timing::Parallelism};
/// let free = Series::new("threads", vec![(1.0, 1.0), (2.0, 1.3), (4.0, 1.3)]);
/// let busy = Parallelism { cores: 2, available: 1.3, window: Duration::from_millis(100), own_busy: 0.0 };
/// let c = chart::speedup_available("calc_pi on threads", &[free], &busy)?;
/// assert!(c.svg().contains("available now (1.3 of 2 cores)"));
/// assert!(c.description().contains("This machine is busy"));
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
pub fn speedup_available(
    title: &str,
    series: &[Series],
    now: &crate::cores::Parallelism,
) -> Result<Chart, ChartError> {
    check(series, false)?;
    if !now.available.is_finite() {
        return Err(ChartError::NotFinite {
            name: "available now".into(),
            index: 0,
            x: now.cores as f64,
            y: now.available,
        });
    }
    let (x0, x1) = draw::min_max(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let a = now.available;
    let mut points = vec![(x0, now.best_speedup(x0))];
    if x0 < a && a < x1 {
        points.push((a, a));
    }
    points.push((x1, now.best_speedup(x1)));
    let line = Series::new(
        format!("available now ({:.1} of {} cores)", a, now.cores),
        points,
    );
    let chart = speedup_chart(title, series, Some(&line))?;
    Ok(match now.busy_note() {
        Some(note) => chart.with_note(note),
        None => chart,
    })
}

fn speedup_chart(
    title: &str,
    series: &[Series],
    available: Option<&Series>,
) -> Result<Chart, ChartError> {
    let (x_label, y_label) = ("threads", "speed-up (x)");
    check(series, false)?;
    let svg = draw::lines(
        title,
        x_label,
        y_label,
        series,
        draw::Kind::Speedup,
        available,
    )?;
    let mut extra = " A dashed grey line shows the ideal speed-up (y = x).".to_owned();
    if let Some(a) = available {
        extra += &format!(
            " A dotted black line, \"{}\", shows the best speed-up this machine allowed when \
             measured, min(threads, {}).",
            a.name,
            draw::fmt_num(a.points.iter().map(|p| p.1).fold(0.0, f64::max))
        );
    }
    let description = describe("Line chart", title, x_label, y_label, series, &extra);
    Ok(Chart::new(title, svg, description))
}

/// A log-log chart: both axes logarithmic, a line per series (time against samples, say).
///
/// # Errors
/// [`ChartError::NoSeries`], [`ChartError::EmptySeries`], [`ChartError::NotFinite`], and
/// [`ChartError::NotPositive`] for a value at or below 0.
///
/// # Examples
/// ```
/// use parlab::chart::{self, Series};
/// let threads = Series::new("thread pool", vec![(1e3, 2e-5), (1e6, 4e-3), (1e9, 4.1)]);
/// let procs = Series::new("process pool", vec![(1e3, 3e-3), (1e6, 6e-3), (1e9, 4.2)]);
/// let c = chart::loglog("pool overhead", "samples", "time (s)", &[threads, procs])?;
/// assert!(c.description().starts_with("Log-log chart"));
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
pub fn loglog(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<Chart, ChartError> {
    check(series, true)?;
    let svg = draw::lines(title, x_label, y_label, series, draw::Kind::LogLog, None)?;
    let description = describe("Log-log chart", title, x_label, y_label, series, "");
    Ok(Chart::new(title, svg, description))
}

/// A line chart on linear axes, a line per series.
///
/// The y axis starts at 0 unless some value is negative.
///
/// # Errors
/// [`ChartError::NoSeries`], [`ChartError::EmptySeries`], [`ChartError::NotFinite`].
///
/// # Examples
/// ```
/// use parlab::chart::{self, Series};
/// let t = Series::new("calc_pi", vec![(1.0, 0.09), (2.0, 0.046), (4.0, 0.045)]);
/// let c = chart::lines("time on threads", "threads", "time (s)", &[t])?;
/// assert!(c.svg().contains("time (s)"));
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<Chart, ChartError> {
    check(series, false)?;
    let svg = draw::lines(title, x_label, y_label, series, draw::Kind::Linear, None)?;
    let description = describe("Line chart", title, x_label, y_label, series, "");
    Ok(Chart::new(title, svg, description))
}

/// Rejects what cannot be drawn: no series, empty series, non-finite (or, on log axes, non-positive)
/// values.
fn check(series: &[Series], log: bool) -> Result<(), ChartError> {
    if series.is_empty() {
        return Err(ChartError::NoSeries);
    }
    for s in series {
        if s.points.is_empty() {
            return Err(ChartError::EmptySeries {
                name: s.name.clone(),
            });
        }
        for (index, &(x, y)) in s.points.iter().enumerate() {
            let name = || s.name.clone();
            if !x.is_finite() || !y.is_finite() {
                return Err(ChartError::NotFinite {
                    name: name(),
                    index,
                    x,
                    y,
                });
            }
            if log && (x <= 0.0 || y <= 0.0) {
                return Err(ChartError::NotPositive {
                    name: name(),
                    index,
                    x,
                    y,
                });
            }
        }
    }
    Ok(())
}

/// The alt text of a line chart: its kind, title, axes, and each series with its ranges.
fn describe(
    kind: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    extra: &str,
) -> String {
    let mut text = format!("{kind} \"{title}\": {y_label} against {x_label}.{extra}");
    for s in series {
        let (x0, x1) = draw::min_max(s.points.iter().map(|p| p.0));
        let (y0, y1) = draw::min_max(s.points.iter().map(|p| p.1));
        let n = s.points.len();
        text.push_str(&format!(
            " Series \"{}\": {n} point{}, {x_label} from {} to {}, {y_label} from {} to {}.",
            s.name,
            if n == 1 { "" } else { "s" },
            draw::fmt_num(x0),
            draw::fmt_num(x1),
            draw::fmt_num(y0),
            draw::fmt_num(y1),
        ));
    }
    text
}

#[cfg(test)]
mod tests;
