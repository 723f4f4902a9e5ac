//! The calc_pi kernels under criterion: `cargo bench --bench pi` (about a minute), and what
//! recording a timeline costs (`cargo bench --bench pi -- timeline`).
//!
//! Throughput is in samples (reported as elements per second).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parlab::pi;

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("calc_pi");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    let small = 1_000_000;
    group.throughput(Throughput::Elements(small));
    group.bench_function("learner", |b| {
        b.iter(|| pi::calc_pi_learner(black_box(small)))
    });
    group.bench_function("small_rng", |b| {
        b.iter(|| pi::calc_pi_small_rng(black_box(small), 1))
    });

    let n = 10_000_000;
    group.throughput(Throughput::Elements(n));
    group.bench_function("serial", |b| b.iter(|| pi::calc_pi(black_box(n), 1)));
    group.bench_function("threads_2", |b| {
        b.iter(|| pi::calc_pi_threads(black_box(n), 2, 1))
    });
    group.bench_function("rayon", |b| b.iter(|| pi::calc_pi_rayon(black_box(n), 1)));
    group.finish();
}

/// What recording a timeline costs: calc_pi on 2 threads under the simulated GIL (a span per
/// 5 ms slice and per wait) with and without recording, and one recorded span on its own.
fn timeline(c: &mut Criterion) {
    use parlab::gil::{Gil, calc_pi_gil};
    use parlab::timeline::{Kind, Timeline};
    let mut group = c.benchmark_group("timeline");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    let n = 40_000_000;
    group.throughput(Throughput::Elements(n));
    let gil = Gil::new();
    group.bench_function("gil_2_threads_unrecorded", |b| {
        b.iter(|| calc_pi_gil(&gil, black_box(n), 2, 1, false))
    });
    group.bench_function("gil_2_threads_recorded", |b| {
        b.iter(|| {
            let tl = Timeline::new();
            gil.record_into(&tl);
            let e = calc_pi_gil(&gil, black_box(n), 2, 1, false);
            gil.stop_recording();
            e
        })
    });
    group.throughput(Throughput::Elements(1));
    let tl = Timeline::new();
    let lane = tl.this_thread();
    group.bench_function("one_span", |b| {
        b.iter(|| {
            let t = std::time::Instant::now();
            tl.record(lane, Kind::HoldingGil, "GIL slice", t, t);
        })
    });
    group.finish();
}

criterion_group!(benches, kernels, timeline);
criterion_main!(benches);
