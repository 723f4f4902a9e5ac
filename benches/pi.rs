//! The calc_pi kernels under criterion: `cargo bench --bench pi` (about a minute).
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

criterion_group!(benches, kernels);
criterion_main!(benches);
