//! The process core under criterion, beside the raw limits it is held to (issue 29):
//! `cargo bench --bench process` (under a minute).
//!
//! - `round_trip/raw_socketpair`: 8 bytes there and back over a `UnixStream::pair` to a forked
//!   child, blocking reads and writes: the limit of `round_trip/pipe`, parlab's typed pipe
//!   (`process::pipe::<u64, u64>`) to a forked echo child.
//! - `start/spawn_true`: spawning and waiting for `true`: the limit of `start/spawn_worker`, a
//!   `parlab-worker` that runs the `pid` task and is joined.
//!
//! The worker is the `parlab-worker` that cargo builds beside this bench.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use parlab::process::{self, Options, Output, tasks};

#[path = "../src/bin/parlab/echo_children.rs"]
mod echo_children;
use echo_children::{PipeEcho, RawEcho};

/// How long any one step may take.
const LIMIT: Duration = Duration::from_secs(30);

/// The worker binary cargo built for this package.
fn worker() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_parlab-worker"))
}

/// Options for the bench's processes: no output, no fork warning, the worker built beside it.
fn quiet() -> Options {
    Options {
        output: Output::Discard,
        warn: false,
        worker: Some(worker()),
        name: None,
    }
}

fn round_trips(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    // The limit: a blocking echo over a bare socketpair, to a forked child.
    let opts = quiet();
    let mut raw_echo = RawEcho::start(&opts).expect("fork the raw echo child");
    group.bench_function("raw_socketpair", |b| {
        let mut word = [0u8; 8];
        b.iter(|| raw_echo.round_trip(&mut word).expect("raw round trip"))
    });
    raw_echo.stop(LIMIT).expect("the raw echo child ends");

    // parlab's typed pipe, to a forked echo child.
    let mut echo = PipeEcho::start(&opts, LIMIT).expect("fork the echo child");
    let mut i = 0u64;
    group.bench_function("pipe", |b| {
        b.iter(|| {
            echo.parent.send(&i, LIMIT).expect("pipe send");
            i = echo.parent.recv(LIMIT).expect("pipe recv") + 1;
        })
    });
    echo.stop(LIMIT).expect("the echo child ends");
    group.finish();
}

fn starts(c: &mut Criterion) {
    let mut group = c.benchmark_group("start");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    // The limit: a small program started (posix_spawn) and waited for.
    group.bench_function("spawn_true", |b| {
        b.iter(|| {
            std::process::Command::new("true")
                .status()
                .expect("spawn true")
        })
    });
    let opts = quiet();
    group.bench_function("spawn_worker", |b| {
        b.iter(|| {
            process::spawn_with(tasks::PID, &(), &opts)
                .and_then(|mut w| w.join(LIMIT))
                .expect("spawn + join a worker")
        })
    });
    group.bench_function("fork", |b| {
        b.iter(|| {
            process::fork_with(|| 1u8, &opts)
                .and_then(|mut p| p.join(LIMIT))
                .expect("fork + join")
        })
    });
    group.bench_function("thread", |b| {
        b.iter(|| std::thread::spawn(|| 1u8).join().expect("thread"))
    });
    group.finish();
}

criterion_group!(benches, round_trips, starts);
criterion_main!(benches);
