//! The `parlab::mpi` module against the real launcher (Open MPI here) and the real `parlab-mpi`:
//! results equal the serial ones, oversubscribed ranks work, and every failure is a clear error.
//! Needs `cargo run --release -- setup` (it installs MPI and builds `parlab-mpi`).

use std::time::Duration;

use parlab::mpi::{Mpi, MpiError, MpiTask, PingPongArgs, tasks};

const T: Duration = Duration::from_secs(60);

fn mpi() -> Mpi {
    Mpi::find().unwrap_or_else(|e| panic!("lesson 05 needs MPI: {e}"))
}

#[test]
fn calc_pi_on_ranks_equals_serial() {
    let mpi = mpi();
    let serial = parlab::pi::calc_pi(10_000_001, 7).unwrap();
    let on_two = mpi.run(tasks::CALC_PI, 2, &(10_000_001, 7), T).unwrap();
    assert_eq!(on_two.estimate, serial);
    let samples: Vec<u64> = on_two.ranks.iter().map(|r| r.samples).collect();
    assert_eq!(samples, [5_000_001, 5_000_000], "equal work per rank");
}

#[test]
fn more_ranks_than_cores_work() {
    let ranks = 2 * std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    let mpi = mpi();
    let info = mpi.run(tasks::RANKS, ranks, &(), T).unwrap();
    assert_eq!(info.len(), ranks);
    assert!(
        info.iter()
            .enumerate()
            .all(|(i, r)| r.rank == i && r.size == ranks)
    );
    let pi = mpi.run(tasks::CALC_PI, ranks, &(1_000_000, 3), T).unwrap();
    assert_eq!(pi.estimate, parlab::pi::calc_pi(1_000_000, 3).unwrap());
}

#[test]
fn ping_pong_measures_every_size() {
    let args = PingPongArgs {
        sizes: vec![8, 1 << 20],
        repeats: 20,
    };
    let p = mpi().run(tasks::PING_PONG, 2, &args, T).unwrap();
    assert_eq!(p.iter().map(|p| p.bytes).collect::<Vec<_>>(), [8, 1 << 20]);
    assert!(p.iter().all(|p| p.round_trip > 0.0 && p.round_trip < 1.0));
    let e = mpi().run(tasks::PING_PONG, 1, &args, T).unwrap_err();
    assert!(matches!(e, MpiError::BadRanks { .. }), "{e}");
}

#[test]
fn a_crashed_rank_is_an_error() {
    let e = mpi().run(tasks::CRASH, 2, &1, T).unwrap_err();
    let MpiError::RankFailed { stderr, .. } = &e else {
        panic!("not RankFailed: {e}")
    };
    assert!(
        stderr.contains("rank 1") || stderr.contains("signal"),
        "{e}"
    );
}

#[test]
fn a_slow_run_times_out_and_leaves_no_rank() {
    let started = std::time::Instant::now();
    let e = mpi()
        .run(tasks::SLEEP, 2, &60_000, Duration::from_millis(1500))
        .unwrap_err();
    assert!(matches!(e, MpiError::Timeout { ranks: 2, .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let left = std::process::Command::new("pgrep")
        .args(["-f", "parlab-mpi.*sleep"])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "ranks left running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn wrong_types_and_bad_arguments_are_refused() {
    let mpi = mpi();
    let wrong = MpiTask::<(String, u64), ()>::named("calc_pi");
    let e = mpi.run(wrong, 1, &("ten".into(), 1), T).unwrap_err();
    assert!(e.to_string().contains("wrong signature"), "{e}");
    let e = mpi.run(tasks::CALC_PI, 2, &(0, 1), T).unwrap_err();
    assert!(
        matches!(e, MpiError::Task { .. }) && e.to_string().contains("sample"),
        "{e}"
    );
    let e = mpi
        .run(MpiTask::<(), ()>::named("calc_py"), 1, &(), T)
        .unwrap_err();
    assert!(e.to_string().contains("no task \"calc_py\""), "{e}");
}

#[test]
fn no_launcher_or_program_says_how_to_fix_it() {
    let e = Mpi::with_launcher("/nonexistent/mpirun").unwrap_err();
    assert!(e.to_string().contains("apt-get install"), "{e}");
    let mut m = mpi();
    m.program = "/nonexistent/parlab-mpi".into();
    let e = m.run(tasks::RANKS, 1, &(), T).unwrap_err();
    assert!(matches!(e, MpiError::RankFailed { .. }), "{e}");
    let e = Mpi::with_launcher("/bin/false").unwrap_err();
    assert!(matches!(e, MpiError::LauncherBroken { .. }), "{e}");
}

#[test]
fn a_hostfile_names_the_hosts_ranks_run_on() {
    let mpi = mpi();
    let hosts = std::env::temp_dir().join(format!("parlab-test-hosts-{}", std::process::id()));
    let line = match mpi.implementation {
        parlab::mpi::Implementation::Mpich => "localhost:3\n",
        _ => "localhost slots=3\n",
    };
    std::fs::write(&hosts, line).unwrap();
    let cluster = mpi.with_hostfile(&hosts);
    assert!(
        cluster
            .command_line(tasks::RANKS, 3, &())
            .unwrap()
            .contains(hosts.to_str().unwrap())
    );
    let info = cluster.run(tasks::RANKS, 3, &(), T);
    let _ = std::fs::remove_file(&hosts);
    assert_eq!(info.unwrap().len(), 3);
}

#[test]
fn a_batch_script_runs_the_same_program_with_srun() {
    let mpi = mpi();
    let script = mpi
        .batch_script(tasks::CALC_PI, 2, 16, &(1_000_000, 1), 90)
        .unwrap();
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    for want in [
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=16",
        "#SBATCH --time=01:30:00",
    ] {
        assert!(script.contains(want), "{want} missing:\n{script}");
    }
    let srun = script.lines().find(|l| l.starts_with("srun ")).unwrap();
    // srun says how the ranks find each other (Open MPI: PMIx), else each is a world of one.
    let plugin = mpi.implementation.slurm_mpi_plugin().unwrap();
    let rest = srun
        .strip_prefix(&format!("srun --mpi={plugin} "))
        .unwrap_or_else(|| panic!("no --mpi={plugin}: {srun}"));
    // The srun line's request is the one mpirun gets: the same program, unchanged.
    let mpirun = mpi
        .command_line(tasks::CALC_PI, 32, &(1_000_000, 1))
        .unwrap();
    assert!(mpirun.ends_with(rest), "{srun}\n{mpirun}");
}

#[test]
fn a_sweep_times_every_rank_count() {
    let s = mpi().sweep_calc_pi(20_000_000, 1, &[1, 3], 1, T).unwrap();
    let ks: Vec<f64> = s.counting.points.iter().map(|p| p.0).collect();
    assert_eq!(ks, [1.0, 3.0]);
    for ((_, inside), (_, outside)) in s.counting.points.iter().zip(&s.launched.points) {
        assert!(inside.median() > Duration::ZERO && inside.median() < outside.median());
    }
    let e = mpi().sweep_calc_pi(1000, 1, &[], 1, T).unwrap_err();
    assert!(matches!(e, MpiError::BadRanks { .. }), "{e}");
}

#[test]
fn doctor_without_mpi_says_what_is_missing() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlab"))
        .arg("doctor")
        .env("PARLAB_MPIRUN", "/nonexistent/mpirun")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("MPI (lesson 05)"))
        .unwrap_or_else(|| panic!("no MPI line in:\n{text}"));
    assert!(
        line.contains("MISSING") && line.contains("no MPI launcher"),
        "{line}"
    );
    assert!(!out.status.success());
}
