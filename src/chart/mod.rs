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

mod draw;
mod range;
mod timeline;

pub use timeline::{MAX_LANES, timeline};

use std::fmt;
use std::path::{Path, PathBuf};

/// Width of every chart, in pixels.
const WIDTH: u32 = 720;
/// Height of every chart, in pixels.
const HEIGHT: u32 = 450;

/// One named line of points `(x, y)` in a chart.
///
/// # Examples
/// ```
/// let s = parlab::chart::Series::new("serial", vec![(1e3, 2e-5), (1e6, 0.01)]);
/// assert_eq!(s.points.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from a name and its points.
    ///
    /// # Examples
    /// ```
    /// let s = parlab::chart::Series::new("rayon", vec![(1.0, 1.0), (2.0, 1.9)]);
    /// assert_eq!(s.name, "rayon");
    /// ```
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
        }
    }
}

/// Why a chart could not be drawn or saved.
///
/// # Examples
/// ```
/// use parlab::chart::{self, ChartError};
/// let err = chart::lines("empty", "x", "y", &[]).unwrap_err();
/// assert!(matches!(err, ChartError::NoSeries));
/// assert_eq!(err.to_string(), "no series to draw");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    /// The chart was given no series at all.
    #[error("no series to draw")]
    NoSeries,
    /// A series has no points.
    #[error("series {name:?} has no points")]
    EmptySeries {
        /// The series' name.
        name: String,
    },
    /// A point has a NaN or infinite coordinate.
    #[error("series {name:?} point {index} is ({x}, {y}): values must be finite")]
    NotFinite {
        /// The series' name.
        name: String,
        /// The point's index in the series.
        index: usize,
        /// Its x value.
        x: f64,
        /// Its y value.
        y: f64,
    },
    /// A point has a zero or negative coordinate on a log axis.
    #[error("series {name:?} point {index} is ({x}, {y}): a log axis needs values above 0")]
    NotPositive {
        /// The series' name.
        name: String,
        /// The point's index in the series.
        index: usize,
        /// Its x value.
        x: f64,
        /// Its y value.
        y: f64,
    },
    /// Values an axis cannot show: their span overflows an `f64`, or a log axis would span more
    /// than 300 powers of ten.
    #[error("the {axis} axis cannot run from {lo:e} to {hi:e}: {why}")]
    AxisTooWide {
        /// Which axis: "x", "y" or "value".
        axis: &'static str,
        /// The smallest value on it.
        lo: f64,
        /// The largest value on it.
        hi: f64,
        /// Why it cannot be drawn.
        why: &'static str,
    },
    /// A bar chart was given no bars.
    #[error("no bars to draw")]
    NoBars,
    /// A bar's value is NaN or infinite.
    #[error("bar {label:?} is {value}: values must be finite")]
    BarNotFinite {
        /// The bar's label.
        label: String,
        /// Its value.
        value: f64,
    },
    /// A timeline with no spans.
    #[error("the timeline has no spans: record something into it first")]
    EmptyTimeline,
    /// A span that ends before it starts.
    #[error("span {label:?} on lane {lane:?} ends ({end_ns} ns) before it starts ({start_ns} ns)")]
    SpanBackwards {
        /// The span's lane.
        lane: String,
        /// The span's label.
        label: String,
        /// Its start, ns after the origin.
        start_ns: u64,
        /// Its end, ns after the origin.
        end_ns: u64,
    },
    /// More lanes than fit as readable rows.
    #[error(
        "{0} lanes do not fit as readable rows: draw at most {MAX_LANES} (record fewer threads or workers)"
    )]
    TooManyLanes(usize),
    /// The bundled font could not be loaded (a bug in parlab).
    #[error("the bundled font could not be loaded")]
    Font,
    /// plotters failed while drawing.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The SVG file could not be written.
    #[error("could not write {}: {source}", path.display())]
    Io {
        /// The file's path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A drawn chart: SVG text and a text description of what it shows.
///
/// Every chart is 720 x 450 pixels, on a white background.
/// Shown inline in evcxr (it has `evcxr_display`); `Display` prints the description.
///
/// # Examples
/// ```
/// let c = parlab::chart::bars("calc_pi, 10^7 samples", "time (s)", &[("serial", 0.09), ("2 threads", 0.046)])?;
/// assert!(c.svg().starts_with("<svg"));
/// assert!(c.description().contains("serial 0.09"));
/// println!("{c}");
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Chart {
    svg: String,
    description: String,
    /// A note shown under the chart (a busy machine, say), also in the description.
    note: Option<String>,
}

impl Chart {
    /// Wraps plotters' SVG, adding `<title>`, `<desc>` and `role="img"` for screen readers.
    fn new(title: &str, svg: String, description: String) -> Chart {
        let head = format!(
            " role=\"img\"><title>{}</title><desc>{}</desc>",
            crate::display::escape_html(title),
            crate::display::escape_html(&description)
        );
        let svg = match svg
            .find("<svg")
            .and_then(|s| svg[s..].find('>').map(|e| s + e))
        {
            Some(end) => format!("{}{}{}", &svg[..end], head, &svg[end + 1..]),
            None => svg,
        };
        Chart {
            svg,
            description,
            note: None,
        }
    }

    /// The same chart with a note shown under it (and added to its description).
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?.with_note("measured on a busy machine");
    /// assert!(c.description().ends_with("Note: measured on a busy machine"));
    /// assert!(c.to_html().contains("measured on a busy machine"));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        self.description = format!("{} Note: {note}", self.description);
        self.note = Some(note);
        self
    }

    /// The chart as HTML: an `<img>` of the SVG whose alt text is the description (what
    /// JupyterLab and the rendered HTML pages show, so a screen reader reads the description),
    /// then the note, if any.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// let html = c.to_html();
    /// assert!(html.contains("<img src=\"data:image/svg+xml;base64,"));
    /// assert!(html.contains("alt=\"Bar chart &quot;t&quot;: time (s) per variant: a 1.\""));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn to_html(&self) -> String {
        let note = self
            .note
            .as_deref()
            .map_or(String::new(), crate::cores::busy_note_html);
        format!(
            "<figure style=\"margin:0\"><img src=\"data:image/svg+xml;base64,{}\" alt=\"{}\" \
             width=\"{WIDTH}\" height=\"{HEIGHT}\" style=\"max-width:100%;height:auto\">{note}</figure>",
            crate::display::base64(self.svg.as_bytes()),
            crate::display::escape_html(&self.description),
        )
    }

    /// The SVG text, with `<title>` and `<desc>` for accessibility.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// assert!(c.svg().contains("<title>t</title>"));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// The text description (alt text): the kind of chart, its axes, each series and its ranges.
    ///
    /// # Examples
    /// ```
    /// use parlab::chart::{self, Series};
    /// let c = chart::lines("t", "threads", "time (s)", &[Series::new("a", vec![(1.0, 2.0), (2.0, 1.0)])])?;
    /// assert!(c.description().contains("threads from 1 to 2"));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Writes the chart to an SVG file (with `<title>` and `<desc>`).
    ///
    /// # Errors
    /// [`ChartError::Io`] if the file cannot be written.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// let path = std::env::temp_dir().join("parlab-doc-chart.svg");
    /// c.save(&path)?;
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("<desc>"));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ChartError> {
        let path = path.as_ref();
        std::fs::write(path, &self.svg).map_err(|source| ChartError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Shows the chart inline in evcxr: as `text/html` ([`Chart::to_html`], what Jupyter shows)
    /// and as `image/svg+xml`.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// c.evcxr_display(); // evcxr calls this for a cell's last value
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn evcxr_display(&self) {
        // Both: frontends prefer the HTML (with its alt text); the SVG is there for the others.
        crate::display::show("image/svg+xml", &self.svg);
        crate::display::show("text/html", &self.to_html());
    }
}

impl fmt::Display for Chart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl fmt::Debug for Chart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chart")
            .field("description", &self.description)
            .field("note", &self.note)
            .field("svg_bytes", &self.svg.len())
            .finish()
    }
}

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
