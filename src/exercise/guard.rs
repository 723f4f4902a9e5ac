//! What the library's own code knows about a check in progress: its deadline, and whether the
//! learner's answer called the library's solution instead of its own.
//!
//! Both are thread-locals of the thread that runs the check (evcxr links one copy of this crate
//! into each cell, and the check cell's copy is the one the learner's functions call there).

use std::cell::Cell;
use std::time::Instant;

thread_local! {
    /// When the check running on this thread gives up (set by `check_within`).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The library solution called on this thread since the last [`take_solution`].
    static SOLUTION: Cell<Option<&'static str>> = const { Cell::new(None) };
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

/// Notes that the library's own solution `name` (`"pi::calc_pi_threads"`) ran on this thread.
pub(crate) fn used_solution(name: &'static str) {
    let _ = SOLUTION.try_with(|s| s.set(Some(name)));
}

/// The library solution that ran on this thread since the last call, if any (and forgets it).
pub(crate) fn take_solution() -> Option<&'static str> {
    SOLUTION.try_with(|s| s.take()).ok().flatten()
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
        used_solution("x::y");
        std::thread::spawn(|| assert_eq!(take_solution(), None))
            .join()
            .unwrap();
        assert_eq!(take_solution(), Some("x::y"));
        assert_eq!(take_solution(), None);
    }

    #[test]
    fn a_deadline_is_set_only_inside() {
        let at = Instant::now();
        assert_eq!(with_deadline(at, deadline), Some(at));
        assert_eq!(deadline(), None);
    }
}
