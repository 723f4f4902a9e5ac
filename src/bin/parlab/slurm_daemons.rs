//! A one-node Slurm cluster on this machine, for lesson 05's batch script: its configuration
//! (written by `parlab setup --cluster`, as root) and its daemons (munged, slurmctld, slurmd),
//! started and stopped by `parlab slurm start|stop` and by tests/slurm.rs (which includes this
//! file, and project.rs for its helpers).
//!
//! The node is called `parlab` (slurmd is started with `-N parlab`, whatever the machine's
//! hostname) and answers on 127.0.0.1; its partition `parlab` is the default. The daemons run as
//! root and keep their pid files in [`RUN_DIR`]. A [`Daemons`] value stops what it started when
//! dropped (also while a panic unwinds); [`Daemons::start`] first stops what a crashed run left.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::project::{alive, find_system_tool, status_within};

/// Where Slurm's commands and daemons read their configuration on Debian.
pub const CONF: &str = "/etc/slurm/slurm.conf";
/// The first line of a configuration parlab wrote (any other is the machine's own: left alone).
pub const HEADER: &str = "# parlab: a one-node Slurm cluster on localhost";
/// The daemons' pid files, and who started them.
pub const RUN_DIR: &str = "/run/parlab-slurm";
/// The node's name, and its partition's.
pub const NODE: &str = "parlab";
/// munge's socket (Debian's default: Slurm finds it without configuration).
pub const MUNGE_SOCKET: &str = "/run/munge/munge.socket.2";
/// The Debian packages of the cluster tests: Slurm (controller, node daemon, commands), munge,
/// and sshd for the second host of the two-host test.
pub const DEBIAN_PACKAGES: [&str; 3] = ["slurm-wlm", "munge", "openssh-server"];

/// The configuration of the one-node cluster with `cpus` CPUs.
pub fn config_text(cpus: usize) -> String {
    format!(
        "{HEADER}\n\
         # (parlab setup --cluster wrote it; parlab slurm start|stop runs the daemons). Replace it\n\
         # with your own, without the first line, and parlab leaves it alone.\n\
         ClusterName=parlab\n\
         SlurmctldHost=localhost\n\
         SlurmUser=root\n\
         SlurmdUser=root\n\
         AuthType=auth/munge\n\
         CredType=cred/munge\n\
         StateSaveLocation=/var/lib/slurm/slurmctld\n\
         SlurmdSpoolDir=/var/lib/slurm/slurmd\n\
         SlurmctldPidFile={RUN_DIR}/slurmctld.pid\n\
         SlurmdPidFile={RUN_DIR}/slurmd.pid\n\
         SlurmctldLogFile=/var/log/slurm/slurmctld.log\n\
         SlurmdLogFile=/var/log/slurm/slurmd.log\n\
         ProctrackType=proctrack/linuxproc\n\
         TaskPlugin=task/none\n\
         # srun must say --mpi=pmix, as on a cluster whose default is none (batch_script does)\n\
         MpiDefault=none\n\
         SchedulerType=sched/builtin\n\
         SelectType=select/cons_tres\n\
         SelectTypeParameters=CR_Core\n\
         ReturnToService=2\n\
         # refuse at submission a job the cluster can never run (as most clusters do)\n\
         EnforcePartLimits=ALL\n\
         MessageTimeout=5\n\
         KillWait=5\n\
         MinJobAge=300\n\
         InactiveLimit=0\n\
         JobCompType=jobcomp/none\n\
         AccountingStorageType=accounting_storage/none\n\
         JobAcctGatherType=jobacct_gather/none\n\
         NodeName={NODE} NodeHostname=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
         PartitionName={NODE} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP\n"
    )
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Whether the configuration is in place: `Ok(Some(what))` when it is (parlab's or the
/// machine's own), `Ok(None)` when parlab should write it.
pub fn configured() -> Result<Option<String>, String> {
    match std::fs::read_to_string(CONF) {
        Ok(text) if !text.starts_with(HEADER) => Ok(Some(format!(
            "{CONF} is this machine's own (not written by parlab): left alone"
        ))),
        Ok(text) if text == config_text(cpus()) => Ok(Some(format!(
            "{CONF}: one node `{NODE}` with {} CPUs",
            cpus()
        ))),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{CONF}: {e}")),
    }
}

/// Writes the configuration (unless the machine has its own) and the folders it names.
pub fn configure() -> Result<(), String> {
    if configured()?.is_some() {
        return Ok(());
    }
    for dir in [
        "/etc/slurm",
        "/var/lib/slurm/slurmctld",
        "/var/lib/slurm/slurmd",
        "/var/log/slurm",
    ] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    }
    std::fs::write(CONF, config_text(cpus())).map_err(|e| format!("{CONF}: {e}"))
}

/// What is missing on this machine to run the cluster, each with the fix (empty: nothing).
pub fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    // Safety: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root: Slurm's daemons run as root here (run as root, e.g. in CI)".to_owned());
    }
    for tool in [
        "munged",
        "slurmctld",
        "slurmd",
        "sbatch",
        "sinfo",
        "scontrol",
    ] {
        if find_system_tool(tool).is_none() {
            missing.push(format!(
                "`{tool}`: as root, `cargo run --release -- setup --cluster` installs Slurm and munge \
                 (or `apt-get install -y --no-install-recommends {}`)",
                DEBIAN_PACKAGES.join(" ")
            ));
            break;
        }
    }
    match configured() {
        Ok(Some(what)) if !what.contains("own") => {}
        Ok(Some(what)) => missing.push(format!(
            "a Slurm parlab may start: {what} (use that Slurm as it is, with its own daemons)"
        )),
        Ok(None) => missing.push(format!(
            "{CONF}: as root, `cargo run --release -- setup --cluster` writes it"
        )),
        Err(e) => missing.push(e),
    }
    missing
}

/// A daemon parlab started: its name and pid.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// munged, slurmctld or slurmd.
    pub name: &'static str,
    /// Its process id.
    pub pid: i32,
}

/// The daemons of the one-node cluster; dropping the value stops the ones it started.
#[derive(Debug)]
pub struct Daemons {
    /// What this value started (and stops): empty when they were already running.
    pub started: Vec<Started>,
    /// `sinfo`'s answer once the node was idle.
    pub status: String,
}

/// Who started the running daemons, in `RUN_DIR/owner`: `kept` (`parlab slurm start`) or the
/// pid of a test.
fn owner_file() -> PathBuf {
    Path::new(RUN_DIR).join("owner")
}

fn pid_of(name: &str) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(Path::new(RUN_DIR).join(format!("{name}.pid")))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    // /proc/PID/comm holds at most 15 bytes: "slurmctld", "slurmd", "munged".
    (comm.trim() == name).then_some(pid)
}

/// SIGTERMs `pid`, and SIGKILLs it if it has not ended within `grace`.
fn stop_pid(pid: i32, grace: Duration) {
    // Safety: kill only sends a signal, to a daemon parlab started (its pid file names it).
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let by = Instant::now() + grace;
    while alive(pid) && Instant::now() < by {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        // Safety: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let by = Instant::now() + Duration::from_secs(2);
        while alive(pid) && Instant::now() < by {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The job steps (`slurmstepd`) still running: after the daemons stop, nothing else ends them.
fn stepds() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "slurmstepd")
        })
        .collect()
}

/// `sinfo`'s line for the node (`idle`, `down`, ...), or why there is none.
fn node_state() -> Result<String, String> {
    let out = Command::new("sinfo")
        .args(["--noheader", "--nodes", NODE, "--format=%T"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("sinfo: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Stops the daemons parlab started (pid files in [`RUN_DIR`]), cancelling their jobs first;
/// returns what it stopped.
pub fn stop_all() -> Vec<String> {
    let mut stopped = Vec::new();
    if pid_of("slurmctld").is_some() {
        let _ = status_within(
            Command::new("scancel").args(["--partition", NODE]),
            Duration::from_secs(10),
        );
    }
    for name in ["slurmd", "slurmctld"] {
        if let Some(pid) = pid_of(name) {
            stop_pid(pid, Duration::from_secs(10));
            stopped.push(format!("{name} ({pid})"));
        }
    }
    for pid in stepds() {
        stop_pid(pid, Duration::from_secs(2));
        stopped.push(format!("slurmstepd ({pid})"));
    }
    if let Some(pid) = pid_of("munged") {
        stop_pid(pid, Duration::from_secs(5));
        stopped.push(format!("munged ({pid})"));
    }
    let _ = std::fs::remove_file(owner_file());
    stopped
}

impl Daemons {
    /// Starts munged (unless one runs), slurmctld and slurmd, and waits (at most `limit`) until
    /// the node is idle. Daemons a crashed test left are stopped first; daemons that
    /// `parlab slurm start` left running (`keep`) are used as they are and not stopped.
    ///
    /// With `keep`, the daemons stay running when the value is dropped (`parlab slurm start`).
    ///
    /// # Errors
    /// What is missing (see [`missing`]), or the daemon that did not start, with its log's end.
    pub fn start(keep: bool, limit: Duration) -> Result<Daemons, String> {
        let missing = missing();
        if !missing.is_empty() {
            return Err(format!(
                "the one-node Slurm cannot run here; missing:\n  {}",
                missing.join("\n  ")
            ));
        }
        std::fs::create_dir_all(RUN_DIR).map_err(|e| format!("{RUN_DIR}: {e}"))?;
        let owner = std::fs::read_to_string(owner_file()).unwrap_or_default();
        let owner = owner.trim();
        let running = pid_of("slurmctld").is_some() && pid_of("slurmd").is_some();
        let owner_alive = owner
            .strip_prefix("test ")
            .and_then(|p| p.parse::<i32>().ok())
            .is_some_and(alive);
        if running && (owner == "kept" || owner_alive) && node_state().is_ok() {
            return Ok(Daemons {
                started: Vec::new(),
                status: node_state().unwrap_or_default(),
            });
        }
        let left = stop_all();
        if !left.is_empty() {
            eprintln!(
                "slurm: stopped what an earlier run left: {}",
                left.join(", ")
            );
        }
        let mut daemons = Daemons {
            started: Vec::new(),
            status: String::new(),
        };
        let owner = if keep {
            "kept".to_owned()
        } else {
            format!("test {}", std::process::id())
        };
        std::fs::write(owner_file(), owner).map_err(|e| format!("{RUN_DIR}/owner: {e}"))?;
        // From here on, dropping `daemons` stops what was started (unless `keep`).
        daemons.start_munged()?;
        daemons.spawn("slurmctld", &["-c"])?;
        daemons.spawn("slurmd", &["-N", NODE])?;
        let started = Instant::now();
        loop {
            match node_state() {
                Ok(state) if state.starts_with("idle") => break,
                found if started.elapsed() > limit => {
                    let tail = |log: &str| {
                        let text = std::fs::read_to_string(log).unwrap_or_default();
                        let lines: Vec<&str> = text.lines().collect();
                        lines[lines.len().saturating_sub(5)..].join("\n    ")
                    };
                    return Err(format!(
                        "the node `{NODE}` was not idle within {limit:?} (sinfo: {found:?}); \
                         slurmctld's log:\n    {}\n  slurmd's log:\n    {}",
                        tail("/var/log/slurm/slurmctld.log"),
                        tail("/var/log/slurm/slurmd.log")
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        daemons.status = node_state().unwrap_or_default();
        if keep {
            daemons.started.clear();
        }
        Ok(daemons)
    }

    /// Starts munged as the `munge` user, unless a munged answers already.
    fn start_munged(&mut self) -> Result<(), String> {
        if Path::new(MUNGE_SOCKET).exists()
            && status_within(Command::new("munge").arg("-n"), Duration::from_secs(5))
                .unwrap_or(false)
        {
            return Ok(());
        }
        let dir = Path::new(MUNGE_SOCKET)
            .parent()
            .unwrap_or(Path::new("/run"));
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let ok = status_within(
            Command::new("chown").args(["munge:munge"]).arg(dir),
            Duration::from_secs(5),
        )?;
        if !ok {
            return Err(format!(
                "could not give {} to the munge user",
                dir.display()
            ));
        }
        let ok = status_within(
            Command::new("runuser").args(["-u", "munge", "--", "munged", "--force"]),
            Duration::from_secs(10),
        )?;
        // munged (as munge) writes its pid into its own folder; parlab's copy in RUN_DIR says
        // that parlab started it, so that only this munged is stopped later.
        let by = Instant::now() + Duration::from_secs(5);
        let mut pid = None;
        while pid.is_none() && Instant::now() < by {
            pid = std::fs::read_to_string(dir.join("munged.pid"))
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok());
            if pid.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if let Some(pid) = pid {
            std::fs::write(Path::new(RUN_DIR).join("munged.pid"), pid.to_string())
                .map_err(|e| format!("{RUN_DIR}/munged.pid: {e}"))?;
        }
        let pid = pid_of("munged");
        match (ok, pid) {
            (true, Some(pid)) => {
                self.started.push(Started {
                    name: "munged",
                    pid,
                });
                Ok(())
            }
            _ => Err(format!(
                "munged did not start; its log: {}",
                std::fs::read_to_string("/var/log/munge/munged.log")
                    .unwrap_or_default()
                    .lines()
                    .last()
                    .unwrap_or("(empty)")
            )),
        }
    }

    /// Starts a Slurm daemon (it forks into the background) and records its pid.
    fn spawn(&mut self, name: &'static str, args: &[&str]) -> Result<(), String> {
        let ok = status_within(Command::new(name).args(args), Duration::from_secs(15))?;
        let by = Instant::now() + Duration::from_secs(5);
        let mut pid = pid_of(name);
        while pid.is_none() && Instant::now() < by {
            std::thread::sleep(Duration::from_millis(20));
            pid = pid_of(name);
        }
        match (ok, pid) {
            (true, Some(pid)) => {
                self.started.push(Started { name, pid });
                Ok(())
            }
            _ => {
                let log = format!("/var/log/slurm/{name}.log");
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                Err(format!(
                    "{name} did not start; the end of {log}:\n    {}",
                    lines[lines.len().saturating_sub(5)..].join("\n    ")
                ))
            }
        }
    }

    /// Stops what this value started (jobs cancelled first); returns what it stopped.
    pub fn stop(&mut self) -> Vec<String> {
        if self.started.is_empty() {
            return Vec::new();
        }
        self.started.clear();
        stop_all()
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        self.stop();
    }
}
