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

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use parlab::process::{self, Options, Output, tasks};

/// The word that ends the raw echo child.
const STOP: [u8; 8] = [0xff; 8];

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
    let (mut near, mut far) = UnixStream::pair().expect("socketpair");
    let opts = quiet();
    let mut raw_echo = process::fork_with(
        move || {
            let mut word = [0u8; 8];
            // Until told to stop: the child holds a copy of `near` too, so it never sees an end.
            while far.read_exact(&mut word).is_ok() && word != STOP && far.write_all(&word).is_ok()
            {
            }
        },
        &opts,
    )
    .expect("fork the raw echo child");
    group.bench_function("raw_socketpair", |b| {
        let mut word = [0u8; 8];
        b.iter(|| {
            near.write_all(&word).expect("raw send");
            near.read_exact(&mut word).expect("raw recv");
        })
    });
    near.write_all(&STOP).expect("stop the raw echo child");
    raw_echo.join(LIMIT).expect("the raw echo child ends");

    // parlab's typed pipe, to a forked echo child.
    let (mut parent, mut child_end) = process::pipe::<u64, u64>().expect("pipe");
    let mut echo = process::fork_with(
        move || {
            while let Ok(x) = child_end.recv(LIMIT) {
                if x == u64::MAX || child_end.send(&x, LIMIT).is_err() {
                    break;
                }
            }
        },
        &opts,
    )
    .expect("fork the echo child");
    let mut i = 0u64;
    group.bench_function("pipe", |b| {
        b.iter(|| {
            parent.send(&i, LIMIT).expect("pipe send");
            i = parent.recv(LIMIT).expect("pipe recv") + 1;
        })
    });
    parent.send(&u64::MAX, LIMIT).expect("stop the echo child");
    echo.join(LIMIT).expect("the echo child ends");
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
