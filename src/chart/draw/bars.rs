//! Drawing a bar chart: bars standing up, or lying down when their names are long.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{
    CHAR_WIDTH, DESC_SIZE, FAMILY, LABEL_SIZE, MIN_TEXT, PALETTE, SVG_SCALE, draw_err, fmt_num,
    min_max, register_font, titled,
};
use crate::chart::canvas::{HEIGHT, WIDTH};
use crate::chart::error::ChartError;
use crate::chart::range;

/// A bar chart, as SVG text: bars standing up with their names below when the names fit there
/// at a readable size, else lying bars with the names (wrapped if long) on the left.
pub(in crate::chart) fn bars(
    title: &str,
    y_label: &str,
    bars: &[(&str, f64)],
) -> Result<String, ChartError> {
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
pub(in crate::chart) fn wrap(text: &str, width: usize) -> Vec<String> {
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
