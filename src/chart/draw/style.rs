//! What every chart shares: the bundled font and its sizes, the colours, numbers as text, titles.

use plotters::prelude::*;

use crate::chart::canvas::WIDTH;
use crate::chart::error::ChartError;

/// The bundled font (DejaVu Sans, see ../DejaVuSans-LICENSE.txt), used to measure text.
static FONT: &[u8] = include_bytes!("../DejaVuSans.ttf");
/// The font family plotters looks up, and the SVG asks the viewer for.
pub(super) const FAMILY: &str = "sans-serif";

// Font sizes as plotters takes them; its SVG says `font-size` = size / 1.24 pixels, so 17 is
// drawn at 13.7 px, just above MIN_TEXT.
const TITLE_SIZE: u32 = 24;
pub(super) const DESC_SIZE: u32 = 18;
pub(super) const LABEL_SIZE: u32 = 17;
pub(super) const LEGEND_SIZE: u32 = 17;
/// plotters' SVG backend writes a font of size `s` as `font-size = s / SVG_SCALE`.
pub(super) const SVG_SCALE: f64 = 1.24;

/// Colour-blind-safe colours (Okabe and Ito), one per series in turn.
pub(super) const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // green
    RGBColor(204, 121, 167), // purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
];
/// The ideal speed-up line (y = x): grey, dashed.
pub(super) const IDEAL: RGBColor = RGBColor(128, 128, 128);
/// The "available now" line: near-black, dotted, so it differs from the grey dashed ideal.
pub(super) const AVAILABLE: RGBColor = RGBColor(40, 40, 40);

/// Registers the bundled font under "sans-serif". Called by every chart: a registration made in one
/// evcxr cell is gone in the next (each cell has its own copy of plotters' statics).
pub(super) fn register_font() -> Result<(), ChartError> {
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).map_err(|_| ChartError::Font)
}

/// A plotters error as a [`ChartError::Draw`].
pub(super) fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// Smallest and largest of some values (`(inf, -inf)` if none).
pub(in crate::chart) fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// A number with about 3 significant digits, `2.5·10⁻⁵` style when very large or small.
pub(in crate::chart) fn fmt_num(v: f64) -> String {
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
pub(in crate::chart) fn fmt_log_tick(v: f64) -> String {
    if v > 0.0 && v.is_finite() {
        let e = v.log10().round();
        if (v / 10f64.powf(e) - 1.0).abs() < 1e-9 {
            return ten_to(e as i32);
        }
    }
    fmt_num(v)
}

/// The smallest text any chart draws: its SVG `font-size` in pixels, at the chart's own 720 px.
pub(in crate::chart) const MIN_TEXT: u32 = 13;

/// About how wide a character of DejaVu Sans is, as a share of plotters' font size (0.56 of the
/// SVG font size).
pub(super) const CHAR_WIDTH: f64 = 0.56 / SVG_SCALE;

/// A title that fits the chart's width: its text and font size, smaller for a long title (down to
/// the smallest size drawn, [`MIN_TEXT`]), cut with "…" beyond that (the description, which
/// starts with the title, keeps it whole).
pub(in crate::chart) fn fit_title(title: &str) -> (String, u32) {
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
pub(super) fn titled<'x, 'a, 'b, DB: DrawingBackend>(
    builder: &'x mut ChartBuilder<'a, 'b, DB>,
    title: &str,
) -> &'x mut ChartBuilder<'a, 'b, DB> {
    let (text, size) = fit_title(title);
    builder.caption(text, (FAMILY, size))
}
