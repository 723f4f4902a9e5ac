//! Ping-pong: messages of each size sent to a partner and back, timed. [`tasks::PING_PONG`]
//! does it between two MPI ranks; [`pipe_ping_pong`] through a lesson-03 pipe to a forked process
//! and [`thread_ping_pong`] between two threads do the same, to compare with; the charts' series
//! of latency and bandwidth.
//!
//! [`tasks::PING_PONG`]: crate::mpi::tasks::PING_PONG

use std::time::{Duration, Instant};

use crossbeam::channel::RecvTimeoutError;
use serde::{Deserialize, Serialize};

use crate::chart::Series;
use crate::process::ProcessError;

/// The arguments of [`tasks::PING_PONG`](crate::mpi::tasks::PING_PONG).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingPongArgs {
    /// Message sizes in bytes.
    pub sizes: Vec<usize>,
    /// Round trips timed per size (after as many untimed ones, at most 10).
    pub repeats: u32,
}

/// One message size of a ping-pong: the mean round trip.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PingPong {
    /// Bytes per message.
    pub bytes: usize,
    /// Mean seconds for a message to go and come back.
    pub round_trip: f64,
}

impl PingPong {
    /// One-way latency: half a round trip, in microseconds.
    ///
    /// # Examples
    /// ```
    /// let p = parlab::mpi::PingPong { bytes: 8, round_trip: 4e-6 };
    /// assert_eq!(p.latency_us(), 2.0);
    /// ```
    pub fn latency_us(&self) -> f64 {
        self.round_trip / 2.0 * 1e6
    }

    /// One-way bandwidth: bytes per half round trip, in MB/s (10^6 bytes).
    ///
    /// # Examples
    /// ```
    /// let p = parlab::mpi::PingPong { bytes: 1_000_000, round_trip: 2e-3 };
    /// assert_eq!(p.bandwidth_mb_s(), 1000.0);
    /// ```
    pub fn bandwidth_mb_s(&self) -> f64 {
        self.bytes as f64 / (self.round_trip / 2.0) / 1e6
    }
}

/// What went wrong in a ping-pong through a pipe or between threads.
///
/// # Examples
/// ```
/// use parlab::mpi::PingPongError;
/// let e = PingPongError::WrongLength { bytes: 8, got: 4 };
/// assert_eq!(e.to_string(), "a 8-byte message came back as 4 bytes");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PingPongError {
    /// The pipe or the forked echo process failed (lesson 03's error, kept as the source).
    #[error("the ping-pong through a pipe failed: {0}")]
    Process(#[from] ProcessError),
    /// The echo thread is gone: it ended or panicked.
    #[error("the echo thread is gone")]
    EchoGone,
    /// The echo thread did not send a message back in time.
    #[error("the echo thread did not send the message back within {after:?}")]
    EchoTimeout {
        /// How long it was waited for.
        after: Duration,
    },
    /// A message came back with another length than it went with.
    #[error("a {bytes}-byte message came back as {got} bytes")]
    WrongLength {
        /// The bytes sent.
        bytes: usize,
        /// The bytes that came back.
        got: usize,
    },
}

/// Ping-pong of `Vec<u8>` messages of each size through a lesson-03 pipe to a forked child.
///
/// # Errors
/// [`PingPongError::Process`] when the fork or the pipe fails, [`PingPongError::WrongLength`].
///
/// # Examples
/// ```
/// let p = parlab::mpi::pipe_ping_pong(&[8], 20)?;
/// assert_eq!(p[0].bytes, 8);
/// assert!(p[0].round_trip > 0.0);
/// # Ok::<(), parlab::mpi::PingPongError>(())
/// ```
pub fn pipe_ping_pong(sizes: &[usize], repeats: u32) -> Result<Vec<PingPong>, PingPongError> {
    use crate::process;
    let t = Duration::from_secs(30);
    let (mut parent, mut child_end) = process::pipe::<Vec<u8>, Vec<u8>>()?;
    let mut echo = crate::echo::fork_echo(move || match child_end.recv(t) {
        Ok(msg) if !msg.is_empty() => child_end.send(&msg, t).is_ok(),
        _ => false,
    })?;
    let result = ping_pong_loop(sizes, repeats, |msg| {
        parent.send(msg, t)?;
        Ok(parent.recv(t)?)
    });
    let _ = parent.send(&Vec::new(), t);
    let _ = echo.join(t);
    result
}

/// Ping-pong of `Vec<u8>` messages of each size between two threads over channels: a message
/// is moved, not copied (lesson 02's shared memory: only a pointer changes hands).
///
/// # Errors
/// [`PingPongError::EchoGone`] if the other thread is gone, [`PingPongError::EchoTimeout`] if it
/// does not answer within 30 s.
///
/// # Examples
/// ```
/// let p = parlab::mpi::thread_ping_pong(&[1 << 20], 10)?;
/// assert!(p[0].bandwidth_mb_s() > 0.0);
/// # Ok::<(), parlab::mpi::PingPongError>(())
/// ```
pub fn thread_ping_pong(sizes: &[usize], repeats: u32) -> Result<Vec<PingPong>, PingPongError> {
    let (to_echo, echo_in) = crossbeam::channel::bounded::<Vec<u8>>(1);
    let (echo_out, back) = crossbeam::channel::bounded::<Vec<u8>>(1);
    let echo = std::thread::spawn(move || {
        while let Ok(msg) = echo_in.recv() {
            if echo_out.send(msg).is_err() {
                break;
            }
        }
    });
    let after = Duration::from_secs(30);
    let result = ping_pong_loop(sizes, repeats, |msg| {
        to_echo
            .send(std::mem::take(msg))
            .map_err(|_| PingPongError::EchoGone)?;
        back.recv_timeout(after).map_err(|e| match e {
            RecvTimeoutError::Timeout => PingPongError::EchoTimeout { after },
            RecvTimeoutError::Disconnected => PingPongError::EchoGone,
        })
    });
    drop(to_echo);
    let _ = echo.join();
    result
}

/// Times `repeats` round trips per size (after up to 10 untimed ones) of `exchange`, which sends
/// the message and returns what came back.
fn ping_pong_loop(
    sizes: &[usize],
    repeats: u32,
    mut exchange: impl FnMut(&mut Vec<u8>) -> Result<Vec<u8>, PingPongError>,
) -> Result<Vec<PingPong>, PingPongError> {
    let repeats = repeats.max(1);
    sizes
        .iter()
        .map(|&bytes| {
            let mut msg = vec![1u8; bytes.max(1)];
            let mut started = Instant::now();
            for i in 0..repeats + repeats.min(10) {
                if i == repeats.min(10) {
                    started = Instant::now();
                }
                msg = exchange(&mut msg)?;
                if msg.len() != bytes.max(1) {
                    return Err(PingPongError::WrongLength {
                        bytes,
                        got: msg.len(),
                    });
                }
            }
            Ok(PingPong {
                bytes,
                round_trip: started.elapsed().as_secs_f64() / f64::from(repeats),
            })
        })
        .collect()
}

/// One-way latency in microseconds against message size in bytes, for a log-log chart.
///
/// # Examples
/// ```
/// let p = [parlab::mpi::PingPong { bytes: 8, round_trip: 4e-6 }];
/// assert_eq!(parlab::mpi::latency_series("MPI", &p).points, [(8.0, 2.0)]);
/// ```
pub fn latency_series(name: &str, found: &[PingPong]) -> Series {
    let points = found
        .iter()
        .map(|p| (p.bytes as f64, p.latency_us()))
        .collect();
    Series::new(name, points)
}

/// One-way bandwidth in MB/s against message size in bytes, for a log-log chart.
///
/// # Examples
/// ```
/// let p = [parlab::mpi::PingPong { bytes: 1_000_000, round_trip: 2e-3 }];
/// assert_eq!(parlab::mpi::bandwidth_series("MPI", &p).points, [(1e6, 1000.0)]);
/// ```
pub fn bandwidth_series(name: &str, found: &[PingPong]) -> Series {
    let points = found
        .iter()
        .map(|p| (p.bytes as f64, p.bandwidth_mb_s()))
        .collect();
    Series::new(name, points)
}

/// The message sizes of the lesson's ping-pong: 8 bytes to 2 MiB, by factors of 8.
///
/// # Examples
/// ```
/// let s = parlab::mpi::ping_pong_sizes();
/// assert_eq!((s[0], *s.last().unwrap()), (8, 1 << 21));
/// ```
pub fn ping_pong_sizes() -> Vec<usize> {
    (0..7).map(|i| 8usize << (3 * i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_that_comes_back_short_is_named() {
        let e = ping_pong_loop(&[8], 1, |msg| Ok(msg[..4].to_vec())).unwrap_err();
        assert!(
            matches!(e, PingPongError::WrongLength { bytes: 8, got: 4 }),
            "{e}"
        );
    }
}
