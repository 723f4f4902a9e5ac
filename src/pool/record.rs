//! What a pool records on a [`Timeline`] ([`PoolOptions::timeline`](super::PoolOptions::timeline)):
//! a lane for the caller and one per worker slot, and on them each worker's start, each chunk it
//! ran (as the worker measured it), chunks cut off by a worker's death, and the caller's calls.

use std::ops::Range;
use std::time::Instant;

use crate::timeline::{Kind, Lane, Timeline};

/// A pool's recorder: the timeline, the caller's lane and one lane per worker slot.
#[derive(Debug)]
pub(crate) struct Recorder {
    timeline: Timeline,
    caller: Lane,
    workers: Vec<Lane>,
}

impl Recorder {
    /// A recorder for a pool of `workers` slots whose lanes are named `{prefix} 1`, `{prefix} 2`,
    /// ..., below the lane `caller` (made now, so that the rows come in this order).
    pub(crate) fn new(timeline: &Timeline, prefix: &str, workers: usize) -> Self {
        let caller = timeline.lane("caller");
        let workers = (1..=workers)
            .map(|n| timeline.lane(&format!("{prefix} {n}")))
            .collect();
        Recorder {
            timeline: timeline.clone(),
            caller,
            workers,
        }
    }

    fn lane(&self, slot: usize) -> Lane {
        self.workers.get(slot).copied().unwrap_or(self.caller)
    }

    /// Slot `slot`'s worker started (or failed to start: `ok` false) from `start` to now.
    pub(crate) fn started(&self, slot: usize, label: String, start: Instant, ok: bool) {
        let kind = if ok { Kind::Starting } else { Kind::Unfinished };
        self.timeline
            .record(self.lane(slot), kind, label, start, Instant::now());
    }

    /// Slot `slot`'s worker ran `tasks` from `start_ns` to `end_ns` on the monotonic clock
    /// ([`monotonic_ns`](crate::timeline::monotonic_ns), read in the worker process).
    /// The span's label names the task: `task 0 (sleep)`.
    pub(crate) fn ran_mono(
        &self,
        slot: usize,
        tasks: Range<usize>,
        name: &str,
        start_ns: u64,
        end_ns: u64,
    ) {
        let tl = &self.timeline;
        let (s, e) = (tl.from_monotonic(start_ns), tl.from_monotonic(end_ns));
        tl.record_named_tasks_ns(self.lane(slot), Kind::Task, tasks, name, s, e);
    }

    /// Slot `slot`'s worker thread ran `tasks` from `start` to now.
    pub(crate) fn ran(&self, slot: usize, tasks: Range<usize>, start: Instant) {
        let tl = &self.timeline;
        let (s, e) = (tl.ns(start), tl.ns(Instant::now()));
        tl.record_tasks_ns(self.lane(slot), Kind::Task, tasks, s, e);
    }

    /// Slot `slot`'s worker never finished `tasks` of task `name`, sent at `sent` (it died): cut
    /// off now, labelled as the caller's error names it: `task 0 (abort): cut off, ...`.
    pub(crate) fn cut_off(
        &self,
        slot: usize,
        tasks: &Range<usize>,
        name: &str,
        why: &str,
        sent: Instant,
    ) {
        let label = format!(
            "{} ({name}): cut off, {why}",
            crate::timeline::tasks_label(tasks)
        );
        self.timeline.record(
            self.lane(slot),
            Kind::Unfinished,
            label,
            sent,
            Instant::now(),
        );
    }

    /// The caller's call `label`, from its submission at `start` until its last result arrived
    /// (now).
    pub(crate) fn call(&self, label: String, start: Instant) {
        self.timeline
            .record(self.caller, Kind::Sending, label, start, Instant::now());
    }

    /// The caller waited from `start` until now for `label` (an imap's next result).
    pub(crate) fn waited(&self, label: String, start: Instant) {
        self.timeline
            .record(self.caller, Kind::Waiting, label, start, Instant::now());
    }
}

/// The record of one call on the caller's lane, made when its last chunk finishes.
#[derive(Debug)]
pub(crate) struct CallSpan {
    pub(crate) recorder: std::sync::Arc<Recorder>,
    pub(crate) start: Instant,
}
