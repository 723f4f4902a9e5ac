//! Drawing a timeline chart: a row per lane, a bar per (thinned) span, the legend of the kinds.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{
    CHAR_WIDTH, DESC_SIZE, FAMILY, LABEL_SIZE, LEGEND_SIZE, MIN_TEXT, draw_err, fmt_num,
    register_font, titled,
};
use crate::chart::canvas::{HEIGHT, WIDTH};
use crate::chart::error::ChartError;

/// A bar of a timeline chart, after thinning: lane, kind, start and end in the chart's time unit.
pub(in crate::chart) struct Bar {
    pub(in crate::chart) lane: usize,
    /// Its track in the lane (0 at the top), of `tracks` (overlapping spans of one lane).
    pub(in crate::chart) track: usize,
    pub(in crate::chart) tracks: usize,
    pub(in crate::chart) kind: crate::timeline::Kind,
    pub(in crate::chart) start: f64,
    pub(in crate::chart) end: f64,
    /// The label, when the bar is one span (not merged) and wide enough to hold it.
    pub(in crate::chart) label: Option<String>,
    /// How opaque: the share of its time that was recorded (merged across gaps: less than 1).
    pub(in crate::chart) opacity: f64,
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
pub(in crate::chart) fn timeline_plot_width(lanes: &[String]) -> (u32, u32) {
    let longest = lanes.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let name_area = (CHAR_WIDTH * LABEL_SIZE as f64 * longest.min(22.0) + 20.0) as u32;
    (WIDTH - 30 - name_area, name_area)
}

/// A timeline chart as SVG text: a row per lane (first at the top), a bar per (thinned) span,
/// the legend of the kinds drawn along the bottom.
pub(in crate::chart) fn timeline(
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
