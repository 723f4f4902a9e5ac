//! [`MpiError`]: what went wrong running a task on MPI ranks, each with what to do about it; an
//! error of the operating system or of serde_json underneath is kept as its
//! [`source`](std::error::Error::source).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::install::{BUILD_PROGRAM, LAUNCHER_ENV, PROGRAM_ENV};
use super::ssh::{self, SshFailure};

/// What went wrong running a task on MPI ranks.
///
/// # Examples
/// ```
/// use parlab::mpi::MpiError;
/// let e = MpiError::Timeout { ranks: 2, after: std::time::Duration::from_secs(1) };
/// assert!(e.to_string().contains("killed"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MpiError {
    /// No MPI launcher (`mpirun`) on this machine.
    #[error(
        "no MPI launcher: `{launcher}` was not found (`cargo run --release -- setup` installs one: \
         Open MPI as root, else MPICH from PyPI into .venv; or `sudo apt-get install -y \
         libopenmpi-dev openmpi-bin libclang-dev openssh-client`; or point {LAUNCHER_ENV} at mpirun)"
    )]
    LauncherMissing {
        /// The launcher looked for.
        launcher: String,
    },
    /// The launcher is there but does not run (`mpirun --version` failed).
    #[error("the MPI launcher {launcher} does not run: {reason}")]
    LauncherBroken {
        /// The launcher.
        launcher: PathBuf,
        /// What happened.
        reason: String,
        /// The operating system's error, when the launcher could not be started at all.
        #[source]
        source: Option<Arc<io::Error>>,
    },
    /// The `parlab-mpi` program has not been built.
    #[error(
        "the MPI program {} is not built: run `{BUILD_PROGRAM}` (or `cargo run --release -- setup`), or point {PROGRAM_ENV} at it",
        path.display()
    )]
    ProgramMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A rank count the task cannot run on.
    #[error("{task} cannot run on {ranks} ranks: {reason}")]
    BadRanks {
        /// The task.
        task: String,
        /// The ranks asked for.
        ranks: usize,
        /// Why not.
        reason: String,
    },
    /// The ranks did not finish within the timeout; the launcher and every rank were killed.
    #[error(
        "the {ranks} ranks did not finish within {after:?}: the launcher and every rank were killed"
    )]
    Timeout {
        /// Ranks started.
        ranks: usize,
        /// The timeout.
        after: Duration,
    },
    /// A rank crashed (or the launcher failed) before rank 0 replied.
    #[error("a rank failed ({status}); the launcher said:\n{stderr}")]
    RankFailed {
        /// How the launcher exited.
        status: String,
        /// The end of the launcher's stderr (it names the rank and the signal).
        stderr: String,
    },
    /// The task itself reported an error (bad arguments, wrong signature, ...).
    #[error("the MPI task {task} failed: {message}")]
    Task {
        /// The task.
        task: String,
        /// Rank 0's message.
        message: String,
    },
    /// Rank 0's reply could not be read as the task's result type (or the arguments could not be
    /// written as JSON for the request).
    #[error("the reply of {task} could not be read: {reason}")]
    BadReply {
        /// The task.
        task: String,
        /// Why.
        reason: String,
        /// serde_json's error.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// The launcher could not start ranks on another host through ssh (a hostfile run).
    #[error("{}", ssh::message(host, failure, said))]
    Ssh {
        /// The host, as ssh named it (or "a host of the hostfile" when it did not say).
        host: String,
        /// What ssh could not do.
        failure: SshFailure,
        /// ssh's own words.
        said: String,
    },
    /// The launcher could not be started or waited for.
    #[error("could not run the MPI launcher: {launcher}: {source}")]
    Io {
        /// The launcher.
        launcher: PathBuf,
        /// The operating system's error.
        #[source]
        source: Arc<io::Error>,
    },
}

/// Two errors are equal when they are the same variant and say the same: the operating system's
/// and serde_json's errors they keep as their source cannot be compared otherwise.
///
/// # Examples
/// ```
/// use parlab::mpi::MpiError;
/// let timeout = |s| MpiError::Timeout { ranks: 2, after: std::time::Duration::from_secs(s) };
/// assert_eq!(timeout(1), timeout(1));
/// assert_ne!(timeout(1), timeout(2));
/// ```
impl PartialEq for MpiError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}
