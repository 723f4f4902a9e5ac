//! Drawing a line chart (linear, speed-up or log-log): lines, markers, the legend where it hides
//! the fewest points.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::element::{ComposedElement, DashedPathElement};
use plotters::prelude::*;

use super::style::{
    AVAILABLE, DESC_SIZE, FAMILY, IDEAL, LABEL_SIZE, LEGEND_SIZE, PALETTE, draw_err, fmt_log_tick,
    fmt_num, min_max, register_font, titled,
};
use crate::chart::canvas::{HEIGHT, WIDTH};
use crate::chart::error::ChartError;
use crate::chart::range;
use crate::chart::series::Series;

/// Which line chart to draw.
#[derive(Clone, Copy, PartialEq)]
pub(in crate::chart) enum Kind {
    Linear,
    Speedup,
    LogLog,
}

/// A line chart (linear, speed-up or log-log), as SVG text.
pub(in crate::chart) fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    kind: Kind,
    available: Option<&Series>,
) -> Result<String, ChartError> {
    register_font()?;
    let (x0, x1) = min_max(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = min_max(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let ideal = (kind == Kind::Speedup).then(|| vec![(x0, x0), (x1, x1)]);
    let log = kind == Kind::LogLog;
    let (xr, yr) = match kind {
        Kind::Linear => (
            range::linear("x", x0, x1, 0.04, 0.04)?,
            range::linear("y", y0.min(0.0), y1, 0.0, 0.1)?,
        ),
        Kind::Speedup => (
            range::linear("x", x0, x1, 0.04, 0.04)?,
            range::linear("y", y0.min(0.0), y1.max(x1), 0.0, 0.08)?,
        ),
        Kind::LogLog => (
            range::log("x", x0, x1, 0.04)?,
            range::log("y", y0, y1, 0.1)?,
        ),
    };

    // Put the legend in the corner where it covers the fewest points (0..1 in both directions).
    let norm = |v: f64, (lo, hi): (f64, f64)| {
        if log {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        }
    };
    let mut paths: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .map(|&(x, y)| (norm(x, xr), norm(y, yr)))
                .collect()
        })
        .collect();
    for extra in ideal.iter().chain(available.map(|a| &a.points)) {
        paths.push(
            extra
                .iter()
                .map(|&(x, y)| (norm(x, xr), norm(y, yr)))
                .collect(),
        );
    }
    let mut names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    if ideal.is_some() {
        names.push(IDEAL_NAME);
    }
    if let Some(a) = available {
        names.push(&a.name);
    }
    let position = legend_corner(&paths, &names);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let builder = ChartBuilder::on(&root);
        let area = Area {
            title,
            x_label,
            y_label,
            series,
            ideal: ideal.as_deref(),
            available,
            position,
            // Thread counts are whole numbers: tick only those (up to 16 of them).
            whole_x: (kind == Kind::Speedup)
                .then(|| whole_ticks(series))
                .flatten(),
            log,
        };
        if log {
            area.draw((xr.0..xr.1).log_scale(), (yr.0..yr.1).log_scale(), builder)?;
        } else {
            area.draw(xr.0..xr.1, yr.0..yr.1, builder)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

const IDEAL_NAME: &str = "ideal (y = x)";

/// The legend's corner: the one whose legend box (estimated) covers the fewest points of `paths`
/// (in 0..1 plot coordinates, y up), points sampled along each segment too.
fn legend_corner(paths: &[Vec<(f64, f64)>], names: &[&str]) -> SeriesLabelPosition {
    // Rough plot area and legend box in pixels (see the ChartBuilder sizes in `Area::draw`).
    let (plot_w, plot_h) = (WIDTH as f64 - 120.0, HEIGHT as f64 - 130.0);
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as f64;
    let w = ((45.0 + 0.6 * LEGEND_SIZE as f64 * longest) / plot_w + 0.04).min(1.0);
    let h = ((10.0 + 22.0 * names.len() as f64) / plot_h + 0.04).min(1.0);
    let corners = [
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0 - h),
        (SeriesLabelPosition::UpperRight, 1.0 - w, 1.0 - h),
        (SeriesLabelPosition::LowerRight, 1.0 - w, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let samples: Vec<(f64, f64)> = paths
        .iter()
        .flat_map(|p| {
            let segments = p.windows(2).flat_map(|s| {
                let ((ax, ay), (bx, by)) = (s[0], s[1]);
                (0..20).map(move |k| {
                    let t = k as f64 / 20.0;
                    (ax + t * (bx - ax), ay + t * (by - ay))
                })
            });
            segments.chain(p.last().copied()).collect::<Vec<_>>()
        })
        .collect();
    let mut best = (usize::MAX, SeriesLabelPosition::UpperLeft);
    for (pos, left, bottom) in corners {
        let inside = samples
            .iter()
            .filter(|&&(x, y)| x >= left && x <= left + w && y >= bottom && y <= bottom + h)
            .count();
        if inside < best.0 {
            best = (inside, pos);
        }
    }
    best.1
}

/// What a line chart draws, independent of its axis kinds.
struct Area<'r> {
    title: &'r str,
    x_label: &'r str,
    y_label: &'r str,
    series: &'r [Series],
    ideal: Option<&'r [(f64, f64)]>,
    /// The best speed-up the machine allowed when measured (dotted).
    available: Option<&'r Series>,
    position: SeriesLabelPosition,
    /// How many whole-number ticks the x axis gets, when every x is a whole number.
    whole_x: Option<usize>,
    /// Log axes: ticks as powers of ten.
    log: bool,
}

/// Dash patterns of the series in turn (`None`: solid): on and off lengths in pixels.
const DASHES: [Option<(u32, u32)>; 6] = [
    None,
    Some((10, 5)),
    Some((3, 4)),
    Some((14, 4)),
    Some((6, 3)),
    Some((2, 2)),
];

/// The outline of series `i`'s marker around (0, 0), in pixels, and whether it is filled: a filled
/// circle, a hollow square, a filled triangle, a plus, a hollow circle, a filled diamond, in turn;
/// the hollow ones let a marker under them show.
fn marker_shape(i: usize) -> (Vec<(i32, i32)>, bool) {
    let circle = |r: f64| {
        (0..16)
            .map(|k| {
                let a = k as f64 * std::f64::consts::TAU / 16.0;
                ((r * a.cos()).round() as i32, (r * a.sin()).round() as i32)
            })
            .collect::<Vec<_>>()
    };
    match i % 6 {
        0 => (circle(4.5), true),
        1 => (vec![(-5, -5), (5, -5), (5, 5), (-5, 5)], false),
        2 => (vec![(0, -6), (6, 5), (-6, 5)], true),
        3 => (
            vec![
                (-2, -6),
                (2, -6),
                (2, -2),
                (6, -2),
                (6, 2),
                (2, 2),
                (2, 6),
                (-2, 6),
                (-2, 2),
                (-6, 2),
                (-6, -2),
                (-2, -2),
            ],
            true,
        ),
        4 => (circle(7.0), false),
        _ => (vec![(0, -6), (6, 0), (0, 6), (-6, 0)], true),
    }
}

/// A marker: a polygon and its outline, at a point of the chart.
type Marker<C, DB> = ComposedElement<C, DB, Polygon<(i32, i32)>, PathElement<(i32, i32)>>;

/// Series `i`'s marker at `at` ([`marker_shape`]), in `color`: a shape filled (or see-through)
/// and outlined, one element type for every shape.
fn marker<C, DB: DrawingBackend>(i: usize, at: C, color: RGBColor) -> Marker<C, DB> {
    let (mut outline, filled) = marker_shape(i);
    let fill = if filled {
        color.filled()
    } else {
        WHITE.mix(0.0).filled()
    };
    let inside = Polygon::new(outline.clone(), fill);
    if let Some(&first) = outline.first() {
        outline.push(first);
    }
    EmptyElement::at(at) + inside + PathElement::new(outline, color.stroke_width(2))
}

/// The number of whole numbers the x values span, when every x is whole and there are at most 16.
fn whole_ticks(series: &[Series]) -> Option<usize> {
    let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    if !xs().all(|x| x.fract() == 0.0) {
        return None;
    }
    let lo = xs().fold(f64::INFINITY, f64::min);
    let hi = xs().fold(f64::NEG_INFINITY, f64::max);
    // Compared as f64 first: a span of 1e20 does not fit a usize.
    (hi - lo <= 15.0).then_some((hi - lo) as usize + 1)
}

impl Area<'_> {
    fn draw<'a, 'b, X, Y>(
        self,
        x: X,
        y: Y,
        mut builder: ChartBuilder<'a, 'b, SVGBackend<'_>>,
    ) -> Result<(), ChartError>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = titled(&mut builder, self.title)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d(x, y)
            .map_err(draw_err)?;
        let log = self.log;
        let fmt = |v: &f64| {
            if log { fmt_log_tick(*v) } else { fmt_num(*v) }
        };
        let whole = self.whole_x.is_some();
        let x_fmt = |v: &f64| {
            if whole && v.fract() != 0.0 {
                String::new()
            } else {
                fmt(v)
            }
        };
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_labels(self.whole_x.unwrap_or(10))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&fmt)
            .label_style((FAMILY, LABEL_SIZE))
            .axis_desc_style((FAMILY, DESC_SIZE))
            .light_line_style(RGBColor(0, 0, 0).mix(0.04))
            .max_light_lines(4)
            .draw()
            .map_err(draw_err)?;

        if let Some(ideal) = self.ideal {
            let style = IDEAL.stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(ideal.iter().copied(), 8, 6, style))
                .map_err(draw_err)?
                .label(IDEAL_NAME)
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (7, 0)], style)
                        + PathElement::new(vec![(13, 0), (20, 0)], style)
                });
        }
        if let Some(available) = self.available {
            let style = AVAILABLE.stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(
                    available.points.iter().copied(),
                    2,
                    5,
                    style,
                ))
                .map_err(draw_err)?
                .label(available.name.as_str())
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (2, 0)], style)
                        + PathElement::new(vec![(7, 0), (9, 0)], style)
                        + PathElement::new(vec![(14, 0), (16, 0)], style)
                });
        }
        // Each series has its own colour, dash pattern and marker shape, so that lines lying on
        // top of each other (one thread and rayon, at small sizes) still show every series.
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let line = color.stroke_width(2);
            let points = s.points.iter().copied();
            let dash = DASHES[i % DASHES.len()];
            let drawn = match dash {
                None => chart.draw_series(LineSeries::new(points.clone(), line)),
                Some((on, off)) => {
                    chart.draw_series(DashedLineSeries::new(points.clone(), on, off, line))
                }
            };
            drawn
                .map_err(draw_err)?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    let (on, off) = dash.unwrap_or((24, 1));
                    EmptyElement::at((x, y))
                        + DashedPathElement::new(vec![(0, 0), (24, 0)], on, off, line)
                        + marker(i, (12, 0), color)
                });
            chart
                .draw_series(points.map(|p| marker(i, p, color)))
                .map_err(draw_err)?;
        }
        chart
            .configure_series_labels()
            .position(self.position)
            .margin(10)
            .label_font((FAMILY, LEGEND_SIZE))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0, 0, 0).mix(0.4))
            .draw()
            .map_err(draw_err)?;
        Ok(())
    }
}

/// [`legend_corner`] by name, for the tests.
#[cfg(test)]
pub(in crate::chart) fn legend_corner_for_test(
    paths: &[Vec<(f64, f64)>],
    names: &[&str],
) -> &'static str {
    match legend_corner(paths, names) {
        SeriesLabelPosition::UpperLeft => "UpperLeft",
        SeriesLabelPosition::UpperRight => "UpperRight",
        SeriesLabelPosition::LowerRight => "LowerRight",
        SeriesLabelPosition::LowerLeft => "LowerLeft",
        _ => "other",
    }
}
