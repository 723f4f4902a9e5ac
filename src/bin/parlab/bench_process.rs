//! `parlab bench process`: what processes cost, against threads.
//!
//! Cases: start + join of a thread, a forked child and a spawned worker (each with a trivial
//! result back); a pipe round trip; queue throughput between two processes; sending a `Vec<f64>`
//! of 10^7 through a pipe against sharing it with a thread. Beside them, the raw limits they are
//! held to, timed in turns with them (see [`InTurns`]), with the ratio printed: `spawn_true`
//! (spawning and waiting for `true`) and `raw_socketpair_round_trip` (8 bytes there and back over
//! a bare socketpair, blocking).

use std::sync::Arc;
use std::time::Duration;

use parlab::process::{self, Options, Output, tasks};
use parlab::timing::{self, Measurement};

use super::in_turns::InTurns;
use crate::bench::{BenchArgs, BenchRow};
use crate::echo_children::{PipeEcho, RawEcho};

/// How long any one step may take before the bench gives up.
const LIMIT: Duration = Duration::from_secs(30);

/// Messages per run of the queue case.
const MESSAGES: u64 = 20_000;

/// Round trips per round of the pipe against the raw socketpair, timed in turns.
const TRIPS_PER_ROUND: u64 = 1_000;

/// Elements of the vector sent through a pipe / shared with a thread.
const VEC_LEN: usize = 10_000_000;

/// Options for the bench's workers: no output, no fork warning, the worker next to this binary.
fn quiet() -> Options {
    let sibling = std::env::current_exe().ok().and_then(|exe| {
        let worker = exe.with_file_name("parlab-worker");
        worker.is_file().then_some(worker)
    });
    Options {
        output: Output::Discard,
        warn: false,
        worker: sibling,
        name: None,
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Measures every `process` case (see the module docs); `args.repeats` is a minimum.
pub fn rows(args: &BenchArgs) -> Result<Vec<BenchRow>, String> {
    let quick = args.repeats.max(20);
    let mut rows = Vec::new();
    let mut add = |case: &str, threads: usize, samples: u64, m: Measurement| {
        let median_s = m.seconds();
        eprintln!(
            "  {case:<22} {:>9} per run of {samples}, {}/s",
            timing::format_duration(m.median()),
            timing::format_si(samples as f64 / median_s)
        );
        rows.push(BenchRow {
            bench: "process".into(),
            case: case.into(),
            threads,
            samples,
            median_s,
            per_s: samples as f64 / median_s,
        });
    };
    let opts = quiet();
    eprintln!("measuring processes: start + join, pipes, queues, serialization");

    let m = timing::measure("thread", quick * 5, || {
        std::thread::spawn(|| 1u8)
            .join()
            .map_err(|_| "thread panicked")
    })
    .map_err(err)?;
    add("thread_start_join", 1, 1, m);

    let m = timing::measure("fork", quick * 2, || {
        process::fork_with(|| 1u8, &opts)?.join(LIMIT)
    })
    .map_err(err)?;
    add("fork_start_join", 1, 1, m);

    // Each case beside its limit, in turns (see `InTurns`): the ratio is what the targets read.
    let spawned = InTurns::measure(
        ("spawn + join of a worker", "spawning `true`"),
        quick,
        || {
            let mut worker = process::spawn_with(tasks::PID, &(), &opts).map_err(err)?;
            worker.join(LIMIT).map(drop).map_err(err)
        },
        || {
            let status = std::process::Command::new("true").status();
            status
                .map(drop)
                .map_err(|e| format!("spawning `true`: {e}"))
        },
    )?;
    eprintln!("  {}", spawned.summary());
    add("spawn_start_join", 1, 1, spawned.case);
    add("spawn_true", 1, 1, spawned.limit);

    // The pipe against its limit, a blocking echo over a bare socketpair forked the same way.
    let mut raw_echo = RawEcho::start(&opts)?;
    let mut echo = PipeEcho::start(&opts, LIMIT)?;
    let trips = InTurns::measure(
        ("pipe round trip", "raw socketpair round trip"),
        quick,
        || {
            for i in 0..TRIPS_PER_ROUND {
                echo.parent.send(&i, LIMIT).map_err(err)?;
                echo.parent.recv(LIMIT).map_err(err)?;
            }
            Ok::<(), String>(())
        },
        || {
            for i in 0..TRIPS_PER_ROUND {
                raw_echo
                    .round_trip(&mut i.to_le_bytes())
                    .map_err(|e| format!("a raw round trip: {e}"))?;
            }
            Ok(())
        },
    )?;
    raw_echo.stop(LIMIT)?;
    echo.stop(LIMIT)?;
    eprintln!("  {}", trips.summary());
    add("raw_socketpair_round_trip", 1, TRIPS_PER_ROUND, trips.limit);
    add("pipe_round_trip", 1, TRIPS_PER_ROUND, trips.case);

    // A forked producer puts MESSAGES small messages per run; this process gets them.
    let queue = process::Queue::<(u64, f64)>::new(1024).map_err(err)?;
    let m = timing::measure("queue", args.repeats, || {
        let q = queue.clone();
        let mut producer = process::fork_with(
            move || {
                for i in 0..MESSAGES {
                    q.put(&(i, 0.5), LIMIT).expect("queue put");
                }
            },
            &opts,
        )?;
        for _ in 0..MESSAGES {
            queue.get(LIMIT)?;
        }
        producer.join(LIMIT)
    })
    .map_err(err)?;
    add("queue_throughput", 2, MESSAGES, m);

    // 10^7 f64 (80 MB): through a pipe to a forked child that sums them, against a thread that
    // sums the same vector shared through an Arc.
    let data: Vec<f64> = (0..VEC_LEN).map(|i| i as f64).collect();
    let shared = Arc::new(data.clone());
    let (mut parent, mut child_end) = process::pipe::<Vec<f64>, f64>().map_err(err)?;
    let mut summer = process::fork_with(
        move || {
            while let Ok(v) = child_end.recv(LIMIT) {
                if child_end.send(&v.iter().sum::<f64>(), LIMIT).is_err() {
                    break;
                }
            }
        },
        &opts,
    )
    .map_err(err)?;
    let m = timing::measure("vec through a pipe", args.repeats, || {
        parent.send(&data, LIMIT)?;
        parent.recv(LIMIT)
    })
    .map_err(err)?;
    drop(parent);
    summer.kill();
    add("vec_1e7_pipe", 1, VEC_LEN as u64, m);
    let m = timing::measure("vec shared with a thread", args.repeats, || {
        let v = Arc::clone(&shared);
        std::thread::spawn(move || v.iter().sum::<f64>())
            .join()
            .map_err(|_| "thread panicked")
    })
    .map_err(err)?;
    add("vec_1e7_thread", 1, VEC_LEN as u64, m);
    Ok(rows)
}
