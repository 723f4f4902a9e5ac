//! `parlab render`: execute notebooks headlessly in the real kernel, write them out, check them.

use std::path::PathBuf;
use std::process::Command;

use crate::{kernel, nb_runner, project, setup};

/// Options of `parlab render`.
#[derive(clap::Args)]
pub struct RenderArgs {
    /// Notebooks to run (default: every notebooks/*.ipynb).
    notebooks: Vec<PathBuf>,
    /// Where the executed notebooks and HTML pages go.
    #[arg(long, default_value = "rendered")]
    out: PathBuf,
    /// `shipped` runs the notebooks as a learner gets them; `solved` puts each exercise's solution in.
    #[arg(long, default_value = "shipped", value_parser = ["shipped", "solved"])]
    mode: String,
    /// Seconds a notebook may take before it counts as failed (0, the default: no limit; `--summary`
    /// reports the time against the lessons' targets instead).
    #[arg(long, default_value_t = 0.0)]
    budget: f64,
    /// Seconds one cell may run before the run counts as hung and stops (a `:dep` cell, which may
    /// build parlab, gets at least 600).
    #[arg(long, default_value_t = 300)]
    cell_timeout: u64,
    /// Do not run setup first; fail with the command to run if something is missing (used by the tests).
    #[arg(long)]
    no_setup: bool,
    /// Print a benchmark line and a JSON summary line per notebook: its time against the 45 s
    /// target, its slowest cell and the cells over 8 s, and the machine's load average.
    #[arg(long)]
    summary: bool,
    /// The Jupyter kernel: `parlab` (the lessons' kernel, on a persistent build slot) or `rust` (plain evcxr).
    #[arg(long, default_value = kernel::KERNEL_NAME)]
    kernel: String,
}

/// Runs the notebooks; an error names each notebook and cell that failed.
pub fn run(args: RenderArgs) -> Result<(), String> {
    if args.no_setup {
        if !project::venv_python().is_file() {
            return Err("Jupyter is not set up: run `cargo run --release -- setup` first".into());
        }
        if setup::evcxr_version().is_none() {
            return Err(
                "the evcxr kernel is not installed: run `cargo run --release -- setup` first"
                    .into(),
            );
        }
        if args.kernel == kernel::KERNEL_NAME && kernel::check_spec()?.is_none() {
            return Err(format!(
                "the `{}` kernel is not registered with Jupyter: run `cargo run --release -- setup` first",
                kernel::KERNEL_NAME
            ));
        }
    } else {
        setup::run()?;
    }
    let notebooks = if args.notebooks.is_empty() {
        all_notebooks()?
    } else {
        args.notebooks
    };
    let runner = nb_runner::write_runner()?;
    let out = if args.out.is_absolute() {
        args.out
    } else {
        project::root().join(args.out)
    };
    println!(
        "Executing {} notebook(s) in the `{}` kernel ({} mode), output in {}",
        notebooks.len(),
        args.kernel,
        args.mode,
        out.display()
    );
    let mut cmd = Command::new(project::venv_python());
    cmd.arg(&runner)
        .args(&notebooks)
        .arg("--mode")
        .arg(&args.mode)
        .arg("--out")
        .arg(&out)
        .arg("--budget")
        .arg(args.budget.to_string())
        .arg("--cell-timeout")
        .arg(args.cell_timeout.to_string())
        .arg("--kernel")
        .arg(&args.kernel)
        .stdin(std::process::Stdio::null());
    if args.summary {
        cmd.arg("--summary");
    }
    project::run_inherit(&mut cmd, "rendering the notebooks")
        .map_err(|_| "some notebooks failed: the notebook and cell are named above".to_owned())
}

/// Every `notebooks/*.ipynb`, sorted by name.
pub fn all_notebooks() -> Result<Vec<PathBuf>, String> {
    let dir = project::root().join("notebooks");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("no notebooks in {}", dir.display()));
    }
    Ok(found)
}
