//! Checks for exercise cells: run the learner's code, say kindly what is right or wrong.
//!
//! A check never takes the kernel down: a `todo!()` or any other panic in the learner's code is
//! caught (and kept out of stderr), and code that runs too long is reported, not waited on forever.
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

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use crate::display;

/// The result of checking an exercise: solved, or not yet with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a verdict shows nothing unless it is displayed or inspected"]
pub struct Verdict {
    exercise: String,
    solved: bool,
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
        let headline = if self.solved {
            "Solved"
        } else {
            "Not solved yet"
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
    verdict_from(exercise, catch_quietly(attempt))
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
            let _ = tx.send(catch_quietly(attempt));
        });
    if let Err(e) = spawned {
        return Verdict::not_yet(
            exercise,
            format!("could not start a thread to run the check: {e}"),
        );
    }
    match rx.recv_timeout(limit) {
        Ok(outcome) => verdict_from(exercise, outcome),
        Err(_) => Verdict::not_yet_because(
            exercise,
            Outcome::TimedOut,
            format!(
                "your code did not finish within {:.1} s: is something waiting forever \
                 (a lock never released, a message never sent)? It is still running in the background.",
                limit.as_secs_f64()
            ),
        ),
    }
}

/// Runs `f`, catching a panic without printing it, and returns the panic's message on panic.
///
/// # Examples
/// ```
/// let caught = parlab::exercise::catch_quietly(|| -> u32 { panic!("oops") });
/// assert_eq!(caught, Err("oops".to_string()));
/// assert_eq!(parlab::exercise::catch_quietly(|| 7), Ok(7));
/// ```
///
/// # Errors
/// The panic's message, when `f` panics.
pub fn catch_quietly<T, F: FnOnce() -> T>(f: F) -> Result<T, String> {
    // Safety of the hook swap: set_hook is global, so a panic on another thread at the same moment
    // would also go unprinted; that is harmless for a check cell.
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.map_err(|payload| panic_message(payload.as_ref()))
}

/// The text of a panic payload (`&str` or `String`), or a placeholder for other payloads.
///
/// # Examples
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("bad {}", 1)).unwrap_err();
/// assert_eq!(parlab::exercise::panic_message(payload.as_ref()), "bad 1");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

fn verdict_from(exercise: &str, outcome: Result<Result<String, String>, String>) -> Verdict {
    match outcome {
        Ok(Ok(what)) => Verdict::solved(exercise, what),
        Ok(Err(wrong)) => Verdict::not_yet(exercise, wrong),
        Err(panic) if panic.starts_with("not yet implemented") => Verdict::not_yet_because(
            exercise,
            Outcome::Todo,
            "the function still has its `todo!()`: replace it with your code and run this cell again.",
        ),
        Err(panic) => Verdict::not_yet_because(
            exercise,
            Outcome::Panicked,
            format!("your code panicked: {panic}"),
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
    fn check_within_passes_fast_code() {
        let v = check_within("t", Duration::from_secs(5), || Ok("quick".into()));
        assert!(v.is_solved());
    }
}
