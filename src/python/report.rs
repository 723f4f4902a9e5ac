//! The one line of JSON a lesson script prints, checked by its shape before it is believed.
//!
//! The format is written by `python/parlab_report.py`: a `format` tag ([`FORMAT`]), a `version`
//! ([`VERSION`]), the interpreter, the modules it could import, the series it skipped and why,
//! and the series it measured, each a list of points with their times in seconds.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

pub use super::error::FORMAT;
use super::error::{PythonError, SETUP};
use super::run::{Finished, last_lines};
use crate::timing::{Comparison, Measurement, Sweep};

/// The name of the pure-Python series run on a free-threaded CPython.
pub const FREE_THREADED_SERIES: &str = "Python threads (free-threaded, no GIL)";

/// What [`Skipped::module`] says when no free-threaded CPython was found.
pub const FREE_THREADED: &str = "a free-threaded CPython";

/// The report version this parlab reads.
pub const VERSION: u64 = 1;

/// The interpreter that ran a script, as it described itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Interpreter {
    /// e.g. `3.11.7`.
    pub version: String,
    /// e.g. `CPython`.
    pub implementation: String,
    /// False on a free-threaded CPython running without its GIL.
    pub gil_enabled: bool,
    /// `sys.executable`.
    pub executable: String,
}

/// A series the script could not measure, and why.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Skipped {
    /// The series' name.
    pub series: String,
    /// The module it needs.
    pub module: String,
    /// Python's error when importing it.
    pub reason: String,
}

impl Skipped {
    /// How to add the missing module.
    ///
    /// # Examples
    /// ```
    /// let s = parlab::python::Skipped { series: "numba nogil threads".into(), module: "numba".into(), reason: "No module named 'numba'".into() };
    /// assert!(s.fix().contains("pip install numba"));
    /// ```
    pub fn fix(&self) -> String {
        match self.module.as_str() {
            FREE_THREADED => "a free-threaded CPython (3.13t or newer, PEP 703: \
                `sys._is_gil_enabled()` is False) runs Python threads with no GIL at all, and \
                there the source's pure-Python threads would scale like numba's; install one \
                (python.org's installers have it as an option; `pyenv install 3.14t`; \
                `uv python install 3.14t`) on PATH or in pyenv, and it is drawn as one more series"
                .to_owned(),
            "parlab_py" => format!(
                "run `{}`: it builds the Rust extension python/parlab-py with maturin into .venv",
                SETUP
            ),
            module => format!(
                "run `{}` (it installs numpy and numba into .venv), or `.venv/bin/python -m pip \
                 install {module}`; where {module} has no wheel for this platform, the other \
                 series still run",
                SETUP
            ),
        }
    }

    /// The error a caller gets when it asks for this series.
    ///
    /// # Examples
    /// ```
    /// let s = parlab::python::Skipped { series: "numpy.sort".into(), module: "numpy".into(), reason: "No module named 'numpy'".into() };
    /// assert!(s.to_error().to_string().starts_with("numpy.sort was not measured"));
    /// ```
    pub fn to_error(&self) -> PythonError {
        PythonError::Missing {
            series: self.series.clone(),
            module: self.module.clone(),
            reason: self.reason.clone(),
            fix: self.fix(),
        }
    }
}

/// What a script measured, as [`timing`](crate::timing) values.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The interpreter that ran it.
    pub python: Interpreter,
    /// The modules it asked about: their versions, `None` where they cannot be imported.
    pub modules: BTreeMap<String, Option<String>>,
    /// The series it could not measure.
    pub skipped: Vec<Skipped>,
    /// The series it measured, in the order it measured them.
    pub series: Vec<Sweep>,
}

impl Report {
    /// The series named `name`.
    ///
    /// # Errors
    /// [`PythonError::Missing`] (with the fix) when it was skipped for a missing module,
    /// [`PythonError::NoSeries`] when there is no such series.
    ///
    /// # Examples
    /// ```
    /// let line = r#"{"format": "parlab-python-report", "version": 1, "python": {"version": "3.11.7", "implementation": "CPython", "gil_enabled": true, "executable": "python"}, "modules": {"numba": null}, "skipped": [{"series": "numba nogil threads", "module": "numba", "reason": "No module named 'numba'"}], "series": []}"#;
    /// let report = parlab::python::report::from_line("example.py", line)?;
    /// let e = report.sweep("numba nogil threads").unwrap_err();
    /// assert!(e.to_string().contains("pip install numba"));
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn sweep(&self, name: &str) -> Result<&Sweep, PythonError> {
        if let Some(s) = self.series.iter().find(|s| s.name == name) {
            return Ok(s);
        }
        if let Some(skipped) = self.skipped.iter().find(|s| s.series == name) {
            return Err(skipped.to_error());
        }
        Err(PythonError::NoSeries {
            name: name.to_owned(),
            available: self
                .series
                .iter()
                .map(|s| format!("{:?}", s.name))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The points of the series `name` as a [`Comparison`] (one bar per point).
    ///
    /// # Errors
    /// As [`Report::sweep`].
    pub fn comparison(&self, name: &str) -> Result<Comparison, PythonError> {
        let sweep = self.sweep(name)?;
        Ok(Comparison::from(
            sweep
                .points
                .iter()
                .map(|(_, m)| m.clone())
                .collect::<Vec<_>>(),
        ))
    }

    /// One line per skipped series: what is missing and how to add it.
    pub fn notes(&self) -> Vec<String> {
        self.skipped
            .iter()
            .map(|s| s.to_error().to_string())
            .collect()
    }
}

/// Checks a finished script's output: it ended well, and its last line is a report.
pub(super) fn parse(script: &str, out: &Finished) -> Result<Report, PythonError> {
    if !out.status.success() {
        let mut stderr = last_lines(&out.stderr, 12);
        if stderr.is_empty() {
            stderr = "(nothing)".into();
        }
        return Err(PythonError::Raised {
            script: script.to_owned(),
            status: out.status.to_string(),
            stderr,
        });
    }
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    from_line(script, line)
}

#[derive(Deserialize)]
struct RawPoint {
    value: f64,
    label: String,
    times_s: Vec<f64>,
    work: Option<u64>,
}

#[derive(Deserialize)]
struct RawSeries {
    name: String,
    param: String,
    points: Vec<RawPoint>,
}

#[derive(Deserialize)]
struct RawReport {
    python: Interpreter,
    modules: BTreeMap<String, Option<String>>,
    skipped: Vec<Skipped>,
    series: Vec<RawSeries>,
}

/// The start of `line`, at most 120 characters, for an error message.
fn excerpt(line: &str) -> String {
    let mut cut: String = line.chars().take(120).collect();
    if cut.len() < line.len() {
        cut.push_str("...");
    }
    cut
}

/// Parses and checks one line of a script's output as a report.
///
/// # Errors
/// [`PythonError::Garbage`], naming what is wrong: not JSON, another format or version, a field
/// missing or of the wrong type, a time that is negative or not finite, a series without points.
///
/// # Examples
/// ```
/// let e = parlab::python::report::from_line("noisy.py", "hello").unwrap_err();
/// assert!(e.to_string().contains("not JSON"));
/// let e = parlab::python::report::from_line("old.py", r#"{"format": "parlab-python-report", "version": 0}"#).unwrap_err();
/// assert!(e.to_string().contains("version 0"));
/// ```
pub fn from_line(script: &str, line: &str) -> Result<Report, PythonError> {
    let garbage = |reason: String| PythonError::Garbage {
        script: script.to_owned(),
        reason,
        line: excerpt(line),
    };
    if line.trim().is_empty() {
        return Err(garbage("it printed nothing on stdout".into()));
    }
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| garbage(format!("its last line is not JSON ({e})")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(garbage(format!(
            "its JSON has no \"format\": \"{FORMAT}\" tag"
        )));
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(VERSION) => {}
        Some(v) => {
            return Err(garbage(format!(
                "it is a report of version {v}, and this parlab reads version {VERSION} (are \
                 python/ and the library from the same checkout?)"
            )));
        }
        None => return Err(garbage("its report has no version number".into())),
    }
    let raw: RawReport = serde_json::from_value(value)
        .map_err(|e| garbage(format!("its report does not have the expected shape ({e})")))?;
    let mut series = Vec::with_capacity(raw.series.len());
    for s in raw.series {
        if s.points.is_empty() {
            return Err(garbage(format!("series {:?} has no points", s.name)));
        }
        let mut points = Vec::with_capacity(s.points.len());
        for p in s.points {
            if p.times_s.is_empty() || !p.value.is_finite() {
                return Err(garbage(format!(
                    "point {:?} of {:?} has no times or a value that is not a number",
                    p.label, s.name
                )));
            }
            let mut times = Vec::with_capacity(p.times_s.len());
            for t in p.times_s {
                let d = Duration::try_from_secs_f64(t).map_err(|_| {
                    garbage(format!(
                        "point {:?} of {:?} has the time {t} s",
                        p.label, s.name
                    ))
                })?;
                times.push(d);
            }
            let mut m = Measurement::new(p.label, times);
            m.work = p.work;
            points.push((p.value, m));
        }
        series.push(Sweep {
            name: s.name,
            param: s.param,
            points,
            ..Sweep::default()
        });
    }
    Ok(Report {
        python: raw.python,
        modules: raw.modules,
        skipped: raw.skipped,
        series,
    })
}
