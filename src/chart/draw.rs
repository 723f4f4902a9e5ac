//! The plotters drawing behind [`super`]: input is already checked (finite, non-empty).

use super::{ChartError, HEIGHT, Series, WIDTH, range};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::element::{ComposedElement, DashedPathElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The bundled font (DejaVu Sans, see DejaVuSans-LICENSE.txt), used to measure text.
static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");
/// The font family plotters looks up, and the SVG asks the viewer for.
const FAMILY: &str = "sans-serif";

// Font sizes as plotters takes them; its SVG says `font-size` = size / 1.24 pixels, so 17 is
// drawn at 13.7 px, just above MIN_TEXT.
const TITLE_SIZE: u32 = 24;
const DESC_SIZE: u32 = 18;
const LABEL_SIZE: u32 = 17;
const LEGEND_SIZE: u32 = 17;
/// plotters' SVG backend writes a font of size `s` as `font-size = s / SVG_SCALE`.
const SVG_SCALE: f64 = 1.24;

/// Colour-blind-safe colours (Okabe and Ito), one per series in turn.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // green
    RGBColor(204, 121, 167), // purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
];
const IDEAL: RGBColor = RGBColor(128, 128, 128);
/// The "available now" line: near-black, dotted, so it differs from the grey dashed ideal.
const AVAILABLE: RGBColor = RGBColor(40, 40, 40);

/// Registers the bundled font under "sans-serif". Called by every chart: a registration made in one
/// evcxr cell is gone in the next (each cell has its own copy of plotters' statics).
fn register_font() -> Result<(), ChartError> {
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).map_err(|_| ChartError::Font)
}

fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// Smallest and largest of some values (`(inf, -inf)` if none).
pub(super) fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// A number with about 3 significant digits, `2.5·10⁻⁵` style when very large or small.
pub(super) fn fmt_num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor();
    if !(-3.0..4.0).contains(&mag) {
        let s = format!("{v:.2e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        let power = ten_to(exp.parse().unwrap_or(0));
        return match mantissa {
            "1" => power,
            "-1" => format!("-{power}"),
            m => format!("{m}·{power}"),
        };
    }
    let decimals = (2.0 - mag).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `10` with `exp` as a superscript: `10⁻⁴`, `10⁹`.
pub(super) fn ten_to(exp: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::from("10");
    if exp < 0 {
        s.push('⁻');
    }
    s.extend(
        exp.unsigned_abs()
            .to_string()
            .chars()
            .filter_map(|c| c.to_digit(10).map(|d| DIGITS[d as usize])),
    );
    s
}

/// A tick on a log axis: every power of ten as `10ⁿ` (so one axis never mixes `0.01` and
/// `10⁻⁴`), other values as [`fmt_num`].
pub(super) fn fmt_log_tick(v: f64) -> String {
    if v > 0.0 && v.is_finite() {
        let e = v.log10().round();
        if (v / 10f64.powf(e) - 1.0).abs() < 1e-9 {
            return ten_to(e as i32);
        }
    }
    fmt_num(v)
}

/// Which line chart to draw.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Linear,
    Speedup,
    LogLog,
}

/// The smallest text any chart draws: its SVG `font-size` in pixels, at the chart's own 720 px.
pub(super) const MIN_TEXT: u32 = 13;

/// About how wide a character of DejaVu Sans is, as a share of plotters' font size (0.56 of the
/// SVG font size).
const CHAR_WIDTH: f64 = 0.56 / SVG_SCALE;

/// A title that fits the chart's width: its text and font size, smaller for a long title (down to
/// the smallest size drawn, [`MIN_TEXT`]), cut with "…" beyond that (the description, which
/// starts with the title, keeps it whole).
pub(super) fn fit_title(title: &str) -> (String, u32) {
    let room = (WIDTH - 30) as f64;
    let chars = title.chars().count().max(1) as f64;
    let smallest = (MIN_TEXT as f64 * SVG_SCALE).ceil() as u32;
    let size = ((room / (CHAR_WIDTH * chars)).floor() as u32).clamp(smallest, TITLE_SIZE);
    let fits = (room / (CHAR_WIDTH * size as f64)).floor() as usize;
    if title.chars().count() <= fits {
        return (title.to_string(), size);
    }
    let mut cut: String = title.chars().take(fits.saturating_sub(1)).collect();
    cut.push('…');
    (cut, size)
}

/// Gives `builder` the chart's title, fitted to the width ([`fit_title`]).
fn titled<'x, 'a, 'b, DB: DrawingBackend>(
    builder: &'x mut ChartBuilder<'a, 'b, DB>,
    title: &str,
) -> &'x mut ChartBuilder<'a, 'b, DB> {
    let (text, size) = fit_title(title);
    builder.caption(text, (FAMILY, size))
}

/// A bar chart, as SVG text: bars standing up with their names below when the names fit there
/// at a readable size, else lying bars with the names (wrapped if long) on the left.
pub(super) fn bars(title: &str, y_label: &str, bars: &[(&str, f64)]) -> Result<String, ChartError> {
    register_font()?;
    let n = bars.len();
    let longest = bars
        .iter()
        .map(|b| b.0.chars().count())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let per_bar = (WIDTH - 105) as f64 / n as f64;
    let fit = 0.92 * per_bar / (CHAR_WIDTH * longest);
    if fit >= MIN_TEXT as f64 * SVG_SCALE {
        upright_bars(title, y_label, bars, fit.min(LABEL_SIZE as f64))
    } else {
        lying_bars(title, y_label, bars)
    }
}

/// The segments of a bar chart of `n` bars: `(offset of the first bar, segments)`. A lone bar gets
/// the middle of three, as plotters cannot map a range of one value.
fn lone_bar_segments(n: usize) -> (usize, usize) {
    if n == 1 { (1, 3) } else { (0, n) }
}

/// The value axis of a bar chart: from 0 (or below, for negative values), with room for the
/// value written at the end of each bar.
fn value_range(bars: &[(&str, f64)], room: f64) -> Result<std::ops::Range<f64>, ChartError> {
    let (lo, hi) = min_max(bars.iter().map(|b| b.1));
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    if hi == lo {
        // Every bar is 0.
        return Ok(0.0..1.0);
    }
    let below = if lo < 0.0 { room } else { 0.0 };
    let (lo, hi) = range::linear("value", lo, hi, below, room)?;
    Ok(lo..hi)
}

/// Bars standing up, their names under them at `name_size` pixels.
fn upright_bars(
    title: &str,
    y_label: &str,
    bars: &[(&str, f64)],
    name_size: f64,
) -> Result<String, ChartError> {
    let n = bars.len();
    // A lone bar stands in the middle of three segments (a range of one value has no width).
    let (off, segs) = lone_bar_segments(n);
    let labels: Vec<String> = bars.iter().map(|b| b.0.to_string()).collect();
    let y_range = value_range(bars, 0.12)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = titled(&mut ChartBuilder::on(&root), title)
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(75)
            .build_cartesian_2d((0..segs - 1).into_segmented(), y_range)
            .map_err(draw_err)?;
        let x_fmt = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(j) => j
                .checked_sub(off)
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        let y_fmt = |v: &f64| fmt_num(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(segs + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .y_desc(y_label)
            .label_style((FAMILY, LABEL_SIZE))
            .x_label_style((FAMILY, name_size))
            .axis_desc_style((FAMILY, DESC_SIZE))
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_err)?;

        let plot_width = chart.plotting_area().dim_in_pixel().0;
        let gap = (plot_width as f64 / segs as f64 * 0.15).round() as u32;
        let bar_style = PALETTE[0].filled();
        chart
            .draw_series(bars.iter().enumerate().map(|(i, &(_, v))| {
                let mut r = Rectangle::new(
                    [
                        (SegmentValue::Exact(i + off), 0.0),
                        (SegmentValue::Exact(i + off + 1), v),
                    ],
                    bar_style,
                );
                r.set_margin(0, 0, gap, gap);
                r
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, &(_, v))| {
                let v_pos = if v < 0.0 { VPos::Top } else { VPos::Bottom };
                let style = (FAMILY, LABEL_SIZE)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, v_pos));
                Text::new(fmt_num(v), (SegmentValue::CenterOf(i + off), v), style)
            }))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// `text` in lines of at most `width` characters, broken at spaces where it can be.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// Bars lying down, first at the top, their names on the left (wrapped to fit).
fn lying_bars(title: &str, x_label: &str, bars: &[(&str, f64)]) -> Result<String, ChartError> {
    let n = bars.len();
    let (off, segs) = lone_bar_segments(n);
    // Names get at most 40% of the width, in lines of at least 12 characters.
    let max_chars = ((0.4 * WIDTH as f64 - 20.0) / (CHAR_WIDTH * LABEL_SIZE as f64)) as usize;
    let names: Vec<Vec<String>> = bars.iter().map(|b| wrap(b.0, max_chars.max(12))).collect();
    let widest = names
        .iter()
        .flatten()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1) as f64;
    let name_area = (CHAR_WIDTH * LABEL_SIZE as f64 * widest + 20.0) as u32;
    let x_range = value_range(bars, 0.16)?;
    let line_height = LABEL_SIZE as f64 * 1.2;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = titled(&mut ChartBuilder::on(&root), title)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(name_area)
            .build_cartesian_2d(x_range, (0..segs - 1).into_segmented())
            .map_err(draw_err)?;
        let x_fmt = |v: &f64| fmt_num(*v);
        let no_names = |_: &SegmentValue<usize>| String::new();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(segs + 1)
            .y_label_formatter(&no_names)
            .x_label_formatter(&x_fmt)
            .x_desc(x_label)
            .label_style((FAMILY, LABEL_SIZE))
            .axis_desc_style((FAMILY, DESC_SIZE))
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_err)?;
        // Bar i lies in segment segs - 1 - (i + off), so the first bar is at the top.
        let slot = |i: usize| segs - 1 - (i + off);
        let name_style = (FAMILY, LABEL_SIZE)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, lines) in names.iter().enumerate() {
            let (x0, y) = chart
                .plotting_area()
                .map_coordinate(&(chart.x_range().start, SegmentValue::CenterOf(slot(i))));
            let top = y as f64 - line_height * (lines.len() as f64 - 1.0) / 2.0;
            for (j, line) in lines.iter().enumerate() {
                let at = (x0 - 8, (top + j as f64 * line_height).round() as i32);
                root.draw(&Text::new(line.as_str(), at, &name_style))
                    .map_err(draw_err)?;
            }
        }
        let plot_height = chart.plotting_area().dim_in_pixel().1;
        let gap = (plot_height as f64 / segs as f64 * 0.18).round() as u32;
        let bar_style = PALETTE[0].filled();
        chart
            .draw_series(bars.iter().enumerate().map(|(i, &(_, v))| {
                let mut r = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(slot(i))),
                        (v, SegmentValue::Exact(slot(i) + 1)),
                    ],
                    bar_style,
                );
                r.set_margin(gap, gap, 0, 0);
                r
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, &(_, v))| {
                let h_pos = if v < 0.0 { HPos::Right } else { HPos::Left };
                let style = (FAMILY, LABEL_SIZE)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(h_pos, VPos::Center));
                let dx = if v < 0.0 { -5 } else { 5 };
                EmptyElement::at((v, SegmentValue::CenterOf(slot(i))))
                    + Text::new(fmt_num(v), (dx, 0), style)
            }))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// A line chart (linear, speed-up or log-log), as SVG text.
pub(super) fn lines(
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
pub(super) fn legend_corner_for_test(paths: &[Vec<(f64, f64)>], names: &[&str]) -> &'static str {
    match legend_corner(paths, names) {
        SeriesLabelPosition::UpperLeft => "UpperLeft",
        SeriesLabelPosition::UpperRight => "UpperRight",
        SeriesLabelPosition::LowerRight => "LowerRight",
        SeriesLabelPosition::LowerLeft => "LowerLeft",
        _ => "other",
    }
}

/// A bar of a timeline chart, after thinning: lane, kind, start and end in the chart's time unit.
pub(super) struct Bar {
    pub(super) lane: usize,
    /// Its track in the lane (0 at the top), of `tracks` (overlapping spans of one lane).
    pub(super) track: usize,
    pub(super) tracks: usize,
    pub(super) kind: crate::timeline::Kind,
    pub(super) start: f64,
    pub(super) end: f64,
    /// The label, when the bar is one span (not merged) and wide enough to hold it.
    pub(super) label: Option<String>,
    /// How opaque: the share of its time that was recorded (merged across gaps: less than 1).
    pub(super) opacity: f64,
}

/// The colour of a timeline kind (Okabe and Ito, with grey for waiting).
pub(super) fn kind_color(kind: crate::timeline::Kind) -> RGBColor {
    use crate::timeline::Kind;
    match kind {
        Kind::Running => RGBColor(0, 114, 178),
        Kind::HoldingGil => RGBColor(213, 94, 0),
        Kind::NoGil => RGBColor(0, 158, 115),
        Kind::Waiting => RGBColor(128, 128, 128),
        Kind::Holding => RGBColor(230, 159, 0),
        Kind::Starting => RGBColor(204, 121, 167),
        Kind::Sending => RGBColor(86, 180, 233),
        Kind::Task => RGBColor(0, 114, 178),
        Kind::Unfinished => RGBColor(40, 40, 40),
    }
}

/// The legend's words for white on a timeline row.
pub(super) const NOTHING_RECORDED: &str = "white: nothing recorded";

/// The width in pixels of the plot of a timeline chart (for thinning).
pub(super) fn timeline_plot_width(lanes: &[String]) -> (u32, u32) {
    let longest = lanes.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let name_area = (CHAR_WIDTH * LABEL_SIZE as f64 * longest.min(22.0) + 20.0) as u32;
    (WIDTH - 30 - name_area, name_area)
}

/// A timeline chart as SVG text: a row per lane (first at the top), a bar per (thinned) span,
/// the legend of the kinds drawn along the bottom.
pub(super) fn timeline(
    title: &str,
    unit: &str,
    total: f64,
    lanes: &[String],
    bars: &[Bar],
    kinds: &[crate::timeline::Kind],
    gaps: bool,
) -> Result<String, ChartError> {
    register_font()?;
    let n = lanes.len().max(1);
    let (_, name_area) = timeline_plot_width(lanes);
    let max_chars = ((name_area as f64 - 20.0) / (CHAR_WIDTH * LABEL_SIZE as f64)).round() as usize;
    // The legend: rows of entries that fit the width; `None` is white, "nothing recorded".
    let entries: Vec<Option<crate::timeline::Kind>> = kinds
        .iter()
        .map(|&k| Some(k))
        .chain(gaps.then_some(None))
        .collect();
    let entry_name = |k: Option<crate::timeline::Kind>| k.map_or(NOTHING_RECORDED, |k| k.name());
    let mut legend_rows: Vec<Vec<Option<crate::timeline::Kind>>> = vec![Vec::new()];
    let mut used = 0.0;
    for &k in &entries {
        let w = 30.0 + CHAR_WIDTH * LEGEND_SIZE as f64 * entry_name(k).chars().count() as f64;
        if used + w > (WIDTH - 40) as f64 && !legend_rows.last().is_some_and(|r| r.is_empty()) {
            legend_rows.push(Vec::new());
            used = 0.0;
        }
        if let Some(row) = legend_rows.last_mut() {
            row.push(k);
        }
        used += w;
    }
    let legend_h = 24 * legend_rows.len() as u32 + 6;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (upper, lower) = root.split_vertically(HEIGHT - legend_h);
        let mut chart = titled(&mut ChartBuilder::on(&upper), title)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(name_area)
            .build_cartesian_2d(0.0..total, 0.0..n as f64)
            .map_err(draw_err)?;
        let x_fmt = |v: &f64| fmt_num(*v);
        let no_names = |_: &f64| String::new();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .y_label_formatter(&no_names)
            .x_label_formatter(&x_fmt)
            .x_desc(format!("time ({unit})"))
            .label_style((FAMILY, LABEL_SIZE))
            .axis_desc_style((FAMILY, DESC_SIZE))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0, 0, 0).mix(0.08))
            .draw()
            .map_err(draw_err)?;
        let top = |lane: usize| (n - lane) as f64;
        let name_style = (FAMILY, LABEL_SIZE)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, name) in lanes.iter().enumerate() {
            let (x0, y) = chart.plotting_area().map_coordinate(&(0.0, top(i) - 0.5));
            let mut shown: String = name.chars().take(max_chars.max(4)).collect();
            if shown.chars().count() < name.chars().count() {
                shown.pop();
                shown.push('…');
            }
            root.draw(&Text::new(shown, (x0 - 8, y), &name_style))
                .map_err(draw_err)?;
        }
        let row_px = chart.plotting_area().dim_in_pixel().1 as f64 / n as f64;
        let pad = if row_px > 12.0 { 0.15 } else { 0.05 };
        // A bar's top and bottom: its lane's row, cut into its tracks.
        let span_of = |b: &Bar| {
            let h = (1.0 - 2.0 * pad) / b.tracks.max(1) as f64;
            let hi = top(b.lane) - pad - h * b.track as f64;
            let gap = if b.tracks > 1 { h * 0.08 } else { 0.0 };
            (hi - gap, hi - h + gap)
        };
        chart
            .draw_series(bars.iter().map(|b| {
                let (hi, lo) = span_of(b);
                let fill = kind_color(b.kind).mix(b.opacity).filled();
                Rectangle::new([(b.start, hi), (b.end, lo)], fill)
            }))
            .map_err(draw_err)?;
        // A span cut off (a worker's death, a lock's time-out) is often a moment: draw it at least
        // 8 px wide, so that the place a lesson points to can be seen.
        let per_px = total / chart.plotting_area().dim_in_pixel().0.max(1) as f64;
        chart
            .draw_series(
                bars.iter()
                    .filter(|b| b.kind == crate::timeline::Kind::Unfinished)
                    .filter(|b| b.end - b.start < 8.0 * per_px)
                    .map(|b| {
                        let (hi, lo) = span_of(b);
                        let end = (b.start + 8.0 * per_px).min(total);
                        let start = (end - 8.0 * per_px).max(0.0);
                        Rectangle::new([(start, hi), (end, lo)], kind_color(b.kind).filled())
                    }),
            )
            .map_err(draw_err)?;
        // Labels inside bars wide enough to hold them (and rows tall enough).
        let tall_enough =
            |b: &Bar| row_px * (1.0 - 2.0 * pad) / b.tracks.max(1) as f64 >= MIN_TEXT as f64 + 4.0;
        {
            let label_style = |k: crate::timeline::Kind| {
                let dark = matches!(
                    k,
                    crate::timeline::Kind::Waiting
                        | crate::timeline::Kind::Holding
                        | crate::timeline::Kind::Sending
                );
                (FAMILY, LABEL_SIZE)
                    .into_font()
                    .color(if dark { &BLACK } else { &WHITE })
                    .pos(Pos::new(HPos::Center, VPos::Center))
            };
            chart
                .draw_series(bars.iter().filter(|b| tall_enough(b)).filter_map(|b| {
                    let label = b.label.as_ref()?;
                    let (hi, lo) = span_of(b);
                    Some(Text::new(
                        label.clone(),
                        ((b.start + b.end) / 2.0, (hi + lo) / 2.0),
                        label_style(b.kind),
                    ))
                }))
                .map_err(draw_err)?;
        }
        // The legend.
        let legend_style = (FAMILY, LEGEND_SIZE)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (r, row) in legend_rows.iter().enumerate() {
            let y = 12 + 24 * r as i32;
            let mut x = 20i32;
            for &k in row {
                let swatch = [(x, y - 7), (x + 18, y + 7)];
                match k {
                    Some(k) => lower.draw(&Rectangle::new(swatch, kind_color(k).filled())),
                    None => lower.draw(&Rectangle::new(swatch, BLACK.stroke_width(1))),
                }
                .map_err(draw_err)?;
                lower
                    .draw(&Text::new(entry_name(k), (x + 24, y), &legend_style))
                    .map_err(draw_err)?;
                x += (30.0 + CHAR_WIDTH * LEGEND_SIZE as f64 * entry_name(k).chars().count() as f64)
                    as i32;
            }
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}
