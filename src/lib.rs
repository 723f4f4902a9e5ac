//! parlab: threads and processes, the Rust edition.
//!
//! The library behind the parlab lessons (Jupyter notebooks run in the evcxr Rust kernel).
//! One module per lesson topic; the notebook cells stay thin and call into it.
//!
//! - [`pi`]: estimate pi by Monte Carlo, serial, on threads and with rayon, seeded and reproducible.
//! - [`timing`]: measure closures with warm-up and repeats, sweep a parameter, speed-ups.
//! - [`cores`]: how many cores this process can use right now, and a note when the machine is busy.
//! - [`units`]: durations and rates for people, three significant digits and a unit.
//! - [`timeline`]: who ran when: lanes of spans (threads, the GIL, workers), drawn by [`chart::timeline`].
//! - [`chart`]: plotters charts as inline SVG in evcxr and as SVG files.
//! - [`gil`]: a simulated Global Interpreter Lock, and `allow_threads`.
//! - [`threads`]: sorting two vectors on two threads, the cost of a thread, the threads exercises.
//! - [`locks`]: shared state: Mutex, atomics, channels, false sharing, RwLock, deadlock, a tiny GIL.
//! - [`process`]: worker processes (spawn and fork), typed pipes and queues between processes.
//! - [`pool`]: a process pool and a thread pool with Python's `Pool` API (apply, map, imap, ...).
//! - [`python`]: the source lesson's own Python code, run in the project's `.venv` beside the Rust.
//! - [`mpi`]: MPI ranks (lesson 05): typed tasks run through `mpirun`, checked, with a timeout.
//! - [`slurm`]: the same tasks as Slurm batch jobs (lesson 05): `sbatch`, a bounded wait, the reply.
//! - [`cpu`]: how many cores this process's own threads keep busy (from `/proc`).
//! - [`panics`]: catching panics quietly, as values, without taking the kernel's stderr.
//! - [`spawn_error`]: a thread the system refused to start, shared by every module that starts threads.
//! - [`exercise`]: checks for the learner's exercise cells that never take the kernel down.
//! - [`display`]: rich output (HTML, SVG) in evcxr, plain text elsewhere.
//!
//! Platforms: Linux (tested) and macOS (type-checked in CI) have everything. On Windows the
//! library builds and everything but processes works; `process::spawn`, `fork`, `pipe`, `Queue`
//! and `pool::ProcessPool` return an error that says to run lessons 03 and 04 in WSL, and there is
//! no `mpi` module (run lesson 05 in WSL too).
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

/// The `rand` crate (0.10), re-exported so notebook cells can use it without another `:dep`.
pub use rand;

/// The `serde` crate, re-exported so that a notebook cell can derive `Serialize` and
/// `Deserialize` for a task's own struct without another `:dep`:
///
/// ```
/// #[derive(parlab::serde::Serialize, parlab::serde::Deserialize)]
/// #[serde(crate = "parlab::serde")]
/// struct Job { n: u64, seed: u64 }
/// assert_eq!(parlab::process::shape::TypeShape::of::<Job>().describe(), "Job { n: u64, seed: u64 }");
/// ```
pub use serde;

pub mod chart;
pub mod cores;
pub mod cpu;
pub mod display;
#[cfg(unix)]
mod echo;
pub mod exercise;
pub mod gil;
#[cfg(all(test, unix))]
mod isolated;
pub mod locks;
#[cfg(unix)]
pub mod mpi;
pub mod panics;
pub mod pi;
pub mod pool;
pub mod process;
#[cfg(unix)]
pub mod python;
#[cfg(unix)]
pub mod slurm;
pub mod spawn_error;
pub mod threads;
pub mod timeline;
pub mod timing;
pub mod units;
