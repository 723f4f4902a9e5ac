//! `parlab bench pool`: what pools cost, process pool against thread pool.
//!
//! Cases (`threads` is the number of workers, `--threads` picks it, default: the cores):
//! - `create_close`: build a pool, close it, join it (process pool, thread pool);
//! - `apply_round_trip`: one `apply` of a tiny task, median of single calls; `apply_in_turns`:
//!   runs of 200 `apply` calls timed in turns with runs of 200 round trips over a bare socketpair
//!   (`raw_socketpair_in_turns`, the limit), and their ratio printed;
//! - `map_tiny`: `map` over 100,000 tiny tasks (the default chunk size), and `map_tiny_chunk1`
//!   over 10,000 with a chunk size of 1 (`..._timeline`: the same, recorded on a timeline);
//! - `sweep_*`: the source's exercise, 4 calc_pi tasks per run at sample sizes from 10^3 up to
//!   `--samples` per task, five ways: `serial`, `fresh_processes`, `new_pool_each_time`,
//!   `reused_pool`, `thread_pool`. Its `samples` is the run's total (4 x per task).
//!
//! An idle worker's resident memory is printed on stderr. `--timeline FILE.svg` also draws who
//! ran when on 2 worker processes ([`save_timeline`]).

use std::time::{Duration, Instant};

use parlab::pool::{self, Pool, PoolOptions, ProcessPool, ThreadPool, crossover};
use parlab::process::{Options, Output, tasks};
use parlab::timing::{self, Budget, Measurement};

use super::in_turns::InTurns;
use crate::bench::{BenchArgs, BenchRow, median};
use crate::echo_children::RawEcho;

/// Tiny tasks in the `map_tiny` case.
const TINY: u64 = 100_000;

/// Tiny tasks in the `map_tiny_chunk1` case.
const TINY_CHUNK1: u64 = 10_000;

/// Single `apply` calls timed for the round trip.
const ROUND_TRIPS: usize = 5_000;

/// `apply` calls (and raw round trips) per round when the two are timed in turns.
const APPLIES_PER_ROUND: u64 = 200;

/// The worker binary next to this one, if there is one (else `parlab::process::worker_path`).
fn sibling_worker() -> Option<std::path::PathBuf> {
    let worker = std::env::current_exe()
        .ok()?
        .with_file_name("parlab-worker");
    worker.is_file().then_some(worker)
}

/// Pool options for the bench: `workers`, no worker output, the sibling worker binary.
fn options(workers: usize) -> PoolOptions {
    let opts = PoolOptions::new(workers)
        .output(Output::Discard)
        .timeout(Duration::from_secs(300));
    match sibling_worker() {
        Some(path) => opts.worker_binary(path),
        None => opts,
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The median of single-call times.
fn median_of(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// Tiny tasks per call in the timeline.
const TIMELINE_TASKS: u64 = 2_000;

/// Records 2 worker processes running [`TIMELINE_TASKS`] tiny tasks in default chunks, then in
/// chunks of 1, then a worker that aborts (and its replacement) beside one that sleeps 100 ms, and
/// draws the timeline into an SVG file (the same calls as lesson 04's timeline).
pub fn save_timeline(path: &std::path::Path) -> Result<(), String> {
    let tl = parlab::timeline::Timeline::new();
    let workers = ProcessPool::with_options(&options(2).timeline(&tl)).map_err(err)?;
    workers
        .map(tasks::echo(), 0..TIMELINE_TASKS, None)
        .map_err(err)?;
    workers
        .map(tasks::echo(), 0..TIMELINE_TASKS, Some(1))
        .map_err(err)?;
    let sleeper = workers.apply_async(tasks::SLEEP, &100).map_err(err)?;
    let aborted = workers.apply(tasks::ABORT, &()).err();
    sleeper.get(Duration::from_secs(30)).map_err(err)?;
    match aborted {
        Some(e) => eprintln!("as expected: {e}"),
        None => return Err("the abort task did not fail: its worker did not die".into()),
    }
    parlab::chart::timeline(
        &format!("2 worker processes: {TIMELINE_TASKS} tiny tasks in chunks, then one by one; a worker dies"),
        &tl,
    )
    .and_then(|chart| chart.save(path))
    .map_err(|e| format!("could not write the timeline: {e}"))?;
    eprintln!("timeline written to {}", path.display());
    Ok(())
}

/// Measures every `pool` case (see the module docs).
pub fn rows(args: &BenchArgs) -> Result<Vec<BenchRow>, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = args.threads.first().copied().unwrap_or(cores);
    if workers == 0 || workers > pool::MAX_WORKERS {
        return Err(format!(
            "--threads {workers}: use 1 to {} workers",
            pool::MAX_WORKERS
        ));
    }
    if args.samples < 1000 {
        return Err(format!(
            "--samples {}: the sweep needs at least 1000 samples per task",
            args.samples
        ));
    }
    let opts = options(workers);
    if args.compare_python {
        return compared_with_python(args, workers, &opts);
    }
    let (mut rows, procs, threads) = pool_cases(args, workers, &opts)?;
    let mut add = |case: &str, threads: usize, samples: u64, median: Duration| {
        rows.push(row(case, threads, samples, median));
    };

    let sizes: Vec<u64> = crossover::sizes(3, 18)
        .into_iter()
        .filter(|&n| n <= args.samples)
        .collect();
    let tasks = crossover::TASKS;
    let fresh = fresh_options();
    eprintln!(
        "the exercise: {tasks} calc_pi tasks per run, {} to {} samples per task",
        sizes[0],
        sizes[sizes.len() - 1]
    );
    // From a terminal nothing is skipped: every size is measured, however long it takes.
    let all = Budget::unlimited();
    let sweeps = [
        crossover::time_sizes_within(&all, "serial", &sizes, |n| crossover::serial(n, tasks)),
        crossover::time_sizes_within(&all, "fresh_processes", &sizes, |n| {
            crossover::fresh_processes(n, tasks, &fresh)
        }),
        crossover::time_sizes_within(&all, "new_pool_each_time", &sizes, |n| {
            crossover::new_pool_each_time(n, tasks, &opts)
        }),
        crossover::time_sizes_within(&all, "reused_pool", &sizes, |n| {
            crossover::on_pool(&procs, n, tasks)
        }),
        crossover::time_sizes_within(&all, "thread_pool", &sizes, |n| {
            crossover::on_pool(&threads, n, tasks)
        }),
    ];
    for sweep in sweeps {
        let sweep = sweep.map_err(err)?;
        let used = if sweep.name == "serial" { 1 } else { workers };
        for (n, m) in &sweep.points {
            let m: &Measurement = m;
            add(
                &format!("sweep_{}", sweep.name),
                used,
                *n as u64 * tasks as u64,
                m.median(),
            );
        }
    }
    Ok(rows)
}

/// The pool cases (all but the sweep), and the two pools they used, for the sweep.
fn pool_cases(
    args: &BenchArgs,
    workers: usize,
    opts: &PoolOptions,
) -> Result<(Vec<BenchRow>, ProcessPool, ThreadPool), String> {
    let quick = args.repeats.max(20);
    let mut rows = Vec::new();
    let mut add = |case: &str, threads: usize, samples: u64, median: Duration| {
        rows.push(row(case, threads, samples, median));
    };
    eprintln!("measuring pools of {workers} workers: start-up, round trips, tiny tasks");

    let m = timing::measure("process pool create + close", quick, || {
        let p = ProcessPool::with_options(opts)?;
        p.close();
        p.join(Duration::from_secs(10))
    })
    .map_err(err)?;
    add("create_close_process_pool", workers, 1, m.median());
    let m = timing::measure("thread pool create + close", quick, || {
        let p = ThreadPool::with_options(opts)?;
        p.close();
        p.join(Duration::from_secs(10))
    })
    .map_err(err)?;
    add("create_close_thread_pool", workers, 1, m.median());

    let procs = ProcessPool::with_options(opts).map_err(err)?;
    let threads = ThreadPool::with_options(opts).map_err(err)?;
    for (case, pool) in [
        ("apply_round_trip_process_pool", &procs as &dyn ApplyEcho),
        ("apply_round_trip_thread_pool", &threads),
    ] {
        let mut times = Vec::with_capacity(ROUND_TRIPS);
        for i in 0..ROUND_TRIPS as u64 + 100 {
            let start = Instant::now();
            pool.echo(i)?;
            if i >= 100 {
                times.push(start.elapsed()); // after 100 warm-up calls
            }
        }
        add(case, workers, 1, median_of(times));
    }
    // The process pool's apply against its limit, a bare socketpair round trip, in turns.
    let mut raw = RawEcho::start(&Options {
        warn: false,
        ..fresh_options()
    })?;
    let applied = InTurns::measure(
        (
            "apply round trip (process pool)",
            "raw socketpair round trip",
        ),
        quick,
        || (0..APPLIES_PER_ROUND).try_for_each(|i| procs.echo(i).map(drop)),
        || {
            (0..APPLIES_PER_ROUND).try_for_each(|i| {
                raw.round_trip(&mut i.to_le_bytes())
                    .map_err(|e| format!("a raw round trip: {e}"))
            })
        },
    )?;
    raw.stop(Duration::from_secs(10))?;
    eprintln!("  {}", applied.summary());
    add(
        "apply_in_turns_process_pool",
        workers,
        APPLIES_PER_ROUND,
        applied.case.median(),
    );
    add(
        "raw_socketpair_in_turns",
        1,
        APPLIES_PER_ROUND,
        applied.limit.median(),
    );

    let m = timing::measure("process pool map", quick, || {
        procs.map(tasks::echo::<u64>(), 0..TINY, None)
    })
    .map_err(err)?;
    add("map_tiny_process_pool", workers, TINY, m.median());
    let m = timing::measure("thread pool map", quick, || {
        threads.map(tasks::echo::<u64>(), 0..TINY, None)
    })
    .map_err(err)?;
    add("map_tiny_thread_pool", workers, TINY, m.median());
    let m = timing::measure("process pool map, chunk 1", args.repeats, || {
        procs.map(tasks::echo::<u64>(), 0..TINY_CHUNK1, Some(1))
    })
    .map_err(err)?;
    add(
        "map_tiny_chunk1_process_pool",
        workers,
        TINY_CHUNK1,
        m.median(),
    );
    // The same calls recorded on a timeline (a span per chunk and the call): what recording costs.
    let tl = parlab::timeline::Timeline::new();
    let recorded = ProcessPool::with_options(&options(workers).timeline(&tl)).map_err(err)?;
    let m = timing::measure(
        "process pool map, chunk 1, on a timeline",
        args.repeats,
        || {
            tl.clear();
            recorded.map(tasks::echo::<u64>(), 0..TINY_CHUNK1, Some(1))
        },
    )
    .map_err(err)?;
    add(
        "map_tiny_chunk1_process_pool_timeline",
        workers,
        TINY_CHUNK1,
        m.median(),
    );
    drop(recorded);

    std::thread::sleep(Duration::from_millis(100));
    for pid in procs.pids() {
        match pool::resident_memory(pid) {
            Some(rss) => eprintln!(
                "  idle worker {pid}: {:.1} MiB resident",
                rss as f64 / (1 << 20) as f64
            ),
            None => eprintln!("  idle worker {pid}: resident memory unknown (no /proc)"),
        }
    }

    let m = timing::measure("process start + join (spawn)", 20, || {
        parlab::process::spawn_with(tasks::PID, &(), &fresh_options())
            .and_then(|mut w| w.join(Duration::from_secs(10)))
    })
    .map_err(err)?;
    add("process_start", 1, 1, m.median());
    Ok((rows, procs, threads))
}

/// One row of the `pool` group, printed on stderr as it is measured.
fn row(case: &str, threads: usize, samples: u64, median: Duration) -> BenchRow {
    let median_s = median.as_secs_f64();
    eprintln!(
        "  {case:<37} {threads:>3} workers {:>10} per run of {samples}, {}/s",
        timing::format_duration(median),
        timing::format_si(samples as f64 / median_s)
    );
    BenchRow {
        bench: "pool".into(),
        case: case.into(),
        threads,
        samples,
        median_s,
        per_s: samples as f64 / median_s,
    }
}

/// Options for a fresh spawned worker: no output, the sibling worker binary.
fn fresh_options() -> Options {
    Options {
        output: Output::Discard,
        worker: sibling_worker(),
        ..Options::default()
    }
}

/// The Python side of `--compare-python`, shipped inside this binary.
const PYTHON_BENCH: &str = include_str!("bench_pool.py");

/// Runs the same cases with Python's `multiprocessing.Pool` (its default start method here), as
/// rows of the group `pool-python`.
fn python_rows(workers: usize) -> Result<Vec<BenchRow>, String> {
    let venv = crate::project::venv_python();
    let python = if venv.is_file() {
        venv
    } else {
        "python3".into()
    };
    let script = std::env::temp_dir().join(format!("parlab-bench-pool-{}.py", std::process::id()));
    std::fs::write(&script, PYTHON_BENCH)
        .map_err(|e| format!("could not write {}: {e}", script.display()))?;
    eprintln!("the same cases in Python ({}):", python.display());
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(workers.to_string())
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output();
    let _ = std::fs::remove_file(&script);
    let out = out.map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!("the Python side failed ({})", out.status));
    }
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("the Python side printed {line:?}: {e}"))?;
        let (Some(case), Some(median_s), Some(samples)) = (
            v["case"].as_str(),
            v["median_s"].as_f64(),
            v["samples"].as_u64(),
        ) else {
            return Err(format!("the Python side printed {line:?}"));
        };
        eprintln!(
            "  {case:<28} {:>10} ({})",
            timing::format_duration(Duration::from_secs_f64(median_s)),
            v["method"].as_str().unwrap_or("?")
        );
        rows.push(BenchRow {
            bench: "pool-python".into(),
            case: case.into(),
            threads: if case == "process_start" { 1 } else { workers },
            samples,
            median_s,
            per_s: samples as f64 / median_s,
        });
    }
    Ok(rows)
}

/// Rounds of `--compare-python`: parlab's cases and Python's, one after the other, in turns.
const PYTHON_ROUNDS: usize = 3;

/// `--compare-python`: [`PYTHON_ROUNDS`] rounds, each timing parlab's pool cases and Python's
/// beside each other (who goes first alternates), so that a machine whose speed drifts during
/// the run weighs on both sides alike. Per case, the rows are the medians over the rounds; the
/// comparison printed gives each round's ratio too.
fn compared_with_python(
    args: &BenchArgs,
    workers: usize,
    opts: &PoolOptions,
) -> Result<Vec<BenchRow>, String> {
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..PYTHON_ROUNDS {
        let python_first = round % 2 == 1;
        eprintln!(
            "round {} of {PYTHON_ROUNDS} ({} first)",
            round + 1,
            if python_first { "Python" } else { "parlab" }
        );
        if python_first {
            theirs.push(python_rows(workers)?);
        }
        ours.push(pool_cases(args, workers, opts)?.0);
        if !python_first {
            theirs.push(python_rows(workers)?);
        }
    }
    let comparison = comparison(&ours, &theirs);
    print_comparison(&comparison);
    let mut rows = median_rows(&ours);
    rows.extend(median_rows(&theirs));
    Ok(rows)
}

/// Per case (in the first round's order), the row whose time is the median over the rounds.
fn median_rows(rounds: &[Vec<BenchRow>]) -> Vec<BenchRow> {
    let Some(first) = rounds.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|row| {
            let mut same: Vec<&BenchRow> = rounds
                .iter()
                .filter_map(|r| r.iter().find(|x| x.case == row.case))
                .collect();
            same.sort_by(|a, b| a.median_s.total_cmp(&b.median_s));
            same[same.len() / 2].clone()
        })
        .collect()
}

/// One case measured on both sides: each side's median over the rounds and each round's ratio.
struct Compared {
    case: String,
    parlab_s: f64,
    python_s: f64,
    /// Python's time over parlab's, per round.
    ratios: Vec<f64>,
}

/// The cases measured on both sides, from rounds timed in turns (round `i` of one side beside
/// round `i` of the other).
fn comparison(ours: &[Vec<BenchRow>], theirs: &[Vec<BenchRow>]) -> Vec<Compared> {
    let (ours_median, theirs_median) = (median_rows(ours), median_rows(theirs));
    theirs_median
        .iter()
        .filter_map(|py| {
            let rs = ours_median.iter().find(|r| r.case == py.case)?;
            let ratios = ours
                .iter()
                .zip(theirs)
                .filter_map(|(o, t)| {
                    let o = o.iter().find(|r| r.case == py.case)?;
                    let t = t.iter().find(|r| r.case == py.case)?;
                    Some(t.median_s / o.median_s)
                })
                .collect();
            Some(Compared {
                case: py.case.clone(),
                parlab_s: rs.median_s,
                python_s: py.median_s,
                ratios,
            })
        })
        .collect()
}

/// Prints, per case measured on both sides, how many times faster parlab was: the median of the
/// rounds' ratios, and each round's.
fn print_comparison(compared: &[Compared]) {
    eprintln!(
        "\nparlab against Python's multiprocessing, same machine, {PYTHON_ROUNDS} rounds in turns \
         (medians over the rounds):"
    );
    eprintln!(
        "  {:<30} {:>10} {:>10} {:>13}  each round",
        "case", "parlab", "Python", "parlab faster"
    );
    for c in compared {
        let each: Vec<String> = c.ratios.iter().map(|r| format!("{r:.1}x")).collect();
        eprintln!(
            "  {:<30} {:>10} {:>10} {:>12.1}x  {}",
            c.case,
            timing::format_duration(Duration::from_secs_f64(c.parlab_s)),
            timing::format_duration(Duration::from_secs_f64(c.python_s)),
            median(&c.ratios),
            each.join(" ")
        );
    }
}

/// One `apply` of the `echo` task, on either pool (a trait object for the bench loop).
trait ApplyEcho {
    fn echo(&self, i: u64) -> Result<u64, String>;
}

impl<P: Pool> ApplyEcho for P {
    fn echo(&self, i: u64) -> Result<u64, String> {
        self.apply(tasks::echo::<u64>(), &i).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(cases: &[(&str, f64)]) -> Vec<BenchRow> {
        cases
            .iter()
            .map(|&(case, median_s)| BenchRow {
                bench: "pool".into(),
                case: case.into(),
                threads: 2,
                samples: 1,
                median_s,
                per_s: 1.0 / median_s,
            })
            .collect()
    }

    #[test]
    fn rounds_compare_round_by_round_and_report_medians() {
        let ours = [
            rows(&[("apply", 1.0), ("map", 2.0)]),
            rows(&[("apply", 3.0), ("map", 2.0)]),
            rows(&[("apply", 2.0), ("map", 4.0), ("ours only", 1.0)]),
        ];
        let theirs = [
            rows(&[("apply", 10.0), ("map", 8.0)]),
            rows(&[("apply", 9.0), ("map", 8.0)]),
            rows(&[("apply", 30.0), ("map", 8.0)]),
        ];
        let medians = median_rows(&ours);
        let times: Vec<(&str, f64)> = medians
            .iter()
            .map(|r| (r.case.as_str(), r.median_s))
            .collect();
        assert_eq!(times, [("apply", 2.0), ("map", 2.0)]);

        let compared = comparison(&ours, &theirs);
        assert_eq!(compared.len(), 2, "only the cases both sides measured");
        assert_eq!(compared[0].case, "apply");
        assert_eq!((compared[0].parlab_s, compared[0].python_s), (2.0, 10.0));
        assert_eq!(
            compared[0].ratios,
            [10.0, 3.0, 15.0],
            "round i against round i"
        );
        assert_eq!(compared[1].ratios, [4.0, 4.0, 2.0]);
    }
}
