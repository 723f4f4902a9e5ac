//! Charts: plotters charts as inline SVG in evcxr, and the same charts as SVG files.
//! (being written: the data types below are the agreed interface)

/// One named line of points `(x, y)` in a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from a name and its points.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { name: name.into(), points }
    }
}
