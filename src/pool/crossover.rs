//! The source's pool exercise, made complete: [`TASKS`] calc_pi tasks at sample sizes from 10^3
//! up, run five ways, to see where the cost of starting processes stops mattering.
//!
//! - [`serial`]: one after the other in this thread;
//! - [`fresh_processes`]: a new worker process per task, every time (`Process` in Python);
//! - [`new_pool_each_time`]: a pool created for every call, as the source's `submit` does;
//! - [`on_pool`]: a pool created once and reused (a [`ProcessPool`] or a [`ThreadPool`]).
//!
//! [`time_sizes`] times one way over the sizes, with fewer repeats for the long runs.
//!
//! # Examples
//! ```no_run
//! use parlab::pool::{crossover, PoolOptions, ProcessPool};
//! let sizes = crossover::sizes(3, 7); // 10^3 .. 10^7 samples per task
//! let serial = crossover::time_sizes("serial", &sizes, |n| crossover::serial(n, 4))?;
//! let pool = ProcessPool::new(2).expect("a pool");
//! let reused = crossover::time_sizes("reused pool", &sizes, |n| crossover::on_pool(&pool, n, 4))?;
//! println!("the pool wins from {:?} samples per task", crossover::first_faster(&reused, &serial));
//! # Ok::<(), parlab::timing::TimingError>(())
//! ```
//!
//! [`ProcessPool`]: super::ProcessPool
//! [`ThreadPool`]: super::ThreadPool

use std::time::{Duration, Instant};

use super::{Pool, PoolError, PoolOptions, ProcessPool};
use crate::pi::{self, PiEstimate};
use crate::process::{self, Options, tasks};
use crate::timing::{self, Budget, Measurement, Outcome, Skipped, Sweep, TimingError};

/// Tasks per run, as in the source (`repeat((N,), 4)`).
///
/// # Examples
/// ```
/// use parlab::pool::crossover;
/// assert_eq!(parlab::pi::task_args(10, crossover::TASKS).count(), 4);
/// ```
pub const TASKS: usize = 4;

/// How long any one task may take in these runs before it counts as failed.
const LIMIT: Duration = Duration::from_secs(120);

/// Powers of ten from `10^from` to `10^to`.
///
/// # Examples
/// ```
/// assert_eq!(parlab::pool::crossover::sizes(3, 5), [1_000, 10_000, 100_000]);
/// ```
pub fn sizes(from: u32, to: u32) -> Vec<u64> {
    (from..=to).map(|e| 10u64.pow(e)).collect()
}

/// Adds estimates up, as the pool's error.
fn combine(estimates: &[PiEstimate]) -> Result<PiEstimate, PoolError> {
    Ok(PiEstimate::combine(estimates)?)
}

/// The tasks one after the other, in this thread.
///
/// # Errors
/// [`PoolError::Pi`] for 0 samples or tasks.
///
/// # Examples
/// ```
/// let est = parlab::pool::crossover::serial(1000, 4)?;
/// assert_eq!(est.samples, 4000);
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub fn serial(samples: u64, tasks: usize) -> Result<PiEstimate, PoolError> {
    let estimates = pi::task_args(samples, tasks)
        .map(|(n, seed)| pi::calc_pi(n, seed).map_err(PoolError::from))
        .collect::<Result<Vec<_>, _>>()?;
    combine(&estimates)
}

/// A new worker process per task ([`process::spawn_with`]), all started, then all joined.
///
/// # Errors
/// The first task's error: a missing worker binary, a failed task.
///
/// # Examples
/// ```no_run
/// let opts = parlab::process::Options { output: parlab::process::Output::Discard, ..Default::default() };
/// let est = parlab::pool::crossover::fresh_processes(1000, 4, &opts)?;
/// assert_eq!(est.samples, 4000);
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub fn fresh_processes(
    samples: u64,
    tasks: usize,
    opts: &Options,
) -> Result<PiEstimate, PoolError> {
    let failed = |index: usize| {
        move |e: process::ProcessError| PoolError::Failed {
            index,
            task: "calc_pi".into(),
            message: e.to_string(),
        }
    };
    let mut workers = Vec::with_capacity(tasks);
    for (i, a) in pi::task_args(samples, tasks).enumerate() {
        workers.push(process::spawn_with(tasks::CALC_PI, &a, opts).map_err(failed(i))?);
    }
    let estimates = workers
        .iter_mut()
        .enumerate()
        .map(|(i, w)| w.join(LIMIT).map_err(failed(i)))
        .collect::<Result<Vec<_>, _>>()?;
    combine(&estimates)
}

/// A process pool created for this call and dropped after it, as the source's `submit` does:
/// `with ctx.Pool() as pool: pool.starmap(calc_pi, repeat((N,), 4))`.
///
/// # Errors
/// As [`ProcessPool::with_options`] and [`Pool::starmap`].
///
/// # Examples
/// ```no_run
/// let est = parlab::pool::crossover::new_pool_each_time(1000, 4, &parlab::pool::PoolOptions::new(2))?;
/// assert_eq!(est.samples, 4000);
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub fn new_pool_each_time(
    samples: u64,
    tasks: usize,
    opts: &PoolOptions,
) -> Result<PiEstimate, PoolError> {
    let pool = ProcessPool::with_options(opts)?;
    on_pool(&pool, samples, tasks)
}

/// The tasks on a pool that already exists (a process pool or a thread pool).
///
/// # Errors
/// As [`Pool::starmap`].
///
/// # Examples
/// ```
/// let pool = parlab::pool::ThreadPool::new(2)?;
/// assert_eq!(parlab::pool::crossover::on_pool(&pool, 1000, 4)?.samples, 4000);
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub fn on_pool(pool: &impl Pool, samples: u64, tasks: usize) -> Result<PiEstimate, PoolError> {
    let estimates = pool.starmap(tasks::CALC_PI, pi::task_args(samples, tasks), Some(1))?;
    combine(&estimates)
}

/// Times `run(size)` at each size, within the default time [`Budget`]: the median of 5 runs after
/// a warm-up for quick runs (under 20 ms), of 3 runs up to 0.1 s, and a single run beyond (the big
/// sizes dwarf the noise). A size whose run is predicted (from the size before, in proportion) not
/// to fit in what is left of the budget is skipped and named in [`Sweep::skipped_note`]; a long
/// sweep prints a line per size as it goes. [`time_sizes_within`] takes another budget.
///
/// # Errors
/// [`TimingError::EmptySweep`] for no sizes, [`TimingError::Failed`] if a run fails.
///
/// # Examples
/// ```
/// use parlab::pool::crossover;
/// let s = crossover::time_sizes("serial", &[1000, 10_000], |n| crossover::serial(n, 4))?;
/// assert_eq!(s.points.len(), 2);
/// assert_eq!(s.points[1].1.work, Some(40_000));
/// # Ok::<(), parlab::timing::TimingError>(())
/// ```
pub fn time_sizes<R: Outcome>(
    name: &str,
    sizes: &[u64],
    run: impl FnMut(u64) -> R,
) -> Result<Sweep, TimingError> {
    time_sizes_within(&Budget::default(), name, sizes, run)
}

/// [`time_sizes`] within `budget` ([`Budget::unlimited`] measures every size, as `parlab bench pool`
/// does).
///
/// # Errors
/// [`TimingError::EmptySweep`] for no sizes, [`TimingError::Failed`] if a run fails.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::{pool::crossover, timing::Budget};
/// let tight = Budget::new(Duration::from_millis(100)).quiet();
/// let s = crossover::time_sizes_within(&tight, "serial", &[1000, 1_000_000_000_000], |n| crossover::serial(n, 4))?;
/// assert_eq!((s.points.len(), s.skipped.len()), (1, 1));
/// # Ok::<(), parlab::timing::TimingError>(())
/// ```
pub fn time_sizes_within<R: Outcome>(
    budget: &Budget,
    name: &str,
    sizes: &[u64],
    mut run: impl FnMut(u64) -> R,
) -> Result<Sweep, TimingError> {
    let mut timed = |n| {
        let start = Instant::now();
        let outcome = run(n);
        let took = start.elapsed();
        outcome.work().map(|work| (took, work))
    };
    sweep(budget, name, sizes, &mut timed)
}

/// One timed run of a sweep on a size: how long it took and the work it did, or why it failed.
type SizedRun<'a> = dyn FnMut(u64) -> Result<(Duration, Option<u64>), String> + 'a;

/// [`time_sizes_within`] of a [`SizedRun`]: non-generic, so that a notebook cell, which compiles
/// every generic function it calls again, compiles only the run.
#[inline(never)]
fn sweep(
    budget: &Budget,
    name: &str,
    sizes: &[u64],
    run: &mut SizedRun<'_>,
) -> Result<Sweep, TimingError> {
    if sizes.is_empty() {
        return Err(TimingError::EmptySweep("sizes".into()));
    }
    let spend = budget.start();
    let mut points: Vec<(f64, Measurement)> = Vec::with_capacity(sizes.len());
    let mut skipped = Vec::new();
    for &n in sizes {
        let label = format!("{name}, {n} samples per task");
        // The time grows with the work: predict this size from the last one measured.
        let predicted = points.last().map(|(last, m)| {
            m.min()
                .mul_f64(if *last > 0.0 { n as f64 / last } else { 1.0 })
        });
        if let Some(p) = predicted
            && !spend.fits(p)
        {
            spend.progress(&format!(
                "{label}: skipped, about {} a run",
                timing::format_duration(p)
            ));
            skipped.push(Skipped {
                value: n as f64,
                label,
                estimate: Some(p),
            });
            continue;
        }
        if let Some(p) = predicted {
            spend.announce(&label, p, 1);
        }
        let mut once = || {
            run(n).map_err(|message| TimingError::Failed {
                label: label.clone(),
                message,
            })
        };
        let (first, work) = once()?;
        let mut times = Vec::new();
        let mut more = if first < Duration::from_millis(20) {
            5
        } else if first < Duration::from_millis(100) {
            times.push(first);
            2
        } else {
            times.push(first);
            0
        };
        // No more repeats than fit in what is left (the first run counts when it was timed).
        if let Some(left) = spend.left()
            && !first.is_zero()
        {
            let fit = (left.as_secs_f64() / first.as_secs_f64()).floor() as usize;
            more = more.min(fit);
        }
        for _ in 0..more {
            times.push(once()?.0);
        }
        if times.is_empty() {
            times.push(first);
        }
        let mut m = Measurement::new(label.clone(), times);
        m.work = work;
        spend.progress(&format!(
            "{label}: {} ({} run{}); {} so far",
            timing::format_duration(m.median()),
            m.times.len(),
            if m.times.len() == 1 { "" } else { "s" },
            timing::format_duration(spend.elapsed())
        ));
        points.push((n as f64, m));
    }
    Ok(Sweep {
        name: name.to_string(),
        param: "samples per task".into(),
        points,
        skipped,
        budget: budget.limit(),
    })
}

/// The first size at which `candidate` took less time than `baseline` and stayed faster at every
/// larger size; `None` if it never did.
///
/// # Examples
/// ```
/// use parlab::timing::{Measurement, Sweep};
/// use std::time::Duration;
/// let sweep = |name: &str, ms: [u64; 3]| Sweep {
///     name: name.into(),
///     param: "samples per task".into(),
///     points: [1e3, 1e6, 1e9].iter().zip(ms).map(|(&n, t)| (n, Measurement::new(name, vec![Duration::from_millis(t)]))).collect(),
///     ..Sweep::default()
/// };
/// let pool = sweep("pool", [3, 5, 1500]);
/// let serial = sweep("serial", [1, 6, 2900]);
/// assert_eq!(parlab::pool::crossover::first_faster(&pool, &serial), Some(1e6));
/// ```
pub fn first_faster(candidate: &Sweep, baseline: &Sweep) -> Option<f64> {
    let faster: Vec<(f64, bool)> = candidate
        .points
        .iter()
        .filter_map(|(n, m)| {
            let base = baseline.points.iter().find(|(b, _)| b == n)?;
            Some((*n, m.median() < base.1.median()))
        })
        .collect();
    let last_slower = faster.iter().rposition(|(_, f)| !f);
    let from = last_slower.map_or(0, |i| i + 1);
    faster.get(from).map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::ThreadPool;

    #[test]
    fn serial_and_thread_pool_agree() {
        let a = serial(10_000, 4).unwrap();
        let pool = ThreadPool::new(2).unwrap();
        let b = on_pool(&pool, 10_000, 4).unwrap();
        assert_eq!(a, b, "same seeds, same tasks: the same estimate");
        assert!(serial(0, 4).is_err());
        assert!(combine(&[]).is_err());
    }

    #[test]
    fn time_sizes_repeats_quick_runs() {
        let mut calls = 0;
        let s = time_sizes("count", &[1, 2], |_| {
            calls += 1;
        })
        .unwrap();
        assert_eq!(calls, 12, "a warm-up and 5 runs per size");
        assert_eq!(s.points[0].1.times.len(), 5);
        assert!(time_sizes("none", &[], |_| ()).is_err());
    }
}
