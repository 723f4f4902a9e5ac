//! A [`Buffer`]: spans of one lane kept locally, reaching the shared record of their
//! [`Timeline`] in one step when flushed.

use std::time::Instant;

use super::record::bounded;
use super::{Kind, Lane, MAX_SPANS, Span, Timeline};

impl Timeline {
    /// A buffer of spans for one lane that reaches the shared record only when flushed (or
    /// dropped): for a thread recording many spans, so that threads do not wait for each other's
    /// recording (which would change what is measured).
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// {
    ///     let mut buf = tl.buffer(tl.lane("w"));
    ///     buf.record_ns(Kind::Running, "a", 0, 10);
    ///     assert!(tl.spans().is_empty()); // not yet flushed
    /// }
    /// assert_eq!(tl.spans().len(), 1);
    /// ```
    pub fn buffer(&self, lane: Lane) -> Buffer {
        Buffer {
            timeline: self.clone(),
            lane,
            spans: Vec::new(),
            dropped: 0,
        }
    }
}

/// Spans of one lane kept locally until flushed into their [`Timeline`] (see
/// [`Timeline::buffer`]); dropping it flushes. It keeps at most [`MAX_SPANS`] unflushed spans
/// (later ones are counted, as the timeline counts them).
///
/// # Examples
/// ```
/// use parlab::timeline::{Kind, Timeline};
/// let tl = Timeline::new();
/// let mut buf = tl.buffer(tl.lane("w"));
/// buf.record(Kind::Running, "work", std::time::Instant::now(), std::time::Instant::now());
/// buf.flush();
/// assert_eq!(tl.spans().len(), 1);
/// ```
#[derive(Debug)]
#[must_use = "a buffer records nothing until it is flushed or dropped"]
pub struct Buffer {
    timeline: Timeline,
    lane: Lane,
    spans: Vec<Span>,
    /// Spans not kept: the buffer held [`MAX_SPANS`] already.
    dropped: u64,
}

impl Buffer {
    /// Keeps a span from `start` to `end`.
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let mut buf = tl.buffer(tl.lane("w"));
    /// let t = std::time::Instant::now();
    /// buf.record(Kind::Waiting, "lock", t, t);
    /// assert_eq!(buf.len(), 1);
    /// ```
    pub fn record(&mut self, kind: Kind, label: impl Into<String>, start: Instant, end: Instant) {
        let (s, e) = (self.timeline.ns(start), self.timeline.ns(end));
        self.record_ns(kind, label, s, e);
    }

    /// Keeps a span given in nanoseconds after the timeline's origin.
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let mut buf = tl.buffer(tl.lane("w"));
    /// buf.record_ns(Kind::Holding, "add", 5, 9);
    /// assert!(!buf.is_empty());
    /// ```
    pub fn record_ns(&mut self, kind: Kind, label: impl Into<String>, start_ns: u64, end_ns: u64) {
        if self.spans.len() >= MAX_SPANS {
            self.dropped += 1;
            return;
        }
        self.spans.push(Span {
            lane: self.lane,
            kind,
            label: bounded(label.into()),
            start_ns,
            end_ns,
            tasks: None,
        });
    }

    /// Spans kept and not yet flushed.
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// assert_eq!(tl.buffer(tl.lane("w")).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether no span is waiting to be flushed.
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// assert!(tl.buffer(tl.lane("w")).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The timeline it flushes into.
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// let buf = tl.buffer(tl.lane("w"));
    /// assert_eq!(buf.timeline().lanes(), ["w"]);
    /// ```
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Moves the kept spans into the timeline.
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let mut buf = tl.buffer(tl.lane("w"));
    /// buf.record_ns(Kind::Running, "x", 0, 1);
    /// buf.flush();
    /// assert!(buf.is_empty());
    /// assert_eq!(tl.spans().len(), 1);
    /// ```
    pub fn flush(&mut self) {
        if !self.spans.is_empty() || self.dropped > 0 {
            let dropped = std::mem::take(&mut self.dropped);
            self.timeline
                .extend(std::mem::take(&mut self.spans), dropped);
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        self.flush();
    }
}
