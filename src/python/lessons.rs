//! The lessons' scripts, one method each: the sizes the lessons use, and the values they chart.

use super::Python;
use super::error::PythonError;
use super::report::{FREE_THREADED, FREE_THREADED_SERIES, Report, Skipped};

use crate::timing::{Comparison, Sweep};

/// What `python/threads_calc_pi.py` measures: calc_pi on threads, four ways, with the same total
/// work at every thread count (a sample count of 0 leaves its series out).
///
/// # Examples
/// ```
/// let quick = parlab::python::PiThreads::quick();
/// assert_eq!(quick.threads, vec![1, 2]);
/// assert!(quick.python < parlab::python::PiThreads::source().python);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiThreads {
    /// The thread counts.
    pub threads: Vec<usize>,
    /// Timed runs per thread count (the median is charted).
    pub repeats: usize,
    /// Samples per run for the source's pure-Python calc_pi ("Python threads").
    pub python: u64,
    /// Samples per run for numba's `nogil` calc_pi ("numba nogil threads").
    pub numba: u64,
    /// Samples per run for the Rust extension `parlab_py` ("Rust extension, GIL held" and
    /// "Rust extension, GIL released").
    pub ext: u64,
}

impl PiThreads {
    /// The lesson's sizes: a few seconds in all on 2 cores (pure Python counts about 2 M samples
    /// per second, numba about 40 M per core, Rust about 1 G per core).
    pub fn quick() -> PiThreads {
        PiThreads {
            threads: vec![1, 2],
            repeats: 3,
            python: 500_000,
            numba: 5_000_000,
            ext: 50_000_000,
        }
    }

    /// The source lesson's size: 2 * 10^7 samples in all (its two threads of 10^7 each), for
    /// pure Python about 10 s per run on the lessons' machine.
    pub fn source() -> PiThreads {
        PiThreads {
            threads: vec![1, 2],
            repeats: 3,
            python: 20_000_000,
            numba: 200_000_000,
            ext: 2_000_000_000,
        }
    }

    fn args(&self) -> Vec<String> {
        let threads: Vec<String> = self.threads.iter().map(|k| k.to_string()).collect();
        vec![
            "--threads".into(),
            threads.join(","),
            "--repeats".into(),
            self.repeats.to_string(),
            "--python".into(),
            self.python.to_string(),
            "--numba".into(),
            self.numba.to_string(),
            "--ext".into(),
            self.ext.to_string(),
        ]
    }
}

impl Python {
    /// Lesson 01: calc_pi on Python threads: the source's code, numba `nogil`, and the Rust
    /// extension with the GIL held and released (`python/threads_calc_pi.py`). The series are
    /// named "Python threads" (or "Python threads (free-threaded, no GIL)"), "numba nogil
    /// threads", "Rust extension, GIL held" and "Rust extension, GIL released"; one that needs a
    /// missing module is in [`Report::skipped`].
    ///
    /// # Errors
    /// The errors of [`Python::run_file`].
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::python::{PiThreads, Python};
    /// let report = Python::find()?.pi_threads(&PiThreads::quick())?;
    /// let speedup = report.sweep("Python threads")?.speedup();
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn pi_threads(&self, sizes: &PiThreads) -> Result<Report, PythonError> {
        self.run_script("threads_calc_pi.py", &sizes.args())
    }

    /// [`Python::pi_threads`], and the source's pure-Python series once more on a free-threaded
    /// CPython ([`Python::free_threaded`]) when this machine has one: a series named "Python
    /// threads (free-threaded, no GIL)". When there is none, the report lists that series in
    /// [`Report::skipped`], and its note says what it is and how to add one.
    ///
    /// # Errors
    /// The errors of [`Python::run_file`], from either interpreter.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::python::{PiThreads, Python};
    /// let report = Python::find()?.pi_threads_and_free_threaded(&PiThreads::quick())?;
    /// for note in report.notes() {
    ///     println!("{note}");
    /// }
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn pi_threads_and_free_threaded(&self, sizes: &PiThreads) -> Result<Report, PythonError> {
        let mut report = self.pi_threads(sizes)?;
        match Python::free_threaded() {
            Some(free) => {
                let only_python = PiThreads {
                    numba: 0,
                    ext: 0,
                    ..sizes.clone()
                };
                let free = free.with_timeout(self.timeout).pi_threads(&only_python)?;
                report.series.extend(free.series);
            }
            None => report.skipped.push(Skipped {
                series: FREE_THREADED_SERIES.into(),
                module: FREE_THREADED.into(),
                reason: "no python3.14t or python3.13t on PATH or in pyenv's versions".into(),
            }),
        }
        Ok(report)
    }

    /// Lesson 01's exercise: two arrays of `len` random integers sorted with `numpy.sort`, one
    /// after the other and on two threads (`python/threads_sort.py`).
    ///
    /// # Errors
    /// [`PythonError::Missing`] without numpy, and the errors of [`Python::run_file`].
    ///
    /// # Examples
    /// ```no_run
    /// let sorts = parlab::python::Python::find()?.sort_pair(1_000_000, 3)?;
    /// assert_eq!(sorts.measurements.len(), 2);
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn sort_pair(&self, len: usize, repeats: usize) -> Result<Comparison, PythonError> {
        let args = [
            "--len".to_owned(),
            len.to_string(),
            "--repeats".into(),
            repeats.to_string(),
        ];
        let mut sorts = self
            .run_script("threads_sort.py", &args)?
            .comparison("numpy.sort")?;
        for m in &mut sorts.measurements {
            m.label = format!("numpy.sort, {}", m.label);
        }
        Ok(sorts)
    }

    /// Lesson 03: Python's `Process` start + join with spawn and with fork (the source's
    /// `calc_pi(N, que)` with one sample, the result back through a `Queue`), `starts` times
    /// each, and `round_trips` single `Queue` round trips to a spawned echo process
    /// (`python/processes.py`).
    ///
    /// # Errors
    /// The errors of [`Python::run_file`].
    ///
    /// # Examples
    /// ```no_run
    /// let costs = parlab::python::Python::find()?.process_costs(5, 200)?;
    /// assert_eq!(costs.measurements.len(), 3);
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn process_costs(
        &self,
        starts: usize,
        round_trips: usize,
    ) -> Result<Comparison, PythonError> {
        let args = [
            "--starts".to_owned(),
            starts.to_string(),
            "--round-trips".into(),
            round_trips.to_string(),
        ];
        let report = self.run_script("processes.py", &args)?;
        let mut all = report.comparison("Python process start")?;
        for m in report.comparison("Python Queue round trip")?.measurements {
            all.push(m);
        }
        Ok(all)
    }

    /// Lesson 04: the source's pool exercise, `submit(ctx, N)` (a new spawn-context `Pool`
    /// running calc_pi 4 times with `starmap`), at each size of `sizes` samples per task,
    /// `repeats` times (`python/pool.py`). The sweep's parameter is the samples per task, as
    /// [`crossover::time_sizes`](crate::pool::crossover::time_sizes)'s is.
    ///
    /// # Errors
    /// The errors of [`Python::run_file`].
    ///
    /// # Examples
    /// ```no_run
    /// let python = parlab::python::Python::find()?.pool_submit(&[1_000, 10_000], 2)?;
    /// assert_eq!(python.points.len(), 2);
    /// # Ok::<(), parlab::python::PythonError>(())
    /// ```
    pub fn pool_submit(&self, sizes: &[u64], repeats: usize) -> Result<Sweep, PythonError> {
        let sizes: Vec<String> = sizes.iter().map(u64::to_string).collect();
        let args = [
            "--sizes".to_owned(),
            sizes.join(","),
            "--repeats".into(),
            repeats.to_string(),
        ];
        let report = self.run_script("pool.py", &args)?;
        report.sweep("Python: new Pool each time (spawn)").cloned()
    }
}

/// A sentence that says how close the simulated GIL's speed-up came to real Python's, at the
/// largest thread count both measured, computed from the two sweeps.
///
/// # Examples
/// ```
/// use parlab::timing::{Measurement, Sweep};
/// use std::time::Duration;
/// let sweep = |name: &str, ms: [u64; 2]| Sweep {
///     name: name.into(),
///     param: "threads".into(),
///     points: [1.0, 2.0].iter().zip(ms).map(|(&k, t)| (k, Measurement::new(name, vec![Duration::from_millis(t)]))).collect(),
///     ..Sweep::default()
/// };
/// let text = parlab::python::how_close(&sweep("Python threads", [100, 105]), &sweep("simulated GIL", [100, 100]));
/// assert!(text.contains("0.95x") && text.contains("1.00x") && text.contains("0.05"));
/// ```
pub fn how_close(real: &Sweep, simulated: &Sweep) -> String {
    let real_up = real.speedup();
    let sim_up = simulated.speedup();
    let common = real_up
        .iter()
        .filter(|(k, _)| *k > 1.0)
        .filter_map(|&(k, r)| Some((k, r, sim_up.iter().find(|(j, _)| *j == k)?.1)))
        .next_back();
    let Some((k, r, s)) = common else {
        return format!(
            "{} and {} have no thread count above 1 in common: nothing to compare",
            real.name, simulated.name
        );
    };
    let gap = (r - s).abs();
    let verdict = if gap <= 0.15 {
        "the simulation behaves like the real thing here"
    } else {
        "further apart than two runs of the same thing usually are: on a busy machine, run both \
         again"
    };
    format!(
        "At {k} threads, real Python threads ran {r:.2}x as fast as one thread, and the simulated \
         GIL {s:.2}x: {gap:.2} apart, {verdict}."
    )
}
