//! `parlab bench process`: what processes cost, against threads.
//!
//! Cases: start + join of a thread, a forked child and a spawned worker (each with a trivial
//! result back); a pipe round trip; queue throughput between two processes; sending a `Vec<f64>`
//! of 10^7 through a pipe against sharing it with a thread. Beside them, the raw limits they are
//! held to, in the same run: `spawn_true` (spawning and waiting for `true`) and
//! `raw_socketpair_round_trip` (8 bytes there and back over a bare socketpair, blocking).

use std::sync::Arc;
use std::time::Duration;

use parlab::process::{self, Options, Output, ProcessError, tasks};
use parlab::timing::{self, Measurement};

use crate::bench::{BenchArgs, BenchRow};
use crate::echo_children::{PipeEcho, RawEcho};

/// How long any one step may take before the bench gives up.
const LIMIT: Duration = Duration::from_secs(30);

/// Messages per run of the round-trip and queue cases.
const MESSAGES: u64 = 20_000;

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

    let m = timing::measure("spawn", quick, || {
        process::spawn_with(tasks::PID, &(), &opts)?.join(LIMIT)
    })
    .map_err(err)?;
    add("spawn_start_join", 1, 1, m);

    let m = timing::measure("spawn true", quick, || {
        std::process::Command::new("true")
            .status()
            .map(|status| status.success())
    })
    .map_err(err)?;
    add("spawn_true", 1, 1, m);

    // The limit of the pipe's round trip: a blocking echo over a bare socketpair, forked the same way.
    let mut raw_echo = RawEcho::start(&opts)?;
    let m = timing::measure("raw socketpair round trip", args.repeats, || {
        for i in 0..MESSAGES {
            raw_echo.round_trip(&mut i.to_le_bytes())?;
        }
        Ok::<(), std::io::Error>(())
    })
    .map_err(err)?;
    raw_echo.stop(LIMIT)?;
    add("raw_socketpair_round_trip", 1, MESSAGES, m);

    // A forked echo child; each run is MESSAGES round trips of a small message.
    let mut echo = PipeEcho::start(&opts, LIMIT)?;
    let m = timing::measure("pipe round trip", args.repeats, || {
        for i in 0..MESSAGES {
            echo.parent.send(&i, LIMIT)?;
            echo.parent.recv(LIMIT)?;
        }
        Ok::<(), ProcessError>(())
    })
    .map_err(err)?;
    echo.stop(LIMIT)?;
    add("pipe_round_trip", 1, MESSAGES, m);

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
