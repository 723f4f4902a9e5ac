//! `parlab bench GROUP`: the lessons' measurements outside Jupyter, as a table or JSON lines.
//!
//! Groups: `pi` (every calc_pi variant), `process` (start methods, pipes, queues, serialization)
//! `pool` (pool start-up, apply and map round trips, the exercise sweep) and `mpi` (MPI ping-pong
//! beside a pipe's and threads', calc_pi on ranks beside threads; needs setup's MPI) and `python`
//! (every Python/Rust pair of the lessons side by side, with the ratio per case) and `kernel` (the
//! lessons' kernel: its start, the `:dep parlab` cell, the first `let`, ordinary cells).

use std::path::PathBuf;

#[path = "bench_kernel.rs"]
mod bench_kernel;
#[path = "bench_mpi.rs"]
mod bench_mpi;
#[path = "bench_pool.rs"]
mod bench_pool;
#[path = "bench_process.rs"]
mod bench_process;
#[path = "bench_python.rs"]
mod bench_python;
#[path = "in_turns.rs"]
mod in_turns;

use parlab::chart::Series;
use parlab::gil::{self, Gil};
use parlab::pi;
use parlab::timing::{self, Measurement, Table};

/// The bench groups that exist.
pub const GROUPS: &[&str] = &["pi", "process", "pool", "mpi", "python", "kernel"];

/// The seed of every seeded case (results are the same for any thread count).
const SEED: u64 = 1;

/// Arguments of `parlab bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// What to measure: pi, process, pool, mpi, python or kernel.
    pub group: String,
    /// Thread counts to measure, comma separated [default: 1,2 and the number of cores]; rank
    /// counts for `mpi` [default: 1 to the number of cores, at least 2].
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Samples per run.
    #[arg(long, default_value_t = 100_000_000)]
    pub samples: u64,
    /// Timed runs per case, after one warm-up run; the median is reported (`kernel`: rounds of a
    /// fresh kernel).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw the speed-up chart into this SVG file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Also draw a timeline into this SVG file. `pi`: two threads under the simulated GIL taking
    /// turns, then two with it released, side by side; `pool`: 2 worker processes running tiny
    /// tasks in default chunks and in chunks of 1, then a worker that dies and is replaced.
    #[arg(long)]
    pub timeline: Option<PathBuf>,
    /// `mpi` only: also measure the ping-pong between two hosts (network namespaces joined by a
    /// veth, ranks started over ssh; needs root), beside one host's.
    #[arg(long)]
    pub two_hosts: bool,
    /// `pool` only: time the same cases with Python's multiprocessing (the project's .venv, else
    /// python3) in the same run, and print how many times faster parlab is per case.
    #[arg(long)]
    pub compare_python: bool,
}

/// One measured case: a line of `--json` output and a row of the table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchRow {
    /// The group, e.g. `pi`.
    pub bench: String,
    /// The variant: learner, small_rng, serial, threads, rayon, gil, gil_allow_threads.
    pub case: String,
    /// Threads used.
    pub threads: usize,
    /// Samples per run.
    pub samples: u64,
    /// Median time of a run, in seconds.
    pub median_s: f64,
    /// Samples per second of the median run.
    pub per_s: f64,
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `parlab bench`: measures the group and prints a table or JSON lines.
pub fn run(args: BenchArgs) -> Result<(), String> {
    if args.timeline.is_some() && !matches!(args.group.as_str(), "pi" | "pool") {
        return Err(format!(
            "--timeline draws the `pi` group's GIL timeline or the `pool` group's workers; the \
             `{}` group records none: drop --timeline",
            args.group
        ));
    }
    if args.group == "kernel" {
        if args.svg.is_some() || args.compare_python {
            return Err(
                "`bench kernel` draws no chart and has no Python side: drop --svg and \
                 --compare-python"
                    .into(),
            );
        }
        return bench_kernel::run(&args);
    }
    if args.group == "python" {
        if args.svg.is_some() || args.compare_python {
            return Err(
                "`bench python` draws no chart and is itself the comparison with \
                 Python: drop --svg and --compare-python"
                    .into(),
            );
        }
        return bench_python::run(&args);
    }
    let rows = measure(&args)?;
    if args.json {
        for row in &rows {
            println!("{}", serde_json::to_string(row).map_err(|e| e.to_string())?);
        }
    } else {
        print!("{}", table(&rows));
        for series in speedup_series(&rows) {
            let points: Vec<String> = series
                .points
                .iter()
                .map(|(t, s)| format!("{t} threads {s:.2}x"))
                .collect();
            println!(
                "speed-up of {} over serial: {}",
                series.name,
                points.join(", ")
            );
        }
    }
    if let Some(path) = &args.svg {
        save_chart(&args.group, &rows, path)?;
    }
    match (&args.timeline, args.group.as_str()) {
        (Some(path), "pool") => bench_pool::save_timeline(path)?,
        (Some(path), _) => save_gil_timeline(args.samples, path)?,
        (None, _) => {}
    }
    Ok(())
}

/// Records two threads under the GIL, then two with it released (at most 4·10⁷ samples each
/// run), and draws the timeline into an SVG file.
fn save_gil_timeline(samples: u64, path: &std::path::Path) -> Result<(), String> {
    use parlab::gil::{Gil, calc_pi_gil};
    let samples = samples.min(40_000_000);
    let gil = Gil::new();
    let tl = parlab::timeline::Timeline::new();
    gil.record_into(&tl);
    calc_pi_gil(&gil, samples, 2, 1, false).map_err(|e| e.to_string())?;
    calc_pi_gil(&gil, samples, 2, 1, true).map_err(|e| e.to_string())?;
    gil.stop_recording();
    parlab::chart::timeline(
        "calc_pi, 2 threads: under the GIL, then with it released",
        &tl,
    )
    .and_then(|chart| chart.save(path))
    .map_err(|e| format!("could not write the timeline: {e}"))?;
    eprintln!("timeline written to {}", path.display());
    Ok(())
}

/// Draws the group's chart (speed-up against threads) into an SVG file.
fn save_chart(group: &str, rows: &[BenchRow], path: &std::path::Path) -> Result<(), String> {
    let series = speedup_series(rows);
    if series.is_empty() {
        return Err(format!(
            "the `{group}` group has no speed-up to chart; drop --svg"
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let title = format!("calc_pi speed-up over one thread ({cores} cores)");
    parlab::chart::speedup(&title, &series)
        .and_then(|chart| chart.save(path))
        .map_err(|e| format!("could not write the chart: {e}"))?;
    eprintln!("chart written to {}", path.display());
    Ok(())
}

/// `/proc/loadavg`'s three load averages, or "unknown".
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// Measures the group named in `args`.
fn measure(args: &BenchArgs) -> Result<Vec<BenchRow>, String> {
    if args.compare_python && args.group != "pool" {
        return Err(format!(
            "--compare-python compares the `pool` group with Python's multiprocessing; `{}` has no Python side",
            args.group
        ));
    }
    if args.two_hosts && args.group != "mpi" {
        return Err(format!(
            "--two-hosts measures the `mpi` group's ping-pong between two hosts; `{}` has no such case",
            args.group
        ));
    }
    match args.group.as_str() {
        "pi" => measure_pi(args),
        "process" => bench_process::rows(args),
        "pool" => bench_pool::rows(args),
        "mpi" => bench_mpi::rows(args),
        other => Err(format!(
            "unknown bench group `{other}`; known groups: {}",
            GROUPS.join(", ")
        )),
    }
}

/// The thread counts of `args`, or 1, 2 and the number of cores.
fn thread_counts(args: &BenchArgs) -> Vec<usize> {
    if !args.threads.is_empty() {
        return args.threads.clone();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts = vec![1, 2, cores];
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// Measures every calc_pi variant: learner, small_rng, serial, threads and GIL threads at each
/// thread count, rayon.
pub fn measure_pi(args: &BenchArgs) -> Result<Vec<BenchRow>, String> {
    let n = args.samples;
    let repeats = args.repeats;
    let threads = thread_counts(args);
    if let Some(&t) = threads.iter().find(|&&t| t == 0 || t > pi::MAX_THREADS) {
        return Err(format!(
            "--threads {t}: use 1 to {} threads",
            pi::MAX_THREADS
        ));
    }
    pi::calc_pi(n, SEED).map_err(|e| format!("--samples {n}: {e}"))?;

    let mut rows = Vec::new();
    let mut add = |case: &str, threads: usize, m: Result<Measurement, timing::TimingError>| {
        let m = m.map_err(|e| e.to_string())?;
        let median_s = m.seconds();
        let row = BenchRow {
            bench: "pi".into(),
            case: case.into(),
            threads,
            samples: n,
            median_s,
            per_s: m.throughput().unwrap_or(n as f64 / median_s),
        };
        eprintln!(
            "  {case:<18} {threads:>3} threads  {}",
            timing::format_duration(m.median())
        );
        rows.push(row);
        Ok::<(), String>(())
    };
    eprintln!("measuring calc_pi, {n} samples, {repeats} runs each after a warm-up");
    add(
        "learner",
        1,
        timing::measure("learner", repeats, || pi::calc_pi_learner(n)),
    )?;
    add(
        "small_rng",
        1,
        timing::measure("small_rng", repeats, || pi::calc_pi_small_rng(n, SEED)),
    )?;
    add(
        "serial",
        1,
        timing::measure("serial", repeats, || pi::calc_pi(n, SEED)),
    )?;
    for &t in &threads {
        add(
            "threads",
            t,
            timing::measure("threads", repeats, || pi::calc_pi_threads(n, t, SEED)),
        )?;
    }
    let rayon_threads = rayon::current_num_threads();
    add(
        "rayon",
        rayon_threads,
        timing::measure("rayon", repeats, || pi::calc_pi_rayon(n, SEED)),
    )?;
    let g = Gil::new();
    for &t in &threads {
        let m = timing::measure("gil", repeats, || gil::calc_pi_gil(&g, n, t, SEED, false));
        add("gil", t, m)?;
    }
    for &t in &threads {
        let m = timing::measure("gil_allow_threads", repeats, || {
            gil::calc_pi_gil(&g, n, t, SEED, true)
        });
        add("gil_allow_threads", t, m)?;
    }
    Ok(rows)
}

/// Speed-up over the `serial` case against the thread count, one series per threaded case
/// (`threads`, `gil`, `gil_allow_threads`): what the speed-up chart draws.
pub fn speedup_series(rows: &[BenchRow]) -> Vec<Series> {
    let Some(serial) = rows.iter().find(|r| r.case == "serial") else {
        return Vec::new();
    };
    [
        ("threads", "Rust threads"),
        ("gil", "threads under a simulated GIL"),
        (
            "gil_allow_threads",
            "GIL with allow_threads (numba's nogil)",
        ),
    ]
    .iter()
    .map(|&(case, legend)| {
        let points = rows
            .iter()
            .filter(|r| r.case == case && r.median_s > 0.0)
            .map(|r| (r.threads as f64, serial.median_s / r.median_s))
            .collect();
        Series::new(legend, points)
    })
    .filter(|s| !s.points.is_empty())
    .collect()
}

/// The rows as a plain-text table, with the speed-up over `serial`.
fn table(rows: &[BenchRow]) -> Table {
    let serial = rows.iter().find(|r| r.case == "serial").map(|r| r.median_s);
    let mut table = Table::new([
        "case",
        "threads",
        "samples",
        "median",
        "per second",
        "vs serial",
    ]);
    for r in rows {
        let speedup = serial.map_or_else(|| "-".into(), |s| format!("{:.2}x", s / r.median_s));
        table.push([
            r.case.clone(),
            r.threads.to_string(),
            r.samples.to_string(),
            timing::format_duration(std::time::Duration::from_secs_f64(r.median_s)),
            timing::format_si(r.per_s),
            speedup,
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    fn args(group: &str, threads: Vec<usize>, samples: u64) -> BenchArgs {
        BenchArgs {
            group: group.into(),
            threads,
            samples,
            repeats: 1,
            json: true,
            svg: None,
            timeline: None,
            compare_python: false,
            two_hosts: false,
        }
    }

    #[test]
    fn pi_rows_and_series() {
        let rows = measure_pi(&args("pi", vec![1, 2], 200_000)).unwrap();
        let cases: Vec<&str> = rows.iter().map(|r| r.case.as_str()).collect();
        assert_eq!(
            cases,
            [
                "learner",
                "small_rng",
                "serial",
                "threads",
                "threads",
                "rayon",
                "gil",
                "gil",
                "gil_allow_threads",
                "gil_allow_threads"
            ]
        );
        assert!(
            rows.iter()
                .all(|r| r.median_s > 0.0 && r.per_s > 0.0 && r.samples == 200_000)
        );
        let json = serde_json::to_string(&rows[0]).unwrap();
        for field in [
            "\"bench\":\"pi\"",
            "\"case\"",
            "\"threads\"",
            "\"samples\"",
            "\"median_s\"",
            "\"per_s\"",
        ] {
            assert!(json.contains(field), "{json}");
        }
        let series = speedup_series(&rows);
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].points.len(), 2);
        assert!(table(&rows).to_string().contains("gil_allow_threads"));
    }

    #[test]
    fn bad_arguments_are_errors() {
        let e = measure(&args("nope", vec![], 1000)).unwrap_err();
        assert!(e.contains("known groups: pi"), "{e}");
        assert!(measure(&args("pi", vec![0], 1000)).is_err());
        assert!(measure(&args("pi", vec![1], 0)).is_err());
        assert!(measure(&args("pi", vec![4], 3)).is_err());
    }
}
