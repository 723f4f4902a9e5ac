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

use std::fmt;
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::{display, panics};

/// The result of checking an exercise: solved, or not yet with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a verdict shows nothing unless it is displayed or inspected"]
pub struct Verdict {
    exercise: String,
    solved: bool,
    /// Instead of "Solved" / "Not solved yet", when set.
    headline: Option<String>,
    outcome: Outcome,
    message: String,
}

/// Why a check ended as it did; `parlab check` reads it to tell PENDING from ERROR.
///
/// # Examples
/// ```
/// use parlab::exercise::{check, Outcome};
/// let v = check("boom", || -> Result<String, String> { panic!("index out of range") });
/// assert_eq!(v.outcome(), Outcome::Panicked);
/// assert_eq!(v.outcome().as_str(), "panicked");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The check passed.
    Solved,
    /// The learner's code ran and gave a wrong answer.
    Wrong,
    /// The learner's code still has its `todo!()` stub.
    Todo,
    /// The learner's code panicked (other than `todo!()`).
    Panicked,
    /// The learner's code did not finish within the check's time limit.
    TimedOut,
}

impl Outcome {
    /// The outcome as written in the verdict's HTML (`data-parlab-outcome`): `solved`, `wrong`,
    /// `todo`, `panicked` or `timed-out`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::exercise::Outcome::TimedOut.as_str(), "timed-out");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Solved => "solved",
            Outcome::Wrong => "wrong",
            Outcome::Todo => "todo",
            Outcome::Panicked => "panicked",
            Outcome::TimedOut => "timed-out",
        }
    }
}

impl Verdict {
    /// A verdict saying the exercise is solved, with what was checked.
    ///
    /// # Examples
    /// ```
    /// let v = parlab::exercise::Verdict::solved("sort", "both halves sorted");
    /// assert!(v.is_solved());
    /// ```
    pub fn solved(exercise: &str, message: impl Into<String>) -> Self {
        Verdict {
            exercise: exercise.to_owned(),
            solved: true,
            headline: None,
            outcome: Outcome::Solved,
            message: message.into(),
        }
    }

    /// A verdict saying the exercise is not solved yet, with the reason.
    ///
    /// # Examples
    /// ```
    /// let v = parlab::exercise::Verdict::not_yet("sort", "the second half is not sorted");
    /// assert!(!v.is_solved());
    /// ```
    pub fn not_yet(exercise: &str, message: impl Into<String>) -> Self {
        Self::not_yet_because(exercise, Outcome::Wrong, message)
    }

    /// A verdict with why the check ended and the reason (not solved, unless `outcome` is `Solved`).
    ///
    /// # Examples
    /// ```
    /// use parlab::exercise::{Outcome, Verdict};
    /// let v = Verdict::not_yet_because("sort", Outcome::TimedOut, "still running after 5 s");
    /// assert!(!v.is_solved());
    /// assert_eq!(v.outcome(), Outcome::TimedOut);
    /// ```
    pub fn not_yet_because(exercise: &str, outcome: Outcome, message: impl Into<String>) -> Self {
        Verdict {
            exercise: exercise.to_owned(),
            solved: outcome == Outcome::Solved,
            headline: None,
            outcome,
            message: message.into(),
        }
    }

    /// Why the check ended as it did.
    ///
    /// # Examples
    /// ```
    /// use parlab::exercise::{Outcome, Verdict};
    /// assert_eq!(Verdict::not_yet("x", "off by one").outcome(), Outcome::Wrong);
    /// ```
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// True when the check passed.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::exercise::Verdict::solved("x", "ok").is_solved());
    /// ```
    pub fn is_solved(&self) -> bool {
        self.solved
    }

    /// What the check found, in words for the learner.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::exercise::Verdict::solved("x", "ok").message(), "ok");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The verdict as an HTML snippet (what evcxr shows).
    ///
    /// # Examples
    /// ```
    /// let html = parlab::exercise::Verdict::solved("x", "ok").to_html();
    /// assert!(html.contains("data-parlab-verdict=\"solved\""));
    /// assert!(html.contains("data-parlab-outcome=\"solved\""));
    /// ```
    pub fn to_html(&self) -> String {
        let (state, color, headline) = if self.solved {
            ("solved", "#1a7f37", "Solved")
        } else {
            ("not-solved", "#9a6700", "Not solved yet")
        };
        let headline = self.headline.as_deref().unwrap_or(headline);
        format!(
            "<div data-parlab-verdict=\"{state}\" data-parlab-outcome=\"{}\" \
             style=\"border-left:4px solid {color};padding:4px 8px\">\
             <b>{headline}: {}</b><br>{}</div>",
            self.outcome.as_str(),
            display::escape_html(&self.exercise),
            display::escape_html(&self.message),
        )
    }

    /// Shows the verdict in evcxr (called by the kernel when a cell ends with a verdict).
    pub fn evcxr_display(&self) {
        display::show("text/html", &self.to_html());
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headline = match (&self.headline, self.solved) {
            (Some(h), _) => h.as_str(),
            (None, true) => "Solved",
            (None, false) => "Not solved yet",
        };
        write!(f, "{headline}: {}: {}", self.exercise, self.message)
    }
}

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
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("check {exercise}"))
        .spawn(move || {
            let _ = tx.send(panics::quiet_everywhere(attempt));
        });
    if let Err(e) = spawned {
        return Verdict::not_yet(
            exercise,
            format!("could not start a thread to run the check: {e}"),
        );
    }
    // The waiting thread holds no lock: a fork in the learner's code need not warn about it.
    match crate::process::idle_wait(|| rx.recv_timeout(limit)) {
        Ok(outcome) => verdict_from(exercise, outcome),
        Err(_) => Verdict::not_yet_because(exercise, Outcome::TimedOut, did_not_finish(limit)),
    }
}

/// What [`check_within`] says when the learner's code overruns its limit.
fn did_not_finish(limit: Duration) -> String {
    let secs = limit.as_secs_f64();
    let secs = if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs:.1}")
    };
    format!(
        "your code did not finish within {secs} s. Is something waiting forever? A lock that is \
         never released; a `recv()` or a loop over a channel's receiver waiting for a message that \
         never comes (`for x in rx` and `rx.iter()` end only once every `Sender` is dropped, the \
         original `tx` too: `drop(tx)` after handing out its clones); a thread that is never \
         joined. Your code is still running in the background (a thread cannot be stopped), but \
         the kernel and its variables are fine: no need to interrupt."
    )
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
/// let first = double_defined.check_within(Duration::from_secs(5), || {
///     if double(21) == 42 { Ok("double(21) = 42".into()) } else { Err("not 42".into()) }
/// });
/// assert!(first.is_solved());
/// assert!(first.message().contains("defined"));
/// // Checking again without the exercise cell running again: no verdict on old code.
/// let again = double_defined.check_within(Duration::from_secs(5), || Ok("unused".into()));
/// assert!(!again.is_solved());
/// assert!(again.message().contains("compile error"));
/// ```
#[derive(Debug)]
pub struct Defined {
    exercise: String,
    at: Instant,
    checked: Mutex<Option<Instant>>,
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
        let name = &self.exercise;
        let previous = {
            let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
            checked.replace(Instant::now())
        };
        if let Some(at) = previous {
            return Verdict {
                exercise: name.clone(),
                solved: false,
                headline: Some("Not checked again".into()),
                outcome: Outcome::Wrong,
                message: format!(
                    "`{name}` has not been defined again since it was checked {}, so there is no \
                     new code to check. Run the exercise cell above; if it shows a compile error, \
                     fix that first: until the cell compiles, `{name}` is still the version that \
                     was checked.",
                    ago(at.elapsed())
                ),
            };
        }
        let mut verdict = check_within(name, limit, attempt);
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
        let start = Instant::now();
        let v = check_within("calc_pi_k", Duration::from_millis(300), || {
            calc_pi_k(1000, 2, 1)
                .map(|e| e.to_string())
                .map_err(|e| e.to_string())
        });
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(!v.is_solved());
        assert!(
            v.message().contains("did not finish within 0.3 s"),
            "{}",
            v.message()
        );
        assert!(v.message().contains("drop(tx)"), "{}", v.message());
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
        let v = d.check_within(Duration::from_secs(5), || Ok("right".into()));
        assert!(!v.is_solved());
        assert!(
            v.to_string()
                .starts_with("Not checked again: t: `t` has not been defined again"),
            "{v}"
        );
        assert!(v.to_html().contains("data-parlab-verdict=\"not-solved\""));
        assert!(v.to_html().contains("Not checked again"));
        assert_eq!(ago(Duration::from_secs(75)), "75 s ago");
        assert_eq!(ago(Duration::from_secs(300)), "5 min ago");
    }

    #[test]
    fn check_within_passes_fast_code() {
        let v = check_within("t", Duration::from_secs(5), || Ok("quick".into()));
        assert!(v.is_solved());
    }
}
