//! Pools: a process pool and a thread pool with Python's `multiprocessing.Pool` API.
//!
//! - [`ProcessPool`]: long-lived worker processes (the `parlab-worker` binary, started with
//!   `--pool`), each running many typed tasks ([`tasks`](crate::process::tasks),
//!   [`cell_task!`](crate::cell_task)).
//! - [`ThreadPool`]: threads in this process running the same typed tasks (and closures).
//! - [`Pool`]: the trait both implement: `apply`, `map`, `starmap`, `imap`, `imap_unordered`, their
//!   `_async` forms, `close`, `join`, `terminate`. Swap one pool for the other in one line.
//! - [`AsyncResult`] and [`Imap`]: results to come; every wait for them takes a timeout.
//! - [`PoolOptions`]: workers, an initializer, max tasks per child, the timeout of blocking calls,
//!   a [`Timeline`](crate::timeline::Timeline) to record who ran when.
//! - [`PoolError`]: what went wrong, naming the task's index: a panic, a worker that died (it is
//!   replaced), a timeout, a closed or terminated pool, bad input.
//! - [`serve_pool`]: the loop a pool worker process runs.
//! - [`crossover`]: the lesson's exercise: four calc_pi tasks in five ways over sample sizes.
//!
//! Unlike Python's `Pool`, a worker that dies (a panic that aborts, `SIGKILL`) never leaves a call
//! waiting forever: the call gets an error naming what happened, and a new worker takes its place.
//!
//! # Examples
//! ```no_run
//! use parlab::pool::{Pool, PoolError, ProcessPool, ThreadPool};
//! use parlab::process::tasks;
//!
//! let workers = ProcessPool::new(2)?; // or: ThreadPool::new(2)?
//! let one = workers.apply(tasks::CALC_PI, &(1_000_000, 1))?; // a PiEstimate
//! let four = workers.starmap(tasks::CALC_PI, (1..=4).map(|seed| (1_000_000, seed)), None)?;
//! assert_eq!(four.len(), 4);
//! workers.close();
//! workers.join(std::time::Duration::from_secs(5))?;
//! # Ok::<(), PoolError>(())
//! ```

mod api;
#[cfg(unix)]
mod arrival_check;
mod batch;
pub mod crossover;
#[cfg(unix)]
mod desk;
mod error;
mod imap;
#[cfg(unix)]
mod in_flight;
mod jobs;
mod options;
#[cfg(unix)]
mod process_pool;
// Windows has no process pool: what only it records is unused there.
#[cfg_attr(not(unix), allow(dead_code))]
mod record;
mod result;
mod thread_pool;
// Windows: a `ProcessPool` whose constructors return an error that names WSL.
#[cfg(not(unix))]
mod unsupported;
#[cfg_attr(not(unix), allow(dead_code, unused_imports))]
mod worker;

pub use api::{IMAP_MAX_DEFAULT_CHUNKSIZE, IMAP_WINDOW, Pool, default_chunksize};
#[cfg(unix)]
pub use arrival_check::check_arrival_order;
pub use error::PoolError;
pub use imap::Imap;
pub use options::{DEFAULT_TIMEOUT, MAX_WORKERS, MIN_START_WAIT, PoolOptions};
#[cfg(unix)]
pub use process_pool::ProcessPool;
pub use result::AsyncResult;
pub use thread_pool::ThreadPool;
#[cfg(not(unix))]
pub use unsupported::ProcessPool;
pub use worker::{POOL_ARG, serve_pool};

/// The resident memory of process `pid` in bytes (Linux: `VmRSS` in `/proc/PID/status`; macOS:
/// `proc_pidinfo`; elsewhere `None`).
///
/// # Examples
/// ```
/// if let Some(rss) = parlab::pool::resident_memory(std::process::id()) {
///     assert!(rss > 0);
/// }
/// ```
pub fn resident_memory(pid: u32) -> Option<u64> {
    crate::process::sys::resident_memory(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_of_this_process() {
        if cfg!(target_os = "linux") {
            let rss = resident_memory(std::process::id()).unwrap();
            assert!(rss > 100 * 1024, "{rss}");
        }
        assert_eq!(resident_memory(u32::MAX), None);
    }
}
