//! Start-up against work on a timeline: the same `calc_pi` on a thread, in a forked child and in
//! a spawned worker, each on its own lane.

use std::sync::mpsc;
use std::time::Duration;

use super::{Options, Output, ProcessError, fork_with, spawn_with, tasks};
use crate::pi::{self, PiEstimate};
use crate::timeline::{Kind, Timeline, monotonic_ns};

/// The seed every run of [`record_start_methods`] uses, so that the three estimates are equal.
pub const START_METHODS_SEED: u64 = 1;

/// The estimates of [`record_start_methods`], one per way of starting (all three equal
/// `pi::calc_pi(samples, START_METHODS_SEED)`).
///
/// # Examples
/// ```
/// let e = parlab::pi::calc_pi(1000, 1)?;
/// let runs = parlab::process::StartMethodRuns { thread: e, fork: e, spawn: e };
/// assert!(runs.agree());
/// # Ok::<(), parlab::pi::PiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartMethodRuns {
    /// On a thread of this process.
    pub thread: PiEstimate,
    /// In a forked child.
    pub fork: PiEstimate,
    /// In a spawned `parlab-worker`.
    pub spawn: PiEstimate,
}

impl StartMethodRuns {
    /// Whether the three estimates are the same (the same work was done three times).
    ///
    /// # Examples
    /// ```
    /// let (a, b) = (parlab::pi::calc_pi(1000, 1)?, parlab::pi::calc_pi(1000, 2)?);
    /// assert!(!parlab::process::StartMethodRuns { thread: a, fork: a, spawn: b }.agree());
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn agree(&self) -> bool {
        self.thread == self.fork && self.fork == self.spawn
    }
}

/// Runs `pi::calc_pi(samples, START_METHODS_SEED)` on a thread, in a forked child and in a
/// spawned worker, one after the other, and records each on its own lane of `timeline`
/// (`thread`, `fork`, `spawn`): `Starting` from the call to the work's start, `Running` for the
/// work as the thread or child timed it, `Sending` from its end to `join` returning.
///
/// The fork does not warn about other threads (the child only counts and sends its result), and
/// the workers' output is discarded. Every wait has a timeout (a minute, and more for
/// a billion samples).
///
/// # Errors
/// [`ProcessError::Invalid`] for 0 samples; any error of [`fork_with`], [`spawn_with`] or
/// [`Process::join`](super::Process::join) (the worker binary missing, a timeout, ...). What ran
/// before the error is recorded.
///
/// # Examples
/// ```
/// use parlab::timeline::{Kind, Timeline};
/// let tl = Timeline::new();
/// match parlab::process::record_start_methods(&tl, 100_000) {
///     Ok(runs) => {
///         assert!(runs.agree());
///         assert_eq!(tl.lanes(), ["thread", "fork", "spawn"]);
///     }
///     // Without a built worker only the thread and the fork ran.
///     Err(e) => assert!(e.to_string().contains("cargo build --release --bins"), "{e}"),
/// }
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
pub fn record_start_methods(
    timeline: &Timeline,
    samples: u64,
) -> Result<StartMethodRuns, ProcessError> {
    let opts = Options {
        warn: false,
        output: Output::Discard,
        ..Options::default()
    };
    record_start_methods_with(timeline, samples, &opts)
}

/// [`record_start_methods`] with [`Options`] for the fork and the spawn (which worker binary,
/// where output goes, the fork warning); its name is left out (each is named after its method).
///
/// # Errors
/// As [`record_start_methods`].
///
/// # Examples
/// ```
/// use parlab::process::{self, Options, Output};
/// let tl = parlab::timeline::Timeline::new();
/// let opts = Options { worker: Some("/nonexistent".into()), warn: false, output: Output::Discard, name: None };
/// let e = process::record_start_methods_with(&tl, 1000, &opts).unwrap_err();
/// assert!(e.to_string().contains("worker binary is missing"), "{e}");
/// assert_eq!(tl.lanes(), ["thread", "fork", "spawn"]); // the thread and the fork ran
/// ```
pub fn record_start_methods_with(
    timeline: &Timeline,
    samples: u64,
    opts: &Options,
) -> Result<StartMethodRuns, ProcessError> {
    if samples == 0 {
        return Err(ProcessError::Invalid(
            "calc_pi needs at least one sample".into(),
        ));
    }
    // A minute, plus 100 ns a sample (10 M samples/s: a debug build on a busy core).
    let timeout = Duration::from_secs(60) + Duration::from_nanos(samples.saturating_mul(100));
    let (thread_lane, fork_lane, spawn_lane) = (
        timeline.lane("thread"),
        timeline.lane("fork"),
        timeline.lane("spawn"),
    );
    let thread = on_a_thread(timeline, thread_lane, samples, timeout)?;

    let named = |name: &str| Options {
        name: Some(name.into()),
        ..opts.clone()
    };
    let child = fork_with(
        move || pi::calc_pi(samples, START_METHODS_SEED).map_err(|e| e.to_string()),
        &named("fork"),
    );
    let mut child = child?;
    child.set_work("calc_pi");
    let forked = child.join(timeout);
    child.record(timeline, fork_lane)?;
    let fork = forked?.map_err(ProcessError::Invalid)?;

    // The spawn lane exists even when the worker cannot start: it shows where it would be.
    let mut worker = spawn_with(
        tasks::CALC_PI,
        &(samples, START_METHODS_SEED),
        &named("spawn"),
    )?;
    let spawned = worker.join(timeout);
    worker.record(timeline, spawn_lane)?;
    let spawn = spawned?;
    Ok(StartMethodRuns {
        thread,
        fork,
        spawn,
    })
}

/// calc_pi on a new thread: `Starting` from the spawn call to the closure's start, `Running` for
/// the closure, `Sending` from its end to the join returning.
fn on_a_thread(
    timeline: &Timeline,
    lane: crate::timeline::Lane,
    samples: u64,
    timeout: Duration,
) -> Result<PiEstimate, ProcessError> {
    let (tx, rx) = mpsc::channel();
    let called = monotonic_ns();
    let handle = std::thread::Builder::new()
        .name("calc_pi".into())
        .spawn(move || {
            let started = monotonic_ns();
            let estimate = pi::calc_pi(samples, START_METHODS_SEED);
            let _ = tx.send((started, monotonic_ns(), estimate));
        })
        .map_err(|e| ProcessError::Start {
            what: "a thread".into(),
            source: e,
        })?;
    let got = rx.recv_timeout(timeout);
    let at = |ns| timeline.from_monotonic(ns);
    match got {
        Ok((started, ended, estimate)) => {
            // It sent its result as its last act: the join returns at once.
            let _ = handle.join();
            let joined = monotonic_ns();
            timeline.record_ns(
                lane,
                Kind::Starting,
                "thread start-up",
                at(called),
                at(started),
            );
            timeline.record_ns(lane, Kind::Running, "calc_pi", at(started), at(ended));
            timeline.record_ns(
                lane,
                Kind::Sending,
                "result back, joined",
                at(ended),
                at(joined),
            );
            estimate.map_err(|e| ProcessError::Invalid(e.to_string()))
        }
        Err(_) => {
            // A thread cannot be killed: it is left to finish on its own.
            let what = "the calc_pi thread gave no result".to_string();
            timeline.record_ns(
                lane,
                Kind::Unfinished,
                &what,
                at(called),
                at(monotonic_ns()),
            );
            Err(ProcessError::Timeout {
                what,
                after: timeout,
            })
        }
    }
}
