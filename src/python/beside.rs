//! The Rust side of a pair that has no ready-made function elsewhere: a `Queue` round trip.

use std::time::{Duration, Instant};

use crate::process::{ProcessError, Queue};
use crate::timing::Measurement;

/// How long one put or get of a round trip may wait.
const LIMIT: Duration = Duration::from_secs(10);

/// Times `count` single round trips through two [`Queue`]s to a forked echo process (after 20
/// untimed ones): the same shape as Python's round trip in `python/processes.py`.
///
/// # Errors
/// A [`ProcessError`] from the fork or the queues (each wait is limited to 10 s), or
/// [`ProcessError::Io`] for `count == 0`.
///
/// # Examples
/// ```
/// let m = parlab::python::queue_round_trips(20)?;
/// assert_eq!(m.times.len(), 20);
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
pub fn queue_round_trips(count: usize) -> Result<Measurement, ProcessError> {
    if count == 0 {
        return Err(ProcessError::io(
            "timing queue round trips",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "0 round trips"),
        ));
    }
    let ping = Queue::<u64>::new(1)?;
    let pong = Queue::<u64>::new(1)?;
    let (to_echo, from_echo) = (ping.clone(), pong.clone());
    let mut echo = crate::echo::fork_echo(move || match to_echo.get(LIMIT) {
        Ok(x) if x != u64::MAX => from_echo.put(&x, LIMIT).is_ok(),
        _ => false,
    })?;
    let mut times = Vec::with_capacity(count);
    for i in 0..(count + 20) as u64 {
        let start = Instant::now();
        ping.put(&i, LIMIT)?;
        pong.get(LIMIT)?;
        if i >= 20 {
            times.push(start.elapsed());
        }
    }
    ping.put(&u64::MAX, LIMIT)?;
    echo.join(LIMIT)?;
    Ok(Measurement::new("parlab Queue round trip (fork)", times).with_work(1))
}
