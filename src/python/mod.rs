//! Python, live, beside Rust: the source lesson's own Python code run in the project's
//! interpreter, measured on this machine, and handed back as [`timing`](crate::timing) values.
//!
//! The Python side lives in readable `.py` files in the repository's `python/` folder (the
//! source's `calc_pi`, its `Thread(target=calc_pi, ...)`, its numba `nogil` version, its
//! `numpy.sort` exercise, its `Process` and `Queue` code and its `Pool` exercise). Each runs as a
//! child process of this one ([`Python::run_file`]):
//!
//! - stdin, stdout and stderr are pipes of its own (a child that inherited the kernel's stdin
//!   would read the kernel's commands);
//! - it runs in a process group of its own, which is killed when its time is up, when the call
//!   ends, and when the handle is dropped; and if this process dies (a Jupyter "Interrupt"), the
//!   script notices its stdin closing and kills its own group: no Python outlives its cell;
//! - its one line of JSON result is checked by its shape ([`report`]) before it becomes a
//!   [`Sweep`](crate::timing::Sweep) or a [`Comparison`](crate::timing::Comparison) that the
//!   charts take. Anything else is a [`PythonError`] that names the cause and the fix.
//!
//! The interpreter is the project's `.venv/bin/python` (where `parlab setup` installs numpy,
//! numba and the Rust extension `parlab_py`), found the way the kernel finds the worker binary,
//! or `$PARLAB_VENV_PYTHON`.
//!
//! # Examples
//! ```no_run
//! use parlab::python::{PiThreads, Python};
//! let py = Python::find()?;
//! let report = py.pi_threads(&PiThreads::quick())?;
//! println!("{}", report.sweep("Python threads")?);
//! # Ok::<(), parlab::python::PythonError>(())
//! ```

mod beside;
mod error;
mod lessons;
pub mod report;
mod run;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use beside::queue_round_trips;
pub use error::{PYTHON_ENV, PythonError, SETUP};
pub use lessons::{PiThreads, how_close};
pub use report::{FREE_THREADED, FREE_THREADED_SERIES, Interpreter, Report, Skipped};

/// The project's interpreter: `.venv/bin/python` in this crate's folder (made by `parlab setup`).
pub const DEFAULT_PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");

/// The folder of the lessons' Python scripts.
pub const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python");

/// How long a script may run before it is stopped, unless [`Python::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// An interpreter the lessons run scripts in, with the time each script may take.
#[derive(Debug, Clone)]
pub struct Python {
    path: PathBuf,
    version: String,
    gil_enabled: bool,
    timeout: Duration,
}

impl Python {
    /// The project's interpreter: `$PARLAB_VENV_PYTHON`, else [`DEFAULT_PYTHON`].
    ///
    /// # Errors
    /// [`PythonError::NoVenv`] when there is no interpreter there, [`PythonError::NotPython3`]
    /// when it is not Python 3.9 or newer, and the errors of running it.
    ///
    /// # Examples
    /// ```no_run
    /// let py = parlab::python::Python::find()?;
    /// assert!(py.version().starts_with("3."));
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn find() -> Result<Python, PythonError> {
        let path = std::env::var_os(PYTHON_ENV)
            .map_or_else(|| PathBuf::from(DEFAULT_PYTHON), PathBuf::from);
        Python::at(path)
    }

    /// The interpreter at `path`, once it has said that it is Python 3.9 or newer.
    ///
    /// # Errors
    /// As [`Python::find`].
    ///
    /// # Examples
    /// ```
    /// use parlab::python::{Python, PythonError};
    /// let missing = Python::at("/nowhere/.venv/bin/python").unwrap_err();
    /// assert!(matches!(missing, PythonError::NoVenv { .. }));
    /// ```
    pub fn at(path: impl Into<PathBuf>) -> Result<Python, PythonError> {
        let path = path.into();
        if !path.is_file() {
            return Err(PythonError::NoVenv { path });
        }
        let (version, gil_enabled) = run::probe(&path)?;
        Ok(Python {
            path,
            version,
            gil_enabled,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// A free-threaded CPython (3.14t or 3.13t, built without the GIL) on `PATH` or in pyenv's
    /// versions, if this machine has one.
    ///
    /// # Examples
    /// ```
    /// if let Some(py) = parlab::python::Python::free_threaded() {
    ///     assert!(!py.gil_enabled());
    /// }
    /// ```
    pub fn free_threaded() -> Option<Python> {
        let mut candidates = Vec::new();
        let names = ["python3.14t", "python3.13t"];
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                candidates.extend(names.iter().map(|n| dir.join(n)));
            }
        }
        let pyenv = std::env::var_os("PYENV_ROOT")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
        if let Some(Ok(versions)) = pyenv.map(|p| std::fs::read_dir(p.join("versions"))) {
            for entry in versions.flatten() {
                if entry.file_name().to_string_lossy().ends_with('t') {
                    candidates.extend(names.iter().map(|n| entry.path().join("bin").join(n)));
                }
            }
        }
        candidates
            .into_iter()
            .filter(|p| p.is_file())
            .find_map(|p| Python::at(p).ok().filter(|py| !py.gil_enabled))
    }

    /// The same interpreter, giving each script `limit` before it is stopped.
    ///
    /// # Examples
    /// ```no_run
    /// let py = parlab::python::Python::find()?.with_timeout(std::time::Duration::from_secs(8));
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, limit: Duration) -> Python {
        self.timeout = limit;
        self
    }

    /// Where the interpreter is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its version, e.g. `3.11.7`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// False for a free-threaded CPython running without its GIL.
    pub fn gil_enabled(&self) -> bool {
        self.gil_enabled
    }

    /// The time each script may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs the Python file `script` with `args` (stdin, stdout and stderr its own pipes, in its
    /// own process group, stopped with every process it started after [`Python::timeout`]) and
    /// checks its report.
    ///
    /// # Errors
    /// [`PythonError::Timeout`], [`PythonError::Raised`] (with the traceback),
    /// [`PythonError::Garbage`] when its last line is not a parlab report, and
    /// [`PythonError::Start`].
    ///
    /// # Examples
    /// ```no_run
    /// let py = parlab::python::Python::find()?;
    /// let script = std::path::Path::new(parlab::python::SCRIPTS).join("threads_sort.py");
    /// let report = py.run_file(&script, &["--len", "1000", "--repeats", "1"])?;
    /// assert_eq!(report.series.len(), 1);
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn run_file<S: AsRef<std::ffi::OsStr>>(
        &self,
        script: &Path,
        args: &[S],
    ) -> Result<Report, PythonError> {
        let name = script.file_name().map_or_else(
            || script.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let out = run::run(&self.path, script, args, self.timeout)?;
        report::parse(&name, &out)
    }

    /// Runs one of the lessons' scripts in [`SCRIPTS`] by file name.
    fn run_script(&self, name: &str, args: &[String]) -> Result<Report, PythonError> {
        self.run_file(&Path::new(SCRIPTS).join(name), args)
    }
}

impl std::fmt::Display for Python {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gil = if self.gil_enabled {
            ""
        } else {
            ", free-threaded (no GIL)"
        };
        write!(f, "Python {}{gil} at {}", self.version, self.path.display())
    }
}

#[cfg(test)]
mod tests;
