//! Lesson 05's hostfile on two real hosts: two network namespaces joined by a veth pair, sshd in
//! the second (a key and a known_hosts made for the test), and calc_pi through
//! `Mpi::with_hostfile` on 2 + 2 ranks over TCP between them. The estimate must equal one host's
//! 4-rank run to the bit, the ranks on the second host must report its hostname, and every ssh
//! failure (an unknown host key, a host that does not answer, sshd stopped) must be a clear
//! error within the timeout. The namespaces and every process in them are removed afterwards,
//! also when the test fails (the `TwoHosts` guard), and before it (what a crashed run left).
//!
//! Needs root, sshd (`cargo run --release -- setup --cluster`, or CI's setup) and lesson 05's MPI.
//! Without them the test says what is missing, and fails where `CI` is set.

use std::path::Path;
use std::time::{Duration, Instant};

use parlab::mpi::{Mpi, MpiError, SshFailure, tasks};

mod common;

#[allow(dead_code)]
#[path = "../src/bin/parlab/project.rs"]
mod project;

#[allow(dead_code)]
#[path = "../src/bin/parlab/two_hosts.rs"]
mod two_hosts;

use two_hosts::{ADDR_A, ADDR_B, ADDR_NOBODY, HOST_A, HOST_B, TwoHosts};

/// Every MPI run's timeout; the failures must come well before it.
const LIMIT: Duration = Duration::from_secs(60);

/// The MPI to run, or `None` (after saying what is missing) when this machine cannot run the test.
fn ready() -> Option<Mpi> {
    common::mpi_or_skip("the two-host test", two_hosts::missing())
}

/// Only sshd may be left on the hosts between runs: no mpirun, orted or rank.
fn assert_quiet(after: &str) {
    let a = two_hosts::pids_in(HOST_A);
    assert!(
        a.is_empty(),
        "after {after}: processes left on {HOST_A}: {a:?}"
    );
    let comms: Vec<String> = two_hosts::pids_in(HOST_B)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).ok())
        .map(|c| c.trim().to_owned())
        .filter(|c| c != "sshd")
        .collect();
    assert!(
        comms.is_empty(),
        "after {after}: processes left on {HOST_B}: {comms:?}"
    );
}

/// `run` must fail within the timeout with ssh's `failure` on `host`, in words that say so.
fn assert_ssh_error(
    what: &str,
    run: impl FnOnce() -> Result<Vec<parlab::mpi::RankInfo>, MpiError>,
    host: &str,
    failure: SshFailure,
    words: &str,
) {
    let started = Instant::now();
    let e = run().expect_err(what);
    let took = started.elapsed();
    let text = e.to_string();
    match &e {
        MpiError::Ssh {
            host: h,
            failure: f,
            ..
        } => {
            assert_eq!((h.as_str(), *f), (host, failure), "{what}: {text}");
        }
        other => panic!("{what}: not an ssh error: {other}"),
    }
    assert!(
        text.contains(words) && text.contains("fix:"),
        "{what}: {text}"
    );
    assert!(took < LIMIT / 2, "{what}: the error took {took:?}");
    eprintln!("{what} ({:.1} s): {text}", took.as_secs_f64());
    assert_quiet(what);
}

#[test]
fn calc_pi_on_two_hosts_equals_one_host_and_ssh_failures_are_clear() {
    let Some(mpi) = ready() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/two-hosts-test");
    let mut hosts = TwoHosts::up(&dir, Duration::from_secs(30)).unwrap();
    assert_eq!(hosts.ssh(&["hostname"]).unwrap(), HOST_B);

    let hostfile = hosts
        .hostfile("hostfile", &[(ADDR_A, 2), (ADDR_B, 2)])
        .unwrap();
    let on_two = hosts.mpi(&mpi, &hostfile).unwrap();
    let (n, seed) = (20_000_003, 7);
    let line = on_two.command_line(tasks::CALC_PI, 4, &(n, seed)).unwrap();
    for want in ["--hostfile", "btl tcp,self", "plm_rsh_agent 'ssh -F "] {
        assert!(line.contains(want), "{want} is not in {line}");
    }
    let two = on_two.run(tasks::CALC_PI, 4, &(n, seed), LIMIT).unwrap();
    let one = mpi.run(tasks::CALC_PI, 4, &(n, seed), LIMIT).unwrap();
    assert_eq!(
        two.estimate, one.estimate,
        "2 + 2 ranks against 4 on one host"
    );
    assert_eq!(two.estimate, parlab::pi::calc_pi(n, seed).unwrap());
    let hosts_of: Vec<&str> = two.ranks.iter().map(|r| r.host.as_str()).collect();
    assert_eq!(
        hosts_of,
        [HOST_A, HOST_A, HOST_B, HOST_B],
        "{}",
        two.table()
    );
    let shares: Vec<u64> = two.ranks.iter().map(|r| r.samples).collect();
    assert_eq!(shares, [5_000_001, 5_000_001, 5_000_001, 5_000_000]);
    assert_quiet("calc_pi");

    // A rank on the second host is a process there, under its own hostname.
    let ranks = on_two.run(tasks::RANKS, 4, &(), LIMIT).unwrap();
    let there: Vec<u32> = ranks
        .iter()
        .filter(|r| r.host == HOST_B)
        .map(|r| r.pid)
        .collect();
    assert_eq!(there.len(), 2, "{ranks:?}");
    assert_quiet("ranks");

    hosts.forget_host_key().unwrap();
    assert_ssh_error(
        "an unknown host key",
        || on_two.run(tasks::RANKS, 4, &(), LIMIT),
        ADDR_B,
        SshFailure::UnknownHostKey,
        "known_hosts",
    );
    hosts.remember_host_key().unwrap();

    let nobody = hosts
        .hostfile("hostfile-nobody", &[(ADDR_A, 2), (ADDR_NOBODY, 2)])
        .unwrap();
    let to_nobody = hosts.mpi(&mpi, &nobody).unwrap();
    assert_ssh_error(
        "a hostfile host that does not answer",
        || to_nobody.run(tasks::RANKS, 4, &(), LIMIT),
        ADDR_NOBODY,
        SshFailure::NoAnswer,
        "does not answer",
    );

    hosts.stop_sshd().unwrap();
    assert_ssh_error(
        "sshd stopped",
        || on_two.run(tasks::RANKS, 4, &(), LIMIT),
        ADDR_B,
        SshFailure::NoAnswer,
        "runs sshd",
    );

    drop(hosts);
    assert_eq!(two_hosts::leftovers(), Vec::<String>::new());
    assert!(!dir.exists(), "{} was not removed", dir.display());
}
