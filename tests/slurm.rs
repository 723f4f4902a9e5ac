//! Lesson 05's batch script under a real Slurm: Debian's slurm-wlm and munge as a one-node
//! cluster on this machine (configured by `parlab setup --cluster`, or by CI's setup), its daemons
//! started by the test and stopped after it (also when it fails: the `Daemons` guard). The script
//! from `Mpi::batch_script` is submitted with `sbatch`, `srun --mpi=pmix` starts the ranks, and
//! the job's output is read back into the same `MpiPi` that `Mpi::run` gives. Then every failure
//! must be one clear error within its limit, with nothing left running: a job that fails, one
//! killed at its time limit, one that does not end within the wait (cancelled), a script sbatch
//! refuses, a wrong munge key, and the daemons not running.
//!
//! Needs root, Slurm and munge (`cargo run --release -- setup --cluster`) and lesson 05's MPI.
//! Without them the test says what is missing, and fails where `CI` is set.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use parlab::mpi::{Mpi, tasks};
use parlab::slurm::{Slurm, SlurmError};

mod common;

#[allow(dead_code)]
#[path = "../src/bin/parlab/project.rs"]
mod project;

#[allow(dead_code)]
#[path = "../src/bin/parlab/slurm_daemons.rs"]
mod slurm_daemons;

use slurm_daemons::{Daemons, NODE};

/// The MPI to run, or `None` (after saying what is missing) when this machine cannot run the test.
fn ready() -> Option<Mpi> {
    common::mpi_or_skip("the Slurm test", slurm_daemons::missing())
}

/// A second munged with a key of its own (not the cluster's), on a socket of its own; stopped
/// when dropped.
struct WrongMunge {
    dir: PathBuf,
    pid: Option<i32>,
}

impl WrongMunge {
    fn start() -> WrongMunge {
        let dir = Path::new(slurm_daemons::RUN_DIR).join("wrong-munge");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut key = vec![0u8; 1024];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut key)
            .unwrap();
        std::fs::write(dir.join("key"), key).unwrap();
        std::fs::set_permissions(dir.join("key"), std::fs::Permissions::from_mode(0o400)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let chown = Command::new("chown")
            .args(["-R", "munge:munge"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(chown.success());
        let mut munge = WrongMunge { dir, pid: None };
        let d = |name: &str| munge.dir.join(name).display().to_string();
        let started = Command::new("runuser")
            .args(["-u", "munge", "--", "munged", "--force"])
            .arg(format!("--socket={}", d("socket")))
            .arg(format!("--key-file={}", d("key")))
            .arg(format!("--pid-file={}", d("pid")))
            .arg(format!("--log-file={}", d("log")))
            .arg(format!("--seed-file={}", d("seed")))
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(started.success(), "the second munged did not start");
        munge.pid = std::fs::read_to_string(munge.dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok());
        assert!(munge.pid.is_some(), "the second munged wrote no pid");
        munge
    }

    /// A copy of the cluster's configuration whose commands sign with this munged.
    fn conf(&self) -> PathBuf {
        let text = std::fs::read_to_string(slurm_daemons::CONF).unwrap();
        let conf = self.dir.join("slurm.conf");
        std::fs::write(
            &conf,
            format!(
                "{text}AuthInfo=socket={}\n",
                self.dir.join("socket").display()
            ),
        )
        .unwrap();
        conf
    }
}

impl Drop for WrongMunge {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            // Safety: kill only sends a signal, to the munged this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Processes named `name` (their `comm`).
fn processes(name: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|c| c.trim() == name)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The job's state, as `scontrol` says it.
fn state_of(job: u64) -> String {
    let out = Command::new("scontrol")
        .args(["--oneliner", "show", "job"])
        .arg(job.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("JobState="))
        .unwrap_or("?")
        .to_owned()
}

#[test]
fn a_batch_script_runs_under_slurm_and_failures_are_clear() {
    let Some(mpi) = ready() else { return };
    let mut daemons = Daemons::start(false, Duration::from_secs(60)).unwrap();
    let mut slurm = Slurm::find().unwrap();
    slurm.jobs_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/slurm-test-jobs");
    let _ = std::fs::remove_dir_all(&slurm.jobs_dir);
    let status = slurm.status(Duration::from_secs(10)).unwrap();
    assert!(status.contains("idle") && status.contains(NODE), "{status}");

    // The lesson's job: calc_pi on every CPU of the node, started by srun.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ranks = cpus.min(4);
    let (n, seed) = (50_000_001, 3);
    let script = mpi
        .batch_script(tasks::CALC_PI, 1, ranks, &(n, seed), 1)
        .unwrap();
    assert!(script.contains("\nsrun --mpi=pmix "), "{script}");
    let run = slurm
        .run(tasks::CALC_PI, &script, Duration::from_secs(60))
        .unwrap();
    assert_eq!(run.result.estimate, parlab::pi::calc_pi(n, seed).unwrap());
    assert_eq!(
        run.result.ranks.len(),
        ranks,
        "srun started every rank in one world"
    );
    assert_eq!(run.nodes, NODE);
    eprintln!(
        "Slurm job {} on {}: {:?}, submission to parsed result {:.2} s",
        run.job, run.nodes, run.result.estimate, run.seconds
    );

    // A job that fails: its only rank aborts.
    let crash = mpi.batch_script(tasks::CRASH, 1, 1, &0, 1).unwrap();
    let started = Instant::now();
    let e = slurm
        .run(tasks::CRASH, &crash, Duration::from_secs(60))
        .unwrap_err();
    let SlurmError::JobFailed { state, output, .. } = &e else {
        panic!("not JobFailed: {e}")
    };
    assert_eq!(state, "FAILED", "{e}");
    assert!(output.contains("aborting on purpose"), "{e}");
    assert!(e.to_string().contains("fix:"), "{e}");
    eprintln!(
        "a failing job ({:.1} s): {e}",
        started.elapsed().as_secs_f64()
    );

    // sbatch refuses a script that asks for more than the cluster has.
    for (nodes, per_node) in [(2, 1), (1, cpus * 8)] {
        let too_big = mpi
            .batch_script(tasks::CALC_PI, nodes, per_node, &(n, seed), 1)
            .unwrap();
        let started = Instant::now();
        let e = slurm
            .run(tasks::CALC_PI, &too_big, Duration::from_secs(60))
            .unwrap_err();
        assert!(matches!(e, SlurmError::Refused { .. }), "{e}");
        assert!(e.to_string().contains("sinfo -N -l"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(20));
        eprintln!("{nodes} nodes x {per_node} ranks: {e}");
    }

    // A job over its time limit (1 minute; Slurm checks limits every 30 s): in the background.
    let sleeper = mpi.batch_script(tasks::SLEEP, 1, 1, &600_000, 1).unwrap();
    let background = slurm.clone();
    let over_time = std::thread::spawn(move || {
        let started = Instant::now();
        let e = background
            .run(tasks::SLEEP, &sleeper, Duration::from_secs(180))
            .unwrap_err();
        (e, started.elapsed())
    });

    // A job that does not end within the wait is cancelled.
    let slow = mpi.batch_script(tasks::SLEEP, 1, 1, &600_000, 5).unwrap();
    let started = Instant::now();
    let e = slurm
        .run(tasks::SLEEP, &slow, Duration::from_secs(3))
        .unwrap_err();
    let SlurmError::WaitTimeout { job, .. } = &e else {
        panic!("not WaitTimeout: {e}")
    };
    assert!(started.elapsed() < Duration::from_secs(20), "{e}");
    assert_eq!(state_of(*job), "CANCELLED", "{e}");
    eprintln!("a job that outlasts the wait: {e}");

    // A wrong munge key: this client signs with another key than the controller knows.
    {
        let wrong = WrongMunge::start();
        let mut stranger = slurm.clone();
        stranger.conf = Some(wrong.conf());
        let started = Instant::now();
        let e = stranger
            .run(tasks::CALC_PI, &script, Duration::from_secs(60))
            .unwrap_err();
        assert!(matches!(e, SlurmError::MungeRejected { .. }), "{e}");
        assert!(e.to_string().contains("munge.key"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(30));
        eprintln!(
            "a wrong munge key ({:.1} s): {e}",
            started.elapsed().as_secs_f64()
        );
    }

    let (e, took) = over_time.join().unwrap();
    let SlurmError::TimeLimit { limit, .. } = &e else {
        panic!("not TimeLimit: {e}")
    };
    assert_eq!(limit, "00:01:00", "{e}");
    assert!(e.to_string().contains("more minutes"), "{e}");
    eprintln!(
        "a job over its time limit ({:.0} s): {e}",
        took.as_secs_f64()
    );

    // The daemons not running: stopped for real when this test started them, else a
    // configuration whose controller port nobody listens on.
    let ours = !daemons.started.is_empty();
    let mut unreachable = slurm.clone();
    let dead_conf = slurm.jobs_dir.join("no-controller.conf");
    if !ours {
        let text = std::fs::read_to_string(slurm_daemons::CONF).unwrap();
        std::fs::write(&dead_conf, format!("{text}SlurmctldPort=6899\n")).unwrap();
        unreachable.conf = Some(dead_conf);
    } else {
        let stopped = daemons.stop();
        assert!(
            stopped.iter().any(|s| s.starts_with("slurmctld")),
            "{stopped:?}"
        );
    }
    let started = Instant::now();
    let e = unreachable.status(Duration::from_secs(15)).unwrap_err();
    assert!(matches!(e, SlurmError::NotReachable { .. }), "{e}");
    let e = unreachable
        .run(tasks::CALC_PI, &script, Duration::from_secs(30))
        .unwrap_err();
    assert!(matches!(e, SlurmError::NotReachable { .. }), "{e}");
    assert!(e.to_string().contains("slurm start"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(40));
    eprintln!("no daemons ({:.1} s): {e}", started.elapsed().as_secs_f64());

    drop(daemons);
    let _ = std::fs::remove_dir_all(&slurm.jobs_dir);
    let mut names = vec!["slurmstepd", "parlab-mpi"];
    if ours {
        names.extend(["slurmctld", "slurmd"]);
    }
    for name in names {
        let left = processes(name);
        assert!(left.is_empty(), "{name} left running: {left:?}");
    }
}
