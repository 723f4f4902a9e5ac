//! The check of lesson 03's exercise `pi_with_queue(queue, sizes)`.

use super::{ProcessError, Queue};
use crate::pi;

/// A learner's `pi_with_queue`.
type PiWithQueue<'a> =
    &'a dyn Fn(&Queue<(f64, u64)>, [u64; 2]) -> Result<Vec<(f64, u64)>, ProcessError>;

/// Checks a learner's `pi_with_queue(queue, sizes)`: two child processes, forked one per size,
/// child `i` putting `pi::calc_pi(sizes[i], i)` on `queue`, and the results read before joining
/// and returned in the order they arrived.
///
/// The queue itself records who put each message (the putter's process id) and in which order,
/// so the check sees what happened: no child processes at all (results put by the kernel's own
/// process, or never put on the queue), one child for both, the wrong seed, and results sorted
/// instead of read in arrival order. A second run holds back the first result put, so that the
/// results arrive in the other order: an answer that sorts them then shows. The queue has room
/// for one result only: joining a child before reading its result waits forever (until the
/// time-out), as Python's `Queue` does with big results.
///
/// # Errors
/// A message saying what the code did, for [`crate::exercise::check_within`].
///
/// # Examples
/// ```no_run
/// use std::time::Duration;
/// use parlab::{pi, process};
/// fn pi_with_queue(queue: &process::Queue<(f64, u64)>, sizes: [u64; 2]) -> Result<Vec<(f64, u64)>, process::ProcessError> {
///     let t = Duration::from_secs(10);
///     let quiet = process::Options { warn: false, ..Default::default() };
///     let mut children = Vec::new();
///     for (i, n) in sizes.into_iter().enumerate() {
///         let q = queue.clone();
///         children.push(process::fork_with(move || {
///             let est = pi::calc_pi(n, i as u64).expect("n > 0");
///             q.put(&(est.estimate, est.samples), t).is_ok()
///         }, &quiet)?);
///     }
///     let results = vec![queue.get(t)?, queue.get(t)?];
///     for mut child in children {
///         child.join(t)?;
///     }
///     Ok(results)
/// }
/// assert!(process::check_pi_with_queue(pi_with_queue).is_ok());
/// ```
pub fn check_pi_with_queue<F>(pi_with_queue: F) -> Result<String, String>
where
    F: Fn(&Queue<(f64, u64)>, [u64; 2]) -> Result<Vec<(f64, u64)>, ProcessError>,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_dyn(&pi_with_queue)
}

fn check_dyn(pi_with_queue: PiWithQueue<'_>) -> Result<String, String> {
    let (big, small) = (300_000_000u64, 1_000_000u64);
    let sizes = [big, small];
    let want: Vec<f64> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| pi::calc_pi(n, i as u64).map(|e| e.estimate))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    // 1. As it comes: the small run finishes first.
    let first = run(pi_with_queue, sizes, &want, false)?;
    // 2. The first result put is held back until the other is on the queue: arrival reversed.
    let second = run(pi_with_queue, sizes, &want, true)?;
    Ok(format!(
        "two child processes (pids {} and {}) each put their estimate on the queue, with seeds 0 \
         and 1; you read both before joining and returned them as they arrived: the small run \
         first ({:.4}, then {:.5}), and, when the check held the first one back, the other way \
         round ({second})",
        first.pids[0], first.pids[1], first.estimates[0], first.estimates[1]
    ))
}

/// What one run showed.
struct Seen {
    pids: [u32; 2],
    estimates: [f64; 2],
}

fn run(
    pi_with_queue: PiWithQueue<'_>,
    sizes: [u64; 2],
    want: &[f64],
    hold_first: bool,
) -> Result<Seen, String> {
    let queue = Queue::<(f64, u64)>::new(1).map_err(|e| e.to_string())?; // room for one result
    if hold_first {
        queue.hold_first_put();
    }
    let call = format!("pi_with_queue(queue, {sizes:?})");
    let got = pi_with_queue(&queue, sizes);
    let log = queue.put_log();
    let me = std::process::id();
    let got = match got {
        Ok(got) => got,
        Err(e) => return Err(failed(&call, &e, &log)),
    };
    if log.is_empty() {
        return Err(format!(
            "{call} returned {got:?}, but nothing was put on the queue it was given: each child \
             must put its (estimate, samples) on `queue` (a queue made inside your function is \
             not the one passed in), and the parent reads them from it"
        ));
    }
    if log.iter().any(|&(pid, _)| pid == me) {
        return Err(format!(
            "{call}: a result was put on the queue by this process itself (pid {me}), not by a \
             child process: threads, or no processes at all, instead of fork. Fork one child per \
             size with process::fork_with, and let each child compute and put its own result"
        ));
    }
    if log.len() != 2 {
        return Err(format!(
            "{call}: {} results were put on the queue, expected 2 (one per child)",
            log.len()
        ));
    }
    if log[0].0 == log[1].0 {
        return Err(format!(
            "{call}: both results were put by the same child process (pid {}): fork one child \
             per size",
            log[0].0
        ));
    }
    if got.len() != 2 {
        return Err(format!(
            "{call} returned {} results ({got:?}), expected the 2 that the children put on the \
             queue",
            got.len()
        ));
    }
    for (i, &n) in sizes.iter().enumerate() {
        let Some(&(estimate, _)) = got.iter().find(|r| r.1 == n) else {
            return Err(format!(
                "{call} returned {got:?}: no result for {n} samples (each child puts \
                 (estimate, samples))"
            ));
        };
        if estimate.to_bits() != want[i].to_bits() {
            let seed = (0..8u64).find(|&s| {
                pi::calc_pi(n, s).is_ok_and(|e| e.estimate.to_bits() == estimate.to_bits())
            });
            let what = match seed {
                Some(s) => format!(
                    "pi::calc_pi({n}, {s}), with seed {s}: child {i} must use seed {i} (with the \
                     same seed in both children, the small run counts the first points of the big \
                     one's stream: not two independent estimates)"
                ),
                None => format!("not pi::calc_pi({n}, {i}) = {}", want[i]),
            };
            return Err(format!(
                "{call}: the estimate for {n} samples is {estimate}, which is {what}"
            ));
        }
    }
    // Arrival order: the order the children's puts committed, matched by fingerprint.
    let arrived: Vec<Option<usize>> = got
        .iter()
        .map(|r| {
            let f = Queue::fingerprint_of(r);
            log.iter().position(|&(_, p)| Some(p) == f)
        })
        .collect();
    if arrived != [Some(0), Some(1)] {
        let order: Vec<u64> = log
            .iter()
            .filter_map(|&(_, p)| {
                got.iter()
                    .find(|r| Queue::fingerprint_of(r) == Some(p))
                    .map(|r| r.1)
            })
            .collect();
        let held = if hold_first {
            " (the check held the first result back, so the big run's arrived first this time)"
        } else {
            ""
        };
        let sorted = got.windows(2).all(|w| w[0].1 <= w[1].1);
        let why = if sorted {
            "your code returned them sorted by size"
        } else {
            "your code returned them in another order (the children's?)"
        };
        return Err(format!(
            "{call}: the results arrived as {order:?} samples{held}, but {why}: return them in \
             the order `queue.get` gave them"
        ));
    }
    let pids = [log[0].0, log[1].0];
    let by_arrival = |k: usize| got[k].0;
    Ok(Seen {
        pids,
        estimates: [by_arrival(0), by_arrival(1)],
    })
}

/// What to say when the learner's function returned an error, from what the queue saw.
fn failed(call: &str, e: &ProcessError, log: &[(u32, u32)]) -> String {
    let timed_out =
        |what: &str| matches!(e, ProcessError::Timeout { what: w, .. } if w.contains(what));
    if timed_out("queue get") && log.len() >= 2 {
        return format!(
            "{call} failed: {e}. Both children had put their result on the queue and both were \
             taken, so your code waited for a result that never comes: get exactly one result \
             per child (two)"
        );
    }
    if timed_out("queue put") {
        return format!(
            "{call} failed: {e}. The queue has room for one result, and nothing took the first \
             one off: the parent must get the results while the children put them"
        );
    }
    if matches!(e, ProcessError::Timeout { .. }) && log.len() < 2 {
        return format!(
            "{call} failed: {e}. Only {} result(s) reached the queue: a child waits to put its \
             result while the queue (room for one) is full, so joining it before reading the \
             queue waits forever. Get both results first, then join the children",
            log.len()
        );
    }
    format!("{call} failed: {e}")
}

impl std::fmt::Display for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.5}, then {:.4}", self.estimates[0], self.estimates[1])
    }
}
