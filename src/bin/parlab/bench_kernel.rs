//! `parlab bench kernel`: how long a learner waits for the lessons' kernel, in real kernels.
//!
//! Starts "Rust (parlab)" kernels in the lessons' folder through jupyter_client, as JupyterLab
//! does (the Python side, `bench_kernel.py`, in the project's `.venv`), and times each one's start,
//! the lessons' `:dep parlab` cell, the first `let` after it and a run of ordinary cells. The
//! first round also starts a second kernel while the first runs (two notebooks open: a slot of its
//! own, seeded from the warm one). Then the medians against the targets, the time rust-analyzer
//! spent analysing the crates (which the first cell with a `let` must wait for: the floor under
//! the first two targets together), and the load average before and after: the figures mean
//! something only on a quiet machine.

use std::process::{Command, Stdio};

use crate::bench::{BenchArgs, load_average, median};

/// The Python side, shipped inside this binary.
const SCRIPT: &str = include_str!("bench_kernel.py");

/// What starts each line of figures the Python side prints.
const FIGURES_TAG: &str = "PARLAB-KERNEL ";

/// Ordinary cells timed in each kernel.
const ORDINARY_CELLS: usize = 10;

/// A kernel's figure for one target, in seconds.
type Figure = fn(&KernelFigures) -> f64;

/// The targets: (what, at most this many seconds, the kernel's figure for it).
const TARGETS: [(&str, f64, Figure); 3] = [
    ("`:dep parlab` cell", 3.0, |k| k.dep_s),
    ("first `let` after it", 1.0, |k| k.first_let_s),
    ("an ordinary cell", 0.3, |k| k.ordinary_median_s),
];

/// One kernel's figures, as the Python side printed them.
#[derive(serde::Deserialize, serde::Serialize)]
struct KernelFigures {
    /// "first", or "second, beside the first".
    kernel: String,
    /// Which round (from 1).
    round: usize,
    /// From the start until it answered `kernel_info`.
    ready_s: f64,
    /// The `:dep parlab` cell.
    dep_s: f64,
    /// The first cell with a `let` after it.
    first_let_s: f64,
    /// Each ordinary cell (a `println!`).
    ordinary_s: Vec<f64>,
    /// Each rust-analyzer analysis the kernel's stderr reported by the first `let` (at start,
    /// after `:dep`), in seconds.
    #[serde(default)]
    analysis_s: Vec<f64>,
    /// The median of `ordinary_s` (computed here).
    #[serde(default)]
    ordinary_median_s: f64,
}

/// Runs the kernels, prints each one's figures (a table, or `--json` lines) and the targets.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let python = crate::project::venv_python();
    if !python.is_file() {
        return Err(format!(
            "no {} to drive the kernels: run `cargo run --release -- setup` first",
            python.display()
        ));
    }
    let rounds = args.repeats.max(1);
    let before = load_average();
    eprintln!(
        "bench kernel: {rounds} round(s) of a fresh kernel, a second one beside it in the first; load average {before}"
    );
    let script =
        std::env::temp_dir().join(format!("parlab-bench-kernel-{}.py", std::process::id()));
    std::fs::write(&script, SCRIPT)
        .map_err(|e| format!("could not write {}: {e}", script.display()))?;
    let out = Command::new(&python)
        .arg(&script)
        .arg(crate::project::root().join("notebooks"))
        .arg(rounds.to_string())
        .arg(ORDINARY_CELLS.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let _ = std::fs::remove_file(&script);
    let out = out.map_err(|e| format!("could not run {}: {e}", python.display()))?;
    let mut kernels = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(json) = line.strip_prefix(FIGURES_TAG) else {
            eprintln!("{line}"); // something else the driver or a kernel printed
            continue;
        };
        let mut k: KernelFigures = serde_json::from_str(json)
            .map_err(|e| format!("the kernel driver printed {line:?}: {e}"))?;
        k.ordinary_median_s = median(&k.ordinary_s);
        kernels.push(k);
    }
    if !out.status.success() {
        return Err(format!(
            "the kernel driver failed ({}) after {} kernel(s): see above",
            out.status,
            kernels.len()
        ));
    }
    let after = load_average();
    if args.json {
        for k in &kernels {
            println!("{}", serde_json::to_string(k).map_err(|e| e.to_string())?);
        }
        return Ok(());
    }
    println!(
        "{:<6} {:<26} {:>8} {:>8} {:>11} {:>15} {:>9}",
        "round", "kernel", "ready", ":dep", "first let", "ordinary (med)", "analysis"
    );
    for k in &kernels {
        println!(
            "{:<6} {:<26} {:>7.2}s {:>7.2}s {:>10.2}s {:>14.2}s {:>8.2}s",
            k.round,
            k.kernel,
            k.ready_s,
            k.dep_s,
            k.first_let_s,
            k.ordinary_median_s,
            k.analysis_s.iter().sum::<f64>()
        );
    }
    for (what, limit, figure) in TARGETS {
        let figures: Vec<f64> = kernels.iter().map(figure).collect();
        let worst = figures.iter().copied().fold(f64::NAN, f64::max);
        let med = median(&figures);
        let verdict = if worst <= limit {
            "met by every kernel"
        } else if med <= limit {
            "met by the median kernel, not by every one"
        } else {
            "not met"
        };
        println!(
            "target: {what} at most {limit} s: median {med:.2} s, worst {worst:.2} s, {verdict}"
        );
    }
    let analysis: Vec<f64> = kernels.iter().map(|k| k.analysis_s.iter().sum()).collect();
    println!(
        "rust-analyzer's analysis (at start and after `:dep`, on one core): median {:.2} s; the \
         first `let` cannot end before it does, so `:dep` and the first `let` together take at \
         least that, less the time between the start and the `:dep` cell",
        median(&analysis)
    );
    println!("load average before {before}, after {after}");
    Ok(())
}
