//! When a process pool's manager sends its worker a chunk before the worker has answered the
//! ones before it: the chunks in flight on a worker, and the bounds on queueing more behind them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::jobs::{Chunk, Work};

/// How many chunks a manager keeps sent to its worker and not yet answered, at most: a worker that
/// answers a chunk finds the next ones waiting, instead of idling while the answer travels back
/// and the next chunk travels to it; and one wake-up of either side reads several chunks or
/// answers at once.
pub(super) const IN_FLIGHT: usize = 8;

/// A chunk is queued behind those in flight only while their arguments take at most this many
/// bytes: a big chunk does not wait behind another big one on one worker.
const QUEUE_BEHIND_BYTES: usize = 64 * 1024;

/// A chunk is queued behind others only while they would take the worker less than this, judged
/// by its last chunk of the same task: there the round trips it saves count; behind long chunks,
/// the next one stays in the pool's queue, for whichever worker is free first (and a dropped
/// imap skips it).
const QUEUE_BEHIND_WORK: Duration = Duration::from_millis(1);

/// How long a worker ran its last chunk, and of which task.
pub(super) struct LastRun {
    pub(super) task: String,
    pub(super) took: Duration,
}

/// A chunk sent to a worker and not answered yet.
pub(super) struct InFlight {
    pub(super) chunk: Chunk,
    /// When the worker could start it: when it was sent, or when the chunk before it was
    /// answered. A chunk cut off by its worker's death is drawn from here.
    pub(super) since: Instant,
}

impl InFlight {
    /// The bytes of the chunk's arguments.
    fn bytes(&self) -> usize {
        match &self.chunk.work {
            Work::Task { args, .. } => args.len(),
            Work::Closure(_) => 0,
        }
    }
}

/// Whether a manager may send its worker one more chunk, behind those `in_flight` (see
/// [`IN_FLIGHT`] and the bounds after it), judged by the `last` one it ran. Only while the worker
/// holds less than its share of the `queued` chunks of the pool's `workers`: the others, and the
/// last ones, go to whichever worker is free first, so that long chunks are shared out.
pub(super) fn may_queue_behind(
    in_flight: &VecDeque<InFlight>,
    last: Option<&LastRun>,
    workers: usize,
    queued: usize,
) -> bool {
    let ahead = u32::try_from(in_flight.len()).unwrap_or(u32::MAX);
    let brief = |last: &LastRun| {
        // A chunk of another task says nothing of this one's.
        let same_task = in_flight
            .back()
            .is_some_and(|sent| sent.chunk.batch.task() == last.task);
        same_task && last.took.saturating_mul(ahead) < QUEUE_BEHIND_WORK
    };
    in_flight.len() < IN_FLIGHT
        && last.is_some_and(brief)
        && in_flight.iter().map(InFlight::bytes).sum::<usize>() <= QUEUE_BEHIND_BYTES
        && in_flight.len() * workers < queued
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::batch::tests_support::batch;
    use crate::process::{Signature, TaskId};

    /// `n` chunks of `echo` in flight, each with `bytes` bytes of arguments.
    fn sent(n: usize, bytes: usize) -> VecDeque<InFlight> {
        let call = batch(n, 1);
        (0..n)
            .map(|index| InFlight {
                chunk: Chunk {
                    batch: std::sync::Arc::clone(&call),
                    index,
                    work: Work::Task {
                        task: TaskId::Named("echo".into()),
                        signature: Signature::of::<u64, u64>(),
                        args: vec![0; bytes],
                    },
                },
                since: Instant::now(),
            })
            .collect()
    }

    fn last(task: &str, micros: u64) -> LastRun {
        LastRun {
            task: task.into(),
            took: Duration::from_micros(micros),
        }
    }

    #[test]
    fn only_brief_small_chunks_of_the_same_task_within_a_fair_share() {
        let tiny = last("echo", 10);
        assert!(may_queue_behind(&sent(1, 8), Some(&tiny), 2, 100));
        assert!(may_queue_behind(
            &sent(IN_FLIGHT - 1, 8),
            Some(&tiny),
            2,
            100
        ));
        assert!(!may_queue_behind(&sent(IN_FLIGHT, 8), Some(&tiny), 2, 100));
        assert!(
            !may_queue_behind(&sent(1, 8), None, 2, 100),
            "nothing ran yet"
        );
        let other = last("sleep", 10);
        assert!(!may_queue_behind(&sent(1, 8), Some(&other), 2, 100));
        assert!(!may_queue_behind(
            &sent(2, 8),
            Some(&last("echo", 600)),
            2,
            100
        ));
        assert!(!may_queue_behind(&sent(1, 70_000), Some(&tiny), 2, 100));
        // 3 in flight on one of 2 workers: only while more than 6 chunks wait.
        assert!(may_queue_behind(&sent(3, 8), Some(&tiny), 2, 7));
        assert!(!may_queue_behind(&sent(3, 8), Some(&tiny), 2, 6));
    }
}
