//! A chart's data: named lines of points.

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
