//! The check of lesson 04's exercise `arrival_order(pool, sizes)`.

use super::{PoolError, PoolOptions, ProcessPool};
use crate::timeline::{Kind, Timeline};

/// A learner's `arrival_order`, given the check's process pool.
type ArrivalOrder<'a> = &'a dyn Fn(&ProcessPool, &[u64]) -> Result<Vec<u64>, PoolError>;

/// Checks a learner's `arrival_order(pool, sizes)`: `calc_pi` run on the pool given, through
/// `imap_unordered` in chunks of one task, and the samples of the results returned in the order
/// they arrived.
///
/// The check's pool records a timeline (see [`PoolOptions::timeline`]): which worker ran which
/// chunk of tasks, and in which order the caller was handed the results. So it sees what the code
/// did: no pool at all (or a new pool instead of the one given), `imap` (input order) followed by
/// a sort, results sorted instead of kept in arrival order, and chunks that make a small task's
/// result wait for the big one's.
///
/// # Errors
/// A message saying what the code did, for [`crate::exercise::check_within`].
///
/// # Examples
/// ```no_run
/// use parlab::pool::{self, Pool, PoolError};
/// use parlab::process::tasks;
/// fn arrival_order(any_pool: &impl Pool, sizes: &[u64]) -> Result<Vec<u64>, PoolError> {
///     let args = sizes.iter().map(|&n| (n, 1));
///     any_pool.imap_unordered(tasks::CALC_PI, args, Some(1))?
///         .map(|outcome| outcome.map(|est| est.samples))
///         .collect()
/// }
/// assert!(pool::check_arrival_order(|p, s| arrival_order(p, s)).is_ok());
/// ```
pub fn check_arrival_order<F>(arrival_order: F) -> Result<String, String>
where
    F: Fn(&ProcessPool, &[u64]) -> Result<Vec<u64>, PoolError>,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_dyn(&arrival_order)
}

fn check_dyn(arrival_order: ArrivalOrder<'_>) -> Result<String, String> {
    let big = 300_000_000u64;
    // The small ones largest first: as they finish, in this order, they are not sorted by size.
    let sizes: Vec<u64> = std::iter::once(big)
        .chain((1..=11).rev().map(|k| k * 1_000_000))
        .collect();
    let timeline = Timeline::new();
    let two = ProcessPool::with_options(&PoolOptions::new(2).timeline(&timeline))
        .map_err(|e| format!("the check could not start its pool: {e}"))?;
    let got = arrival_order(&two, &sizes).map_err(|e| format!("arrival_order failed: {e}"))?;
    let spans = timeline.spans();
    if timeline.dropped() > 0 {
        return Err(format!(
            "arrival_order made the pool record more than {} steps (calls, chunks, waits) for \
             twelve tasks, {} more than its record keeps: it ran far more tasks than the twelve \
             sizes (a loop that never ends?). Make one imap_unordered call over the sizes",
            crate::timeline::MAX_SPANS,
            timeline.dropped()
        ));
    }
    // The chunks the pool's workers ran, and the chunks handed to the caller, in order.
    let chunks: Vec<std::ops::Range<usize>> = spans
        .iter()
        .filter(|s| s.kind == Kind::Task)
        .filter_map(|s| s.tasks.clone())
        .collect();
    let ran: usize = chunks.iter().map(|c| c.len()).sum();
    if ran == 0 {
        return Err(format!(
            "arrival_order returned {got:?}, but the pool it was given (`any_pool`) ran no task: \
             it computed without that pool, or made a pool of its own. Run the tasks on \
             `any_pool` with imap_unordered"
        ));
    }
    let mut handed: Vec<(u64, &str)> = spans
        .iter()
        .filter(|s| s.kind == Kind::Waiting)
        .filter_map(|s| {
            let (call, rest) = s.label.split_once(": waited for ")?;
            Some((s.end_ns, call, rest))
        })
        .map(|(at, call, _)| (at, call))
        .collect();
    handed.sort_by_key(|&(at, _)| at);
    let waits: Vec<&str> = handed.iter().map(|&(_, c)| c).collect();
    let mut sorted_got = got.clone();
    sorted_got.sort_unstable();
    let mut want_set = sizes.clone();
    want_set.sort_unstable();
    let sorted_by_you = got.windows(2).all(|w| w[0] <= w[1]) && got != sizes;
    if waits.contains(&"imap") {
        let then = if sorted_by_you {
            ", then sorted them"
        } else {
            ""
        };
        return Err(format!(
            "arrival_order used imap, which hands the results back in input order{then} \
             (returned {got:?}): use imap_unordered, which hands each one back as soon as it is \
             done, and keep that order"
        ));
    }
    if waits.is_empty() {
        return Err(format!(
            "the pool ran the tasks, but arrival_order did not take their results from \
             imap_unordered one by one (map and starmap wait for all of them and give them in \
             input order): returned {got:?}. Use imap_unordered and keep the order it gives"
        ));
    }
    if sorted_got != want_set {
        return Err(format!(
            "expected the samples of all twelve results ({sizes:?} in some order), got {got:?}"
        ));
    }
    // The order the results were handed over: each handed chunk's tasks, in order.
    let order = handed_order(&spans, &sizes);
    if let Some(order) = &order {
        if &got != order {
            let why = if sorted_by_you {
                "sorted them by size"
            } else {
                "changed their order"
            };
            return Err(format!(
                "imap_unordered handed the results over as {order:?}, but arrival_order {why} \
                 and returned {got:?}: return them in the order they arrived"
            ));
        }
    }
    let first_chunk = chunks
        .iter()
        .find(|c| c.contains(&0))
        .cloned()
        .unwrap_or(0..1);
    if first_chunk.len() > 1 {
        let size = first_chunk.len();
        let all = if size >= sizes.len() {
            format!("all {} tasks in one chunk", sizes.len())
        } else {
            format!("the big task in a chunk with {} small ones", size - 1)
        };
        return Err(format!(
            "imap_unordered sent {all} (chunk size {size}; without one, it picks 2 here), and a \
             chunk's results come back together, in input order: the small results in the big \
             task's chunk waited for it ({got:?}). Pass a chunk size of 1"
        ));
    }
    let last = if got.last() == Some(&big) {
        ", the big task last"
    } else {
        ""
    };
    Ok(format!(
        "the pool ran the twelve tasks in chunks of one and you returned the results as they \
         arrived{last}: {got:?}"
    ))
}

/// The samples in the order the pool handed the results to the caller, from the caller's
/// `imap_unordered: waited for task N` spans (None if they cannot be read).
fn handed_order(spans: &[crate::timeline::Span], sizes: &[u64]) -> Option<Vec<u64>> {
    let mut waits: Vec<(u64, std::ops::Range<usize>)> = spans
        .iter()
        .filter(|s| s.kind == Kind::Waiting)
        .filter_map(|s| {
            let tasks = s.label.split_once(": waited for ")?.1;
            Some((s.end_ns, parse_tasks(tasks)?))
        })
        .collect();
    waits.sort_by_key(|(at, _)| *at);
    let order: Vec<u64> = waits
        .into_iter()
        .flat_map(|(_, r)| r)
        .map(|i| sizes.get(i).copied())
        .collect::<Option<_>>()?;
    (order.len() == sizes.len()).then_some(order)
}

/// `"task 3"` is 3..4, `"tasks 0-1"` is 0..2 (the labels of [`crate::timeline::tasks_label`]).
fn parse_tasks(label: &str) -> Option<std::ops::Range<usize>> {
    if let Some(n) = label.strip_prefix("task ") {
        let n: usize = n.trim().parse().ok()?;
        return Some(n..n + 1);
    }
    let (a, b) = label.strip_prefix("tasks ")?.split_once('-')?;
    let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    Some(a..b + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_labels_parse() {
        assert_eq!(parse_tasks("task 3"), Some(3..4));
        assert_eq!(parse_tasks("tasks 0-1"), Some(0..2));
        assert_eq!(parse_tasks("no tasks"), None);
    }
}
