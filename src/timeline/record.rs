//! The bounded record a [`Timeline`] shares between its handles: at most
//! [`MAX_SPANS`] spans, [`MAX_LANES`] lanes and [`MAX_LABEL`] bytes a label.

use std::collections::HashMap;
use std::thread::ThreadId;

#[cfg(doc)]
use super::Timeline;
use super::{Lane, Span};

/// The most spans a [`Timeline`] keeps (its first ones); later spans are counted in
/// [`Timeline::dropped`], not kept. A span takes about 80 bytes and its label.
///
/// # Examples
/// ```
/// use parlab::timeline::{Kind, Timeline, MAX_SPANS};
/// let tl = Timeline::new();
/// let lane = tl.lane("loop");
/// for i in 0..MAX_SPANS as u64 + 5 {
///     tl.record_ns(lane, Kind::Running, "step", i, i + 1);
/// }
/// assert_eq!(tl.spans().len(), MAX_SPANS);
/// assert_eq!(tl.dropped(), 5);
/// ```
pub const MAX_SPANS: usize = 100_000;

/// The most lanes a [`Timeline`] keeps apart: lanes made after the first `MAX_LANES - 1` all share
/// the last one, named [`OTHER_LANES`] (a chart draws far fewer: [`crate::chart::MAX_LANES`]).
///
/// # Examples
/// ```
/// use parlab::timeline::{Timeline, MAX_LANES, OTHER_LANES};
/// let tl = Timeline::new();
/// for i in 0..MAX_LANES + 3 {
///     tl.lane(&format!("thread {i}"));
/// }
/// assert_eq!(tl.lanes().len(), MAX_LANES);
/// assert_eq!(tl.lanes().last().map(String::as_str), Some(OTHER_LANES));
/// ```
pub const MAX_LANES: usize = 1_000;

/// The name of the lane that every lane past [`MAX_LANES`] shares.
pub const OTHER_LANES: &str = "other lanes (more than a timeline keeps apart)";

/// The longest label or lane name a [`Timeline`] keeps, in bytes: a longer one is cut (at a
/// character boundary) and ends with `…`.
///
/// # Examples
/// ```
/// use parlab::timeline::{Kind, Timeline, MAX_LABEL};
/// let tl = Timeline::new();
/// tl.record_ns(tl.lane("w"), Kind::Running, "x".repeat(10_000), 0, 1);
/// let label = &tl.spans()[0].label;
/// assert!(label.len() <= MAX_LABEL + '…'.len_utf8() && label.ends_with('…'));
/// ```
pub const MAX_LABEL: usize = 200;

/// `label`, cut to at most [`MAX_LABEL`] bytes (at a character boundary) and marked with `…`.
pub(super) fn bounded(mut label: String) -> String {
    if label.len() > MAX_LABEL {
        let mut end = MAX_LABEL;
        while !label.is_char_boundary(end) {
            end -= 1;
        }
        label.truncate(end);
        label.push('…');
        label.shrink_to_fit();
    }
    label
}

#[derive(Debug, Default)]
pub(super) struct Record {
    pub(super) lanes: Vec<String>,
    pub(super) spans: Vec<Span>,
    /// Spans recorded after [`MAX_SPANS`] were kept: counted, not kept.
    pub(super) dropped: u64,
    pub(super) by_thread: HashMap<ThreadId, Lane>,
    /// Threads seen so far per name, to number their lanes (`GIL thread 1`, `GIL thread 2`).
    pub(super) per_name: HashMap<String, usize>,
}

impl Record {
    /// Keeps `span` if there is room, else counts it.
    pub(super) fn push(&mut self, span: Span) {
        if self.spans.len() < MAX_SPANS {
            self.spans.push(span);
        } else {
            self.dropped += 1;
        }
    }

    /// Whether every lane but the shared last one is taken.
    pub(super) fn lanes_full(&self) -> bool {
        self.lanes.len() >= MAX_LANES - 1
    }

    /// A new lane called `name`, or the shared last lane once [`MAX_LANES`] - 1 are taken.
    pub(super) fn new_lane(&mut self, name: String) -> Lane {
        if self.lanes_full() {
            if self.lanes.len() < MAX_LANES {
                self.lanes.push(OTHER_LANES.to_string());
            }
            return Lane(MAX_LANES - 1);
        }
        self.lanes.push(bounded(name));
        Lane(self.lanes.len() - 1)
    }
}
