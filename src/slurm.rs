//! Slurm for lesson 05: submit an MPI task's batch script with `sbatch`, wait for the job (never
//! longer than a limit), and read rank 0's reply from the job's output as the same typed result
//! that [`Mpi::run`](crate::mpi::Mpi::run) gives.
//!
//! Slurm's commands (`sbatch`, `scontrol`, `sinfo`, `scancel`) are run as child processes, each
//! with a timeout; nothing here links Slurm. The script comes from
//! [`Mpi::batch_script`](crate::mpi::Mpi::batch_script), whose `srun --mpi=pmix` starts the ranks.
//!
//! - [`Slurm`]: the commands found on this machine, [`Slurm::status`] (is the controller there?),
//!   [`Slurm::run`] (submit, wait, read the reply), or the steps one by one: [`Slurm::submit`],
//!   [`Slurm::wait`].
//! - [`SlurmError`]: what went wrong, each with its cause and what fixes it.
//! - `slurm/controller.rs`: a TCP look for the controller, so that [`Slurm::status`] says at once
//!   that no controller runs, where `sinfo` would retry for seconds.
//!
//! # Examples
//! ```no_run
//! use parlab::mpi::{Mpi, tasks};
//! use parlab::slurm::Slurm;
//! use std::time::Duration;
//! let mpi = Mpi::find()?;
//! let script = mpi.batch_script(tasks::CALC_PI, 1, 2, &(10_000_000, 1), 1)?;
//! let run = Slurm::find()?.run(tasks::CALC_PI, &script, Duration::from_secs(60))?;
//! assert_eq!(run.result.estimate, parlab::pi::calc_pi(10_000_000, 1)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use crate::mpi::{self, MpiError, MpiTask, Waited};

mod controller;

/// The environment variable Slurm's commands read their configuration from.
pub const CONF_ENV: &str = "SLURM_CONF";

/// The configuration Slurm's commands read when neither [`Slurm::conf`] nor `SLURM_CONF` names one.
const DEFAULT_CONF: &str = "/etc/slurm/slurm.conf";

/// The most of a job's output file that is read (its end): rank 0's reply is its last line.
const OUTPUT_LIMIT: u64 = 8 << 20;

/// How often [`Slurm::wait`] asks the controller about the job.
const POLL: Duration = Duration::from_millis(100);

/// The job states after which a job does not run again.
const ENDED: [&str; 9] = [
    "COMPLETED",
    "FAILED",
    "TIMEOUT",
    "CANCELLED",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
    "OUT_OF_MEMORY",
];

/// What went wrong with Slurm: each message names the cause and the fix.
///
/// # Examples
/// ```
/// use parlab::slurm::SlurmError;
/// let e = SlurmError::NotReachable { said: "connect failure".into() };
/// assert!(e.to_string().contains("slurm start"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SlurmError {
    /// Slurm's commands are not installed here.
    #[error(
        "Slurm is not installed here: `{command}` was not found.\n  fix: on a cluster, `module load slurm` \
         or ask its admins; on this machine, as root, `cargo run --release -- setup --cluster` \
         installs a one-node Slurm"
    )]
    NotInstalled {
        /// The command looked for.
        command: String,
    },
    /// Slurm's controller (`slurmctld`) does not answer: its daemons are not running, or it is
    /// out of reach.
    #[error(
        "Slurm's controller does not answer (its daemons are not running?): {said}\n  fix: on this \
         machine, as root, `cargo run --release -- slurm start` starts them; on a cluster, ask its \
         admins"
    )]
    NotReachable {
        /// What the command said.
        said: String,
    },
    /// munge, which signs every Slurm message, is not running on this machine.
    #[error(
        "munge (Slurm's authentication) is not running here: {said}\n  fix: start munged \
         (`sudo systemctl start munge`, or `cargo run --release -- slurm start` as root)"
    )]
    MungeDown {
        /// What the command said.
        said: String,
    },
    /// The controller rejected this machine's munge credential: the keys differ.
    #[error(
        "Slurm's controller rejected this machine's credential (its munge key differs from the \
         controller's; slurmctld's log says \"Munge decode failed: Invalid credential\"): {said}\n  \
         fix: every node needs the controller's /etc/munge/munge.key (owner munge, mode 0400); \
         copy it here and restart munged"
    )]
    MungeRejected {
        /// What the command said.
        said: String,
    },
    /// `sbatch` refused the script (more nodes or CPUs than the cluster has, a bad option, ...).
    #[error(
        "sbatch refused the script: {said}\n  fix: ask for what the cluster has (`sinfo -N -l` lists \
         its nodes and CPUs): fewer nodes, ranks per node or minutes in batch_script"
    )]
    Refused {
        /// sbatch's message.
        said: String,
    },
    /// The job ended without success (a rank crashed, the program is missing, ...).
    #[error(
        "Slurm job {job} ended {state} (exit code {exit_code}); the end of its output {}:\n{output}\n  \
         fix: the output names the failing rank or command; run the same task with Mpi::run on \
         this machine to see it fail faster",
        path.display()
    )]
    JobFailed {
        /// The job id.
        job: u64,
        /// Slurm's final state: FAILED, CANCELLED, NODE_FAIL, ...
        state: String,
        /// `exit code:signal`, as Slurm gives it.
        exit_code: String,
        /// The output file.
        path: PathBuf,
        /// Its last lines.
        output: String,
    },
    /// Slurm killed the job at its time limit.
    #[error(
        "Slurm job {job} was killed at its time limit ({limit}); the end of its output:\n{output}\n  \
         fix: ask for more minutes in batch_script (its #SBATCH --time), or give it less work"
    )]
    TimeLimit {
        /// The job id.
        job: u64,
        /// The limit, as Slurm gives it (`00:01:00`).
        limit: String,
        /// The end of its output.
        output: String,
    },
    /// The job did not end within the wait's limit; it was cancelled (`scancel`).
    #[error(
        "Slurm job {job} did not end within {after:?} (state {state}): it was cancelled.\n  fix: \
         wait longer, or see why it waits with `squeue -j {job}` (a busy cluster queues jobs)"
    )]
    WaitTimeout {
        /// The job id.
        job: u64,
        /// The limit.
        after: Duration,
        /// Its state when the limit came (PENDING: it never started).
        state: String,
    },
    /// The job ended, but rank 0's reply in its output is missing, refused or unreadable.
    #[error("Slurm job {job} ran, but its reply: {error}")]
    Reply {
        /// The job id.
        job: u64,
        /// What reading the reply found.
        #[source]
        error: MpiError,
    },
    /// A Slurm command could not be run, or a job's script not written.
    #[error("could not {what}: {source}")]
    Io {
        /// What was being done, e.g. `run sbatch` or `write /tmp/job.sh`.
        what: String,
        /// The operating system's error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// `sbatch` answered, but not with a job id.
    #[error("sbatch did not print a job id: {said:?}")]
    NoJobId {
        /// What it printed.
        said: String,
    },
}

/// Two errors are equal when they are the same kind and say the same (an operating system's
/// error, kept as the cause, has no equality of its own).
impl PartialEq for SlurmError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

/// Slurm's commands on this machine, and where jobs' scripts and outputs go.
///
/// # Examples
/// ```
/// match parlab::slurm::Slurm::find() {
///     Ok(slurm) => assert!(slurm.bin.join("sbatch").is_file()),
///     Err(e) => assert!(e.to_string().contains("setup --cluster")),
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Slurm {
    /// The folder of `sbatch`, `scontrol`, `sinfo` and `scancel`.
    pub bin: PathBuf,
    /// The configuration they read (`SLURM_CONF`); `None`: Slurm's own (`/etc/slurm/slurm.conf`).
    pub conf: Option<PathBuf>,
    /// Options for `sbatch`, before the script; they override its `#SBATCH` lines (`--time=1`).
    pub sbatch_args: Vec<String>,
    /// Where jobs' scripts and output files are written: a folder every node sees
    /// (`target/slurm-jobs` in this crate, by default).
    pub jobs_dir: PathBuf,
}

/// A submitted job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: u64,
    /// The script submitted.
    pub script: PathBuf,
    /// Its output file (stdout and stderr of the script and its ranks).
    pub output: PathBuf,
    /// When `sbatch` was started.
    pub submitted: Instant,
}

/// How a job ended, from `scontrol show job`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEnd {
    /// The final state: COMPLETED, FAILED, TIMEOUT, ... (`GONE` when the controller had already
    /// forgotten it).
    pub state: String,
    /// `exit code:signal`.
    pub exit_code: String,
    /// The nodes it ran on.
    pub nodes: String,
    /// Its time limit (`00:01:00`).
    pub time_limit: String,
    /// Why it waits or how it ended, as Slurm says (`Resources`, `None`, ...).
    pub reason: String,
}

/// A task's result from a batch job, from [`Slurm::run`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRun<R> {
    /// The job id.
    pub job: u64,
    /// The nodes it ran on.
    pub nodes: String,
    /// Seconds from starting `sbatch` to the parsed result.
    pub seconds: f64,
    /// Rank 0's result.
    pub result: R,
}

impl Slurm {
    /// Finds `sbatch` (and its fellow commands) on `PATH`; jobs go to `target/slurm-jobs`.
    ///
    /// # Errors
    /// [`SlurmError::NotInstalled`].
    ///
    /// # Examples
    /// ```
    /// if let Ok(slurm) = parlab::slurm::Slurm::find() {
    ///     println!("Slurm's commands are in {}", slurm.bin.display());
    /// }
    /// ```
    pub fn find() -> Result<Slurm, SlurmError> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let bin = std::env::split_paths(&path)
            .find(|dir| dir.join("sbatch").is_file())
            .ok_or_else(|| SlurmError::NotInstalled {
                command: "sbatch".into(),
            })?;
        for command in ["scontrol", "sinfo", "scancel"] {
            if !bin.join(command).is_file() {
                return Err(SlurmError::NotInstalled {
                    command: bin.join(command).display().to_string(),
                });
            }
        }
        Ok(Slurm {
            bin,
            conf: None,
            sbatch_args: Vec::new(),
            jobs_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/slurm-jobs")),
        })
    }

    fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(name));
        if let Some(conf) = &self.conf {
            cmd.env(CONF_ENV, conf);
        }
        cmd
    }

    /// Runs a Slurm command for at most `timeout`: its stdout, or the error its stderr names.
    fn call(&self, mut cmd: Command, timeout: Duration) -> Result<String, SlurmError> {
        let name = Path::new(cmd.get_program())
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        match mpi::run_with_timeout(&mut cmd, timeout) {
            Ok((stdout, _, status)) if status.success() => Ok(stdout),
            Ok((stdout, stderr, status)) => {
                let said = mpi::tail(&format!("{stderr}\n{stdout}"), 4);
                let said = if said.is_empty() {
                    format!("{name} failed ({status})")
                } else {
                    said
                };
                Err(classify(said))
            }
            Err(Waited::TimedOut) => Err(SlurmError::NotReachable {
                said: format!("{name} had no answer within {timeout:?}"),
            }),
            Err(Waited::Io(e)) => Err(SlurmError::Io {
                what: format!("run {name}"),
                source: Arc::new(e.source),
            }),
        }
    }

    /// Whether the controller answers: `sinfo`'s partitions, nodes and their states in one line.
    ///
    /// # Errors
    /// [`SlurmError::NotReachable`] (also when `sinfo` has no answer within `timeout`, and at once,
    /// without `sinfo`, when each controller the configuration names refuses a connection),
    /// [`SlurmError::MungeDown`], [`SlurmError::MungeRejected`], [`SlurmError::Io`].
    ///
    /// # Examples
    /// ```no_run
    /// let slurm = parlab::slurm::Slurm::find()?;
    /// println!("{}", slurm.status(std::time::Duration::from_secs(5))?);
    /// # Ok::<(), parlab::slurm::SlurmError>(())
    /// ```
    pub fn status(&self, timeout: Duration) -> Result<String, SlurmError> {
        let conf = self.conf.clone().unwrap_or_else(|| {
            std::env::var_os(CONF_ENV).map_or_else(|| PathBuf::from(DEFAULT_CONF), PathBuf::from)
        });
        if let Some(said) = controller::refused(&conf) {
            return Err(SlurmError::NotReachable { said });
        }
        let mut cmd = self.command("sinfo");
        cmd.args(["--noheader", "--format=%P %a %D %T %N %c"]);
        let out = self.call(cmd, timeout)?;
        let rows: Vec<String> = out
            .lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                let [partition, avail, count, state, nodes, cpus] = w[..] else {
                    return None;
                };
                let s = if count == "1" { "" } else { "s" };
                Some(format!(
                    "partition {partition} {avail}: {count} node{s} {state} ({nodes}), {cpus} CPUs each"
                ))
            })
            .collect();
        if rows.is_empty() {
            return Err(SlurmError::NotReachable {
                said: format!("sinfo lists no partition: {}", out.trim()),
            });
        }
        Ok(rows.join("; "))
    }

    /// Writes `script` into [`jobs_dir`](Slurm::jobs_dir) and submits it with `sbatch`
    /// (at most `timeout` for sbatch to answer).
    ///
    /// # Errors
    /// [`SlurmError::Refused`], [`SlurmError::NotReachable`], [`SlurmError::MungeDown`],
    /// [`SlurmError::MungeRejected`], [`SlurmError::Io`], [`SlurmError::NoJobId`].
    ///
    /// # Examples
    /// ```no_run
    /// let slurm = parlab::slurm::Slurm::find()?;
    /// let job = slurm.submit("#!/bin/bash\nhostname\n", std::time::Duration::from_secs(10))?;
    /// println!("job {} writes {}", job.id, job.output.display());
    /// # Ok::<(), parlab::slurm::SlurmError>(())
    /// ```
    pub fn submit(&self, script: &str, timeout: Duration) -> Result<Job, SlurmError> {
        let io = |what: &str, path: &Path, e: std::io::Error| SlurmError::Io {
            what: format!("{what} {}", path.display()),
            source: Arc::new(e),
        };
        std::fs::create_dir_all(&self.jobs_dir).map_err(|e| io("create", &self.jobs_dir, e))?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = self
            .jobs_dir
            .join(format!("job-{}-{stamp}.sh", std::process::id()));
        std::fs::write(&path, script).map_err(|e| io("write", &path, e))?;
        let submitted = Instant::now();
        let mut cmd = self.command("sbatch");
        cmd.arg("--parsable")
            .arg(format!("--chdir={}", self.jobs_dir.display()))
            .arg(format!(
                "--output={}",
                self.jobs_dir.join("slurm-%j.out").display()
            ))
            .args(&self.sbatch_args)
            .arg(&path);
        let out = self.call(cmd, timeout);
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        let id = out
            .trim()
            .split(';')
            .next()
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| SlurmError::NoJobId {
                said: out.trim().to_owned(),
            })?;
        Ok(Job {
            id,
            output: self.jobs_dir.join(format!("slurm-{id}.out")),
            script: path,
            submitted,
        })
    }

    /// Waits until `job` ends, asking the controller every 100 ms; after `timeout` the job is
    /// cancelled (`scancel`) and waited for a few more seconds.
    ///
    /// # Errors
    /// [`SlurmError::WaitTimeout`], and what asking the controller can give
    /// ([`SlurmError::NotReachable`], ...).
    ///
    /// # Examples
    /// ```no_run
    /// use std::time::Duration;
    /// let slurm = parlab::slurm::Slurm::find()?;
    /// let job = slurm.submit("#!/bin/bash\nhostname\n", Duration::from_secs(10))?;
    /// assert_eq!(slurm.wait(&job, Duration::from_secs(30))?.state, "COMPLETED");
    /// # Ok::<(), parlab::slurm::SlurmError>(())
    /// ```
    pub fn wait(&self, job: &Job, timeout: Duration) -> Result<JobEnd, SlurmError> {
        let started = Instant::now();
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            let (end, ended) = self.job_state(job.id, left.clamp(POLL, Duration::from_secs(10)))?;
            if ended {
                return Ok(end);
            }
            if started.elapsed() >= timeout {
                let mut cancel = self.command("scancel");
                cancel.arg(job.id.to_string());
                let cancelled = self.call(cancel, Duration::from_secs(10));
                let by = Instant::now() + Duration::from_secs(10);
                while Instant::now() < by {
                    if self
                        .job_state(job.id, Duration::from_secs(5))
                        .is_ok_and(|(_, ended)| ended)
                    {
                        break;
                    }
                    std::thread::sleep(POLL);
                }
                cancelled?;
                return Err(SlurmError::WaitTimeout {
                    job: job.id,
                    after: timeout,
                    state: format!("{}, reason {}", end.state, end.reason),
                });
            }
            std::thread::sleep(POLL.min(left));
        }
    }

    /// The job's state from `scontrol show job`, and whether it has ended.
    fn job_state(&self, id: u64, timeout: Duration) -> Result<(JobEnd, bool), SlurmError> {
        let mut cmd = self.command("scontrol");
        cmd.args(["--oneliner", "show", "job"]).arg(id.to_string());
        let text = match self.call(cmd, timeout) {
            Ok(text) => text,
            // The controller forgets ended jobs after MinJobAge (300 s by default).
            Err(SlurmError::Refused { said }) if said.contains("Invalid job id") => {
                let end = JobEnd {
                    state: "GONE".into(),
                    exit_code: "?".into(),
                    nodes: "?".into(),
                    time_limit: "?".into(),
                    reason: "?".into(),
                };
                return Ok((end, true));
            }
            Err(e) => return Err(e),
        };
        let field = |key: &str| {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or("?")
                .to_owned()
        };
        let end = JobEnd {
            state: field("JobState"),
            exit_code: field("ExitCode"),
            nodes: field("NodeList"),
            time_limit: field("TimeLimit"),
            reason: field("Reason"),
        };
        let ended = ENDED.contains(&end.state.as_str());
        Ok((end, ended))
    }

    /// Submits `script` (from [`Mpi::batch_script`](crate::mpi::Mpi::batch_script) for `task`),
    /// waits for the job (at most `timeout` in all, then it is cancelled) and reads rank 0's
    /// reply from its output as `task`'s result. The script and output are removed when the
    /// result is read, and kept (for reading) when the job failed.
    ///
    /// # Errors
    /// Every [`SlurmError`]: the submission's, [`SlurmError::JobFailed`],
    /// [`SlurmError::TimeLimit`], [`SlurmError::WaitTimeout`], [`SlurmError::Reply`].
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::mpi::{Mpi, tasks};
    /// let mpi = Mpi::find()?;
    /// let script = mpi.batch_script(tasks::RANKS, 1, 2, &(), 1)?;
    /// let run = parlab::slurm::Slurm::find()?.run(tasks::RANKS, &script, std::time::Duration::from_secs(60))?;
    /// println!("job {} on {}: {} ranks in {:.1} s", run.job, run.nodes, run.result.len(), run.seconds);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run<A, R: DeserializeOwned>(
        &self,
        task: MpiTask<A, R>,
        script: &str,
        timeout: Duration,
    ) -> Result<BatchRun<R>, SlurmError> {
        let run = self.run_value(task.name(), script, timeout)?;
        let result =
            mpi::decode_reply(task.name(), run.result).map_err(|error| SlurmError::Reply {
                job: run.job,
                error,
            })?;
        Ok(BatchRun {
            job: run.job,
            nodes: run.nodes,
            seconds: run.seconds,
            result,
        })
    }

    /// [`run`](Slurm::run) up to rank 0's result as JSON, compiled once in parlab (not in every
    /// notebook cell).
    #[inline(never)]
    fn run_value(
        &self,
        task: &str,
        script: &str,
        timeout: Duration,
    ) -> Result<BatchRun<serde_json::Value>, SlurmError> {
        let started = Instant::now();
        let job = self.submit(script, timeout.min(Duration::from_secs(30)))?;
        let end = self.wait(&job, timeout.saturating_sub(started.elapsed()))?;
        let output = read_end(&job.output, OUTPUT_LIMIT);
        let lines = |n| mpi::tail(&output, n);
        match end.state.as_str() {
            "COMPLETED" | "GONE" => {}
            "TIMEOUT" => {
                return Err(SlurmError::TimeLimit {
                    job: job.id,
                    limit: end.time_limit,
                    output: lines(8),
                });
            }
            _ => {
                return Err(SlurmError::JobFailed {
                    job: job.id,
                    state: end.state,
                    exit_code: end.exit_code,
                    path: job.output,
                    output: lines(12),
                });
            }
        }
        let result = mpi::reply_value(task, &output, &output, true, &|| {
            format!("job {} ended {}", job.id, end.state)
        })
        .map_err(|error| SlurmError::Reply { job: job.id, error })?;
        let seconds = job.submitted.elapsed().as_secs_f64();
        let _ = std::fs::remove_file(&job.script);
        let _ = std::fs::remove_file(&job.output);
        Ok(BatchRun {
            job: job.id,
            nodes: end.nodes,
            seconds,
            result,
        })
    }
}

/// The error a Slurm command's message names.
fn classify(said: String) -> SlurmError {
    let lower = said.to_ascii_lowercase();
    if lower.contains("munge encode failed")
        || lower.contains("munge.socket")
        || lower.contains("munged")
    {
        SlurmError::MungeDown { said }
    } else if lower.contains("authentication")
        || lower.contains("credential")
        // slurmctld closes the connection without a word when it cannot verify the credential.
        || lower.contains("zero bytes were transmitted or received")
    {
        SlurmError::MungeRejected { said }
    } else if lower.contains("unable to contact slurm controller")
        || lower.contains("connection refused")
        || lower.contains("socket timed out")
    {
        SlurmError::NotReachable { said }
    } else {
        SlurmError::Refused { said }
    }
}

/// The last `limit` bytes of a file (all of it when shorter), as text; empty if unreadable.
fn read_end(path: &Path, limit: u64) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    if len > limit {
        let _ = file.seek(SeekFrom::Start(len - limit));
    }
    let mut bytes = Vec::new();
    let _ = file.take(limit).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_classified() {
        let c = |s: &str| classify(s.to_owned());
        assert!(matches!(
            c(
                "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)"
            ),
            SlurmError::NotReachable { .. }
        ));
        assert!(matches!(
            c("sbatch: error: Batch job submission failed: Protocol authentication error"),
            SlurmError::MungeRejected { .. }
        ));
        assert!(matches!(
            c(
                "sbatch: error: Batch job submission failed: Zero Bytes were transmitted or received"
            ),
            SlurmError::MungeRejected { .. }
        ));
        assert!(matches!(
            c("sbatch: error: Munge encode failed: Failed to access \"/run/munge/munge.socket.2\""),
            SlurmError::MungeDown { .. }
        ));
        assert!(matches!(
            c("sbatch: error: Batch job submission failed: Node count specification invalid"),
            SlurmError::Refused { .. }
        ));
    }

    #[test]
    fn the_end_of_a_long_output_is_read() {
        let path = std::env::temp_dir().join(format!("parlab-slurm-test-{}", std::process::id()));
        std::fs::write(&path, "a\n".repeat(100) + "last\n").unwrap();
        let end = read_end(&path, 7);
        let _ = std::fs::remove_file(&path);
        assert_eq!(end, "a\nlast\n");
        assert_eq!(read_end(Path::new("/nonexistent/parlab"), 10), "");
    }
}
