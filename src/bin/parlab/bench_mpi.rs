//! `parlab bench mpi`: lesson 05's measurements, MPI ranks against lesson 03's pipe and threads.
//!
//! Cases (a row's `samples` is bytes per message for the ping-pongs, samples for calc_pi):
//! - `mpi_ping_pong`, `pipe_ping_pong`, `thread_ping_pong`: one-way latency (`median_s`, half the
//!   mean round trip) and bandwidth (`per_s`, bytes/s) for messages of 8 B to 2 MiB, between two
//!   MPI ranks, through a pipe to a forked child, and between two threads (a moved `Vec`).
//! - with `--two-hosts` (root): `mpi_ping_pong_two_hosts`, the same ping-pong between two hosts
//!   (network namespaces joined by a veth, rank 1 started over ssh, TCP), and
//!   `mpi_ping_pong_tcp_one_host`, both ranks on the first host over TCP, to tell the veth's
//!   cost from TCP's; and calc_pi on 2 + 2 ranks over the two hosts, checked against one host's.
//! - `mpi_calc_pi`: calc_pi on 1, 2, ... ranks, timed inside the ranks (a barrier, the counting,
//!   the `reduce`); `mpi_calc_pi_launch`: the same runs timed from outside, `mpirun` start-up
//!   included; `threads_calc_pi`: the same samples on as many threads. Every rank count's
//!   estimate is checked against the serial one first.

use std::time::Duration;

use parlab::mpi::{self, Mpi, PingPong, PingPongArgs, tasks};
use parlab::pi;
use parlab::timing;

use crate::bench::{BenchArgs, BenchRow};

/// How long one MPI run may take before it is killed.
const LIMIT: Duration = Duration::from_secs(120);

/// The seed of calc_pi (every rank count gives the same estimate).
const SEED: u64 = 1;

fn row(case: &str, threads: usize, samples: u64, median_s: f64, per_s: f64) -> BenchRow {
    BenchRow {
        bench: "mpi".into(),
        case: case.into(),
        threads,
        samples,
        median_s,
        per_s,
    }
}

fn ping_pong_rows(case: &str, found: &[PingPong]) -> Vec<BenchRow> {
    found
        .iter()
        .map(|p| {
            row(
                case,
                2,
                p.bytes as u64,
                p.round_trip / 2.0,
                p.bandwidth_mb_s() * 1e6,
            )
        })
        .collect()
}

/// Measures every `mpi` case (see the module docs); `--threads` gives the rank counts.
pub fn rows(args: &BenchArgs) -> Result<Vec<BenchRow>, String> {
    let mpi = Mpi::find().map_err(|e| e.to_string())?;
    let n = args.samples;
    pi::calc_pi(n, SEED).map_err(|e| format!("--samples {n}: {e}"))?;
    let repeats = args.repeats.max(1);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let counts = if args.threads.is_empty() {
        (1..=cores.max(2)).collect()
    } else {
        args.threads.clone()
    };
    if let Some(&k) = counts.iter().find(|&&k| k == 0 || k > pi::MAX_THREADS) {
        return Err(format!("--threads {k}: use 1 to {} ranks", pi::MAX_THREADS));
    }
    eprintln!(
        "measuring MPI ({}, {}) against a pipe and threads",
        mpi.implementation, mpi.version
    );
    let mut rows = Vec::new();

    let sizes = mpi::ping_pong_sizes();
    let pp = PingPongArgs {
        sizes: sizes.clone(),
        repeats: 200,
    };
    let found = mpi
        .run(tasks::PING_PONG, 2, &pp, LIMIT)
        .map_err(|e| e.to_string())?;
    rows.extend(ping_pong_rows("mpi_ping_pong", &found));
    let over_pipe = mpi::pipe_ping_pong(&sizes, 200).map_err(|e| e.to_string())?;
    rows.extend(ping_pong_rows("pipe_ping_pong", &over_pipe));
    let in_memory = mpi::thread_ping_pong(&sizes, 200).map_err(|e| e.to_string())?;
    rows.extend(ping_pong_rows("thread_ping_pong", &in_memory));
    if args.two_hosts {
        rows.extend(two_hosts_rows(&mpi, &pp, args.samples)?);
    }
    for r in &rows {
        eprintln!(
            "  {:<26} {:>8} B  {:>9.2} us one way  {:>9.1} MB/s",
            r.case,
            r.samples,
            r.median_s * 1e6,
            r.per_s / 1e6
        );
    }

    eprintln!("measuring calc_pi, {n} samples, on ranks and on threads ({repeats} runs each)");
    let serial = pi::calc_pi(n, SEED).map_err(|e| e.to_string())?;
    for &k in &counts {
        let run = mpi
            .run(tasks::CALC_PI, k, &(n, SEED), LIMIT)
            .map_err(|e| e.to_string())?;
        if run.estimate != serial {
            return Err(format!(
                "calc_pi on {k} ranks gave {:?}, not the serial {serial:?}",
                run.estimate
            ));
        }
    }
    let sweep = mpi
        .sweep_calc_pi(n, SEED, &counts, repeats, LIMIT)
        .map_err(|e| e.to_string())?;
    for (case, s) in [
        ("mpi_calc_pi", &sweep.counting),
        ("mpi_calc_pi_launch", &sweep.launched),
    ] {
        for (k, m) in &s.points {
            let secs = m.seconds();
            rows.push(row(case, *k as usize, n, secs, n as f64 / secs));
        }
    }
    for &k in &counts {
        let m = timing::measure("threads", repeats, || pi::calc_pi_threads(n, k, SEED))
            .map_err(|e| e.to_string())?;
        rows.push(row(
            "threads_calc_pi",
            k,
            n,
            m.seconds(),
            n as f64 / m.seconds(),
        ));
    }
    for r in rows.iter().filter(|r| r.case.contains("calc_pi")) {
        eprintln!(
            "  {:<18} {:>3}  {}",
            r.case,
            r.threads,
            timing::format_duration(Duration::from_secs_f64(r.median_s))
        );
    }
    for line in summary(&rows) {
        eprintln!("{line}");
    }
    Ok(rows)
}

/// The ping-pong between two hosts and over TCP on the first, and calc_pi on 2 + 2 ranks over
/// the two hosts (checked against 4 ranks on this host); the hosts are removed afterwards.
fn two_hosts_rows(mpi: &Mpi, pp: &PingPongArgs, samples: u64) -> Result<Vec<BenchRow>, String> {
    use crate::two_hosts::{self, ADDR_A, ADDR_B, TwoHosts};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/two-hosts-bench");
    let hosts = TwoHosts::up(&dir, Duration::from_secs(30))?;
    eprintln!(
        "two hosts up: {} ({ADDR_A}) and {} ({ADDR_B}), a veth between them",
        two_hosts::HOST_A,
        two_hosts::HOST_B
    );
    let mut rows = Vec::new();
    for (case, hostfile) in [
        ("mpi_ping_pong_two_hosts", vec![(ADDR_A, 1), (ADDR_B, 1)]),
        ("mpi_ping_pong_tcp_one_host", vec![(ADDR_A, 2)]),
    ] {
        let file = hosts.hostfile(case, &hostfile)?;
        let found = hosts
            .mpi(mpi, &file)?
            .run(tasks::PING_PONG, 2, pp, LIMIT)
            .map_err(|e| format!("{case}: {e}"))?;
        rows.extend(ping_pong_rows(case, &found));
    }
    let file = hosts.hostfile("calc_pi", &[(ADDR_A, 2), (ADDR_B, 2)])?;
    let two = hosts
        .mpi(mpi, &file)?
        .run(tasks::CALC_PI, 4, &(samples, SEED), LIMIT)
        .map_err(|e| format!("calc_pi on two hosts: {e}"))?;
    let one = mpi
        .run(tasks::CALC_PI, 4, &(samples, SEED), LIMIT)
        .map_err(|e| e.to_string())?;
    if two.estimate != one.estimate {
        return Err(format!(
            "calc_pi on 2 + 2 ranks over two hosts gave {:?}, 4 ranks on one host {:?}",
            two.estimate, one.estimate
        ));
    }
    let where_: Vec<String> = two
        .ranks
        .iter()
        .map(|r| format!("{} on {}", r.rank, r.host))
        .collect();
    eprintln!(
        "calc_pi on 2 + 2 ranks over two hosts ({}): {:?}, identical to 4 ranks on one host",
        where_.join(", "),
        two.estimate
    );
    drop(hosts);
    Ok(rows)
}

/// Speed-up of each calc_pi case over its own 1-rank (1-thread) run, and the ping-pong figures at
/// the smallest and largest message, in words.
pub fn summary(rows: &[BenchRow]) -> Vec<String> {
    let mut lines = Vec::new();
    for case in ["mpi_calc_pi", "mpi_calc_pi_launch", "threads_calc_pi"] {
        let of = |k: usize| rows.iter().find(|r| r.case == case && r.threads == k);
        let Some(one) = of(1) else { continue };
        let points: Vec<String> = rows
            .iter()
            .filter(|r| r.case == case && r.threads > 1)
            .map(|r| format!("{} {:.2}x", r.threads, one.median_s / r.median_s))
            .collect();
        if !points.is_empty() {
            lines.push(format!("speed-up of {case} over 1: {}", points.join(", ")));
        }
    }
    let sizes: Vec<u64> = rows
        .iter()
        .filter(|r| r.case == "mpi_ping_pong")
        .map(|r| r.samples)
        .collect();
    for bytes in [sizes.first(), sizes.last()].into_iter().flatten() {
        let figures: Vec<String> = [
            "mpi_ping_pong",
            "mpi_ping_pong_tcp_one_host",
            "mpi_ping_pong_two_hosts",
            "pipe_ping_pong",
            "thread_ping_pong",
        ]
        .iter()
        .filter_map(|case| {
            rows.iter()
                .find(|r| r.case == *case && r.samples == *bytes)
                .map(|r| {
                    format!(
                        "{} {:.1} us, {:.1} MB/s",
                        case.trim_start_matches("mpi_ping_pong_")
                            .trim_end_matches("_ping_pong"),
                        r.median_s * 1e6,
                        r.per_s / 1e6
                    )
                })
        })
        .collect();
        lines.push(format!("{bytes} B one way: {}", figures.join("; ")));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_has_speedups_and_ping_pongs() {
        let rows = vec![
            row("mpi_ping_pong", 2, 8, 2e-6, 4e6),
            row("pipe_ping_pong", 2, 8, 30e-6, 0.3e6),
            row("mpi_ping_pong", 2, 1 << 21, 1e-3, 2e9),
            row("mpi_calc_pi", 1, 100, 1.0, 100.0),
            row("mpi_calc_pi", 2, 100, 0.5, 200.0),
        ];
        let lines = summary(&rows);
        assert_eq!(lines[0], "speed-up of mpi_calc_pi over 1: 2 2.00x");
        assert_eq!(
            lines[1],
            "8 B one way: mpi 2.0 us, 4.0 MB/s; pipe 30.0 us, 0.3 MB/s"
        );
        assert!(lines[2].starts_with("2097152 B one way: mpi 1000.0 us"));
        assert_eq!(lines.len(), 3);
    }
}
