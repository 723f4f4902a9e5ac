//! MPI ranks for lesson 05: run a typed task on K ranks through the real launcher (`mpirun`).
//!
//! This module does not link MPI and never calls `MPI_Init`: a notebook kernel must not become an
//! MPI process. It starts `mpirun -n K parlab-mpi TASK ...` as a child (stdin from `/dev/null`, its
//! own process group), waits at most a timeout, and reads rank 0's one-line JSON reply from stdout,
//! checked against the task's types. The `parlab-mpi` program (the `mpi` cargo feature, built by
//! `parlab setup`) is what links MPI; the same binary runs unchanged under a cluster's launcher.
//!
//! - [`Mpi`]: the launcher and program found on this machine, and [`Mpi::run`].
//! - [`tasks`]: the typed tasks `parlab-mpi` knows: calc_pi with a reduction, ping-pong, ...
//! - [`pipe_ping_pong`], [`thread_ping_pong`]: the same ping-pong through a lesson-03 pipe and
//!   between two threads, to compare with MPI's; [`ping_pong_reading`] says which was fastest.
//! - [`Mpi::batch_script`]: the same tasks as a Slurm batch script, started by `srun`.
//!
//! The code, one idea a file: `launcher.rs` ([`Mpi`], [`Implementation`]), `child.rs` (the
//! launcher run with a timeout), `protocol.rs` (the request and rank 0's reply), `task.rs`
//! ([`MpiTask`]) and `tasks.rs`, `results.rs` ([`MpiPi`], [`RankInfo`]), `sweep.rs`
//! ([`Mpi::sweep_calc_pi`]), `ping_pong.rs`, `ping_pong_reading.rs`, `batch.rs` (Slurm), `error.rs` ([`MpiError`]),
//! `ssh.rs` ([`SshFailure`]), `install.rs` (setup's packages, the program's path and build
//! command), `share_check.rs` (the exercise check).
//!
//! # Examples
//! ```no_run
//! use parlab::mpi::{Mpi, tasks};
//! use std::time::Duration;
//! let mpi = Mpi::find()?;
//! let pi = mpi.run(tasks::CALC_PI, 2, &(10_000_000, 1), Duration::from_secs(30))?;
//! assert_eq!(pi.estimate, parlab::pi::calc_pi(10_000_000, 1)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod child;
mod error;
mod install;
mod launcher;
mod ping_pong;
mod ping_pong_reading;
mod protocol;
mod results;
mod share_check;
mod ssh;
mod sweep;
mod task;
pub mod tasks;

pub use error::MpiError;
pub use install::{BUILD_PROGRAM, DEFAULT_PROGRAM, LAUNCHER_ENV, PROGRAM_ENV, PYPI_PACKAGES};
pub use launcher::{Implementation, Mpi};
pub use ping_pong::{
    PingPong, PingPongArgs, PingPongError, bandwidth_series, latency_series, ping_pong_sizes,
    pipe_ping_pong, thread_ping_pong,
};
pub use ping_pong_reading::ping_pong_reading;
pub use protocol::REPLY_PREFIX;
pub use results::{MpiPi, RankInfo, RankPi};
pub use share_check::check_my_share;
pub use ssh::SshFailure;
pub use sweep::RankSweep;
pub use task::MpiTask;

// Internals, public for parlab's own binaries (setup, parlab-mpi): hidden from the docs.
#[doc(hidden)]
pub use install::DEBIAN_PACKAGES;
#[doc(hidden)]
pub use protocol::{Reply, Request};

// For the Slurm module, which runs its commands and reads its jobs' replies the same way.
pub(crate) use child::{Waited, run_with_timeout, tail};
pub(crate) use protocol::{decode_reply, reply_value};
