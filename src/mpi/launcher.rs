//! The launcher: finding `mpirun` and the `parlab-mpi` program ([`Mpi::find`]), telling which MPI
//! it is, and running a task on K ranks with a timeout ([`Mpi::run`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::child::{Waited, run_with_timeout};
use super::error::MpiError;
use super::install::{DEFAULT_PROGRAM, LAUNCHER_ENV, PROGRAM_ENV};
use super::protocol::{decode_reply, reply_value, request_json};
use super::task::MpiTask;
use super::tasks;

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
        let out = Command::new(&launcher)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| MpiError::LauncherBroken {
                launcher: launcher.clone(),
                reason: e.to_string(),
                source: Some(Arc::new(e)),
            })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(MpiError::LauncherBroken {
                launcher,
                reason: format!("{}: {}", out.status, text.trim()),
                source: None,
            });
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
        Ok(self.command_text(ranks, request_json(task, args)?))
    }

    /// [`command_line`](Mpi::command_line) once the request is JSON, compiled once in parlab.
    #[inline(never)]
    fn command_text(&self, ranks: usize, request: String) -> String {
        let cmd = self.command(ranks, request);
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
        words.join(" ")
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

    /// The launcher's command that runs `request` (JSON) on `ranks` ranks.
    fn command(&self, ranks: usize, request: String) -> Command {
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
            if std::env::var_os(SIGKILL_TIMEOUT).is_none() {
                // When a rank fails or the run is stopped, Open MPI sends the other ranks
                // SIGTERM, then waits this long (1 s by default) before SIGKILL: the ranks keep
                // no state worth a graceful end, so a crash or a timeout is reported 1 s sooner.
                cmd.env(SIGKILL_TIMEOUT, "0");
            }
        }
        cmd.arg("-n")
            .arg(ranks.to_string())
            .arg(&self.program)
            .arg(request);
        cmd
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
        let request = request_json(task, args);
        decode_reply(
            task.name(),
            self.run_request(task.name(), ranks, request, timeout)?,
        )
    }

    /// [`run`](Mpi::run) once the request is JSON, up to rank 0's result as JSON: compiled once
    /// in parlab, so that a notebook cell compiles only what knows the task's types.
    #[inline(never)]
    fn run_request(
        &self,
        task: &str,
        ranks: usize,
        request: Result<String, MpiError>,
        timeout: Duration,
    ) -> Result<serde_json::Value, MpiError> {
        let needs = if task == tasks::PING_PONG.name() {
            2
        } else {
            1
        };
        if ranks < needs {
            return Err(MpiError::BadRanks {
                task: task.to_owned(),
                ranks,
                reason: format!("it needs at least {needs}"),
            });
        }
        let mut cmd = self.command(ranks, request?);
        let (stdout, stderr, status) =
            run_with_timeout(&mut cmd, timeout).map_err(|e| match e {
                Waited::TimedOut => MpiError::Timeout {
                    ranks,
                    after: timeout,
                },
                Waited::Io(e) => MpiError::Io {
                    launcher: e.program,
                    source: Arc::new(e.source),
                },
            })?;
        reply_value(task, &stdout, &stderr, status.success(), &|| {
            status_text(status)
        })
    }
}

/// Open MPI's wait between SIGTERM and SIGKILL when it ends ranks (its `odls_base_sigkill_timeout`).
const SIGKILL_TIMEOUT: &str = "OMPI_MCA_odls_base_sigkill_timeout";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launcher_that_cannot_start_keeps_the_os_error() {
        let not_a_program = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let e = Mpi::with_launcher(not_a_program).unwrap_err();
        assert!(matches!(e, MpiError::LauncherBroken { .. }), "{e}");
        let source = std::error::Error::source(&e).expect("the OS error is kept");
        let io = source
            .downcast_ref::<Arc<std::io::Error>>()
            .expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains(&io.to_string()), "{e}");
        assert_eq!(e.clone(), e);
    }
}
