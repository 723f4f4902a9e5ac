//! The check of the exercise "sort two vectors on two threads" ([`check_sort_pair`]), with its
//! [`Spy`] numbers that record which threads compare them, and when.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Instant;

use super::random_vec::random_vec;

/// A number that remembers which threads compared it, and when: the spy of [`check_sort_pair`].
///
/// It sorts like its key; comparing it records the comparing thread in a log it shares.
///
/// # Examples
/// ```
/// // check_sort_pair builds these; a learner's sort only compares them.
/// let ok = parlab::threads::check_sort_pair(|a: &mut [parlab::threads::Spy], b: &mut [parlab::threads::Spy]| {
///     rayon::join(|| a.sort_unstable(), || b.sort_unstable());
/// });
/// assert!(ok.is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Spy {
    key: u64,
    log: Arc<SpyLog>,
}

/// The threads that compared a vector's keys, and the first and last comparison.
type Seen = (HashSet<ThreadId>, Option<(Instant, Instant)>);

#[derive(Debug, Default)]
struct SpyLog {
    threads: Mutex<Seen>,
    /// The deadline of the check that made the spies: a sort still comparing after it is stopped.
    give_up: Option<Instant>,
}

impl SpyLog {
    fn record(&self) {
        let now = Instant::now();
        if self.give_up.is_some_and(|at| now > at) {
            panic!("{}", crate::exercise::STOPPED);
        }
        let id = thread::current().id();
        let mut log = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        log.0.insert(id);
        log.1 = Some(match log.1 {
            None => (now, now),
            Some((first, _)) => (first, now),
        });
    }

    fn take(&self) -> Seen {
        std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl PartialEq for Spy {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Spy {}
impl PartialOrd for Spy {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Spy {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.log.record();
        self.key.cmp(&other.key)
    }
}

/// Checks a learner's "sort two vectors in two threads": both sorted, on different threads, at
/// the same time.
///
/// The vectors hold keys that record which thread compares them and when, so the check sees
/// whether the two sorts ran on two threads and overlapped in time (it tries three times before
/// saying they did not, as a busy machine can delay a thread).
///
/// # Errors
/// A message saying what is wrong, for [`crate::exercise::check`].
///
/// # Examples
/// ```
/// let ok = parlab::threads::check_sort_pair(|a, b| {
///     std::thread::scope(|s| {
///         s.spawn(|| a.sort_unstable());
///         b.sort_unstable();
///     })
/// });
/// assert!(ok.is_ok());
/// let serial = parlab::threads::check_sort_pair(|a, b| parlab::threads::sort_pair_serial(a, b));
/// assert!(serial.unwrap_err().contains("same thread"));
/// ```
pub fn check_sort_pair<F>(mut sort_two: F) -> Result<String, String>
where
    F: FnMut(&mut [Spy], &mut [Spy]),
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_sort_pair_dyn(&mut sort_two)
}

fn check_sort_pair_dyn(sort_two: &mut dyn FnMut(&mut [Spy], &mut [Spy])) -> Result<String, String> {
    const LEN: usize = 40_000;
    let keys_a = random_vec(LEN, 11).map_err(|e| e.to_string())?;
    let keys_b = random_vec(LEN, 12).map_err(|e| e.to_string())?;
    let mut last_problem = String::new();
    let caller = thread::current().id();
    for _attempt in 0..3 {
        let log = || {
            Arc::new(SpyLog {
                give_up: crate::exercise::deadline(),
                ..SpyLog::default()
            })
        };
        let (log_a, log_b) = (log(), log());
        let spies = |keys: &[u64], log: &Arc<SpyLog>| -> Vec<Spy> {
            keys.iter()
                .map(|&key| Spy {
                    key,
                    log: Arc::clone(log),
                })
                .collect()
        };
        let (mut a, mut b) = (spies(&keys_a, &log_a), spies(&keys_b, &log_b));
        let _ = crate::exercise::take_solution(&[]);
        sort_two(&mut a, &mut b);
        if let Some(name) = crate::exercise::take_solution(&[
            crate::exercise::Solution::SortPairThreads,
            crate::exercise::Solution::SortPairRayon,
        ]) {
            return Err(crate::exercise::solution_message(name));
        }
        for (name, v, keys) in [("a", &a, &keys_a), ("b", &b, &keys_b)] {
            let mut want = keys.clone();
            want.sort_unstable();
            if !v.iter().map(|s| s.key).eq(want.iter().copied()) {
                return Err(format!(
                    "vector {name} is not sorted (or lost numbers): sort both vectors"
                ));
            }
        }
        let ((threads_a, span_a), (threads_b, span_b)) = (log_a.take(), log_b.take());
        let (Some((start_a, end_a)), Some((start_b, end_b))) = (span_a, span_b) else {
            return Err("a vector was never sorted".into());
        };
        let at_once = start_a < end_b && start_b < end_a;
        let single_same = threads_a.len() == 1 && threads_a == threads_b;
        if at_once && !single_same {
            return Ok(format!(
                "both vectors of {LEN} sorted, on {} threads, at the same time",
                threads_a.union(&threads_b).count()
            ));
        }
        if single_same && threads_a.contains(&caller) {
            return Err(
                "both vectors were sorted on the same thread, one after the other: sort one of \
                 them on a new thread while this thread sorts the other"
                    .into(),
            );
        }
        if single_same {
            last_problem = "both vectors were sorted on one other thread, one after the other \
                 (a single new thread that sorts both, or a parallel sort that got only one \
                 thread): sort one of them on a new thread while this thread sorts the other"
                .into();
            continue; // a busy machine may have given a parallel sort one thread: try again
        }
        let (na, nb) = (threads_a.len(), threads_b.len());
        last_problem = if na > 1 || nb > 1 {
            format!(
                "the two sorts ran one after the other: vector a was sorted on {na} thread{} and \
                 vector b on {nb} (a parallel sort such as par_sort_unstable uses several), but b's \
                 sort started only after a's had finished. Run the two sorts at the same time: \
                 start one on a new thread (or with rayon::join) before doing the other",
                if na == 1 { "" } else { "s" }
            )
        } else {
            "the two sorts ran on two threads but one after the other: start both before waiting \
             for either (join the first thread after starting the second)"
                .into()
        };
    }
    Err(last_problem)
}
