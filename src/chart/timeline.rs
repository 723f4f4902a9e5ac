//! The timeline chart's layout: who ran when, a row per lane, spans thinned to what the pixels
//! can show, and the description; its drawing is in [`super::draw`].

use super::canvas::MAX_LANES;
use super::draw;
use super::error::ChartError;
use super::figure::Chart;

/// A time unit for a span of `total_ns`: its name and nanoseconds per unit.
fn time_unit(total_ns: u64) -> (&'static str, f64) {
    match total_ns {
        0..10_000 => ("ns", 1.0),
        10_000..10_000_000 => ("µs", 1e3),
        10_000_000..10_000_000_000 => ("ms", 1e6),
        _ => ("s", 1e9),
    }
}

/// A timeline chart: a row per lane (a thread, a worker, the caller), each span a bar coloured by
/// its kind, with a legend of the kinds and a time axis in µs, ms or s.
///
/// Spans too small to see are merged with their neighbours of the same kind (or, where kinds
/// alternate faster than a pixel, a pixel shows the kind that took most of it); the chart then
/// says so in a note. The description (alt text) gives, per lane, the time spent in each kind.
///
/// # Errors
/// [`ChartError::EmptyTimeline`] with no spans, [`ChartError::SpanBackwards`] for a span that
/// ends before it starts, [`ChartError::TooManyLanes`] past [`MAX_LANES`].
///
/// # Examples
/// ```
/// use parlab::timeline::{Kind, Timeline};
/// let tl = Timeline::new();
/// let (a, b) = (tl.lane("thread 1"), tl.lane("thread 2"));
/// tl.record_ns(a, Kind::HoldingGil, "slice", 0, 5_000_000);
/// tl.record_ns(b, Kind::Waiting, "", 0, 5_000_000);
/// tl.record_ns(b, Kind::HoldingGil, "slice", 5_000_000, 10_000_000);
/// let c = parlab::chart::timeline("two threads, one GIL", &tl)?;
/// assert!(c.description().contains("thread 2: holding the GIL 5 ms (50%)"));
/// assert!(c.svg().contains("time (ms)"));
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
pub fn timeline(title: &str, timeline: &crate::timeline::Timeline) -> Result<Chart, ChartError> {
    use crate::timeline::Kind;
    let lanes = timeline.lanes();
    let spans = timeline.spans();
    if spans.is_empty() {
        return Err(ChartError::EmptyTimeline);
    }
    if let Some(s) = spans.iter().find(|s| s.end_ns < s.start_ns) {
        return Err(ChartError::SpanBackwards {
            lane: lanes.get(s.lane.index()).cloned().unwrap_or_default(),
            label: s.label.clone(),
            start_ns: s.start_ns,
            end_ns: s.end_ns,
        });
    }
    if lanes.len() > MAX_LANES {
        return Err(ChartError::TooManyLanes(lanes.len()));
    }
    let t0 = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let t1 = spans.iter().map(|s| s.end_ns).max().unwrap_or(0);
    let (unit, per) = time_unit(t1);
    let total = (t1.max(1) as f64 / per) * 1.02;
    let (plot_w, _) = draw::timeline_plot_width(&lanes);
    // One pixel, in ns.
    let px = (total * per / plot_w as f64).max(1.0);
    let mut bars: Vec<draw::Bar> = Vec::new();
    let mut thinned = Thinned::default();
    for lane in 0..lanes.len() {
        let mine: Vec<&crate::timeline::Span> =
            spans.iter().filter(|s| s.lane.index() == lane).collect();
        let tracks = tracks_of(&mine);
        let count = tracks.len();
        for (track, spans) in tracks.iter().enumerate() {
            let row = Row {
                lane,
                track,
                tracks: count,
            };
            bars.extend(row_bars(row, spans, px, per, plot_w, &mut thinned));
        }
    }
    let Thinned {
        merged,
        pixelled,
        pale,
    } = thinned;
    if bars.iter().filter(|b| b.label.is_some()).count() > 300 {
        for b in &mut bars {
            b.label = None;
        }
    }
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| spans.iter().any(|s| s.kind == *k))
        .collect();
    // White on a row: time inside the picture when nothing was recorded for that lane (before it
    // started, after it ended, between recorded steps). Said in the legend and the description.
    let gaps = (0..lanes.len()).any(|lane| {
        let mut end = t0 as f64;
        let mut gap = false;
        for s in spans.iter().filter(|s| s.lane.index() == lane) {
            gap |= s.start_ns as f64 > end + px;
            end = end.max(s.end_ns as f64);
        }
        gap || (end + px) < t1 as f64
    });
    let svg = draw::timeline(title, unit, total, &lanes, &bars, &kinds, gaps)?;
    // The description: per lane, time per kind.
    let wall = (t1 - t0).max(1) as f64;
    let fmt_t = |ns: f64| format!("{} {unit}", draw::fmt_num(ns / per));
    let mut text = format!(
        "Timeline chart \"{title}\": {} lane{}, {} span{} over {}, one row per lane, time from left to right.",
        lanes.len(),
        if lanes.len() == 1 { "" } else { "s" },
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        fmt_t(t1 as f64),
    );
    for (lane, name) in lanes.iter().enumerate() {
        let mine: Vec<&crate::timeline::Span> =
            spans.iter().filter(|s| s.lane.index() == lane).collect();
        if mine.is_empty() {
            text.push_str(&format!(" {name}: nothing recorded."));
            continue;
        }
        let parts: Vec<String> = kinds
            .iter()
            .filter_map(|&k| {
                let ns: u64 = mine
                    .iter()
                    .filter(|s| s.kind == k)
                    .map(|s| s.duration_ns())
                    .sum();
                let n = mine.iter().filter(|s| s.kind == k).count();
                (n > 0).then(|| {
                    format!(
                        "{} {} ({:.0}%{})",
                        k.name(),
                        fmt_t(ns as f64),
                        100.0 * ns as f64 / wall,
                        if n > 1 {
                            format!(", {n} spans")
                        } else {
                            String::new()
                        }
                    )
                })
            })
            .collect();
        let first = mine.iter().map(|s| s.start_ns).min().unwrap_or(0);
        let last = mine.iter().map(|s| s.end_ns).max().unwrap_or(0);
        text.push_str(&format!(
            " {name}: {} from {} to {}.",
            parts.join(", "),
            fmt_t(first as f64),
            fmt_t(last as f64)
        ));
    }
    if gaps {
        text.push_str(
            " White on a row is time when nothing was recorded for that lane: before it started, \
             after it ended, or between the steps that were recorded.",
        );
    }
    let mut chart = Chart::new(title, svg, text);
    let mut notes = Vec::new();
    if merged > 0 || pixelled > 0 {
        let mut note = String::new();
        if merged > 0 {
            note += &format!(
                "{merged} spans narrower than a pixel are merged with their neighbours of the same kind"
            );
        }
        if pixelled > 0 {
            if !note.is_empty() {
                note += "; ";
            }
            note += &format!(
                "{pixelled} runs alternate faster than the pixels: each pixel shows the kind that took most of it"
            );
        }
        if pale > 0 {
            note += "; a paler bar was busy only part of its time (its opacity is the busy share)";
        }
        notes.push(format!(
            "{note} (the description's totals count every span)."
        ));
    }
    let dropped = timeline.dropped();
    if dropped > 0 {
        notes.push(format!(
            "The timeline keeps its first {} spans: {dropped} recorded after them are not shown \
             (a loop that never ended?).",
            crate::timeline::MAX_SPANS
        ));
    }
    if !notes.is_empty() {
        chart = chart.with_note(notes.join(" "));
    }
    Ok(chart)
}

/// Where a timeline's bars go: lane `lane`, track `track` of its `tracks` (spans of one lane that
/// overlap in time, such as `apply_async` calls, are drawn on tracks one above the other).
#[derive(Debug, Clone, Copy)]
struct Row {
    lane: usize,
    track: usize,
    tracks: usize,
}

/// How many spans a timeline chart merged, how many runs it drew per pixel, and how many bars are
/// paler (partly idle).
#[derive(Debug, Default)]
struct Thinned {
    merged: usize,
    pixelled: usize,
    pale: usize,
}

/// A lane's spans (sorted by start) on tracks: each on the first track free at its start.
fn tracks_of<'a>(spans: &[&'a crate::timeline::Span]) -> Vec<Vec<&'a crate::timeline::Span>> {
    let mut tracks: Vec<Vec<&crate::timeline::Span>> = Vec::new();
    for &s in spans {
        match tracks
            .iter_mut()
            .find(|t| t.last().is_none_or(|l| l.end_ns <= s.start_ns))
        {
            Some(track) => track.push(s),
            None => tracks.push(vec![s]),
        }
    }
    tracks
}

/// The bars of one row's spans (sorted by start, none overlapping): runs of one kind whose gaps
/// and pieces are below a pixel (`px` ns) are merged; where kinds alternate faster than the
/// pixels, each pixel shows the kind that took most of it. A bar that stands for time only partly
/// spent in its kind (merged across gaps, or a pixel partly covered) is paler: its opacity is the
/// share of its time that was recorded. Times are divided by `per`.
fn row_bars(
    row: Row,
    spans: &[&crate::timeline::Span],
    px: f64,
    per: f64,
    plot_w: u32,
    thinned: &mut Thinned,
) -> Vec<draw::Bar> {
    use crate::timeline::Kind;
    /// A run of merged spans: kind, start, end, how many, the first's label, ns covered.
    struct Run<'a> {
        kind: Kind,
        start: f64,
        end: f64,
        count: usize,
        label: &'a str,
        covered: f64,
    }
    let bar = |kind, start, end, label, covered: f64| draw::Bar {
        lane: row.lane,
        track: row.track,
        tracks: row.tracks,
        kind,
        start,
        end,
        label,
        opacity: covered.clamp(MIN_OPACITY, 1.0),
    };
    let mut runs: Vec<Run> = Vec::new();
    for s in spans {
        let (a, b) = (s.start_ns as f64, s.end_ns as f64);
        match runs.last_mut() {
            Some(r)
                if r.kind == s.kind && a <= r.end + px && (b - a < px || r.end - r.start < px) =>
            {
                r.covered += b - a;
                r.end = r.end.max(b);
                r.count += 1;
            }
            _ => runs.push(Run {
                kind: s.kind,
                start: a,
                end: b,
                count: 1,
                label: &s.label,
                covered: b - a,
            }),
        }
    }
    thinned.merged += runs
        .iter()
        .filter(|r| r.count > 1)
        .map(|r| r.count)
        .sum::<usize>();
    let mut bars = Vec::new();
    if runs.len() > 2 * plot_w as usize {
        thinned.pixelled += runs.len();
        let cols = plot_w as usize + 1;
        let mut time = vec![[0f64; Kind::ALL.len()]; cols];
        for r in &runs {
            let k = Kind::ALL.iter().position(|&k| k == r.kind).unwrap_or(0);
            let (mut a, b) = (r.start, r.end);
            while a < b {
                let col = ((a / px) as usize).min(cols - 1);
                let edge = ((col + 1) as f64 * px).min(b).max(a + 1.0);
                time[col][k] += edge - a;
                a = edge;
            }
        }
        for (col, t) in time.iter().enumerate() {
            let best = (0..t.len()).max_by(|&i, &j| t[i].total_cmp(&t[j]));
            if let Some(k) = best.filter(|&k| t[k] > 0.0) {
                let covered = t.iter().sum::<f64>() / px;
                thinned.pale += usize::from(covered < PALE);
                let (start, end) = (col as f64 * px / per, (col + 1) as f64 * px / per);
                bars.push(bar(Kind::ALL[k], start, end, None, covered));
            }
        }
        return bars;
    }
    for r in runs {
        let width_px = (r.end - r.start) / px;
        let fits = 4.0 + 0.56 * 13.7 * r.label.chars().count() as f64;
        let label =
            (r.count == 1 && !r.label.is_empty() && width_px >= fits).then(|| r.label.to_string());
        let covered = if r.count == 1 {
            1.0
        } else {
            r.covered / (r.end - r.start).max(1.0)
        };
        thinned.pale += usize::from(covered < PALE);
        // At least two pixels wide, so every run shows (a worker's death takes no time).
        let end = r.start + (r.end - r.start).max(2.0 * px);
        bars.push(bar(r.kind, r.start / per, end / per, label, covered));
    }
    bars
}

/// The faintest a timeline bar is drawn (a lane busy 5% of a stretch still shows).
const MIN_OPACITY: f64 = 0.15;

/// A bar whose time is recorded less than this share of it counts as pale in the chart's note.
const PALE: f64 = 0.9;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::tests::texts;

    #[test]
    fn overlapping_spans_of_a_lane_go_on_tracks() {
        use crate::timeline::{Kind, Timeline};
        let tl = Timeline::new();
        let caller = tl.lane("caller");
        tl.record_ns(caller, Kind::Sending, "slow", 0, 100_000_000);
        tl.record_ns(caller, Kind::Sending, "quick", 1_000_000, 20_000_000);
        tl.record_ns(caller, Kind::Sending, "after", 30_000_000, 40_000_000);
        let spans = tl.spans();
        let refs: Vec<&crate::timeline::Span> = spans.iter().collect();
        let tracks = tracks_of(&refs);
        assert_eq!(tracks.len(), 2);
        assert_eq!(
            tracks[1]
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>(),
            ["quick", "after"]
        );
        let svg = timeline("two calls at once", &tl).unwrap();
        // Three bars: each its own rectangle, and both tracks' labels drawn.
        let t = texts(svg.svg());
        assert!(
            t.iter().any(|s| s == "slow") && t.iter().any(|s| s == "quick"),
            "{t:?}"
        );
    }

    #[test]
    fn merged_specks_with_gaps_are_pale_not_solid() {
        use crate::timeline::{Kind, Timeline};
        let tl = Timeline::new();
        let (specks, solid) = (tl.lane("mostly idle"), tl.lane("busy"));
        // 1 µs of work every 10 µs for 20 ms: 10% busy, in specks far below a pixel.
        for i in 0..2_000u64 {
            tl.record_ns(specks, Kind::Task, "", i * 10_000, i * 10_000 + 1_000);
        }
        tl.record_ns(solid, Kind::Task, "all the time", 0, 20_000_000);
        let c = timeline("specks", &tl).unwrap();
        assert!(
            c.description()
                .contains("a paler bar was busy only part of its time"),
            "{}",
            c.description()
        );
        // The idle lane's bar is drawn faint, the busy lane's solid.
        let svg = c.svg();
        assert!(
            svg.contains("opacity=\"0.15") || svg.contains("opacity=\"0.1"),
            "no faint bar"
        );
        assert!(
            c.description()
                .contains("mostly idle: task (worker's own clock) 2 ms (10%"),
            "{}",
            c.description()
        );
    }

    /// A timeline that recorded more than it keeps: the chart says how many spans it does not show.
    #[test]
    fn a_timeline_chart_says_what_was_not_kept() {
        use crate::timeline::{Kind, MAX_SPANS, Timeline};
        let tl = Timeline::new();
        let lane = tl.lane("caller");
        for i in 0..MAX_SPANS as u64 + 12 {
            tl.record_ns(lane, Kind::Sending, "apply", i * 1000, i * 1000 + 500);
        }
        let c = super::timeline("a loop that never ended", &tl).unwrap();
        assert!(
            c.description()
                .contains("12 recorded after them are not shown"),
            "{}",
            c.description()
        );
    }
}
