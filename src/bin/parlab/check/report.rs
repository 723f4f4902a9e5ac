//! What `parlab check` found: a status per exercise, a report per notebook.

use std::path::{Path, PathBuf};

/// The verdict on one exercise.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Status {
    Done,
    Pending,
    Error,
}

impl Status {
    /// The status as the table, the CSV and the JSON write it.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Done => "DONE",
            Status::Pending => "PENDING",
            Status::Error => "ERROR",
        }
    }
}

/// What `parlab check` found for one exercise of one notebook.
pub(super) struct ExerciseResult {
    pub(super) exercise: String,
    pub(super) status: Status,
    pub(super) message: String,
    pub(super) check_changed: bool,
    pub(super) exercise_missing: bool,
}

/// What `parlab check` found for one learner's notebook.
pub(super) struct Report {
    pub(super) notebook: PathBuf,
    pub(super) lesson: Option<String>,
    /// Why the notebook could not be checked at all (damaged, not a lesson).
    pub(super) problem: Option<String>,
    pub(super) notes: Vec<String>,
    pub(super) results: Vec<ExerciseResult>,
    pub(super) seconds: f64,
}

impl Report {
    /// The report on a notebook that could not be checked, and why.
    pub(super) fn unchecked(notebook: &Path, problem: String) -> Self {
        Report {
            notebook: notebook.to_owned(),
            lesson: None,
            problem: Some(problem),
            notes: Vec::new(),
            results: Vec::new(),
            seconds: 0.0,
        }
    }

    /// How many of its exercises are DONE.
    pub(super) fn solved(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.status == Status::Done)
            .count()
    }
}

/// Every exercise name of the checked notebooks, in lesson order (the table's columns).
pub(super) fn columns(reports: &[Report]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in reports {
        for e in &r.results {
            if !names.contains(&e.exercise) {
                names.push(e.exercise.clone());
            }
        }
    }
    names
}

/// Sample reports for the tests of the tables and the exports.
#[cfg(test)]
pub(super) mod samples {
    use std::path::Path;

    use super::{ExerciseResult, Report, Status};

    pub(crate) fn result(exercise: &str, status: Status, message: &str) -> ExerciseResult {
        ExerciseResult {
            exercise: exercise.into(),
            status,
            message: message.into(),
            check_changed: false,
            exercise_missing: false,
        }
    }

    pub(crate) fn sample() -> Vec<Report> {
        vec![
            Report {
                notebook: "alice.ipynb".into(),
                lesson: Some("01-threads".into()),
                problem: None,
                notes: vec![
                    "check cell changed for `calc_pi_k`: the shipped check ran instead".into(),
                ],
                results: vec![
                    result(
                        "sort_in_two_threads",
                        Status::Done,
                        "sorted, on two threads",
                    ),
                    result("calc_pi_k", Status::Error, "your code panicked: boom"),
                ],
                seconds: 12.5,
            },
            Report::unchecked(Path::new("bob.ipynb"), "damaged: not valid JSON".into()),
        ]
    }
}
