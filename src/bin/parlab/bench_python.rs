//! `parlab bench python`: every Python/Rust pair of the lessons, side by side in one run.
//!
//! The Python side is the source lesson's own code in the project's `.venv`
//! ([`parlab::python`]); the Rust side is what the lessons measure beside it. Pairs:
//!
//! - calc_pi on threads, same total work at every thread count (`--samples N` per run for Rust
//!   and the extension, N/5 for numba, N/50 for pure Python): Python threads against the
//!   simulated GIL, numba `nogil` threads and the Rust extension with the GIL released against
//!   Rust threads, the extension with the GIL held against the simulated GIL (speed-ups), and
//!   one thread of each against Rust's one thread (time per sample);
//! - two arrays sorted one after the other and on two threads: `numpy.sort` against Rust's sort;
//! - process start + join (spawn, fork) and a `Queue` round trip;
//! - the pool exercise: a new pool each time, 4 calc_pi tasks, at sizes 10^3..10^5 per task.
//!
//! Each pair's ratio is Python's figure over Rust's. Then the targets for 2 threads, met
//! or not, and the load average before and after: the figures mean something only on a quiet
//! machine.

use std::time::Duration;

use parlab::gil::{self, Gil};
use parlab::pool::{PoolOptions, crossover};
use parlab::process::{self, Options, Output, tasks};
use parlab::python::{PiThreads, Python};
use parlab::timing::{self, Measurement, Sweep};
use parlab::{pi, threads};

use crate::bench::{BenchArgs, BenchRow, load_average};

/// The calc_pi sizes for `--samples N` (samples per run of the Rust series and the extension):
/// pure Python N/50, numba N/5, so that each one-thread run takes about as long (pure Python
/// counts about 2 M samples a second, numba about 40 M per core, Rust about 1 G per core).
fn pi_sizes(samples: u64, threads: Vec<usize>, repeats: usize) -> PiThreads {
    PiThreads {
        threads,
        repeats,
        python: (samples / 50).max(1_000),
        numba: (samples / 5).max(1_000),
        ext: samples.max(1_000),
    }
}

/// Length of each of the two sorted arrays.
const SORT_LEN: usize = 2_000_000;

/// Samples per task of the pool exercise.
const POOL_SIZES: [u64; 3] = [1_000, 10_000, 100_000];

const LIMIT: Duration = Duration::from_secs(30);

/// One Python/Rust pair.
#[derive(Debug, Clone, serde::Serialize)]
struct Pair {
    bench: &'static str,
    case: String,
    /// What the two figures are: `seconds`, `seconds per sample`, `speed-up`.
    unit: &'static str,
    python: f64,
    rust: f64,
    /// `python / rust`.
    ratio: f64,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The speed-up of `sweep` at `k` threads.
fn speedup_at(sweep: &Sweep, k: f64) -> Option<f64> {
    sweep.speedup().into_iter().find(|p| p.0 == k).map(|p| p.1)
}

/// Seconds per unit of work of the first point (one thread).
fn per_unit(sweep: &Sweep) -> f64 {
    let m = &sweep.points[0].1;
    m.seconds() / m.work.unwrap_or(1).max(1) as f64
}

/// Runs the group and prints the rows (a table, or `--json` lines), the pairs and the targets.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let before = load_average();
    let py = Python::find()
        .map_err(err)?
        .with_timeout(Duration::from_secs(600));
    let mut counts = if args.threads.is_empty() {
        vec![1, 2]
    } else {
        args.threads.clone()
    };
    counts.sort_unstable();
    counts.dedup();
    if counts.first() != Some(&1) || counts.iter().any(|&k| k > pi::MAX_THREADS) {
        return Err("--threads: the counts must start at 1 (speed-ups are over one thread)".into());
    }
    let repeats = args.repeats.max(1);
    eprintln!("bench python: {py}; load average {before}");
    eprintln!("  calc_pi on Python threads (the source's code, numba nogil, parlab_py)...");
    let sizes = pi_sizes(args.samples, counts.clone(), repeats);
    let report = py.pi_threads_and_free_threaded(&sizes).map_err(err)?;
    for note in report.notes() {
        eprintln!("  note: {note}");
    }
    let python_sweeps: Vec<Sweep> = report.series.clone();
    eprintln!("  calc_pi on Rust threads and under the simulated GIL...");
    let n = sizes.ext;
    let rust = timing::sweep("threads", &counts, repeats, |k| {
        pi::calc_pi_threads(n, k, 1)
    })
    .map_err(err)?
    .named("Rust threads");
    let g = Gil::new();
    let sim = timing::sweep("threads", &counts, repeats, |k| {
        gil::calc_pi_gil(&g, n, k, 1, false)
    })
    .map_err(err)?
    .named("simulated GIL");

    eprintln!("  sorting two arrays: numpy.sort and Rust...");
    let np_sort = py.sort_pair(SORT_LEN, repeats).map_err(err)?;
    let rs_sort =
        threads::compare_sorts(SORT_LEN, repeats, 7, threads::sort_pair_threads).map_err(err)?;

    eprintln!("  process start + join, Queue round trips...");
    let py_costs = py.process_costs(repeats.max(5), 200).map_err(err)?;
    let quiet = Options {
        warn: false,
        output: Output::Discard,
        worker: std::env::current_exe()
            .ok()
            .map(|e| e.with_file_name("parlab-worker"))
            .filter(|w| w.is_file()),
        name: None,
    };
    let rs_spawn = timing::measure("parlab spawn", repeats.max(5), || {
        process::spawn_with(tasks::PID, &(), &quiet)?.join(LIMIT)
    })
    .map_err(err)?;
    let rs_fork = timing::measure("parlab fork", repeats.max(5), || {
        process::fork_with(|| 1u8, &quiet)?.join(LIMIT)
    })
    .map_err(err)?;
    let rs_queue = parlab::python::queue_round_trips(200).map_err(err)?;

    eprintln!("  the pool exercise: a new pool each time, 4 tasks...");
    let py_pool = py.pool_submit(&POOL_SIZES, repeats).map_err(err)?;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let mut pool_opts = PoolOptions::new(cores).output(Output::Discard);
    if let Some(w) = &quiet.worker {
        pool_opts = pool_opts.worker_binary(w);
    }
    let rs_pool = crossover::time_sizes("new pool each time", &POOL_SIZES, |k| {
        crossover::new_pool_each_time(k, crossover::TASKS, &pool_opts)
    })
    .map_err(err)?;
    let after = load_average();

    // Rows: every measurement, as `parlab bench`'s other groups print them.
    let mut rows = Vec::new();
    let mut row = |bench: &str, case: &str, threads: usize, m: &Measurement| {
        let work = m.work.unwrap_or(1);
        rows.push(BenchRow {
            bench: bench.into(),
            case: case.into(),
            threads,
            samples: work,
            median_s: m.seconds(),
            per_s: work as f64 / m.seconds(),
        });
    };
    let slug = |s: &str| {
        s.to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            .split('_')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("_")
    };
    for s in python_sweeps.iter().chain([&rust, &sim]) {
        let bench = if python_sweeps.iter().any(|p| p.name == s.name) {
            "python"
        } else {
            "python-rust"
        };
        for (k, m) in &s.points {
            row(bench, &format!("calc_pi_{}", slug(&s.name)), *k as usize, m);
        }
    }
    for (bench, c) in [("python", &np_sort), ("python-rust", &rs_sort)] {
        for (i, m) in c.measurements.iter().enumerate() {
            row(bench, &format!("sort_{}", slug(&m.label)), i + 1, m);
        }
    }
    for m in &py_costs.measurements {
        row("python", &slug(&m.label), 1, m);
    }
    for m in [&rs_spawn, &rs_fork, &rs_queue] {
        row("python-rust", &slug(&m.label), 1, m);
    }
    for (bench, s) in [("python", &py_pool), ("python-rust", &rs_pool)] {
        for (_, m) in &s.points {
            row(bench, &format!("pool_{}", slug(&s.name)), cores, m);
        }
    }

    // Pairs: Python's figure, Rust's, and the ratio.
    let mut pairs = Vec::new();
    let mut pair = |case: String, unit: &'static str, python: f64, rust: f64| {
        pairs.push(Pair {
            bench: "python-pair",
            case,
            unit,
            python,
            rust,
            ratio: python / rust,
        });
    };
    let find = |name: &str| python_sweeps.iter().find(|s| s.name == name);
    for (name, against) in [
        ("Python threads", &sim),
        ("Python threads (free-threaded, no GIL)", &rust),
        ("numba nogil threads", &rust),
        ("Rust extension, GIL held", &sim),
        ("Rust extension, GIL released", &rust),
    ] {
        let Some(s) = find(name) else { continue };
        pair(
            format!("calc_pi, 1 thread: {name} / {}", against.name),
            "seconds per sample",
            per_unit(s),
            per_unit(against),
        );
        for &k in &counts[1..] {
            let k = k as f64;
            if let (Some(p), Some(r)) = (speedup_at(s, k), speedup_at(against, k)) {
                pair(
                    format!("calc_pi speed-up at {k} threads: {name} / {}", against.name),
                    "speed-up",
                    p,
                    r,
                );
            }
        }
    }
    let sort_speedup =
        |c: &timing::Comparison| c.measurements[0].seconds() / c.measurements[1].seconds();
    pair(
        "sort two arrays, one after the other: numpy.sort / Rust".into(),
        "seconds",
        np_sort.measurements[0].seconds(),
        rs_sort.measurements[0].seconds(),
    );
    pair(
        "sort two arrays, speed-up of two threads: numpy.sort / Rust".into(),
        "speed-up",
        sort_speedup(&np_sort),
        sort_speedup(&rs_sort),
    );
    for (i, rs) in [(0, &rs_spawn), (1, &rs_fork), (2, &rs_queue)] {
        let py_m = &py_costs.measurements[i];
        pair(
            format!("{} / {}", py_m.label, rs.label),
            "seconds",
            py_m.seconds(),
            rs.seconds(),
        );
    }
    for ((k, p), (_, r)) in py_pool.points.iter().zip(&rs_pool.points) {
        pair(
            format!("pool exercise, new pool each time, {k} samples per task: Python / parlab"),
            "seconds",
            p.seconds(),
            r.seconds(),
        );
    }

    if args.json {
        for r in &rows {
            println!("{}", serde_json::to_string(r).map_err(err)?);
        }
        for p in &pairs {
            println!("{}", serde_json::to_string(p).map_err(err)?);
        }
    } else {
        let mut table = timing::Table::new(["case", "unit", "Python", "Rust", "Python / Rust"]);
        for p in &pairs {
            let show = |v: f64| match p.unit {
                "speed-up" => format!("{v:.2}x"),
                "seconds" => timing::format_seconds(v),
                _ => timing::format_seconds(v),
            };
            table.push([
                p.case.clone(),
                p.unit.to_owned(),
                show(p.python),
                show(p.rust),
                format!("{:.2}", p.ratio),
            ]);
        }
        print!("{table}");
    }

    // The targets at 2 threads.
    let at2 = |name: &str| find(name).and_then(|s| speedup_at(s, 2.0));
    let sim2 = speedup_at(&sim, 2.0);
    let mut lines = Vec::new();
    let mut target = |what: &str, value: Option<f64>, ok: &dyn Fn(f64) -> bool, goal: &str| {
        lines.push(match value {
            Some(v) => format!(
                "  {what:<48} {v:>5.2}  {goal:<8} {}",
                if ok(v) { "met" } else { "NOT met" }
            ),
            None => format!("  {what:<48}  -     {goal:<8} not measured (see the notes above)"),
        });
    };
    target(
        "Python threads, 2-thread speed-up",
        at2("Python threads"),
        &|v| v <= 1.15,
        "<= 1.15",
    );
    target(
        "numba nogil threads, 2-thread speed-up",
        at2("numba nogil threads"),
        &|v| v >= 1.7,
        ">= 1.7",
    );
    target(
        "extension, GIL released, 2-thread speed-up",
        at2("Rust extension, GIL released"),
        &|v| v >= 1.7,
        ">= 1.7",
    );
    target(
        "extension, GIL held, 2-thread speed-up",
        at2("Rust extension, GIL held"),
        &|v| v <= 1.15,
        "<= 1.15",
    );
    let gap = at2("Python threads").zip(sim2).map(|(p, s)| (p - s).abs());
    target(
        "|simulated GIL - real Python|, 2 threads",
        gap,
        &|v| v <= 0.15,
        "<= 0.15",
    );
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let summary = format!(
        "targets at 2 threads ({cores} cores; load average {before} before, {after} after: \
         the figures mean something only when it was below about 0.5):\n{}",
        lines.join("\n")
    );
    if args.json {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
        if let (Some(real), true) = (find("Python threads"), counts.len() > 1) {
            println!("{}", parlab::python::how_close(real, &sim));
        }
    }
    Ok(())
}
