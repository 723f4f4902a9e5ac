//! Why a chart could not be drawn or saved.

use std::path::PathBuf;

use super::canvas::MAX_LANES;

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
