//! What the library's own code knows about a check in progress: its deadline, and whether the
//! learner's answer called the library's solution instead of its own.
//!
//! Both are thread-locals of the thread that runs the check (evcxr links one copy of this crate
//! into each cell, and the check cell's copy is the one the learner's functions call there).

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

thread_local! {
    /// When the check running on this thread gives up (set by `check_within`).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The library solutions called on this thread since the last [`take_solution`], one bit
    /// per [`Solution`].
    static SOLUTIONS: Cell<u32> = const { Cell::new(0) };
}

/// The panic message with which the library stops a learner's code that still runs after its
/// check gave up (at its next call of a function the check watches).
pub(crate) const STOPPED: &str = "parlab stopped this code: its check had given up on it";

/// Runs `f` on this thread with the check's deadline set.
pub(crate) fn with_deadline<T>(deadline: Instant, f: impl FnOnce() -> T) -> T {
    let before = DEADLINE.with(|d| d.replace(Some(deadline)));
    /// Puts the old deadline back, also while unwinding.
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = DEADLINE.try_with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(before);
    f()
}

/// The deadline of the check running on this thread, if any.
pub(crate) fn deadline() -> Option<Instant> {
    DEADLINE.try_with(Cell::get).ok().flatten()
}

/// Stops the code running on this thread (a panic with [`STOPPED`], which the check catches) if
/// the check running it has given up: called where a learner's loop that never ends would start
/// more work (a pool call, a process), so that it does not keep cores busy after the verdict.
pub(crate) fn stop_if_overdue() {
    if deadline().is_some_and(|at| Instant::now() > at) {
        panic!("{STOPPED}");
    }
}

/// The deadline of the check whose answer is being watched (see [`Watch`]), as nanoseconds
/// after [`EPOCH`]; 0 for none. A global, not a thread-local: the answer's own threads read it.
static WATCHED_DEADLINE_NS: AtomicU64 = AtomicU64::new(0);
/// The origin of [`WATCHED_DEADLINE_NS`].
static EPOCH: OnceLock<Instant> = OnceLock::new();
/// The ticket of the [`Watch`] that holds the one watcher slot; 0 for none.
static WATCHER: AtomicU64 = AtomicU64::new(0);
/// The next [`Watch`]'s ticket.
static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);
/// How long a new [`Watch`] waits for the slot before it takes it over from one that never ended.
const TAKE_OVER_AFTER: Duration = Duration::from_secs(2);

/// A check watching the learner's calls of a library function (`pi::count_hits`, through pi's
/// probe): one at a time, as two would mix their calls. It ends when dropped, or when its check
/// gives up on an answer that only waits ([`release_watched`]): such an answer never returns,
/// and must keep neither the slot (the next check would wait for it) nor its deadline (a later
/// cell's calls would be stopped).
pub(crate) struct Watch {
    ticket: u64,
}

impl Watch {
    /// Takes the watcher slot (from a watch that has not ended after [`TAKE_OVER_AFTER`], it takes
    /// it over) with the deadline of the check running on this thread, if any.
    pub(crate) fn begin() -> Watch {
        let ticket = NEXT_TICKET.fetch_add(1, Ordering::SeqCst);
        let since = Instant::now();
        while WATCHER
            .compare_exchange(0, ticket, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            if since.elapsed() >= TAKE_OVER_AFTER {
                WATCHER.store(ticket, Ordering::SeqCst);
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let ns = deadline().map_or(0, |at| {
            let epoch = *EPOCH.get_or_init(Instant::now);
            (at.saturating_duration_since(epoch).as_nanos() as u64).max(1)
        });
        WATCHED_DEADLINE_NS.store(ns, Ordering::SeqCst);
        Watch { ticket }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Only the holder frees the slot: a watch taken over or released long ago frees nothing.
        if WATCHER
            .compare_exchange(self.ticket, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            WATCHED_DEADLINE_NS.store(0, Ordering::SeqCst);
        }
    }
}

/// Whether the watched check's deadline has passed: code the check gave up on and that still
/// calls a watched function is stopped there (one relaxed load when nothing is watched).
pub(crate) fn watched_overdue() -> bool {
    let ns = WATCHED_DEADLINE_NS.load(Ordering::Relaxed);
    ns > 0
        && EPOCH
            .get()
            .is_some_and(|epoch| epoch.elapsed().as_nanos() as u64 > ns)
}

/// Ends the running [`Watch`] for its check, which gave up on an answer that only waits: a later
/// call of a watched function comes from a later cell, which runs as usual, and the next check
/// finds the slot free. (Called by the check's own thread right after it gave up, before any
/// later cell can start a watch.)
pub(crate) fn release_watched() {
    WATCHER.store(0, Ordering::SeqCst);
    WATCHED_DEADLINE_NS.store(0, Ordering::SeqCst);
}

/// A library function that does, by itself, what an exercise asks the learner to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Solution {
    /// Lesson 00's `estimate_from`: `PiEstimate::from_hits`.
    FromHits,
    /// Lesson 01's `sort_in_two_threads`.
    SortPairThreads,
    /// Lesson 01's `sort_in_two_threads`, with rayon.
    SortPairRayon,
    /// Lesson 01's `calc_pi_k`.
    CalcPiThreads,
    /// Lesson 01's `calc_pi_k`, with rayon.
    CalcPiRayon,
    /// Lesson 02's `with_gil`.
    WithGil,
    /// Lesson 05's `my_share`: `pi::split`, indexed by rank.
    Split,
}

impl Solution {
    /// Its name as a learner calls it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Solution::FromHits => "pi::PiEstimate::from_hits",
            Solution::SortPairThreads => "threads::sort_pair_threads",
            Solution::SortPairRayon => "threads::sort_pair_rayon",
            Solution::CalcPiThreads => "pi::calc_pi_threads",
            Solution::CalcPiRayon => "pi::calc_pi_rayon",
            Solution::WithGil => "locks::with_gil",
            Solution::Split => "pi::split",
        }
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// Notes that the library's own `solution` ran on this thread.
pub(crate) fn used_solution(solution: Solution) {
    let _ = SOLUTIONS.try_with(|s| s.set(s.get() | solution.bit()));
}

/// The first of `solutions` that ran on this thread since the last call, if any; forgets every
/// mark (`take_solution(&[])` only forgets). Another exercise's solution is no fault: the
/// calc_pi_k exercise calls `pi::split` and `PiEstimate::from_hits` as it should.
pub(crate) fn take_solution(solutions: &[Solution]) -> Option<&'static str> {
    let used = SOLUTIONS.try_with(|s| s.take()).unwrap_or(0);
    solutions
        .iter()
        .find(|s| used & s.bit() != 0)
        .map(|s| s.name())
}

/// The message for an answer that calls the library's own solution `name`.
pub(crate) fn solution_message(name: &str) -> String {
    format!(
        "this calls the library's own solution, `{name}`: it works, but the exercise asks you to \
         write your own. Read it for ideas if you like (it is in parlab's source), then write the \
         steps yourself"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_solution_mark_is_taken_once_and_only_on_its_thread() {
        let all = [Solution::WithGil, Solution::Split];
        used_solution(Solution::WithGil);
        std::thread::spawn(move || assert_eq!(take_solution(&all), None))
            .join()
            .unwrap();
        assert_eq!(take_solution(&all), Some("locks::with_gil"));
        assert_eq!(take_solution(&all), None);
        // Another exercise's solution is not this one's fault, and is forgotten too.
        used_solution(Solution::Split);
        assert_eq!(take_solution(&[Solution::CalcPiThreads]), None);
        assert_eq!(take_solution(&all), None);
    }

    #[test]
    fn a_deadline_is_set_only_inside() {
        let at = Instant::now();
        assert_eq!(with_deadline(at, deadline), Some(at));
        assert_eq!(deadline(), None);
        stop_if_overdue(); // no check: nothing to stop
        let later = at + std::time::Duration::from_secs(60);
        with_deadline(later, stop_if_overdue);
        let stopped = crate::panics::catch_quietly(|| with_deadline(at, stop_if_overdue));
        assert_eq!(stopped.unwrap_err().message, STOPPED);
    }
}
