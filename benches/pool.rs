//! The pools under criterion, one bench per case of `parlab bench pool` (issue 29):
//! `cargo bench --bench pool` (about a minute).
//!
//! - `apply/{process_pool,thread_pool}`: one `apply` of `echo` and its answer;
//! - `map_tiny/default_chunks`: `map` of `echo` over 100,000 `u64`, the default chunk size;
//! - `map_tiny/chunk1` and `map_tiny/chunk1_timeline`: over 1,000 with a chunk size of 1, without
//!   and with a timeline attached (what recording costs; without one, nothing);
//! - `create_close/{process_pool,thread_pool}`: a pool of 2 made, closed and joined.
//!
//! The limits beside them are in `benches/process.rs` (`round_trip/raw_socketpair`,
//! `start/spawn_true`). The worker is the `parlab-worker` that cargo builds beside this bench.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parlab::pool::{Pool, PoolOptions, ProcessPool, ThreadPool};
use parlab::process::{Output, tasks};
use parlab::timeline::Timeline;

/// Tiny tasks per `map` with the default chunks (as in `parlab bench pool`).
const TINY: u64 = 100_000;

/// Tiny tasks per `map` with a chunk size of 1 (fewer than `parlab bench pool`, to stay short).
const TINY_CHUNK1: u64 = 1_000;

/// Pool options for the benches: 2 workers, no worker output, the worker built beside them.
fn options() -> PoolOptions {
    PoolOptions::new(2)
        .output(Output::Discard)
        .timeout(Duration::from_secs(300))
        .worker_binary(env!("CARGO_BIN_EXE_parlab-worker"))
}

fn apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let procs = ProcessPool::with_options(&options()).expect("process pool");
    let threads = ThreadPool::with_options(&options()).expect("thread pool");
    let mut i = 0u64;
    group.bench_function("process_pool", |b| {
        b.iter(|| {
            i = procs.apply(tasks::echo(), black_box(&i)).expect("apply") + 1;
        })
    });
    group.bench_function("thread_pool", |b| {
        b.iter(|| {
            i = threads.apply(tasks::echo(), black_box(&i)).expect("apply") + 1;
        })
    });
    group.finish();
}

fn map_tiny(c: &mut Criterion) {
    let mut group = c.benchmark_group("map_tiny");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let procs = ProcessPool::with_options(&options()).expect("process pool");
    group.throughput(Throughput::Elements(TINY));
    group.bench_function("default_chunks", |b| {
        b.iter(|| procs.map(tasks::echo::<u64>(), 0..TINY, None).expect("map"))
    });
    group.throughput(Throughput::Elements(TINY_CHUNK1));
    group.bench_function("chunk1", |b| {
        b.iter(|| {
            procs
                .map(tasks::echo::<u64>(), 0..TINY_CHUNK1, Some(1))
                .expect("map")
        })
    });
    let tl = Timeline::new();
    let recorded = ProcessPool::with_options(&options().timeline(&tl)).expect("recorded pool");
    group.bench_function("chunk1_timeline", |b| {
        b.iter(|| {
            tl.clear();
            recorded
                .map(tasks::echo::<u64>(), 0..TINY_CHUNK1, Some(1))
                .expect("map")
        })
    });
    group.finish();
}

fn create_close(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_close");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let opts = options();
    group.bench_function("process_pool", |b| {
        b.iter(|| {
            let p = ProcessPool::with_options(&opts).expect("process pool");
            p.close();
            p.join(Duration::from_secs(10)).expect("join");
        })
    });
    group.bench_function("thread_pool", |b| {
        b.iter(|| {
            let p = ThreadPool::with_options(&opts).expect("thread pool");
            p.close();
            p.join(Duration::from_secs(10)).expect("join");
        })
    });
    group.finish();
}

criterion_group!(benches, apply, map_tiny, create_close);
criterion_main!(benches);
