//! `parlab_py`: the lessons' Rust `calc_pi`, called from Python.
//!
//! Two functions count the same hits with the same machine code as the lessons' Rust threads
//! (`parlab::pi::count_hits`), and differ in one thing only:
//!
//! - `calc_pi(samples, seed)` holds the GIL while it counts, as pure Python code does: Python
//!   threads calling it take turns;
//! - `calc_pi_nogil(samples, seed)` counts inside `py.detach` (PyO3's name, since 0.26, for
//!   what was `allow_threads`): the GIL is released, so Python threads calling it run at once,
//!   as numba's `nogil=True` functions do.
//!
//! Both return `(estimate, samples)`, as the source lesson's `calc_pi` does. Bad arguments raise
//! Python exceptions: `ValueError` for 0 samples or more than [`MAX_SAMPLES`], `OverflowError`
//! (from PyO3's conversion) for a negative number or one beyond 64 bits, `TypeError` for a
//! non-integer.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The most samples one call counts: about 10 s on one core, so a typo cannot hang a lesson.
pub const MAX_SAMPLES: u64 = 10_000_000_000;

/// Checks `samples` before counting: a `ValueError` that says what is allowed.
fn check(samples: u64) -> PyResult<()> {
    if samples == 0 {
        return Err(PyValueError::new_err(
            "calc_pi needs at least 1 sample (samples=0 gives no estimate)",
        ));
    }
    if samples > MAX_SAMPLES {
        return Err(PyValueError::new_err(format!(
            "samples={samples} is more than parlab_py counts in one call (at most {MAX_SAMPLES}, \
             about 10 s on one core): split the work into several calls"
        )));
    }
    Ok(())
}

/// `(4 * hits / samples, samples)`, the source lesson's return value.
fn estimate(hits: u64, samples: u64) -> (f64, u64) {
    (4.0 * hits as f64 / samples as f64, samples)
}

/// Estimates pi from `samples` random points, seeded by `seed`, holding the GIL throughout.
#[pyfunction]
fn calc_pi(_py: Python<'_>, samples: u64, seed: u64) -> PyResult<(f64, u64)> {
    check(samples)?;
    // `_py` is proof that this thread holds the GIL, and it keeps holding it while we count.
    Ok(estimate(parlab::pi::count_hits(seed, 0, samples), samples))
}

/// Estimates pi like `calc_pi`, but counts with the GIL released (`py.detach`).
#[pyfunction]
fn calc_pi_nogil(py: Python<'_>, samples: u64, seed: u64) -> PyResult<(f64, u64)> {
    check(samples)?;
    // The closure touches no Python object (the compiler checks it: `Ungil`), so other Python
    // threads may run meanwhile.
    let hits = py.detach(move || parlab::pi::count_hits(seed, 0, samples));
    Ok(estimate(hits, samples))
}

/// The module: `import parlab_py`.
#[pymodule]
fn parlab_py(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(calc_pi, m)?)?;
    m.add_function(wrap_pyfunction!(calc_pi_nogil, m)?)?;
    m.add("MAX_SAMPLES", MAX_SAMPLES)?;
    Ok(())
}
