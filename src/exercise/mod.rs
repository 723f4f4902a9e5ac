//! Checks for exercise cells: run the learner's code, say kindly what is right or wrong.
//!
//! A check never takes the kernel down: a `todo!()` or any other panic in the learner's code is
//! caught (and kept out of stderr), and code that runs too long is reported, not waited on forever.
//!
//! In the lessons every check runs under a time limit, and tests only code that compiled:
//!
//! ```text
//! // the exercise cell: the learner's function, then the line that says it compiled
//! fn calc_pi_k(samples: u64, k: usize, seed: u64) -> Result<PiEstimate, PiError> { todo!() }
//! let calc_pi_k_defined = exercise::defined("calc_pi_k");
//!
//! // the check cell
//! calc_pi_k_defined.check_within(Duration::from_secs(20), || threads::check_calc_pi_k(calc_pi_k))
//! ```
//!
//! - [`check_within`]: run an attempt on its own thread, give up after a limit.
//! - [`defined`] and [`Defined::check_within`]: the same, once per successful run of the exercise
//!   cell (see [`Defined`] for why).
//! - [`check`]: no time limit, for code that cannot block (the crate's own tests).
//!
//! # Examples
//! ```
//! use parlab::exercise::{check, Verdict};
//!
//! fn add(a: u32, b: u32) -> u32 { todo!() }
//! let verdict = check("add", || {
//!     let sum = add(2, 3);
//!     if sum == 5 { Ok("2 + 3 = 5".into()) } else { Err(format!("2 + 3 gave {sum}, expected 5")) }
//! });
//! assert!(!verdict.is_solved());
//! assert!(verdict.message().contains("todo!()"));
//! ```

use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::panics;

mod guard;
pub mod stand_ins;
mod verdict;

pub(crate) use guard::{
    STOPPED, Solution, Watch, deadline, solution_message, stop_if_overdue, take_solution,
    used_solution, watched_overdue,
};
pub use verdict::{Outcome, VERDICT_MIME, Verdict};

/// Runs `attempt` and turns its outcome into a [`Verdict`].
///
/// `attempt` returns `Ok(what was right)` or `Err(what is wrong)`. A panic inside it (a `todo!()`
/// stub, an index out of bounds) becomes a "not solved yet" verdict that quotes the panic, and
/// nothing is printed to stderr.
///
/// # Examples
/// ```
/// let v = parlab::exercise::check("square", || if 3 * 3 == 9 { Ok("3² = 9".into()) } else { Err("no".into()) });
/// assert!(v.is_solved());
/// let v = parlab::exercise::check("boom", || -> Result<String, String> { panic!("index out of range") });
/// assert!(v.message().contains("index out of range"));
/// ```
pub fn check<F>(exercise: &str, attempt: F) -> Verdict
where
    F: FnOnce() -> Result<String, String>,
{
    verdict_from(exercise, panics::quiet_everywhere(attempt))
}

/// Like [`check`], but runs `attempt` on its own thread and gives up after `limit`.
///
/// Use it where a wrong answer can block forever (a deadlock, a `recv` that never ends). A thread
/// cannot be killed, so an attempt that overruns keeps running in the background; the verdict says so.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let v = parlab::exercise::check_within("sleepy", Duration::from_millis(50), || {
///     std::thread::sleep(Duration::from_secs(1));
///     Ok("woke up".into())
/// });
/// assert!(!v.is_solved());
/// assert!(v.message().contains("did not finish"));
/// ```
pub fn check_within<F>(exercise: &str, limit: Duration, attempt: F) -> Verdict
where
    F: FnOnce() -> Result<String, String> + Send + 'static,
{
    check_boxed(exercise, limit, Box::new(attempt))
}

/// A check's attempt, boxed: what [`check_within`] runs.
type Attempt = Box<dyn FnOnce() -> Result<String, String> + Send>;

/// [`check_within`] of a boxed attempt. Non-generic, so that a notebook cell's check compiles
/// only the boxing of its closure, not the thread, the channel and the verdicts.
#[inline(never)]
fn check_boxed(exercise: &str, limit: Duration, attempt: Attempt) -> Verdict {
    let (tx, rx) = mpsc::channel();
    let deadline = Instant::now() + limit;
    // The threads that run already are not the answer's: only those started from now on are.
    let earlier: Option<std::collections::HashSet<u32>> =
        crate::cpu::thread_times().map(|threads| threads.into_keys().collect());
    let spawned = std::thread::Builder::new()
        .name(format!("check {exercise}"))
        .spawn(move || {
            let outcome = guard::with_deadline(deadline, || panics::quiet_everywhere(attempt));
            let _ = tx.send(outcome);
        });
    if let Err(e) = spawned {
        return Verdict::not_yet(
            exercise,
            format!("could not start a thread to run the check: {e}"),
        );
    }
    // The waiting thread holds no lock: a fork in the learner's code need not warn about it.
    match crate::process::idle_wait(|| rx.recv_timeout(limit)) {
        Ok(Err(caught)) if caught.message.starts_with(STOPPED) => {
            Verdict::not_yet_because(exercise, Outcome::TimedOut, stopped(limit))
        }
        Ok(outcome) => verdict_from(exercise, outcome),
        Err(_) => Verdict::not_yet_because(
            exercise,
            Outcome::TimedOut,
            overran(limit, &rx, earlier.as_ref()),
        ),
    }
}

/// `"3"` for 3 s, `"0.5"` for 500 ms.
fn seconds(limit: Duration) -> String {
    let secs = limit.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs:.1}")
    }
}

/// What [`check_within`] says when the library stopped an answer that overran its limit.
fn stopped(limit: Duration) -> String {
    format!(
        "your code did not finish within {} s: it was still working (a loop that never ends?), \
         and parlab stopped it at its next call of a library function that the check watches. \
         Nothing of it is left running; the kernel and its variables are fine.",
        seconds(limit)
    )
}

/// How long an overrunning answer gets to be stopped by the library (at its next call of a
/// function the check watches), and then how long its CPU use is measured.
const GRACE: Duration = Duration::from_millis(400);

/// What [`check_within`] says when the learner's code overruns its limit: whether it was stopped,
/// still keeps a core busy, or only waits; and what to do. Only threads that were not running
/// before the check started (`earlier`) count as the answer's.
fn overran(
    limit: Duration,
    rx: &mpsc::Receiver<Result<Result<String, String>, panics::Caught>>,
    earlier: Option<&std::collections::HashSet<u32>>,
) -> String {
    let head = format!("your code did not finish within {} s", seconds(limit));
    let waiting_hint = "Is something waiting forever? A lock that is never released; a `recv()` \
         or a loop over a channel's receiver waiting for a message that never comes (`for x in \
         rx` and `rx.iter()` end only once every `Sender` is dropped, the original `tx` too: \
         `drop(tx)` after handing out its clones); a thread that is never joined.";
    match crate::process::idle_wait(|| rx.recv_timeout(GRACE)) {
        Ok(Err(caught)) if caught.message.starts_with(STOPPED) => return stopped(limit),
        Ok(_) => {
            return format!(
                "{head}: it finished a little later, but too late for the check. Make it faster \
                 (or is it doing far more work than needed?)"
            );
        }
        Err(_) => {}
    }
    // Still running: is it busy or waiting? The check's own thread waits meanwhile. A busy
    // machine may give a spinning thread little CPU, but it stays ready to run (state R).
    let counts = |tid: u32, name: &str| {
        !name.starts_with("parlab-idle") && earlier.is_none_or(|e| !e.contains(&tid))
    };
    let mut ready = 0;
    let before = crate::cpu::thread_times();
    let started = Instant::now();
    for _ in 0..8 {
        std::thread::sleep(GRACE / 8);
        if crate::cpu::runnable_threads(counts).is_some_and(|n| n > 0) {
            ready += 1;
        }
    }
    let busy = crate::cpu::spent_since(before.as_ref(), counts)
        .map(|t| t.as_secs_f64() / started.elapsed().as_secs_f64().max(1e-3))
        .map(|cores| if ready >= 4 { cores.max(1.0) } else { cores });
    if busy.is_none_or(|cores| cores < 0.3) {
        // It only waits (or cannot be told): nothing to stop. A later cell's call of a watched
        // function (`count_hits`) is not this answer's and must not be stopped.
        guard::release_watched();
    }
    match busy {
        Some(cores) if cores >= 0.3 => format!(
            "{head}, and it is still running: it keeps about {cores:.1} core{} busy right now \
             (a loop that never ends?). A thread cannot be stopped from outside, so it will keep \
             that core busy until you interrupt the kernel (the ■ button, or Kernel > Interrupt). \
             The interrupt also loses the kernel's variables: run the cells above again after it.",
            if cores >= 1.5 { "s" } else { "" }
        ),
        Some(_) => format!(
            "{head}, and it is still there, waiting (it uses no CPU). {waiting_hint} It costs \
             nothing while it waits, but it keeps whatever it holds (locks, threads): interrupt \
             the kernel (the ■ button) to end it, then run the cells above again."
        ),
        None => format!(
            "{head}. {waiting_hint} Your code may still be running in the background (a thread \
             cannot be stopped from outside): if the machine stays busy, interrupt the kernel \
             (the ■ button) and run the cells above again."
        ),
    }
}

/// Proof that an exercise cell compiled and ran, made by the cell's last line; its check tests
/// the cell's function only through this, once.
///
/// When an exercise cell fails to compile, evcxr keeps the function as it was the last time the
/// cell compiled, so a check run after a compile error would test code the learner no longer
/// sees. A `Defined` is made only when the cell compiles and runs, and [`Defined::check_within`]
/// checks once per `Defined`: run again without running the exercise cell again (after a
/// compile error there, say), the check says so instead of giving a verdict on the old code.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::exercise;
///
/// fn double(x: u32) -> u32 { x * 2 }
/// let double_defined = exercise::defined("double"); // the exercise cell's last line
///
/// let check = || if double(21) == 42 { Ok("double(21) = 42".into()) } else { Err("not 42".into()) };
/// let first = double_defined.check_within(Duration::from_secs(5), check);
/// assert!(first.is_solved());
/// assert!(first.message().contains("defined"));
/// // Checking again without the exercise cell running again: no verdict on old code.
/// let again = double_defined.check_within(Duration::from_secs(5), check);
/// assert!(!again.is_solved());
/// assert!(again.message().contains("compile error"));
/// ```
#[derive(Debug)]
pub struct Defined {
    exercise: String,
    at: Instant,
    /// When it was checked, and what the check said then (see [`fingerprint`]).
    checked: Mutex<Option<(Instant, String)>>,
}

/// Marks that the exercise cell defining `exercise` compiled and ran: its last line,
/// `let NAME_defined = exercise::defined("NAME");`.
///
/// # Examples
/// ```
/// let d = parlab::exercise::defined("calc_pi_k");
/// assert_eq!(d.exercise(), "calc_pi_k");
/// ```
pub fn defined(exercise: &str) -> Defined {
    Defined {
        exercise: exercise.to_owned(),
        at: Instant::now(),
        checked: Mutex::new(None),
    }
}

impl Defined {
    /// The name of the exercise.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::exercise::defined("sort").exercise(), "sort");
    /// ```
    pub fn exercise(&self) -> &str {
        &self.exercise
    }

    /// Like [`check_within`], the first time; the verdict says which definition it tested. Later
    /// calls run nothing and say that the exercise cell has not run since (fix its compile error,
    /// if it shows one, and run it).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let d = parlab::exercise::defined("noop");
    /// assert!(d.check_within(Duration::from_secs(1), || Ok("fine".into())).is_solved());
    /// assert!(!d.check_within(Duration::from_secs(1), || Ok("fine".into())).is_solved());
    /// ```
    pub fn check_within<F>(&self, limit: Duration, attempt: F) -> Verdict
    where
        F: FnOnce() -> Result<String, String> + Send + 'static,
    {
        self.check_boxed(limit, Box::new(attempt))
    }

    /// [`Defined::check_within`] of a boxed attempt; non-generic, as [`check_boxed`].
    #[inline(never)]
    fn check_boxed(&self, limit: Duration, attempt: Attempt) -> Verdict {
        let name = &self.exercise;
        let previous = self
            .checked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let verdict = check_boxed(name, limit, attempt);
        if let Some((at, said)) = previous {
            // The same `Defined` again: the exercise cell has not made a new one. Did the function
            // change anyway (the cell compiled and ran without its last line)?
            let message = if fingerprint(&verdict) != said {
                format!(
                    "`{name}` now behaves differently from when it was checked {}, so the exercise \
                     cell compiled and ran since, but without its last line \
                     `let {name}_defined = exercise::defined(\"{name}\");`, which tells this check \
                     that the cell compiled. Put that line back at the end of the cell, run the \
                     cell, then this check.",
                    ago(at.elapsed())
                )
            } else {
                format!(
                    "there is no new `{name}` to check: it was checked {} and the exercise cell \
                     has not made a new `{name}_defined` since. Run the exercise cell above; if it \
                     shows a compile error, fix that first (until the cell compiles, `{name}` stays \
                     the version that was checked). If it ran fine, check that its last line \
                     `let {name}_defined = exercise::defined(\"{name}\");` is still there.",
                    ago(at.elapsed())
                )
            };
            return Verdict::not_yet(name, message).headed("Not checked again");
        }
        *self.checked.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), fingerprint(&verdict)));
        let mut verdict = verdict;
        if !verdict.message.trim_end().ends_with(['.', '!', '?', ')']) {
            verdict.message.push('.');
        }
        verdict.message.push_str(&format!(
            " (This tested the `{name}` that the exercise cell defined {}.)",
            ago(self.at.elapsed())
        ));
        verdict
    }
}

/// What a check said, without its figures (times differ from run to run): two runs of the same
/// function give the same fingerprint.
fn fingerprint(v: &Verdict) -> String {
    let text: String = v.message.chars().filter(|c| !c.is_ascii_digit()).collect();
    format!("{}:{text}", v.outcome.as_str())
}

/// `"just now"`, `"12 s ago"`, `"3 min ago"`.
fn ago(d: Duration) -> String {
    match d.as_secs() {
        0 => "just now".to_owned(),
        s @ 1..=119 => format!("{s} s ago"),
        s => format!("{} min ago", s / 60),
    }
}

fn verdict_from(
    exercise: &str,
    outcome: Result<Result<String, String>, panics::Caught>,
) -> Verdict {
    match outcome {
        Ok(Ok(what)) => Verdict::solved(exercise, what),
        Ok(Err(wrong)) => Verdict::not_yet(exercise, wrong),
        Err(panic) if panic.message.starts_with("not yet implemented") => Verdict::not_yet_because(
            exercise,
            Outcome::Todo,
            "the function still has its `todo!()`: replace it with your code and run this cell again.",
        ),
        Err(panic) => Verdict::not_yet_because(
            exercise,
            Outcome::Panicked,
            format!("your code panicked: {}", panic.message),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_is_reported_as_not_solved() {
        let v = check("t", || -> Result<String, String> { todo!() });
        assert!(!v.is_solved());
        assert_eq!(v.outcome(), Outcome::Todo);
        assert!(v.to_html().contains("data-parlab-outcome=\"todo\""));
        assert!(v.message().contains("todo!()"), "{}", v.message());
    }

    #[test]
    fn err_message_is_kept() {
        let v = check("t", || Err("wrong sum".into()));
        assert_eq!(v.message(), "wrong sum");
        assert_eq!(v.outcome(), Outcome::Wrong);
        assert!(v.to_html().contains("Not solved yet"));
    }

    #[test]
    fn html_is_escaped() {
        let v = Verdict::not_yet("<t>", "a < b");
        assert!(v.to_html().contains("&lt;t&gt;"));
        assert!(v.to_html().contains("a &lt; b"));
    }

    #[test]
    fn a_channel_whose_sender_is_never_dropped_is_reported_not_waited_on() {
        // A learner's calc_pi_k collecting hits over a channel, the original sender kept alive.
        fn calc_pi_k(
            samples: u64,
            k: usize,
            seed: u64,
        ) -> Result<crate::pi::PiEstimate, crate::pi::PiError> {
            let (tx, rx) = mpsc::channel();
            std::thread::scope(|s| {
                for r in crate::pi::split(samples, k)? {
                    let tx = tx.clone();
                    s.spawn(move || tx.send(crate::pi::count_hits(seed, r.start, r.end - r.start)));
                }
                crate::pi::PiEstimate::from_hits(rx.iter().sum(), samples)
            })
        }
        // The check tells a waiting answer from a busy one by the CPU its threads use: in a
        // forked copy, other tests' busy threads do not exist.
        let (took, solved, message) = crate::isolated::isolated(move || {
            let start = Instant::now();
            let v = check_within("calc_pi_k", Duration::from_millis(300), || {
                calc_pi_k(1000, 2, 1)
                    .map(|e| e.to_string())
                    .map_err(|e| e.to_string())
            });
            (start.elapsed(), v.is_solved(), v.message().to_owned())
        });
        assert!(took < Duration::from_secs(5));
        assert!(!solved);
        assert!(message.contains("did not finish within 0.3 s"), "{message}");
        assert!(message.contains("drop(tx)"), "{message}");
    }

    #[test]
    fn a_definition_is_checked_once() {
        let d = defined("t");
        let v = d.check_within(Duration::from_secs(5), || Err("wrong".into()));
        assert!(!v.is_solved());
        assert!(
            v.message().starts_with(
                "wrong. (This tested the `t` that the exercise cell defined just now.)"
            ),
            "{}",
            v.message()
        );
        // Checked again, as after a compile error in the exercise cell: no verdict on old code.
        let v = d.check_within(Duration::from_secs(5), || Err("wrong".into()));
        assert!(!v.is_solved());
        assert!(
            v.to_string()
                .starts_with("Not checked again: t: there is no new `t` to check"),
            "{v}"
        );
        assert!(v.to_html().contains("data-parlab-verdict=\"not-solved\""));
        assert!(v.to_html().contains("Not checked again"));
        // The function changed but no new `Defined` was made: the `_defined` line is missing.
        let v = d.check_within(Duration::from_secs(5), || Ok("right".into()));
        assert!(!v.is_solved());
        assert!(v.message().contains("without its last line"), "{v}");
        assert_eq!(ago(Duration::from_secs(75)), "75 s ago");
        assert_eq!(ago(Duration::from_secs(300)), "5 min ago");
    }

    #[test]
    fn check_within_passes_fast_code() {
        let v = check_within("t", Duration::from_secs(5), || Ok("quick".into()));
        assert!(v.is_solved());
    }
}
