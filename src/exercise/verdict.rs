//! The verdict of a check: what the learner sees (HTML), and the one machine-readable form that
//! `parlab check` and the notebook runner read back (JSON, as its own MIME type in the same output).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::display;

/// The MIME type of a verdict's JSON form, shown beside its HTML in the same cell output.
///
/// evcxr puts output of a MIME type ending in `json` into the notebook as a JSON object, so
/// `parlab check` and the notebook runner read the verdict's fields ([`Verdict`] serialized:
/// `exercise`, `solved`, `headline`, `outcome`, `message`) without parsing any HTML.
pub const VERDICT_MIME: &str = "application/vnd.parlab.verdict+json";

/// The result of checking an exercise: solved, or not yet with the reason.
///
/// # Examples
/// ```
/// use parlab::exercise::Verdict;
/// let v = Verdict::not_yet("sort", "vector b is not sorted");
/// let back = Verdict::from_json(&v.to_json()).unwrap();
/// assert_eq!(back, v);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "a verdict shows nothing unless it is displayed or inspected"]
pub struct Verdict {
    pub(super) exercise: String,
    pub(super) solved: bool,
    /// Instead of "Solved" / "Not solved yet", when set.
    pub(super) headline: Option<String>,
    pub(super) outcome: Outcome,
    pub(super) message: String,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    /// The exercise cell has not run to its end in this kernel (a compile error, or not run yet).
    NotRun,
}

impl Outcome {
    /// The outcome as written in the verdict (`data-parlab-outcome` in its HTML, `outcome` in its
    /// JSON): `solved`, `wrong`, `todo`, `panicked`, `timed-out` or `not-run`.
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
            Outcome::NotRun => "not-run",
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

    /// The same verdict under another headline (instead of "Solved" / "Not solved yet").
    pub(super) fn headed(mut self, headline: &str) -> Self {
        self.headline = Some(headline.to_owned());
        self
    }

    /// The name of the exercise.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::exercise::Verdict::solved("x", "ok").exercise(), "x");
    /// ```
    pub fn exercise(&self) -> &str {
        &self.exercise
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

    /// The headline: "Solved", "Not solved yet", or another one ("Not checked again").
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::exercise::Verdict::not_yet("x", "no").headline(), "Not solved yet");
    /// ```
    pub fn headline(&self) -> &str {
        match (&self.headline, self.solved) {
            (Some(h), _) => h,
            (None, true) => "Solved",
            (None, false) => "Not solved yet",
        }
    }

    /// The verdict as an HTML snippet (what the learner sees).
    ///
    /// # Examples
    /// ```
    /// let html = parlab::exercise::Verdict::solved("x", "ok").to_html();
    /// assert!(html.contains("data-parlab-verdict=\"solved\""));
    /// assert!(html.contains("data-parlab-outcome=\"solved\""));
    /// ```
    pub fn to_html(&self) -> String {
        let (state, color) = if self.solved {
            ("solved", "#1a7f37")
        } else {
            ("not-solved", "#9a6700")
        };
        format!(
            "<div data-parlab-verdict=\"{state}\" data-parlab-outcome=\"{}\" \
             style=\"border-left:4px solid {color};padding:4px 8px\">\
             <b>{}: {}</b><br>{}</div>",
            self.outcome.as_str(),
            display::escape_html(self.headline()),
            display::escape_html(&self.exercise),
            display::escape_html(&self.message),
        )
    }

    /// The verdict as JSON, the form shown as [`VERDICT_MIME`] and read back by [`Verdict::from_json`].
    ///
    /// # Examples
    /// ```
    /// let json = parlab::exercise::Verdict::solved("x", "ok").to_json();
    /// assert!(json.contains("\"outcome\":\"solved\""));
    /// ```
    pub fn to_json(&self) -> String {
        // A struct of strings, bools and a unit enum always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a verdict back from its JSON form.
    ///
    /// # Errors
    /// The parser's message, for text that is not a verdict.
    ///
    /// # Examples
    /// ```
    /// use parlab::exercise::Verdict;
    /// assert!(Verdict::from_json("{\"not\": \"a verdict\"}").is_err());
    /// ```
    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    /// The verdict in a notebook cell output's `data` (a MIME bundle), if it holds one: the value
    /// under [`VERDICT_MIME`], stored as a JSON object (as evcxr writes it) or as text.
    ///
    /// # Examples
    /// ```
    /// use parlab::exercise::{Verdict, VERDICT_MIME};
    /// let v = Verdict::not_yet("x", "no");
    /// let data = serde_json::json!({ "text/html": v.to_html(), VERDICT_MIME: serde_json::from_str::<serde_json::Value>(&v.to_json()).unwrap() });
    /// assert_eq!(Verdict::from_output_data(&data), Some(v));
    /// assert_eq!(Verdict::from_output_data(&serde_json::json!({"text/plain": "1"})), None);
    /// ```
    pub fn from_output_data(data: &serde_json::Value) -> Option<Self> {
        match data.get(VERDICT_MIME)? {
            serde_json::Value::String(s) => Self::from_json(s).ok(),
            other => serde_json::from_value(other.clone()).ok(),
        }
    }

    /// Shows the verdict in evcxr (called by the kernel when a cell ends with a verdict): its HTML,
    /// and its JSON form as [`VERDICT_MIME`].
    pub fn evcxr_display(&self) {
        display::show("text/html", &self.to_html());
        display::show(VERDICT_MIME, &self.to_json());
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.headline(),
            self.exercise,
            self.message
        )
    }
}
