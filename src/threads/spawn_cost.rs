//! The cost of starting a thread: [`spawn_cost`] times starting and joining one that does nothing.

use std::thread;
use std::time::Instant;

use super::error::ThreadsError;
use crate::spawn_error::SpawnError;
use crate::timing::Measurement;

/// Times starting and joining a thread that does nothing, `repeats` times after one warm-up.
///
/// # Errors
/// [`ThreadsError::Zero`] for `repeats == 0`, [`ThreadsError::Spawn`] if a thread cannot start.
///
/// # Examples
/// ```
/// let m = parlab::threads::spawn_cost(20)?;
/// assert!(m.median() < std::time::Duration::from_millis(50));
/// # Ok::<(), parlab::threads::ThreadsError>(())
/// ```
pub fn spawn_cost(repeats: usize) -> Result<Measurement, ThreadsError> {
    if repeats == 0 {
        return Err(ThreadsError::Zero("the number of repeats"));
    }
    let mut times = Vec::with_capacity(repeats);
    for run in 0..=repeats {
        let start = Instant::now();
        let handle = thread::Builder::new()
            .spawn(|| {})
            .map_err(|e| ThreadsError::from(SpawnError::new("a thread", e)))?;
        handle
            .join()
            .map_err(|p| ThreadsError::Panicked(crate::panics::message(p.as_ref())))?;
        if run > 0 {
            times.push(start.elapsed());
        }
    }
    Ok(Measurement::new("spawn + join an empty thread", times))
}
