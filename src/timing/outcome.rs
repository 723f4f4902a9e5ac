//! What a measured closure returns: the work it did (for a throughput), or an error.

use std::fmt;
use std::time::{Duration, Instant};

use crate::pi::PiEstimate;

/// What a measured closure returned: the work it did (for a throughput) or an error.
///
/// Implemented for [`PiEstimate`] (work = samples), `Result`, `Option` (`None` is an error),
/// `()`, and plain values (no work counted). Wrap a value in [`Work`] to count work yourself.
pub trait Outcome {
    /// The units of work done (samples, items), if known; `Err` with a message if the code failed.
    ///
    /// # Errors
    /// The message of the error the code returned.
    ///
    /// # Examples
    /// ```
    /// use parlab::timing::Outcome;
    /// assert_eq!(().work(), Ok(None));
    /// let failed: Result<(), String> = Err("boom".into());
    /// assert_eq!(failed.work(), Err("boom".to_string()));
    /// ```
    fn work(&self) -> Result<Option<u64>, String>;
}

/// A closure's result carrying how much work it did, e.g. `Work(v.len() as u64)` after a sort.
///
/// # Examples
/// ```
/// use parlab::timing::{measure, Work};
/// let m = measure("sum", 3, || Work(1000))?;
/// assert_eq!(m.work, Some(1000));
/// # Ok::<(), parlab::timing::TimingError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work(pub u64);

impl Outcome for Work {
    fn work(&self) -> Result<Option<u64>, String> {
        Ok(Some(self.0))
    }
}

impl Outcome for PiEstimate {
    fn work(&self) -> Result<Option<u64>, String> {
        Ok(Some(self.samples))
    }
}

impl<T: Outcome, E: fmt::Display> Outcome for Result<T, E> {
    fn work(&self) -> Result<Option<u64>, String> {
        match self {
            Ok(value) => value.work(),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl<T: Outcome> Outcome for Option<T> {
    fn work(&self) -> Result<Option<u64>, String> {
        match self {
            Some(value) => value.work(),
            None => Err("returned None".into()),
        }
    }
}

macro_rules! no_work {
    ($($t:ty),*) => {$(
        impl Outcome for $t {
            fn work(&self) -> Result<Option<u64>, String> { Ok(None) }
        }
    )*};
}
no_work!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String
);

impl<T> Outcome for Vec<T> {
    fn work(&self) -> Result<Option<u64>, String> {
        Ok(None)
    }
}

/// One timed run of the code being measured: how long it took and the work it did, or its
/// error's message. The code's own type stays in [`timed`]; what is done with the times takes
/// this, so that a notebook cell, which compiles every generic function it calls again, compiles
/// only the run.
pub(crate) type TimedRun<'a> = dyn FnMut() -> Result<(Duration, Option<u64>), String> + 'a;

/// `f` as a [`TimedRun`]: its result is kept from the optimizer, and dropped once timed.
pub(crate) fn timed<R: Outcome>(
    mut f: impl FnMut() -> R,
) -> impl FnMut() -> Result<(Duration, Option<u64>), String> {
    move || {
        let start = Instant::now();
        let result = std::hint::black_box(f());
        let took = start.elapsed();
        result.work().map(|work| (took, work))
    }
}
