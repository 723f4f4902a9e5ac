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
//!   between two threads, to compare with MPI's.
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

use std::fmt;
use std::io::Read;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::chart::Series;
use crate::pi::PiEstimate;
use crate::process::shape::TaskShapes;
use crate::process::{Signature, Types};

mod share_check;
use crate::timing::{Measurement, Sweep, Table, format_seconds};
pub use share_check::check_my_share;

/// The environment variable that overrides the launcher (`mpirun` on `PATH` otherwise).
pub const LAUNCHER_ENV: &str = "PARLAB_MPIRUN";

/// The environment variable that overrides where the `parlab-mpi` program is.
pub const PROGRAM_ENV: &str = "PARLAB_MPI_PROGRAM";

/// Where setup builds the MPI program: `target/mpi/release/parlab-mpi` in this crate.
///
/// It has its own target directory because the `mpi` feature changes the library's fingerprint:
/// built in `target/release`, it would make cargo rebuild the release library the kernel uses.
pub const DEFAULT_PROGRAM: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/target/mpi/release/parlab-mpi");

/// The command that builds the MPI program (after the MPI packages are installed).
pub const BUILD_PROGRAM: &str = "cargo build --release --no-default-features --features mpi --bin parlab-mpi --target-dir target/mpi";

// Wire protocol internals, public for parlab's own binaries: hidden from the docs.
#[doc(hidden)]
/// The Debian packages of lesson 05: Open MPI, libclang for the `mpi` crate's bindgen, and ssh,
/// the agent Open MPI's launcher starts ranks on other hosts with (it looks for it even for one).
pub const DEBIAN_PACKAGES: [&str; 4] = [
    "libopenmpi-dev",
    "openmpi-bin",
    "libclang-dev",
    "openssh-client",
];

/// The route without root: PyPI wheels of MPICH and libclang, installed into the project's `.venv`
/// (its `bin/` then holds `mpirun` and `mpicc`).
pub const PYPI_PACKAGES: [&str; 2] = ["mpich", "libclang"];

/// The prefix of rank 0's reply line on stdout; every other line is the ranks' own output.
pub const REPLY_PREFIX: &str = "PARLAB-MPI-REPLY ";

/// What went wrong running a task on MPI ranks.
///
/// # Examples
/// ```
/// use parlab::mpi::MpiError;
/// let e = MpiError::Timeout { ranks: 2, after: std::time::Duration::from_secs(1) };
/// assert!(e.to_string().contains("killed"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
    /// Rank 0's reply could not be read as the task's result type.
    #[error("the reply of {task} could not be read: {reason}")]
    BadReply {
        /// The task.
        task: String,
        /// Why.
        reason: String,
    },
    /// The launcher could not start ranks on another host through ssh (a hostfile run).
    #[error("{}", ssh_message(host, failure, said))]
    Ssh {
        /// The host, as ssh named it (or "a host of the hostfile" when it did not say).
        host: String,
        /// What ssh could not do.
        failure: SshFailure,
        /// ssh's own words.
        said: String,
    },
    /// The launcher could not be started or waited for.
    #[error("could not run the MPI launcher: {0}")]
    Io(String),
}

/// Why `mpirun` could not start its daemon on another host over ssh.
///
/// # Examples
/// ```
/// use parlab::mpi::{MpiError, SshFailure};
/// let e = MpiError::Ssh { host: "node02".into(), failure: SshFailure::UnknownHostKey, said: String::new() };
/// assert!(e.to_string().contains("known_hosts"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SshFailure {
    /// The host's key is not in `known_hosts` (or differs from it), and ssh refuses to guess.
    UnknownHostKey,
    /// Nothing answers on the host's ssh port: the host is down, unreachable, or sshd is not running.
    NoAnswer,
    /// The host name does not resolve.
    UnknownHost,
    /// sshd answered but refused the login (no key it accepts).
    LoginRefused,
}

fn ssh_message(host: &str, failure: &SshFailure, said: &str) -> String {
    let (cause, fix) = match failure {
        SshFailure::UnknownHostKey => (
            format!(
                "the ssh host key of {host} is not known here (or has changed), and ssh does not ask in a batch run"
            ),
            format!(
                "check the key's fingerprint with the host's admin, then add it: `ssh-keyscan {host} >> ~/.ssh/known_hosts` (or the known_hosts file your ssh agent uses)"
            ),
        ),
        SshFailure::NoAnswer => (
            format!("{host} does not answer on its ssh port"),
            format!(
                "check that {host} is up and runs sshd (`ssh {host} true` must work without a prompt), or remove it from the hostfile"
            ),
        ),
        SshFailure::UnknownHost => (
            format!("the host name {host} does not resolve"),
            "fix its spelling in the hostfile, or give its address".to_owned(),
        ),
        SshFailure::LoginRefused => (
            format!("{host} refused the ssh login"),
            format!(
                "install your public key there (`ssh-copy-id {host}`): mpirun needs ssh without a password"
            ),
        ),
    };
    format!("mpirun could not start ranks on {host}: {cause}.\n  fix: {fix}\n  ssh said: {said}")
}

/// Recognizes ssh's own failure in a launcher's stderr: the host and what went wrong.
fn ssh_failure(stderr: &str) -> Option<MpiError> {
    let between = |line: &str, before: &str, after: &str| {
        let rest = &line[line.find(before)? + before.len()..];
        Some(
            rest[..rest.find(after).unwrap_or(rest.len())]
                .trim()
                .to_owned(),
        )
    };
    let mut host_key = None;
    for line in stderr.lines().map(str::trim) {
        let found = if line.contains("host key is known for") {
            host_key = between(line, "host key is known for ", " and");
            None
        } else if line.contains("Host key verification failed")
            || line.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        {
            Some((host_key.clone(), SshFailure::UnknownHostKey))
        } else if line.starts_with("ssh: connect to host ") {
            Some((
                between(line, "connect to host ", " port"),
                SshFailure::NoAnswer,
            ))
        } else if line.starts_with("ssh: Could not resolve hostname ") {
            Some((
                between(line, "resolve hostname ", ":"),
                SshFailure::UnknownHost,
            ))
        } else if line.contains("Permission denied (publickey") {
            Some((between(line, "@", ": Permission"), SshFailure::LoginRefused))
        } else {
            None
        };
        if let Some((host, failure)) = found {
            let said = stderr
                .lines()
                .map(str::trim)
                .filter(|l| {
                    l.starts_with("ssh:")
                        || l.contains("host key")
                        || l.contains("Host key")
                        || l.contains("Permission denied")
                })
                .collect::<Vec<_>>()
                .join(" / ");
            return Some(MpiError::Ssh {
                host: host.unwrap_or_else(|| "a host of the hostfile".to_owned()),
                failure,
                said,
            });
        }
    }
    None
}

/// A task that `parlab-mpi` runs on every rank, taking an `A` and giving rank 0's `R`.
///
/// The types are checked twice: by the compiler where you call [`Mpi::run`], and by the program,
/// which refuses a request whose [`Signature`] differs from its own task's.
///
/// # Examples
/// ```
/// let t = parlab::mpi::tasks::CALC_PI;
/// assert_eq!(t.name(), "calc_pi");
/// assert_eq!(t.signature_text(), "(u64, u64) -> MpiPi");
/// ```
pub struct MpiTask<A, R> {
    name: &'static str,
    types: PhantomData<fn(A) -> R>,
}

impl<A, R> MpiTask<A, R> {
    /// A handle for the task `name` from `A` to `R`; prefer the constants in [`tasks`].
    ///
    /// # Examples
    /// ```
    /// let t = parlab::mpi::MpiTask::<u64, ()>::named("sleep");
    /// assert_eq!(t.name(), "sleep");
    /// ```
    pub const fn named(name: &'static str) -> Self {
        MpiTask {
            name,
            types: PhantomData,
        }
    }

    /// The task's name, as `parlab-mpi` knows it.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::mpi::tasks::PING_PONG.name(), "ping_pong");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The fingerprint of the task's types, sent with every request.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::tasks;
    /// assert_ne!(tasks::CALC_PI.signature(), tasks::RANKS.signature());
    /// ```
    pub fn signature(&self) -> Signature
    where
        A: DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        Signature::of::<A, R>()
    }

    /// The traced argument and result types (see [`Types`]).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::mpi::tasks::SLEEP.types().text(), "u64 -> ()");
    /// ```
    pub fn types(&self) -> Types
    where
        A: DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        Types::of::<A, R>()
    }

    /// `A -> R` in words.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::mpi::tasks::SLEEP.signature_text(), "u64 -> ()");
    /// ```
    pub fn signature_text(&self) -> String {
        Signature::text::<A, R>()
    }
}

impl<A, R> Clone for MpiTask<A, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A, R> Copy for MpiTask<A, R> {}

impl<A, R> fmt::Debug for MpiTask<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MpiTask({}: {})", self.name, self.signature_text())
    }
}

// Wire protocol internals, public for parlab's own binaries: hidden from the docs.
#[doc(hidden)]
/// What the launcher passes to `parlab-mpi`: the task, its signature and its arguments as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The task's name.
    pub task: String,
    /// The caller's signature of it.
    pub signature: Signature,
    /// The arguments, JSON.
    pub args: serde_json::Value,
}

// Wire protocol internals, public for parlab's own binaries: hidden from the docs.
#[doc(hidden)]
/// Rank 0's reply, one JSON line after [`REPLY_PREFIX`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// The result, JSON.
    Ok(serde_json::Value),
    /// What went wrong.
    Err(String),
    /// The request's signature is not the task's (or a type could not be traced): what the
    /// program says, and its traced types, for the caller to name what differs.
    WrongSignature {
        /// The program's message.
        message: String,
        /// The program's traced types of the task.
        shapes: TaskShapes,
    },
}

/// One rank's part of a [`tasks::CALC_PI`] run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankPi {
    /// The rank.
    pub rank: usize,
    /// The host it ran on (`MPI_Get_processor_name`).
    pub host: String,
    /// Its first sample of the seed's stream.
    pub first: u64,
    /// Its samples (all ranks' counts differ by at most one).
    pub samples: u64,
    /// Its hits.
    pub hits: u64,
    /// Seconds it spent counting.
    pub seconds: f64,
}

/// The result of [`tasks::CALC_PI`]: the reduced estimate and every rank's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MpiPi {
    /// The estimate from the hits summed by `reduce` on rank 0.
    pub estimate: PiEstimate,
    /// Seconds from a barrier before counting to the end of the reduce, on rank 0.
    pub seconds: f64,
    /// Every rank's part, in rank order (gathered to rank 0).
    pub ranks: Vec<RankPi>,
}

impl MpiPi {
    /// Every rank's part as a table: rank, host, first sample, samples, hits, counting time.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::{MpiPi, RankPi};
    /// let part = RankPi { rank: 0, host: "node01".into(), first: 0, samples: 4, hits: 3, seconds: 1e-6 };
    /// let run = MpiPi { estimate: parlab::pi::PiEstimate::from_hits(3, 4)?, seconds: 1e-5, ranks: vec![part] };
    /// assert!(run.table().to_string().contains("node01"));
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn table(&self) -> Table {
        let mut table = Table::new([
            "rank",
            "host",
            "first sample",
            "samples",
            "hits",
            "counting",
        ]);
        for r in &self.ranks {
            table.push([
                r.rank.to_string(),
                r.host.clone(),
                r.first.to_string(),
                r.samples.to_string(),
                r.hits.to_string(),
                format_seconds(r.seconds),
            ]);
        }
        table
    }

    /// Shows [`table`](MpiPi::table) in evcxr.
    ///
    /// # Examples
    /// ```
    /// # let run = parlab::mpi::MpiPi { estimate: parlab::pi::PiEstimate::from_hits(3, 4)?, seconds: 0.0, ranks: vec![] };
    /// run.evcxr_display(); // prints the table as HTML for Jupyter
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn evcxr_display(&self) {
        self.table().evcxr_display();
    }
}

/// calc_pi timed on each rank count, from [`Mpi::sweep_calc_pi`].
#[derive(Debug, Clone, PartialEq)]
pub struct RankSweep {
    /// Timed inside the ranks: from a barrier before counting to the end of the `reduce`.
    pub counting: Sweep,
    /// Timed from outside: the launcher's start and end included.
    pub launched: Sweep,
}

/// Where a rank runs, from [`tasks::RANKS`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankInfo {
    /// The rank.
    pub rank: usize,
    /// Ranks in the world.
    pub size: usize,
    /// The host (`MPI_Get_processor_name`).
    pub host: String,
    /// The process id on that host.
    pub pid: u32,
}

/// The arguments of [`tasks::PING_PONG`].
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

/// The tasks `parlab-mpi` knows, as typed handles.
pub mod tasks {
    use super::{MpiPi, MpiTask, PingPong, PingPongArgs, RankInfo};

    /// `(samples, seed)`: every rank counts its equal share of the seed's samples
    /// ([`split`](crate::pi::split)), `reduce` sums the hits on rank 0: the same estimate as
    /// [`calc_pi`](crate::pi::calc_pi)`(samples, seed)` on one thread.
    pub const CALC_PI: MpiTask<(u64, u64), MpiPi> = MpiTask::named("calc_pi");
    /// Messages of each size between ranks 0 and 1, there and back; the other ranks wait.
    pub const PING_PONG: MpiTask<PingPongArgs, Vec<PingPong>> = MpiTask::named("ping_pong");
    /// Every rank's host and process id, gathered to rank 0.
    pub const RANKS: MpiTask<(), Vec<RankInfo>> = MpiTask::named("ranks");
    /// Every rank sleeps this many milliseconds (to show a timeout).
    pub const SLEEP: MpiTask<u64, ()> = MpiTask::named("sleep");
    /// The rank given aborts (to show a crashed rank); the others wait at a barrier.
    pub const CRASH: MpiTask<usize, ()> = MpiTask::named("crash");
    /// The names of the tasks above, as `parlab-mpi` dispatches them.
    pub const NAMES: [&str; 5] = ["calc_pi", "ping_pong", "ranks", "sleep", "crash"];
}

/// Which MPI the launcher belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Implementation {
    /// Open MPI (`mpirun (Open MPI) 4.1.4`): needs `--oversubscribe` for more ranks than cores,
    /// and two variables to run as root.
    OpenMpi,
    /// MPICH (Hydra's `mpiexec`).
    Mpich,
    /// Another launcher: run as it is.
    Other,
}

impl Implementation {
    /// Recognizes the implementation from `mpirun --version`.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::Implementation;
    /// assert_eq!(Implementation::from_version("mpirun (Open MPI) 4.1.4"), Implementation::OpenMpi);
    /// assert_eq!(Implementation::from_version("HYDRA build details:"), Implementation::Mpich);
    /// ```
    pub fn from_version(text: &str) -> Self {
        if text.contains("Open MPI") || text.contains("OpenRTE") {
            Implementation::OpenMpi
        } else if text.contains("HYDRA") || text.contains("MPICH") {
            Implementation::Mpich
        } else {
            Implementation::Other
        }
    }
}

impl Implementation {
    /// The `srun --mpi=` plugin that starts this MPI's ranks under Slurm: `pmix` for Open MPI
    /// (Debian 12's Open MPI 4.1 is built with PMIx, and its Slurm 22.05 has the `pmix` plugin,
    /// PMIx v4: tested here), `pmi2` for MPICH; none for an MPI it does not know.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::Implementation;
    /// assert_eq!(Implementation::OpenMpi.slurm_mpi_plugin(), Some("pmix"));
    /// ```
    pub fn slurm_mpi_plugin(&self) -> Option<&'static str> {
        match self {
            Implementation::OpenMpi => Some("pmix"),
            Implementation::Mpich => Some("pmi2"),
            Implementation::Other => None,
        }
    }
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Implementation::OpenMpi => "Open MPI",
            Implementation::Mpich => "MPICH",
            Implementation::Other => "an unknown MPI",
        })
    }
}

/// The MPI launcher and the `parlab-mpi` program on this machine.
///
/// # Examples
/// ```
/// match parlab::mpi::Mpi::find() {
///     Ok(mpi) => assert!(mpi.program.ends_with("parlab-mpi")),
///     Err(e) => assert!(!e.to_string().is_empty()),
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Mpi {
    /// The launcher (`mpirun`).
    pub launcher: PathBuf,
    /// Which MPI it is.
    pub implementation: Implementation,
    /// Its version line (`mpirun (Open MPI) 4.1.4`).
    pub version: String,
    /// The `parlab-mpi` program the ranks run.
    pub program: PathBuf,
    /// Options put before `-n` (a cluster's `--hostfile hosts`, `--mca ...`).
    pub launcher_args: Vec<String>,
}

impl Mpi {
    /// Finds the launcher (`$PARLAB_MPIRUN`, else `mpirun` on `PATH`) and the program.
    ///
    /// # Errors
    /// [`MpiError::LauncherMissing`], [`MpiError::LauncherBroken`], [`MpiError::ProgramMissing`].
    ///
    /// # Examples
    /// ```
    /// if let Ok(mpi) = parlab::mpi::Mpi::find() {
    ///     println!("{} ({})", mpi.version, mpi.implementation);
    /// }
    /// ```
    pub fn find() -> Result<Mpi, MpiError> {
        let launcher = launcher()?;
        let mut mpi = Mpi::with_launcher(&launcher)?;
        mpi.program = std::env::var_os(PROGRAM_ENV)
            .map_or_else(|| PathBuf::from(DEFAULT_PROGRAM), PathBuf::from);
        if !mpi.program.is_file() {
            return Err(MpiError::ProgramMissing { path: mpi.program });
        }
        Ok(mpi)
    }

    /// The launcher at `launcher` (its version read now), with the default program path unchecked.
    ///
    /// # Errors
    /// [`MpiError::LauncherMissing`] when there is no such file, [`MpiError::LauncherBroken`]
    /// when `launcher --version` fails.
    ///
    /// # Examples
    /// ```
    /// let e = parlab::mpi::Mpi::with_launcher("/no/such/mpirun").unwrap_err();
    /// assert!(e.to_string().contains("no MPI launcher"));
    /// ```
    pub fn with_launcher(launcher: impl AsRef<Path>) -> Result<Mpi, MpiError> {
        let launcher = launcher.as_ref().to_path_buf();
        if !launcher.is_file() {
            return Err(MpiError::LauncherMissing {
                launcher: launcher.display().to_string(),
            });
        }
        let broken = |reason: String| MpiError::LauncherBroken {
            launcher: launcher.clone(),
            reason,
        };
        let out = Command::new(&launcher)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| broken(e.to_string()))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(broken(format!("{}: {}", out.status, text.trim())));
        }
        Ok(Mpi {
            implementation: Implementation::from_version(&text),
            version: text.lines().next().unwrap_or_default().trim().to_owned(),
            launcher,
            program: PathBuf::from(DEFAULT_PROGRAM),
            launcher_args: Vec::new(),
        })
    }

    /// The command line that runs `task` on `ranks` ranks, as [`run`](Mpi::run) starts it
    /// (Open MPI gets `--oversubscribe`, so more ranks than cores work).
    ///
    /// # Errors
    /// [`MpiError::BadReply`] if the arguments do not serialize.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::mpi::{Mpi, tasks};
    /// let line = Mpi::find()?.command_line(tasks::CALC_PI, 4, &(1000, 1))?;
    /// assert!(line.contains("-n 4"));
    /// # Ok::<(), parlab::mpi::MpiError>(())
    /// ```
    pub fn command_line<
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    >(
        &self,
        task: MpiTask<A, R>,
        ranks: usize,
        args: &A,
    ) -> Result<String, MpiError> {
        let cmd = self.command(task, ranks, args)?;
        let words: Vec<String> = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|w| {
                let w = w.to_string_lossy();
                if w.contains(['{', ' ', '"']) {
                    format!("'{w}'")
                } else {
                    w.into_owned()
                }
            })
            .collect();
        Ok(words.join(" "))
    }

    /// Times [`tasks::CALC_PI`] of `samples` with `seed` on each count of `ranks`, `repeats`
    /// runs each (every run starts the ranks anew): a sweep like [`crate::timing::sweep`]'s, to
    /// chart beside threads.
    ///
    /// # Errors
    /// As [`run`](Mpi::run); [`MpiError::BadRanks`] when `ranks` is empty or `repeats` is 0.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::{mpi::Mpi, timing::Metric};
    /// let s = Mpi::find()?.sweep_calc_pi(100_000_000, 1, &[1, 2], 1, std::time::Duration::from_secs(60))?;
    /// println!("{:?}", s.counting.to_series(Metric::Speedup).points);
    /// # Ok::<(), parlab::mpi::MpiError>(())
    /// ```
    pub fn sweep_calc_pi(
        &self,
        samples: u64,
        seed: u64,
        ranks: &[usize],
        repeats: usize,
        timeout: Duration,
    ) -> Result<RankSweep, MpiError> {
        if ranks.is_empty() || repeats == 0 {
            return Err(MpiError::BadRanks {
                task: tasks::CALC_PI.name.to_owned(),
                ranks: 0,
                reason: "the sweep needs some rank counts and at least one run each".into(),
            });
        }
        let (mut counting, mut launched) = (Vec::new(), Vec::new());
        for &k in ranks {
            let (mut inside, mut outside) = (Vec::new(), Vec::new());
            for _ in 0..repeats {
                let started = Instant::now();
                let run = self.run(tasks::CALC_PI, k, &(samples, seed), timeout)?;
                outside.push(started.elapsed());
                inside.push(Duration::from_secs_f64(run.seconds));
            }
            let label = format!("ranks = {k}");
            counting.push((
                k as f64,
                Measurement::new(&label, inside).with_work(samples),
            ));
            launched.push((
                k as f64,
                Measurement::new(label, outside).with_work(samples),
            ));
        }
        let sweep = |name: &str, points| Sweep {
            name: name.to_owned(),
            param: "ranks".into(),
            points,
            skipped: Vec::new(),
            budget: None,
        };
        Ok(RankSweep {
            counting: sweep("MPI ranks (counting + reduce)", counting),
            launched: sweep("MPI ranks (with mpirun's start)", launched),
        })
    }

    /// This launcher with a hostfile: the hosts (and slots, the ranks each may take) to start
    /// ranks on, as on a cluster without a batch system (`--hostfile` for Open MPI, `-f` for
    /// MPICH). Ranks on other hosts are started through ssh, and every host must have the same
    /// `parlab-mpi` at the same path.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::mpi::{Mpi, tasks};
    /// let cluster = Mpi::find()?.with_hostfile("hosts");
    /// assert!(cluster.command_line(tasks::RANKS, 32, &())?.contains("hosts"));
    /// # Ok::<(), parlab::mpi::MpiError>(())
    /// ```
    pub fn with_hostfile(mut self, hostfile: impl AsRef<Path>) -> Mpi {
        let option = match self.implementation {
            Implementation::Mpich => "-f",
            _ => "--hostfile",
        };
        self.launcher_args.push(option.to_owned());
        self.launcher_args
            .push(hostfile.as_ref().to_string_lossy().into_owned());
        self
    }

    /// A Slurm batch script that runs `task` on `nodes` nodes with `ranks_per_node` ranks each,
    /// through `srun` (Slurm's launcher, in place of `mpirun`), for at most `minutes`; submit it
    /// with `sbatch` (or [`Slurm::run`](crate::slurm::Slurm::run)). Rank 0's reply line ends up in
    /// the job's output file.
    ///
    /// `srun` is told how the ranks find each other (`--mpi=`, see
    /// [`Implementation::slurm_mpi_plugin`]): without it, on a cluster whose default is `none`,
    /// every rank would start alone as a world of one.
    ///
    /// # Errors
    /// [`MpiError::BadReply`] if the arguments do not serialize.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::{Mpi, tasks};
    /// # let mpi = Mpi::with_launcher("/bin/true")?;
    /// let script = mpi.batch_script(tasks::CALC_PI, 2, 16, &(10_000_000_000, 1), 10)?;
    /// assert!(script.contains("#SBATCH --nodes=2") && script.contains("srun "));
    /// # Ok::<(), parlab::mpi::MpiError>(())
    /// ```
    pub fn batch_script<
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    >(
        &self,
        task: MpiTask<A, R>,
        nodes: usize,
        ranks_per_node: usize,
        args: &A,
        minutes: u32,
    ) -> Result<String, MpiError> {
        let quote = |text: &str| format!("'{}'", text.replace('\'', "'\\''"));
        let request = quote(&request_json(task, args)?);
        let program = self.program.to_string_lossy();
        let program = if program.contains(|c: char| !(c.is_alphanumeric() || "/._-+".contains(c))) {
            quote(&program)
        } else {
            program.into_owned()
        };
        let plugin = self
            .implementation
            .slurm_mpi_plugin()
            .map_or(String::new(), |p| format!("--mpi={p} "));
        Ok(format!(
            "#!/bin/bash\n\
             #SBATCH --job-name=parlab-{name}\n\
             #SBATCH --nodes={nodes}\n\
             #SBATCH --ntasks-per-node={ranks_per_node}\n\
             #SBATCH --time={h:02}:{m:02}:00\n\
             # {ranks} ranks; every node must see this parlab-mpi (a shared file system) and the\n\
             # same MPI it was built with. Rank 0's reply is the PARLAB-MPI-REPLY line of the output.\n\
             srun {plugin}{program} {request}\n",
            name = task.name,
            ranks = nodes * ranks_per_node,
            h = minutes / 60,
            m = minutes % 60,
        ))
    }

    fn command<A: Serialize + DeserializeOwned + 'static, R: DeserializeOwned + 'static>(
        &self,
        task: MpiTask<A, R>,
        ranks: usize,
        args: &A,
    ) -> Result<Command, MpiError> {
        let request = request_json(task, args)?;
        let mut cmd = Command::new(&self.launcher);
        cmd.args(&self.launcher_args);
        if self.implementation == Implementation::OpenMpi {
            cmd.arg("--oversubscribe");
            // Safety: geteuid has no preconditions and cannot fail.
            if unsafe { libc::geteuid() } == 0 {
                cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                    .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            }
            if std::env::var_os("OMPI_MCA_btl_vader_single_copy_mechanism").is_none() {
                // Containers often forbid the cross-memory attach it uses by default.
                cmd.env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
            }
        }
        cmd.arg("-n")
            .arg(ranks.to_string())
            .arg(&self.program)
            .arg(request);
        Ok(cmd)
    }

    /// Runs `task` on `ranks` ranks and returns rank 0's result, killing every rank after `timeout`.
    ///
    /// # Errors
    /// [`MpiError::BadRanks`] for 0 ranks (or fewer than the task needs), [`MpiError::Timeout`],
    /// [`MpiError::RankFailed`] when a rank crashed, [`MpiError::Task`] when the task refused its
    /// arguments, [`MpiError::BadReply`], [`MpiError::Io`].
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::mpi::{Mpi, tasks};
    /// let ranks = Mpi::find()?.run(tasks::RANKS, 3, &(), std::time::Duration::from_secs(20))?;
    /// assert_eq!(ranks.len(), 3);
    /// # Ok::<(), parlab::mpi::MpiError>(())
    /// ```
    pub fn run<A: Serialize + DeserializeOwned + 'static, R: DeserializeOwned + 'static>(
        &self,
        task: MpiTask<A, R>,
        ranks: usize,
        args: &A,
        timeout: Duration,
    ) -> Result<R, MpiError> {
        let needs = if task.name == tasks::PING_PONG.name {
            2
        } else {
            1
        };
        if ranks < needs {
            return Err(MpiError::BadRanks {
                task: task.name.to_owned(),
                ranks,
                reason: format!("it needs at least {needs}"),
            });
        }
        let mut cmd = self.command(task, ranks, args)?;
        let (stdout, stderr, status) =
            run_with_timeout(&mut cmd, timeout).map_err(|e| match e {
                Waited::TimedOut => MpiError::Timeout {
                    ranks,
                    after: timeout,
                },
                Waited::Io(e) => MpiError::Io(e),
            })?;
        read_reply(task.name, &stdout, &stderr, status.success(), || {
            status_text(status)
        })
    }
}

/// Rank 0's reply in a launcher's (or a batch job's) output, as `R`; `ok` says whether the
/// launcher succeeded, `status` describes how it ended.
pub(crate) fn read_reply<R: DeserializeOwned>(
    task: &str,
    stdout: &str,
    stderr: &str,
    ok: bool,
    status: impl Fn() -> String,
) -> Result<R, MpiError> {
    let reply = stdout.lines().find_map(|l| l.strip_prefix(REPLY_PREFIX));
    let Some(reply) = reply else {
        if let Some(ssh) = ssh_failure(stderr) {
            return Err(ssh);
        }
        return Err(MpiError::RankFailed {
            status: status(),
            stderr: tail(stderr, 12),
        });
    };
    let bad = |reason: String| MpiError::BadReply {
        task: task.to_owned(),
        reason,
    };
    match serde_json::from_str::<Reply>(reply).map_err(|e| bad(e.to_string()))? {
        Reply::Err(message) => Err(MpiError::Task {
            task: task.to_owned(),
            message,
        }),
        Reply::WrongSignature { message, shapes } => Err(MpiError::Task {
            task: task.to_owned(),
            message: format!(
                "{message}; there it takes {} and gives {}",
                shapes.args.describe(),
                shapes.result.describe()
            ),
        }),
        Reply::Ok(_) if !ok => Err(MpiError::RankFailed {
            status: status(),
            stderr: tail(stderr, 12),
        }),
        Reply::Ok(value) => serde_json::from_value(value).map_err(|e| bad(e.to_string())),
    }
}

/// The request `parlab-mpi` reads from its argument, as JSON.
fn request_json<A: Serialize + DeserializeOwned + 'static, R: DeserializeOwned + 'static>(
    task: MpiTask<A, R>,
    args: &A,
) -> Result<String, MpiError> {
    let request = Request {
        task: task.name.to_owned(),
        signature: task.signature(),
        args: serde_json::to_value(args).map_err(|e| MpiError::BadReply {
            task: task.name.to_owned(),
            reason: format!("the arguments do not serialize: {e}"),
        })?,
    };
    serde_json::to_string(&request).map_err(|e| MpiError::Io(e.to_string()))
}

/// The launcher to use: `$PARLAB_MPIRUN`, else the one a PyPI MPI wheel put in the project's
/// `.venv/bin` (setup installs it there only when it built `parlab-mpi` against it), else
/// `mpirun` on `PATH`.
fn launcher() -> Result<PathBuf, MpiError> {
    if let Some(p) = std::env::var_os(LAUNCHER_ENV) {
        return Ok(PathBuf::from(p));
    }
    let venv = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin"));
    std::iter::once(venv)
        .chain(
            std::env::var_os("PATH")
                .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
                .unwrap_or_default(),
        )
        .map(|dir| dir.join("mpirun"))
        .find(|p| p.is_file())
        .ok_or_else(|| MpiError::LauncherMissing {
            launcher: "mpirun".into(),
        })
}

fn status_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("the launcher exited with code {code}"),
        (None, Some(sig)) => format!("the launcher was killed by signal {sig}"),
        _ => status.to_string(),
    }
}

/// The last `n` non-empty lines of `text`, without the frames of a crashed rank's backtrace
/// (Open MPI prints them as `[host:pid] [3] program(+0x1f)`), so what is left names the rank.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let frame = |l: &str| {
        l.starts_with('[')
            && l.split_once("] [").is_some_and(|(_, rest)| {
                rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
            })
    };
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !frame(l))
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub(crate) enum Waited {
    TimedOut,
    Io(String),
}

/// Runs `cmd` in its own process group with stdin from /dev/null, collecting stdout and stderr;
/// after `timeout` the whole group (the launcher and its ranks) is killed.
pub(crate) fn run_with_timeout(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(String, String, std::process::ExitStatus), Waited> {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| Waited::Io(format!("{}: {e}", cmd.get_program().to_string_lossy())))?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let mut bytes = Vec::new();
                let _ = p.read_to_end(&mut bytes);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            text
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as _));
    let pgid = child.id() as libc::pid_t;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                // Open MPI puts ranks in their own groups: SIGTERM lets the launcher kill them,
                // then SIGKILL ends whatever is left in its group.
                // Safety: kill and killpg only send signals, to the launcher and its own group.
                unsafe { libc::kill(pgid, libc::SIGTERM) };
                let term = Instant::now();
                while term.elapsed() < Duration::from_secs(3) {
                    if matches!(child.try_wait(), Ok(Some(_))) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                // Safety: as above.
                unsafe { libc::killpg(pgid, libc::SIGKILL) };
                let _ = child.wait();
                let _ = (out.join(), err.join());
                return Err(Waited::TimedOut);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(Waited::Io(e.to_string())),
        }
    };
    // Ranks that outlive the launcher would keep the pipes open: end the group before reading.
    // Safety: as above; the group may already be empty, then killpg fails harmlessly.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok((stdout, stderr, status))
}

/// Ping-pong of `Vec<u8>` messages of each size through a lesson-03 pipe to a forked child.
///
/// # Errors
/// A [`ProcessError`](crate::process::ProcessError) from the fork or the pipe, as a message.
///
/// # Examples
/// ```
/// let p = parlab::mpi::pipe_ping_pong(&[8], 20)?;
/// assert_eq!(p[0].bytes, 8);
/// assert!(p[0].round_trip > 0.0);
/// # Ok::<(), String>(())
/// ```
pub fn pipe_ping_pong(sizes: &[usize], repeats: u32) -> Result<Vec<PingPong>, String> {
    use crate::process;
    let t = Duration::from_secs(30);
    let (mut parent, mut child_end) =
        process::pipe::<Vec<u8>, Vec<u8>>().map_err(|e| e.to_string())?;
    let mut echo = crate::echo::fork_echo(move || match child_end.recv(t) {
        Ok(msg) if !msg.is_empty() => child_end.send(&msg, t).is_ok(),
        _ => false,
    })
    .map_err(|e| e.to_string())?;
    let result = ping_pong_loop(sizes, repeats, |msg| {
        parent.send(msg, t).map_err(|e| e.to_string())?;
        parent.recv(t).map_err(|e| e.to_string())
    });
    let _ = parent.send(&Vec::new(), t);
    let _ = echo.join(t);
    result
}

/// Ping-pong of `Vec<u8>` messages of each size between two threads over channels: a message
/// is moved, not copied (lesson 02's shared memory: only a pointer changes hands).
///
/// # Errors
/// A message if the other thread is gone.
///
/// # Examples
/// ```
/// let p = parlab::mpi::thread_ping_pong(&[1 << 20], 10)?;
/// assert!(p[0].bandwidth_mb_s() > 0.0);
/// # Ok::<(), String>(())
/// ```
pub fn thread_ping_pong(sizes: &[usize], repeats: u32) -> Result<Vec<PingPong>, String> {
    let (to_echo, echo_in) = crossbeam::channel::bounded::<Vec<u8>>(1);
    let (echo_out, back) = crossbeam::channel::bounded::<Vec<u8>>(1);
    let echo = std::thread::spawn(move || {
        while let Ok(msg) = echo_in.recv() {
            if echo_out.send(msg).is_err() {
                break;
            }
        }
    });
    let gone = |_| "the echo thread is gone".to_owned();
    let result = ping_pong_loop(sizes, repeats, |msg| {
        to_echo.send(std::mem::take(msg)).map_err(gone)?;
        back.recv_timeout(Duration::from_secs(30))
            .map_err(|e| e.to_string())
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
    mut exchange: impl FnMut(&mut Vec<u8>) -> Result<Vec<u8>, String>,
) -> Result<Vec<PingPong>, String> {
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
                    return Err(format!(
                        "a {bytes}-byte message came back as {} bytes",
                        msg.len()
                    ));
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
