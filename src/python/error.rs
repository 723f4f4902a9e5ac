//! What goes wrong running Python, and the commands that fix it.

use std::path::PathBuf;
use std::time::Duration;

/// The environment variable that overrides which Python the lessons run.
pub const PYTHON_ENV: &str = "PARLAB_VENV_PYTHON";

/// The command that makes the project's `.venv` with numpy, numba and `parlab_py`.
pub const SETUP: &str = "cargo run --release -- setup";

/// The `format` tag of a report (the JSON line a lesson's script prints for parlab).
pub const FORMAT: &str = "parlab-python-report";

/// What went wrong running Python.
///
/// # Examples
/// ```
/// use parlab::python::PythonError;
/// let e = PythonError::NoVenv { path: "/nowhere/.venv/bin/python".into() };
/// assert!(e.to_string().contains("cargo run --release -- setup"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    /// There is no interpreter at the path (no `.venv` yet).
    #[error(
        "no Python at {}: the project's .venv is not set up yet; fix: run `{SETUP}` in the \
         project folder (or set {PYTHON_ENV} to a Python 3)",
        path.display()
    )]
    NoVenv {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The interpreter is not Python 3.
    #[error(
        "{} is not Python 3 (it says {said:?}); the lessons' scripts need Python 3.9 or newer: \
         fix: run `{SETUP}` (it makes .venv from python3), or set {PYTHON_ENV} to a Python 3",
        path.display()
    )]
    NotPython3 {
        /// The interpreter.
        path: PathBuf,
        /// What it printed when asked its version.
        said: String,
    },
    /// The interpreter or its pipes could not be started.
    #[error("could not start {what}: {source}")]
    Start {
        /// What was started.
        what: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The script ran past its time and was stopped, with every process it started.
    #[error(
        "{script} was still running after {:.1} s: it was stopped, with every process it \
         started (its process group); fix: smaller sizes, or more time with \
         `Python::with_timeout`",
        limit.as_secs_f64()
    )]
    Timeout {
        /// The script.
        script: String,
        /// The time it had.
        limit: Duration,
    },
    /// The script failed: it raised an exception, or was killed.
    #[error("{script} failed ({status}); the end of what it printed on stderr:\n{stderr}")]
    Raised {
        /// The script.
        script: String,
        /// How it ended.
        status: String,
        /// The last lines of its stderr (the traceback).
        stderr: String,
    },
    /// The script ended well but its output is not a parlab report.
    #[error(
        "{script} did not print a parlab report: {reason}; its last line of output was \
         {line:?} (a script for parlab prints one JSON line with \"format\": \"{}\", as \
         python/parlab_report.py does)",
        FORMAT
    )]
    Garbage {
        /// The script.
        script: String,
        /// What is wrong with it.
        reason: String,
        /// The start of its last line of output.
        line: String,
    },
    /// A series needs a module this Python cannot import (numba, numpy, parlab_py).
    #[error("{series} was not measured: this Python cannot import {module} ({reason}); fix: {fix}")]
    Missing {
        /// The series that is missing.
        series: String,
        /// The module it needs.
        module: String,
        /// Python's error when importing it.
        reason: String,
        /// How to add it.
        fix: String,
    },
    /// The report has no series of that name.
    #[error("the Python report has no series {name:?} (it has: {available})")]
    NoSeries {
        /// The name asked for.
        name: String,
        /// The names it has.
        available: String,
    },
}
